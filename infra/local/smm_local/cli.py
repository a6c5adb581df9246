"""smm-local: the local stack for development and the demo (not part of the product).

``smm-local dev`` brings up Temporal, moto, the Lambda emulator, the API doubles and a worker
and keeps them; ``smm-local demo`` runs the main job on them (what ``make demo`` runs).
"""

from __future__ import annotations

import argparse
import secrets
import sys
import time

from smm_local.demo import cmd_demo
from smm_local.payload_app import Person
from smm_local.stack import LocalStack
from smm_local.temporal_dev import ensure_search_attributes
from smm_runtime.process_exit import exit_now


def cmd_dev(args: argparse.Namespace) -> int:
    # Passwords for this run only (a kept database gets them anew): printed below, never
    # written to a file.
    people = (
        Person("editor@example.com", secrets.token_urlsafe(12), ("editor",)),
        Person("viewer@example.com", secrets.token_urlsafe(12), ("viewer",)),
    )
    stack = LocalStack(
        ui_port=args.ui_port,
        persistent=True,
        log=sys.stderr,
        payload_port=args.payload_port,
        payload_admin=True,
        payload_people=people,
    )
    with stack:
        ensure_search_attributes(stack.temporal_address)
        stack.start_worker()
        print("local stack is up; in another shell:")
        for key, value in stack.env().items():
            print(f"  export {key}={value}")
        print(f"Temporal Web UI: {stack.ui_url}")
        print(f"Payload admin: http://127.0.0.1:{args.payload_port}/admin")
        for person in people:
            print(f"  sign in as {person.email} / {person.password} ({', '.join(person.roles)})")
        print("Ctrl-C stops everything.")
        try:
            while all(p.poll() is None for p in stack.procs.values()):
                time.sleep(1)
        except KeyboardInterrupt:
            pass
    return 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="smm-local", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    dev = sub.add_parser("dev", help="bring up the local stack and a worker, and keep them")
    dev.add_argument("--ui-port", type=int, default=8233)
    dev.add_argument("--payload-port", type=int, default=3000, help="Payload's admin and API")
    demo = sub.add_parser("demo", help="the main job, end to end, on the embedded stack")
    demo.add_argument("--ui-port", type=int, default=8233)
    demo.add_argument("--keep", action="store_true", help="keep the stack up afterwards")
    demo.add_argument(
        "--auto-approve",
        action="store_true",
        help="approve the publish step automatically (else approve from the CLI)",
    )
    args = parser.parse_args(argv)
    code = {"dev": cmd_dev, "demo": cmd_demo}[args.command](args)
    exit_now(code)  # skips the teardown a Temporal client's threads can abort (process_exit)


if __name__ == "__main__":
    main()
