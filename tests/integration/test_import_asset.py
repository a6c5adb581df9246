"""Importing an asset from a URL: streamed into S3, checked, and never a way into our network."""

from __future__ import annotations

import hashlib
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from functions.transfer.import_asset import AssetImporter
from smm_local.stack import LocalStack
from smm_runtime.contract.basetypes import S3Object
from smm_runtime.contract.errors import UnsafeMediaError
from smm_runtime.contract.kinds import ImportAssetRequest
from smm_runtime.safe_fetch import BlockedRequestError, FetchPolicy, is_public_address, open_url
from smm_runtime.work import WorkContext

pytestmark = pytest.mark.integration
HITS: dict[str, int] = {"canary": 0}


def serve(host: str, routes: dict[str, tuple[int, dict[str, str], bytes]]) -> Any:
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            if host == "127.0.0.1":
                HITS["canary"] += 1
            status, headers, body = routes.get(self.path, (404, {}, b""))
            self.send_response(status)
            for key, value in {"Content-Length": str(len(body)), **headers}.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

    server = http.server.ThreadingHTTPServer((host, 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def origin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, bytes]]:
    png_path = Path(tmp_path_factory.mktemp("origin")) / "a.png"
    Image.new("RGB", (300, 200), (200, 30, 30)).save(png_path)
    png = png_path.read_bytes()
    canary = serve("127.0.0.1", {"/secret": (200, {"Content-Type": "image/png"}, png)})
    routes = {
        "/a.png": (200, {"Content-Type": "image/png"}, png),
        "/fake.png": (200, {"Content-Type": "image/png"}, b"<html>not an image</html>"),
        "/page": (200, {"Content-Type": "text/html"}, b"<html></html>"),
        "/hop": (302, {"Location": f"http://127.0.0.1:{canary.server_port}/secret"}, b""),
    }
    server = serve("127.0.0.2", routes)
    yield f"http://127.0.0.2:{server.server_port}", png
    server.shutdown()
    canary.shutdown()


def importer(stack: LocalStack) -> AssetImporter:
    # Only for these tests, the origin's loopback alias counts as reachable over http.
    policy = FetchPolicy(
        allow_hosts=["127.0.0.2", "127.0.0.1"],
        allow_http=True,
        is_allowed_address=lambda ip: ip == "127.0.0.2",
    )
    return AssetImporter(s3=stack.s3(), asset_buckets={stack.bucket}, policy=policy)


def ctx() -> WorkContext:
    return WorkContext(
        workflow_id="wf", activity_id="1", attempt=1, checkpoint=None, memory_mb=1024
    )


def request(stack: LocalStack, url: str, key: str, **extra: Any) -> ImportAssetRequest:
    return ImportAssetRequest(
        url=url, target=S3Object(bucket=stack.bucket, key=f"assets/imports/{key}"), **extra
    )


def test_an_asset_is_streamed_into_the_bucket_with_its_checksum_and_reused_after(
    stack: LocalStack, origin: tuple[str, bytes]
) -> None:
    base, png = origin
    job = importer(stack)
    first = job(request(stack, f"{base}/a.png", "a.png"), ctx())
    assert (first.size_bytes, first.sha256) == (len(png), hashlib.sha256(png).hexdigest())
    assert (
        stack.s3().get_object(Bucket=stack.bucket, Key="assets/imports/a.png")["Body"].read() == png
    )
    again = job(request(stack, f"{base}/a.png", "a.png"), ctx())
    assert again.reused and again.sha256 == first.sha256


@pytest.mark.parametrize(
    ("path", "extra", "message"),
    [
        ("/page", {}, "content type 'text/html' is not one of"),
        ("/fake.png", {}, "the bytes are not image/png"),
        ("/a.png", {"max_bytes": 100}, "over the 100-byte limit"),
        ("/hop", {}, "resolves to 127.0.0.1, not a public address"),
    ],
)
def test_a_bad_import_is_refused_and_leaves_nothing_behind(
    stack: LocalStack, origin: tuple[str, bytes], path: str, extra: dict[str, Any], message: str
) -> None:
    base, _ = origin
    key = f"refused{path.replace('/', '-')}"
    with pytest.raises(UnsafeMediaError, match=message):
        importer(stack)(request(stack, f"{base}{path}", key, **extra), ctx())
    listed = stack.s3().list_objects_v2(Bucket=stack.bucket, Prefix=f"assets/imports/{key}")
    assert listed.get("KeyCount", 0) == 0
    uploads = stack.s3().list_multipart_uploads(Bucket=stack.bucket).get("Uploads", [])
    assert not [u for u in uploads if u["Key"].endswith(key)]  # aborted, not left half-done
    assert HITS["canary"] == 0


def test_the_default_policy_refuses_loopback_http_and_unlisted_hosts() -> None:
    policy = FetchPolicy(allow_hosts=["localhost", "127.0.0.1"])
    for url in (
        "http://127.0.0.1/x",
        "https://127.0.0.1/x",
        "https://localhost/x",
        "https://2130706433/x",
        "https://[::ffff:127.0.0.1]/x",
        "https://example.com/x",
    ):
        with pytest.raises(BlockedRequestError):
            open_url(url, policy)
    assert not is_public_address("169.254.169.254")
    assert not is_public_address("::ffff:10.0.0.1")
    assert not is_public_address("64:ff9b::7f00:1")
    assert is_public_address("93.184.216.34")
    assert HITS["canary"] == 0
