"""Checkpoints expire wherever they are written, as template.yaml's lifecycle rules say: the
operator's under intermediates/ by prefix, an account's under accounts/<a>/intermediates/ by
the tag the functions put on every checkpoint and claim (lifecycle prefixes are literal, so
no prefix could name them). Finished renders match no rule. The objects are written by the
functions' own code (Storage.publish, Claims) into moto, and their tags read back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from functions.render_video.segment_job import segment_key
from functions.render_video.storage import RenderSettings, Storage
from smm_local.iam import policy_of
from smm_local.template import Resolver, load_template, parameter_defaults
from smm_runtime.claims import Claims
from smm_runtime.contract.basetypes import S3Object
from smm_runtime.contract.ownership import INTERMEDIATE_TAGGING

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template(ROOT / "template.yaml")
BUCKET = "creative"
DIGEST = "ab" * 32


def rules() -> list[dict[str, Any]]:
    bucket = TEMPLATE["Resources"]["CreativeBucket"]["Properties"]
    found: list[dict[str, Any]] = bucket["LifecycleConfiguration"]["Rules"]
    return [r for r in found if r["Status"] == "Enabled" and "ExpirationInDays" in r]


def expires(key: str, tags: dict[str, str]) -> bool:
    """Whether any rule expires the object: its prefix and all its tags match (S3 ANDs the
    filters of one rule)."""
    return any(
        key.startswith(rule.get("Prefix", ""))
        and all(tags.get(t["Key"]) == t["Value"] for t in rule.get("TagFilters", []))
        for rule in rules()
    )


@pytest.fixture
def s3() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


def tags_of(s3: Any, key: str) -> dict[str, str]:
    found = s3.get_object_tagging(Bucket=BUCKET, Key=key)["TagSet"]
    return {t["Key"]: t["Value"] for t in found}


def published(s3: Any, tmp_path: Path, key: str, *, intermediate: bool) -> dict[str, str]:
    storage = Storage(s3=s3, settings=RenderSettings(asset_buckets=BUCKET, output_bucket=BUCKET))
    path = tmp_path / "file.bin"
    path.write_bytes(b"checkpoint")
    target = S3Object(bucket=BUCKET, key=key)
    storage.publish(path, target, DIGEST, "video/mp4", intermediate=intermediate)
    return tags_of(s3, key)


@pytest.mark.parametrize("account", [None, "acme"])
def test_every_checkpoint_and_claim_the_functions_write_expires(
    s3: Any, tmp_path: Path, account: str | None
) -> None:
    segment = segment_key(DIGEST, account)
    assert expires(segment, published(s3, tmp_path, segment, intermediate=True)), segment
    claim = segment.replace("/segments/", "/segments/claims/").replace(".mp4", ".json")
    Claims(s3, BUCKET, tagging=INTERMEDIATE_TAGGING)._put(claim, {"holder": "x"})
    assert expires(claim, tags_of(s3, claim)), claim


def test_a_finished_render_is_kept(s3: Any, tmp_path: Path) -> None:
    for key in ("renders/wf/vertical.mp4", "accounts/acme/renders/wf/vertical.mp4"):
        assert not expires(key, published(s3, tmp_path, key, intermediate=False)), key


def test_the_roles_that_tag_checkpoints_may_tag_them() -> None:
    names = {name: f"local-{name.lower()}" for name in TEMPLATE["Resources"]}
    resolver = Resolver(parameter_defaults(TEMPLATE), {**names, "CreativeBucket": BUCKET})
    for role, key in (
        ("RenderSegmentFunctionRole", segment_key(DIGEST, "acme")),
        ("RenderSegmentFunctionRole", "accounts/acme/intermediates/segments/claims/x.json"),
        ("AudioMixFunctionRole", "accounts/acme/intermediates/audio/x.m4a"),
    ):
        policy = policy_of(TEMPLATE, role, resolver)
        assert policy.allows("s3:PutObjectTagging", f"arn:aws:s3:::{BUCKET}/{key}"), (role, key)
