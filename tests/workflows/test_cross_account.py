"""Cross-account attempts: a spec (or the account's own brand kit) naming another account's
object, a path trick or the operator's flat keys fails in the workflow, naming the field,
before any function is dispatched; owned work reads only its own prefix and shared/, and
writes only its own. (The functions refuse the same again: tests/unit/test_ownership.py.)"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from temporalio import activity
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from orchestrator.render.image import GenerateImageWorkflow
from orchestrator.render.video import RenderVideoWorkflow
from smm_runtime.contract.errors import INVALID_REQUEST
from smm_runtime.contract.video_spec import BrandKit
from smm_runtime.contract.workflow_io import (
    BrandKitRef,
    GenerateImageInput,
    RenderVideoInput,
)
from tests.factories import brand_kit, spec
from tests.fakes import FAST, FakeEngine, PublishFakes

B = "s3://assets-bucket"
GLOBEX = f"{B}/accounts/globex"
KITS = {  # (account, kit id) -> the kit stored at accounts/<account>/brand-kits/<id>.json
    ("acme", "acme"): brand_kit(),  # shared fonts and logo
    ("acme", "poisoned"): brand_kit(id="poisoned", fonts={"heading": f"{GLOBEX}/font.ttf"}),
    ("acme", "sneaky"): brand_kit(id="sneaky", logo=f"{B}/accounts/acme/../globex/logo.png"),
}


class Shelf(FakeEngine):
    """The fake functions, with brand kits stored per account."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[BrandKitRef] = []

    @activity.defn(name="load_brand_kit")
    async def load_brand_kit(self, ref: BrandKitRef) -> BrandKit:
        self.refs.append(ref)
        kit = KITS.get((ref.account or "", ref.id))
        if kit is None:
            raise ApplicationError(
                f"brand_kit: {ref.id!r} not found", type=INVALID_REQUEST, non_retryable=True
            )
        return kit


def scene(background: dict[str, Any]) -> dict[str, Any]:
    return spec(scenes=[{"duration_s": 2, "background": background}])


VIDEO: list[tuple[str, dict[str, Any], str]] = [
    (
        "another account's photo",
        scene({"type": "image", "uri": f"{GLOBEX}/photo.png"}),
        "spec.scenes.0.background.uri",
    ),
    ("another account's music", spec(music={"uri": f"{GLOBEX}/bed.mp3"}), "spec.music.uri"),
    (
        "a .. path out of its prefix",
        spec(voiceover={"uri": f"{B}/accounts/acme/../globex/voice.mp3"}),
        "spec.voiceover.uri",
    ),
    (
        "a prefix that only starts like its own",
        scene({"type": "video", "uri": f"{B}/accounts/acme-corp/clip.mp4"}),
        "spec.scenes.0.background.uri",
    ),
    (
        "the operator's flat keys",
        scene({"type": "image", "uri": f"{B}/assets/demo/p.jpg"}),
        "spec.scenes.0.background.uri",
    ),
    (
        "its own kit naming another account's font",
        spec(brand_kit="poisoned"),
        "brand_kit.fonts.heading",
    ),
    ("its own kit with a .. logo", spec(brand_kit="sneaky"), "brand_kit.logo"),
]


async def render(env: WorkflowEnvironment, fake: Shelf, video: dict[str, Any], **owner: Any) -> Any:
    queue = f"tq-{uuid.uuid4()}"
    async with Worker(
        env.client, task_queue=queue, workflows=[RenderVideoWorkflow], activities=fake.activities()
    ):
        return await env.client.execute_workflow(
            RenderVideoWorkflow.run,
            RenderVideoInput(spec=video, output_bucket="out-bucket", dispatch=FAST, **owner),
            id=f"wf-{uuid.uuid4().hex[:8]}",
            task_queue=queue,
        )


@pytest.mark.parametrize(("name", "video", "field"), VIDEO, ids=[c[0] for c in VIDEO])
async def test_a_video_naming_another_accounts_object_fails_before_any_dispatch(
    skipping_env: WorkflowEnvironment, name: str, video: dict[str, Any], field: str
) -> None:
    fake = Shelf()
    with pytest.raises(WorkflowFailureError) as failed:
        await render(skipping_env, fake, video, owner="acme")
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == INVALID_REQUEST
    assert cause.message.startswith(f"{field}: ")
    assert "account 'acme'" in cause.message or "'..' path segment" in cause.message
    assert cause.non_retryable
    assert (fake.segments, fake.audio, fake.finals) == ([], [], [])  # no function ran
    assert [r.key for r in fake.refs] == [f"accounts/acme/brand-kits/{video['brand_kit']}.json"]


async def test_owned_work_reads_shared_and_its_own_and_writes_only_under_its_prefix(
    skipping_env: WorkflowEnvironment,
) -> None:
    fake = Shelf()
    video = spec(
        music={"uri": f"{B}/shared/stock/bed.mp3"},
        voiceover={"uri": f"{B}/accounts/acme/voice.mp3"},
    )
    result = await render(skipping_env, fake, video, owner="acme")
    assert all(o.output.key.startswith("accounts/acme/renders/") for o in result.outputs)
    assert all(o.poster.key.startswith("accounts/acme/renders/") for o in result.outputs)
    sent: list[Any] = [*fake.segments, *fake.audio, *fake.finals]
    assert sent and {r.account for r in sent} == {"acme"}  # each function checks again


async def test_the_account_that_pays_is_the_owner_when_none_is_named(
    skipping_env: WorkflowEnvironment,
) -> None:
    assert RenderVideoInput(spec={}, output_bucket="out-bucket", account="acme").scope == "acme"
    assert (
        RenderVideoInput(spec={}, output_bucket="out-bucket", account="acme", owner="globex").scope
        == "globex"
    )


IMAGES: list[tuple[str, dict[str, Any], str]] = [
    (
        "another account's promo photo",
        {"template": "promo_card", "props": {"headline": "Sale", "image": f"{GLOBEX}/p.png"}},
        "spec.props.image",
    ),
    (
        "another account's avatar on a slide",
        {
            "template": "quote_card",
            "props": {"quote": "q", "author": "a", "avatar": f"{GLOBEX}/face.png"},
        },
        "spec.props.avatar",
    ),
]


@pytest.mark.parametrize(("name", "body", "field"), IMAGES, ids=[c[0] for c in IMAGES])
async def test_an_image_naming_another_accounts_object_fails_before_any_dispatch(
    skipping_env: WorkflowEnvironment, name: str, body: dict[str, Any], field: str
) -> None:
    fake = PublishFakes()
    queue = f"tq-{uuid.uuid4()}"
    async with Worker(
        skipping_env.client,
        task_queue=queue,
        workflows=[GenerateImageWorkflow],
        activities=fake.all(),
    ):
        with pytest.raises(WorkflowFailureError) as failed:
            await skipping_env.client.execute_workflow(
                GenerateImageWorkflow.run,
                GenerateImageInput(
                    spec={"brand_kit": "acme", **body}, output_bucket="out-bucket", owner="acme"
                ),
                id=f"img-{uuid.uuid4().hex[:8]}",
                task_queue=queue,
            )
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == INVALID_REQUEST
    assert cause.message.startswith(f"{field}: ")
    assert fake.images == []
