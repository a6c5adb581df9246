"""Each finished file goes to Postiz once: a retry, a duplicate delivery and two deliveries
at the same moment upload it once; a file overwritten in S3 (new ETag) uploads again."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from functions.transfer.postiz_upload import PostizUploader, TransferSettings
from smm_local.http_double import serve
from smm_local.loopback import free_port
from smm_local.postiz_double import DEFAULT_INTEGRATIONS, Handler, PostizDouble
from smm_local.postiz_model import PostizState
from smm_runtime.claims import DuplicateDeliveryError
from smm_runtime.contract.kinds import PostizUploadRequest
from smm_runtime.work import WorkContext

BUCKET = "upload-once-bucket"
KEY = "postiz-upload-key"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 4096


@pytest.fixture
def uploader() -> Iterator[tuple[PostizUploader, PostizDouble]]:
    double = PostizDouble(PostizState(KEY, dict(DEFAULT_INTEGRATIONS)))
    port = free_port()
    server = serve(double, Handler, port)
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key="renders/wf/image-01.png", Body=PNG)
        settings = TransferSettings(
            output_bucket=BUCKET,
            postiz_url=f"http://127.0.0.1:{port}/public/v1",
            postiz_api_key=KEY,
        )
        yield PostizUploader(s3=s3, settings=settings), double
    server.shutdown()


def request() -> PostizUploadRequest:
    return PostizUploadRequest.model_validate(
        {
            "source": {"bucket": BUCKET, "key": "renders/wf/image-01.png"},
            "filename": "01-image-01.png",
            "content_type": "image/png",
        }
    )


def context(attempt: int = 1) -> WorkContext:
    return WorkContext(
        workflow_id="pub-1", activity_id="9", attempt=attempt, checkpoint=None, memory_mb=512
    )


def uploads(double: PostizDouble) -> list[dict[str, Any]]:
    return [r for r in double.requests if r["path"] == "/public/v1/upload"]


def test_a_retry_returns_the_first_upload(uploader: tuple[PostizUploader, PostizDouble]) -> None:
    upload, double = uploader
    first = upload(request(), context())
    again = upload(request(), context(attempt=2))
    assert (again.id, again.path) == (first.id, first.path)
    assert again.reused and not first.reused and again.bytes_sent == 0
    assert len(uploads(double)) == 1


def test_two_deliveries_at_the_same_moment_upload_once(
    uploader: tuple[PostizUploader, PostizDouble],
) -> None:
    upload, double = uploader
    start = threading.Barrier(2)
    results: list[Any] = []

    def deliver() -> None:
        start.wait()
        try:
            results.append(upload(request(), context()))
        except DuplicateDeliveryError as err:  # the runner stops this copy quietly
            results.append(err)

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # One uploads; its copy either stops (it saw the claim) or returns the first upload
    # (it looked after the first had finished); never a second upload.
    answered = [r for r in results if not isinstance(r, DuplicateDeliveryError)]
    assert len(results) == 2 and len(uploads(double)) == 1
    assert [r.reused for r in answered].count(False) == 1
    assert len({(r.id, r.path) for r in answered}) == 1


def test_a_holder_finishing_between_look_and_take_is_not_redone(
    uploader: tuple[PostizUploader, PostizDouble], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The window the barrier test hits only sometimes, forced: the first delivery finishes
    and releases its claim just after the second looked for a result and before it takes."""
    upload, double = uploader
    first = upload(request(), context())
    looks = iter([False])  # the second delivery's first look misses the record
    real_get = PostizUploader._get

    def late_get(self: PostizUploader, key: str) -> dict[str, Any] | None:
        if key.endswith(".json") and next(looks, True) is False:
            return None
        return real_get(self, key)

    monkeypatch.setattr(PostizUploader, "_get", late_get)
    again = upload(request(), context(attempt=2))
    assert again.reused and again.id == first.id and len(uploads(double)) == 1


def test_a_file_overwritten_in_s3_is_uploaded_again(
    uploader: tuple[PostizUploader, PostizDouble],
) -> None:
    upload, double = uploader
    first = upload(request(), context())
    upload.s3.put_object(Bucket=BUCKET, Key="renders/wf/image-01.png", Body=PNG + b"\1")
    second = upload(request(), context())
    assert second.id != first.id and len(uploads(double)) == 2
