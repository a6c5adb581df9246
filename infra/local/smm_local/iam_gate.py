"""IAM in front of the local AWS endpoint: every signed request to moto is authorised against
the policy template.yaml gives its signer (``smm_local.principals``), action and resource,
before moto sees it; a request the template does not grant is answered as AWS answers it.

Why an evaluator in front of moto rather than moto's own IAM enforcement
(``INITIAL_NO_AUTH_ACTION_COUNT``): moto's checks cover the action and a resource for some
services only, do not evaluate ``Condition`` blocks, and know nothing of S3's rule for missing
keys; this gate uses the same evaluator (``smm_local.iam``) the unit tests hold the template
to, for every process whatever its language (the Node function signs with the JS SDK).

Modelled beyond action and resource:
- A missing object is ``404 NoSuchKey`` only when the caller may ``s3:ListBucket`` the bucket,
  else ``403 AccessDenied`` (S3 API reference, GetObject and HeadObject, "Permissions").
  The GetObject request carries no ``s3:prefix``, so a ListBucket grant conditioned on a
  prefix is not counted (the conservative reading: AWS documents no other).
- Unknown access keys are refused as AWS refuses them (``InvalidAccessKeyId`` /
  ``UnrecognizedClientException``); unsigned requests are anonymous and denied.
"""

from __future__ import annotations

import io
import json
import logging
import re
import threading
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from smm_local.iam import ACCOUNT, Need, Policy, needs

log = logging.getLogger("smm.iam")

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/[^/]*/[^/]*/([^/]+)/aws4_request")


def signer(headers: Mapping[str, str], query: Mapping[str, list[str]]) -> tuple[str, str] | None:
    """(access key id, service) of a SigV4 request: from its Authorization header, or from
    ``X-Amz-Credential`` in a presigned URL; None when unsigned."""
    auth = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
    found = _CREDENTIAL.search(auth)
    if found:
        return found.group(1), found.group(2)
    credential = (query.get("X-Amz-Credential") or [""])[0].split("/")
    if len(credential) == 5:
        return credential[0], credential[3]
    return None


def denial_message(principal: str, action: str, resource: str) -> str:
    return (
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/{principal}/local is not authorized to "
        f"perform: {action} on resource: {resource} because no identity-based policy allows "
        f"the {action} action"
    )


# --- what a REST request to S3 is -------------------------------------------------------------

_LIST_PARAMETERS = {"list-type", "prefix", "delimiter", "max-keys", "continuation-token",
                    "start-after", "encoding-type", "marker", "x-id"}  # fmt: skip


def s3_operation(method: str, path: str, query: Mapping[str, list[str]], headers: Mapping[str, str],
                 body: bytes) -> tuple[str, dict[str, Any]]:  # fmt: skip
    """The API operation and its parameters of a path-style S3 request."""
    bucket, _, key = path.lstrip("/").partition("/")
    params: dict[str, Any] = {"Bucket": bucket}
    if not key:
        if method == "POST" and "delete" in query:
            keys = [e.text or "" for e in ET.fromstring(body).iter() if e.tag.endswith("Key")]
            return "DeleteObjects", {**params, "Keys": keys}
        if method in ("GET", "HEAD") and not (query.keys() - _LIST_PARAMETERS):
            return "ListObjectsV2", {**params, "Prefix": (query.get("prefix") or [""])[0]}
        named = {"PUT": "CreateBucket", "DELETE": "DeleteBucket", "HEAD": "HeadBucket"}
        return named.get(method, f"Bucket:{method}:{','.join(sorted(query))}"), params
    params["Key"] = key
    if "tagging" in query:
        return {"GET": "GetObjectTagging", "PUT": "PutObjectTagging",
                "DELETE": "DeleteObjectTagging"}[method], params  # fmt: skip
    if "uploadId" in query or "uploads" in query:
        if method == "DELETE":
            return "AbortMultipartUpload", params
        return ("ListParts" if method == "GET" else "UploadPart"), params
    lowered = {k.lower(): v for k, v in headers.items()}
    if method == "PUT" and "x-amz-copy-source" in lowered:
        return "CopyObject", {**params, "CopySource": lowered["x-amz-copy-source"].lstrip("/")}
    if method == "PUT":
        return "PutObject", {**params, "Tagging": lowered.get("x-amz-tagging", "")}
    if method == "DELETE":
        return "DeleteObject", params
    return ("HeadObject" if method == "HEAD" else "GetObject"), params


def _s3_needs(operation: str, params: Mapping[str, Any]) -> list[Need]:
    if operation == "DeleteObjects":
        bucket = params["Bucket"]
        return [("s3:DeleteObject", f"arn:aws:s3:::{bucket}/{k}", {}) for k in params["Keys"]]
    if operation == "ListParts":
        return [("s3:ListMultipartUploadParts", f"arn:aws:s3:::{params['Bucket']}/"
                 f"{params['Key']}", {})]  # fmt: skip
    if operation in ("CreateBucket", "DeleteBucket", "HeadBucket") or ":" in operation:
        action = "s3:ListBucket" if operation == "HeadBucket" else f"s3:{operation}"
        return [(action, f"arn:aws:s3:::{params['Bucket']}", {})]
    return needs("s3", operation, params)


