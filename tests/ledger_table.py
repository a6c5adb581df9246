"""The ledger table in in-process moto (the shape template.yaml gives LedgerTable: pk, sk).
The ledger and the accounts' channels share it."""

from __future__ import annotations

from typing import Any

import boto3


def ledger_table(name: str) -> Any:
    """A DynamoDB client with the table created; call inside ``mock_aws()``."""
    db = boto3.client("dynamodb", region_name="us-east-1")
    db.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
    )
    return db
