"""smm-engine: run the worker, render a spec, publish and approve, credits, caps, codec server.

The local stack and the demo are not part of the product: they live in ``smm_local``
(``smm-local dev|demo``, ``make demo``).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import sys

from orchestrator.cli.channels import add_parser as channels_parser
from orchestrator.cli.channels import cmd_channels
from orchestrator.cli.credits import cmd_credits
from orchestrator.cli.listing import cmd_list
from orchestrator.cli.ops import cmd_codec_server, cmd_worker
from orchestrator.cli.publish import cmd_approve, cmd_publish, cmd_retry, cmd_status
from orchestrator.cli.render import cmd_brand_kit, cmd_render
from orchestrator.cli.slots import add_parser as slots_parser
from orchestrator.cli.slots import cmd_slots
from orchestrator.cli.watch import cmd_watch
from smm_runtime.codec import PayloadKeyError
from smm_runtime.contract.validation import ContractError
from smm_runtime.process_exit import run_and_exit
from smm_runtime.temporal_conn import TemporalConfigError


def version() -> str:
    """The installed release (CHANGELOG.md says what each one changed)."""
    try:
        return importlib.metadata.version("smm-creative-engine")
    except importlib.metadata.PackageNotFoundError:
        return "unknown (not installed)"


def publish_retry_as_retry(argv: list[str]) -> list[str]:
    """`smm-engine publish retry ID` is `smm-engine retry ID` (``publish`` itself takes a
    file, so a spec file named ``retry`` is given as ``./retry``)."""
    return ["retry", *argv[2:]] if argv[:2] == ["publish", "retry"] else argv


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="smm-engine", description=__doc__)
    parser.add_argument("--version", action="version", version=f"smm-engine {version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("worker", help="run the Temporal worker (env: TEMPORAL_*, SMM_*)")
    render = sub.add_parser("render", help="render SPEC.json and download the MP4")
    render.add_argument("spec")
    render.add_argument("--id", help="workflow id (default: a new one)")
    render.add_argument("--out", default="out")
    publish = sub.add_parser("publish", help="start PublishCreativeWorkflow from a JSON file")
    publish.add_argument("file", help="{creative, post, approval?, payload?}")
    publish.add_argument("--id", help="workflow id (default: a new one)")
    publish.add_argument("--follow", action="store_true", help="print each stage until done")
    approve = sub.add_parser("approve", help="approve (or reject/revise) a waiting creative")
    approve.add_argument("workflow_id")
    approve.add_argument("--reviewer", required=True)
    approve.add_argument("--comment")
    verdict = approve.add_mutually_exclusive_group()
    verdict.add_argument("--reject", action="store_true")
    verdict.add_argument("--revise", action="store_true")
    approve.add_argument("--changes", help="with --revise: a JSON merge patch for the spec")
    retry = sub.add_parser(
        "retry", help="post again on the channels a publish_failed publish could not reach"
    )
    retry.add_argument("workflow_id")
    retry.add_argument("--follow", action="store_true", help="print each stage until done")
    status = sub.add_parser("status", help="a publish workflow's status")
    status.add_argument("workflow_id")
    status.add_argument("--follow", action="store_true", help="print stage changes")
    watching = sub.add_parser("watch", help="follow any engine workflow until it ends")
    watching.add_argument("workflow_id")
    watching.add_argument("--json", action="store_true", help="one JSON object per change")
    listing = sub.add_parser("list", help="the engine's workflows by stage, account, kind")
    listing.add_argument("--stage", help="e.g. awaiting_approval, rendering, published")
    listing.add_argument("--account")
    listing.add_argument("--kind", choices=("publish", "video", "image"))
    listing.add_argument("--limit", type=int, default=50)
    listing.add_argument("--json", action="store_true", help="one JSON array, for scripts")
    credits = sub.add_parser("credits", help="the credit ledger (env: SMM_LEDGER_TABLE)")
    credit_sub = credits.add_subparsers(dest="credits_command", required=True)
    balance = credit_sub.add_parser("balance")
    balance.add_argument("account")
    grant = credit_sub.add_parser("grant")
    grant.add_argument("account")
    grant.add_argument("amount", type=int)
    grant.add_argument("--key", help="idempotency key: the same key grants once")
    history = credit_sub.add_parser("history")
    history.add_argument("account")
    history.add_argument("--limit", type=int, default=50)
    schedule = credit_sub.add_parser("schedule", help="create/update the monthly grant")
    schedule.add_argument("account")
    schedule.add_argument("amount", type=int)
    schedule.add_argument("--cron", default="0 0 1 * *", help="default: the 1st, 00:00 UTC")
    slots_parser(sub)
    channels_parser(sub)
    codec = sub.add_parser("codec-server", help="decode payloads for the Web UI (authenticated)")
    codec.add_argument("--host", default="127.0.0.1")
    codec.add_argument("--port", type=int, default=8081)
    codec.add_argument(
        "--tls-cert",
        help="PEM certificate: serve https (an https Web UI can only call an https codec server)",
    )
    codec.add_argument("--tls-key", help="PEM private key of --tls-cert")
    kit = sub.add_parser("brand-kit", help="validate and store a brand kit")
    kit_sub = kit.add_subparsers(dest="brand_kit_command", required=True)
    put = kit_sub.add_parser(
        "put",
        help="store KIT.json at brand-kits/<id>.json (or an "
        "account's accounts/<account>/brand-kits/, or shared/brand-kits/)",
    )
    put.add_argument("file")
    owner = put.add_mutually_exclusive_group()
    owner.add_argument("--account", help="the account whose kit this is (its own prefix)")
    owner.add_argument(
        "--shared", action="store_true", help="a kit every account may use (shared/brand-kits/)"
    )
    put.add_argument("--bucket", help="default: SMM_ASSETS_BUCKET, else SMM_OUTPUT_BUCKET")
    args = parser.parse_args(publish_retry_as_retry(sys.argv[1:] if argv is None else argv))
    handlers = {
        "worker": cmd_worker,
        "render": cmd_render,
        "brand-kit": cmd_brand_kit,
        "publish": cmd_publish,
        "approve": cmd_approve,
        "retry": cmd_retry,
        "status": cmd_status,
        "credits": cmd_credits,
        "channels": cmd_channels,
        "slots": cmd_slots,
        "codec-server": cmd_codec_server,
        "list": cmd_list,
        "watch": cmd_watch,
    }
    try:
        code = handlers[args.command](args)
    except ContractError as err:
        print(f"error: {err}", file=sys.stderr)
        code = 2
    except (TemporalConfigError, PayloadKeyError) as err:
        print(f"error: {err}", file=sys.stderr)
        code = 2
    except json.JSONDecodeError as err:  # e.g. approve --changes that is not JSON
        print(f"error: --changes: not valid JSON ({err.msg})", file=sys.stderr)
        code = 2
    except ValueError as err:  # the ledger's own checks name the field ("amount: ...")
        print(f"error: {err}", file=sys.stderr)
        code = 2
    sys.exit(code)


def run() -> None:
    """The `smm-engine` command: `main`, then an exit that skips interpreter teardown (the
    Temporal client's native threads can abort a finishing process: see
    ``smm_runtime.process_exit``), after spans, logs and output are flushed."""
    run_and_exit(main)
