"""The ledger table in in-process moto, shaped as template.yaml declares LedgerTable (pk, sk
and the sparse OpenHolds index). The ledger and the accounts' channels share it."""

from __future__ import annotations

from typing import Any

import boto3

from smm_local.template import repo_table_spec


def ledger_table(name: str) -> Any:
    """A DynamoDB client with the table created; call inside ``mock_aws()``."""
    db = boto3.client("dynamodb", region_name="us-east-1")
    db.create_table(**repo_table_spec("LedgerTable", name))
    return db