# --- the gate ---------------------------------------------------------------------------------


@dataclass
class Denial:
    principal: str
    action: str
    resource: str


@dataclass
class IamGate:
    """WSGI middleware: authorise, then hand the request to ``app`` (moto's server)."""

    app: Callable[[Environ, StartResponse], Iterable[bytes]]
    policies: Mapping[str, Policy]
    admin_keys: frozenset[str] = frozenset({"local"})
    denials: list[Denial] = field(default_factory=list)
    calls: Counter[str] = field(default_factory=Counter)  # authorised calls, by principal
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path = str(environ.get("PATH_INFO", ""))
        if path.startswith("/moto-api") or path == "/_contention":  # the stack's own controls
            return self.app(environ, start_response)
        if path == "/_iam":
            with self.lock:
                seen = {"calls": dict(self.calls), "denials": [d.__dict__ for d in self.denials]}
            data = json.dumps(seen).encode()
            start_response("200 OK", [("Content-Type", "application/json")])
            return [data]
        query = parse_qs(str(environ.get("QUERY_STRING", "")), keep_blank_values=True)
        headers = {k[5:].replace("_", "-").lower(): str(v) for k, v in environ.items()
                   if k.startswith("HTTP_")}  # fmt: skip
        signed = signer(headers, query)
        if signed is None:
            return self._refuse(start_response, "s3", "AccessDenied", "Anonymous access denied")
        key, service = signed
        if key in self.admin_keys:
            return self.app(environ, start_response)
        policy = self.policies.get(key)
        if policy is None:
            code = "InvalidAccessKeyId" if service == "s3" else "UnrecognizedClientException"
            unknown = "The AWS Access Key Id you provided does not exist in our records."
            return self._refuse(start_response, service, code, unknown)
        body = self._body(environ, service, query)
        method = str(environ["REQUEST_METHOD"])
        if service == "s3":
            operation, params = s3_operation(method, path, query, headers, body)
            wanted = _s3_needs(operation, params)
        else:
            target = headers.get("x-amz-target", "")
            operation = target.rpartition(".")[2]
            params = json.loads(body or b"{}")
            try:
                wanted = needs(service, operation, params)
            except ValueError:
                wanted = [(f"{service}:{operation}", "*", {})]
        for action, resource, context in wanted:
            if not policy.allows(action, resource, context):
                with self.lock:
                    self.denials.append(Denial(key, action, resource))
                log.warning("iam: denied %s %s on %s", key, action, resource)
                return self._refuse(start_response, service, "AccessDenied",
                                    denial_message(key, action, resource))  # fmt: skip
        with self.lock:
            self.calls[key] += 1
        if operation in ("GetObject", "HeadObject"):
            bucket = f"arn:aws:s3:::{params['Bucket']}"
            if not policy.allows("s3:ListBucket", bucket, {}):
                return self._missing_is_denied(environ, start_response, key, wanted[0])
        return self.app(environ, start_response)

    def _body(self, environ: Environ, service: str, query: Mapping[str, list[str]]) -> bytes:
        """Read the body when the decision needs it (JSON APIs, S3 multi-delete), and put it
        back for moto."""
        if service == "s3" and "delete" not in query:
            return b""
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body: bytes = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        return body

    def _missing_is_denied(self, environ: Environ, start_response: StartResponse,
                           key: str, need: Need) -> Iterable[bytes]:  # fmt: skip
        """moto's 404 for a missing key, as the 403 S3 gives a caller who may not list."""
        seen: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            seen["status"], seen["headers"] = status, headers
            return lambda _data: None

        answer = list(self.app(environ, capture))
        if str(seen.get("status", "")).startswith("404"):
            with self.lock:
                self.denials.append(Denial(key, "s3:ListBucket", f"{need[1]} (missing)"))
            log.warning("iam: denied %s the 404 of missing %s: no s3:ListBucket", key, need[1])
            return self._refuse(start_response, "s3", "AccessDenied",
                                denial_message(key, need[0], need[1]))  # fmt: skip
        start_response(seen["status"], seen["headers"])
        return answer

    def _refuse(self, start_response: StartResponse, service: str, code: str,
                message: str) -> Iterable[bytes]:  # fmt: skip
        if service == "s3":
            status = "403 Forbidden"
            data = (
                '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>'
                f"{code}</Code><Message>{message}</Message><RequestId>local</RequestId></Error>"
            ).encode()
            headers = [("Content-Type", "application/xml")]
        else:
            status = "400 Bad Request"
            kind = "AccessDeniedException" if code == "AccessDenied" else code
            data = json.dumps(
                {"__type": f"com.amazon.coral.service#{kind}", "message": message}
            ).encode()
            headers = [("Content-Type", "application/x-amz-json-1.0"),
                       ("x-amzn-ErrorType", kind)]  # fmt: skip
        start_response(status, [*headers, ("Content-Length", str(len(data)))])
        return [data]
