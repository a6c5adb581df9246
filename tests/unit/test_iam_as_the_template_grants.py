"""The calls the trigger and the worker make, authorised as AWS would authorise them with the
policies template.yaml gives them (smm_local.iam on a moto-backed client): each of these
failed before the template granted it, and removing one statement denies its call."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from functions.trigger.replay import RequestLog
from orchestrator.publish.postiz import PostizPublisher, publish_key
from smm_local.http_double import serve
from smm_local.iam import Policy, Statement, enforce, policy_of
from smm_local.loopback import free_port
from smm_local.postiz_double import CHANNEL_SETTINGS, DEFAULT_INTEGRATIONS, Handler, PostizDouble
from smm_local.postiz_model import PostizState
from smm_local.template import Resolver, load_template, parameter_defaults
from smm_runtime.contract.publish_io import CreatePostRequest
from tests.idempotency_table import idempotency_table

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template(ROOT / "template.yaml")
NAMES = {name: f"local-{name.lower()}" for name in TEMPLATE["Resources"]}
SECRETS = {
    name: f"arn:aws:secretsmanager:us-east-1:123456789012:secret:{name}"
    for name in TEMPLATE["Parameters"]
    if name.endswith("SecretArn")
}
RESOLVER = Resolver({**parameter_defaults(TEMPLATE), **SECRETS}, NAMES)
BUCKET = NAMES["CreativeBucket"]
IDEMPOTENCY = NAMES["IdempotencyTable"]
POSTIZ_KEY = "postiz-test-key"


def trigger_policy() -> Policy:
    return policy_of(TEMPLATE, "TriggerFunctionRole", RESOLVER, ["HasReviewLinks"])


def worker_policy() -> Policy:
    return policy_of(TEMPLATE, "WorkerPolicy", RESOLVER)


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        idempotency_table(IDEMPOTENCY)
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
        yield


def as_principal(service: Literal["dynamodb", "s3"], policy: Policy) -> Any:
    return enforce(boto3.client(service, region_name="us-east-1"), policy)


def test_the_trigger_may_use_its_own_request_records(aws: None) -> None:
    log = RequestLog(as_principal("dynamodb", trigger_policy()), IDEMPOTENCY)
    assert log.begin("req-iam-0001", "fp") is None  # PutItem
    log.finish("req-iam-0001", 202, {"workflow_id": "w"})  # UpdateItem
    again = log.begin("req-iam-0001", "fp")  # PutItem refused, then GetItem
    assert again is not None and again.status == 202
    assert log.begin("req-iam-0002", "fp") is None
    log.finish("req-iam-0002", 503, {"error": "ours"})  # a 5xx is forgotten: DeleteItem
    assert log.begin("req-iam-0002", "fp") is None
    # The review page's once-only links: GetItem, then PutItem.
    assert not log.seen("review-link#abc")
    assert log.first_use("review-link#abc")
    assert log.seen("review-link#abc")


def test_the_worker_may_write_and_read_its_posting_claims(aws: None) -> None:
    double = PostizDouble(PostizState(POSTIZ_KEY, dict(DEFAULT_INTEGRATIONS)))
    port = free_port()
    server = serve(double, Handler, port)
    try:
        s3 = as_principal("s3", worker_policy())
        publisher = PostizPublisher(s3, BUCKET, f"http://127.0.0.1:{port}/public/v1", POSTIZ_KEY)
        request = CreatePostRequest.model_validate(
            {
                "workflow_id": "pub-iam-1",
                "post": {
                    "content": "Granted",
                    "integrations": ["x-1"],
                    "type": "now",
                    "channel_settings": CHANNEL_SETTINGS,
                },
                "media": [],
                "settle_s": 30,
                "http_timeout_s": 2,
                "rate_limited_wait_s": 60,
            }
        )
        created = publisher.create_sync(request)  # records, then a claim per channel
        assert len(created.post_ids) == 1 and not created.reused
        # The claim holds the chosen draft: a racing attempt's draft gives way to it.
        key = publish_key("pub-iam-1")
        assert publisher._claim(key, "x-1", "another-draft", "pub-iam-1") == created.post_ids[0]
        later = publisher.create_sync(request, datetime.now(UTC) + timedelta(minutes=1))
        assert later.post_ids == created.post_ids and later.reused
    finally:
        server.shutdown()


def test_a_call_the_template_does_not_grant_is_denied_as_aws_denies_it(aws: None) -> None:
    without = trigger_policy().without("RememberRequestIds")
    log = RequestLog(as_principal("dynamodb", without), IDEMPOTENCY)
    with pytest.raises(ClientError) as denied:
        log.begin("req-iam-0003", "fp")
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    assert "dynamodb:PutItem" in str(denied.value)
    # Another principal's grant does not help: the worker may not touch the trigger's table.
    other = RequestLog(as_principal("dynamodb", worker_policy()), IDEMPOTENCY)
    with pytest.raises(ClientError, match="AccessDenied"):
        other.begin("req-iam-0004", "fp")


def test_resources_are_matched_as_iam_matches_them() -> None:
    policy = worker_policy()
    records = f"arn:aws:s3:::{BUCKET}/publish-records/abc.json"
    assert policy.allows("s3:PutObject", records)
    assert policy.allows("S3:putobject", records)  # actions are case-insensitive
    assert not policy.allows("s3:PutObject", f"arn:aws:s3:::{BUCKET}/renders/abc.json")
    assert not policy.allows("s3:PutObject", "arn:aws:s3:::other-bucket/publish-records/a")
    # A condition holds only for the values it names, and never when the request lacks its
    # key: a GetObject carries no s3:prefix, so such a grant does not make missing keys 404.
    bucket = f"arn:aws:s3:::{BUCKET}"
    prefixed = {"StringLike": {"s3:prefix": ("publish-records/*",)}}
    listing = Policy("p", (Statement("L", ("s3:ListBucket",), (bucket,), prefixed),))
    assert listing.allows("s3:ListBucket", bucket, {"s3:prefix": "publish-records/x"})
    assert not listing.allows("s3:ListBucket", bucket, {"s3:prefix": "renders/"})
    assert not listing.allows("s3:ListBucket", bucket, {})
    # The worker's grant is unconditioned for that reason.
    assert policy.allows("s3:ListBucket", bucket, {})


@pytest.mark.parametrize("role", ["RenderSegmentFunctionRole", "RenderImageFunctionRole"])
@pytest.mark.parametrize(
    "key",
    ["brand-kits/logo.png", "accounts/acme/brand-kits/logo.png", "shared/brand-kits/logo.png"],
)
def test_the_functions_that_draw_a_logo_may_read_it_where_a_kit_may_keep_it(
    role: str, key: str
) -> None:
    """A kit's logo lives beside the kit (the operator's brand-kits/, an account's own) or in
    shared/: the segment and image functions draw it, the trigger's review page shows it."""
    for principal in (role, "TriggerFunctionRole"):
        policy = policy_of(TEMPLATE, principal, RESOLVER)
        assert policy.allows("s3:GetObject", f"arn:aws:s3:::{BUCKET}/{key}"), principal
