"""Re-record the replay histories: `make record-histories` (or python -m tests.replay.record).

Run it only when a workflow change is intentional AND no execution recorded with the old
code can still be running anywhere; otherwise guard the change with workflow.patched() (see
docs/operations.md, "Rolling out a workflow change") and keep the old histories, which is exactly
what makes them useful.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from pathlib import Path

from temporalio.service import RPCError

from smm_runtime.process_exit import run_and_exit
from tests.replay.scenarios import SCENARIOS
from tests.temporal_servers import start_time_skipping

HISTORIES = Path(__file__).parent / "histories"


async def record(only: set[str] | None = None) -> list[Path]:
    env = await start_time_skipping()
    written = []
    try:
        for scenario in SCENARIOS:
            if only and scenario.__name__ not in only:
                continue
            handles = await scenario(env)
            for name, handle in handles.items():
                history = await handle.fetch_history()
                path = HISTORIES / f"{name}.json"
                # Replay must use the recorded workflow id: child ids are derived from it.
                saved = {"workflow_id": handle.id, "history": json.loads(history.to_json())}
                path.write_text(json.dumps(saved, indent=1) + "\n")
                written.append(path)
                print(f"{name}: {len(history.events)} events -> {path.relative_to(Path.cwd())}")
                # A workflow left running (the semaphore) would wake with no worker to serve it,
                # and the time-skipping server stops skipping while a task waits.
                with contextlib.suppress(RPCError):
                    await handle.terminate("history recorded")
    finally:
        await env.shutdown()
    return written


def main() -> None:
    HISTORIES.mkdir(exist_ok=True)
    asyncio.run(record(set(sys.argv[1:]) or None))


if __name__ == "__main__":
    run_and_exit(main)  # a Temporal client can abort a finishing process (process_exit)
