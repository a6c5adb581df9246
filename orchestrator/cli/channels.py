"""`smm-engine channels`: which Postiz channels (integration ids) an account may post to.

`allow ACCOUNT ID...` sets the whole list (what it does not name is withdrawn; no id at all
leaves the account with none); `show ACCOUNT` prints it. The trigger and the publish
workflow refuse any other channel for that account (smm_runtime/account_channels.py)."""

from __future__ import annotations

import argparse
from typing import Any

import boto3

from orchestrator.cli.settings import settings
from smm_runtime.account_channels import AccountChannels


def store() -> AccountChannels:
    table = settings().ledger_table
    if not table:
        raise SystemExit("error: set SMM_LEDGER_TABLE (the stack output LedgerTableName)")
    return AccountChannels(boto3.client("dynamodb"), table)


def cmd_channels(args: argparse.Namespace) -> int:
    if args.channels_command == "allow":
        ids = store().allow(args.account, args.integrations)
        print(f"{args.account} may post to: {', '.join(sorted(ids)) or 'no channel'}")
        return 0
    allowed = store().allowed(args.account)
    if allowed is None:
        print(f"{args.account}: no channels allowed yet (smm-engine channels allow ...)")
    else:
        print(f"{args.account} may post to: {', '.join(sorted(allowed)) or 'no channel'}")
    return 0


def add_parser(sub: Any) -> None:
    channels = sub.add_parser(
        "channels", help="the Postiz channels an account may post to (env: SMM_LEDGER_TABLE)"
    )
    channel_sub = channels.add_subparsers(dest="channels_command", required=True)
    allow = channel_sub.add_parser("allow", help="set the account's channels (the whole list)")
    allow.add_argument("account")
    allow.add_argument("integrations", nargs="*", metavar="INTEGRATION_ID")
    show = channel_sub.add_parser("show", help="the account's channels")
    show.add_argument("account")
