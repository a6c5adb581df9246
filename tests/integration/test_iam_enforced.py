"""The local stack enforces template.yaml's IAM as AWS would: every process signs as its
principal (a function as its execution role, the worker as WorkerPolicy, the CLI as
OperatorPolicy), and a call its policy does not grant is refused on moto and on the Lambda
API, with the error AWS gives. The calls these tests provoke name "iam-probe"; the stack
fixture fails the session on any other denial (tests/integration/conftest.py)."""

from __future__ import annotations

import uuid
from typing import Any, Literal

import boto3
import pytest
from botocore.exceptions import ClientError

from smm_local.principals import OPERATOR, WORKER, credentials
from smm_local.stack import LocalStack
from tests.integration.test_trigger_api import call

pytestmark = pytest.mark.integration


def client(stack: LocalStack, service: Literal["s3", "dynamodb", "lambda"], principal: str) -> Any:
    keys = credentials(principal)
    endpoint = stack.lambda_url if service == "lambda" else stack.moto_url
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=keys["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=keys["AWS_SECRET_ACCESS_KEY"],
    )


def test_a_call_outside_the_principals_policy_is_denied_and_recorded(stack: LocalStack) -> None:
    s3 = client(stack, "s3", WORKER)
    key = f"publish-records/{uuid.uuid4()}.json"
    s3.put_object(Bucket=stack.bucket, Key=key, Body=b"{}")  # WritePublishRecords
    with pytest.raises(ClientError) as denied:
        s3.put_object(Bucket=stack.bucket, Key="renders/iam-probe.mp4", Body=b"x")
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    assert "WorkerPolicy" in str(denied.value) and "s3:PutObject" in str(denied.value)
    with pytest.raises(ClientError, match="AccessDenied"):  # the CLI writes brand kits only
        client(stack, "s3", OPERATOR).put_object(
            Bucket=stack.bucket, Key="publish-records/iam-probe.json", Body=b"{}"
        )
    found = stack.iam_seen()["denials"]
    assert {"principal": WORKER, "action": "s3:PutObject",
            "resource": f"arn:aws:s3:::{stack.bucket}/renders/iam-probe.mp4"} in found  # fmt: skip
    stack.s3().delete_object(Bucket=stack.bucket, Key=key)


def test_a_missing_key_is_404_only_to_a_principal_that_may_list_the_bucket(
    stack: LocalStack,
) -> None:
    missing = f"publish-records/{uuid.uuid4()}.json"
    with pytest.raises(ClientError) as worker:  # MissingMeansNoSuchKey: 404
        client(stack, "s3", WORKER).get_object(Bucket=stack.bucket, Key=missing)
    assert worker.value.response["Error"]["Code"] == "NoSuchKey"
    # The trigger may read renders but not list the bucket: S3 does not say what is absent.
    with pytest.raises(ClientError) as trigger:
        client(stack, "s3", "TriggerFunctionRole").head_object(
            Bucket=stack.bucket, Key=f"renders/iam-probe-{uuid.uuid4()}.mp4"
        )
    assert trigger.value.response["Error"]["Code"] == "403"


def test_unknown_keys_are_refused(stack: LocalStack) -> None:
    with pytest.raises(ClientError) as refused:
        client(stack, "s3", "NoSuchRole").list_objects_v2(Bucket=stack.bucket)
    assert refused.value.response["Error"]["Code"] == "InvalidAccessKeyId"


def test_invoke_is_authorised_on_the_lambda_api(stack: LocalStack) -> None:
    dry = {"FunctionName": "NoopFunction", "InvocationType": "DryRun", "Payload": b"{}"}
    assert client(stack, "lambda", WORKER).invoke(**dry)["StatusCode"] == 204
    with pytest.raises(ClientError) as denied:
        client(stack, "lambda", "TriggerFunctionRole").invoke(**dry)
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "lambda:InvokeFunction" in str(denied.value)


def test_a_function_signs_as_its_execution_role(stack: LocalStack) -> None:
    before = stack.iam_seen()["calls"].get("TriggerFunctionRole", 0)
    status, _ = call(stack, "GET", "/v1/credits/iam-probe")  # the ledger, read by the trigger
    assert status == 200
    # The account's channels (the composers' list): the ledger's channels item, and Postiz.
    status, listed = call(stack, "GET", "/v1/channels/iam-probe")
    assert (status, listed["channels"]) == (200, []), listed
    assert stack.iam_seen()["calls"].get("TriggerFunctionRole", 0) > before
