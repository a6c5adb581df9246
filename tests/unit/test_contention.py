"""The local stack's moto conflicts as DynamoDB and S3 do (smm_local.contention), and the
product takes those conflicts as transient: retried, never a failure, never a double charge."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server

from smm_local import moto_faithful
from smm_local.contention import Contention
from smm_local.loopback import free_port
from smm_local.template import repo_table_spec
from smm_runtime.claims import Claims
from smm_runtime.ledger import Ledger
from smm_runtime.work import WorkContext

TABLE, BUCKET = "contention-ledger", "contention-bucket"


@dataclass
class Moto:
    url: str
    contention: Contention

    def client(self, service: Literal["s3", "dynamodb"]) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )


@pytest.fixture(scope="module")
def moto() -> Iterator[Moto]:
    moto_faithful.install()
    contention = Contention(DomainDispatcherApplication(create_backend_app), window_s=0.02)
    port = free_port()
    server = make_server("127.0.0.1", port, contention, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    running = Moto(f"http://127.0.0.1:{port}", contention)
    running.client("dynamodb").create_table(**repo_table_spec("LedgerTable", TABLE))
    running.client("s3").create_bucket(Bucket=BUCKET)
    yield running
    server.shutdown()


def update(account: str, n: int) -> dict[str, Any]:
    return {
        "Update": {
            "TableName": TABLE,
            "Key": {"pk": {"S": account}, "sk": {"S": "state"}},
            "UpdateExpression": "ADD n :n",
            "ExpressionAttributeValues": {":n": {"N": str(n)}},
        }
    }


def test_a_transaction_on_an_item_another_holds_is_cancelled_and_a_write_refused(
    moto: Moto,
) -> None:
    moto.contention.window_s = 0.5
    try:
        db = moto.client("dynamodb")
        first = threading.Thread(
            target=db.transact_write_items, kwargs={"TransactItems": [update("acct-a", 1)]}
        )
        first.start()
        time.sleep(0.15)  # the first is ongoing
        other = {"pk": {"S": "acct-a"}, "sk": {"S": "other"}}
        with pytest.raises(ClientError) as cancelled:
            moto.client("dynamodb").transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": TABLE, "Item": other}},
                    update("acct-a", 2),
                ]
            )
        assert cancelled.value.response["Error"]["Code"] == "TransactionCanceledException"
        codes = [r["Code"] for r in cancelled.value.response["CancellationReasons"]]
        assert codes == ["None", "TransactionConflict"]
        with pytest.raises(ClientError) as refused:
            moto.client("dynamodb").put_item(
                TableName=TABLE, Item={"pk": {"S": "acct-a"}, "sk": {"S": "state"}}
            )
        assert refused.value.response["Error"]["Code"] == "TransactionConflictException"
        # Reads do not conflict, and an item no transaction holds is free.
        moto.client("dynamodb").get_item(TableName=TABLE, Key=other)
        moto.client("dynamodb").put_item(TableName=TABLE, Item=other)
        first.join()
        state = db.get_item(TableName=TABLE, Key={"pk": {"S": "acct-a"}, "sk": {"S": "state"}})
        assert state["Item"]["n"] == {"N": "1"}  # the cancelled one applied nothing
    finally:
        moto.contention.window_s = 0.02


def test_concurrent_grants_to_one_account_meet_conflicts_retry_and_all_count_once(
    moto: Moto,
) -> None:
    ledgers = [Ledger(moto.client("dynamodb"), TABLE) for _ in range(4)]

    def grant(n: int) -> None:
        ledger = ledgers[n % len(ledgers)]
        ledger.grant("acct-b", 10, f"grant-{n}")
        ledger.grant("acct-b", 10, f"grant-{n}")  # a retried delivery: no double

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(grant, range(24)))
    balance = ledgers[0].balance("acct-b")
    assert (balance.balance, balance.granted) == (240, 240)
    assert sum(ledger.conflicts for ledger in ledgers) > 0  # conflicts happened, were retried
    assert moto.contention.counts["dynamodb_transaction_conflicts"] > 0


def test_a_delete_racing_a_conditional_write_answers_409_and_the_claim_retries(
    moto: Moto,
) -> None:
    s3 = moto.client("s3")
    moto.contention.window_s = 0.5
    try:
        answers: list[Any] = []

        def write() -> None:
            try:
                answers.append(s3.put_object(Bucket=BUCKET, Key="c/1", Body=b"x", IfNoneMatch="*"))
            except ClientError as err:
                answers.append(err.response["Error"]["Code"])

        writer = threading.Thread(target=write)
        writer.start()
        time.sleep(0.15)
        moto.client("s3").delete_object(Bucket=BUCKET, Key="c/1")
        writer.join()
        assert answers == ["ConditionalRequestConflict"]
        assert moto.contention.counts["s3_conditional_write_conflicts"] >= 1
        # A claim that meets the 409 asks again and takes the key.
        claims = Claims(s3, BUCKET)
        ctx = WorkContext("wf", "1", 1, checkpoint=None, memory_mb=1024)
        taker = threading.Thread(target=lambda: answers.append(claims.take("c/2", ctx)))
        taker.start()
        time.sleep(0.15)
        moto.client("s3").delete_object(Bucket=BUCKET, Key="c/2")
        taker.join()
        assert isinstance(answers[-1], str) and answers[-1].startswith('"')  # an ETag: held
    finally:
        moto.contention.window_s = 0.02
