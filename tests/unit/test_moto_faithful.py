"""The local stack's moto behaves as AWS does where the engine relies on it: concurrent
ledger transactions on one account stay isolated (the invariants hold) — the chaos soak's
"ledger invariants BROKEN" came from moto applying concurrent TransactWriteItems without a
lock. Unpatched moto 5.2.5 loses updates here (run tests/unit/test_moto_faithful.py's body
with ``PLAIN=1``: balance + captured + held no longer adds up to granted)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from moto import mock_aws

from smm_runtime.ledger import Ledger
from tests.ledger_table import ledger_table

THREADS, OPS = 8, 24
SCRIPT = Path(__file__)


def hammer(plain: bool) -> tuple[int, int, int, int]:
    if not plain:
        from smm_local import moto_faithful

        moto_faithful.install()
    with mock_aws():
        db = ledger_table("t")
        ledger = Ledger(db, "t")
        ledger.grant("a", 100_000, "grant")

        def work(n: int) -> None:
            for i in range(OPS):
                hold = f"{n}-{i}"
                ledger.reserve("a", hold, 7, f"{hold}:reserve")
                if i % 2:
                    ledger.capture("a", hold, 3, f"{hold}:capture")
                else:
                    ledger.release("a", hold, f"{hold}:release")

        threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        b = ledger.balance("a")
        return b.granted, b.balance, b.captured, b.held


def test_concurrent_ledger_transactions_keep_the_invariants() -> None:
    granted, balance, captured, held = hammer(plain=False)
    assert held == 0 and granted == balance + captured + held
    assert captured == THREADS * (OPS // 2) * 3  # every capture counted once


@pytest.mark.skipif(
    os.environ.get("SMM_SHOW_PLAIN_MOTO") != "1",
    reason="demonstrates moto's own race; SMM_SHOW_PLAIN_MOTO=1 to run",
)
def test_plain_moto_loses_concurrent_updates() -> None:
    out = subprocess.run(
        [sys.executable, str(SCRIPT)],
        capture_output=True,
        text=True,
        env={**os.environ, "PLAIN": "1"},
        timeout=300,
    )
    granted, balance, captured, held = map(int, out.stdout.split()[-4:])
    assert granted != balance + captured + held or held != 0


if __name__ == "__main__" and os.environ.get("PLAIN") == "1":
    print(*hammer(plain=True))
