"""The trigger's idempotency table in in-process moto (the shape template.yaml gives it)."""

from __future__ import annotations

from typing import Any

import boto3

TABLE = "idem"


def idempotency_table(name: str = TABLE) -> Any:
    """A DynamoDB client with the table created; call inside ``mock_aws()``."""
    db = boto3.client("dynamodb", region_name="us-east-1")
    db.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
    )
    return db
