"""What the chaos soak reports, and the checks behind it: duplicate segment renders from the
functions' own logs, and the ledger's invariants after the run."""

from __future__ import annotations

import contextlib
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from smm_local.stack import LocalStack
from smm_runtime.ledger import Ledger

ACCOUNT = "soak-agency"


@dataclass
class SoakReport:
    started: int = 0
    completed: int = 0
    failed: int = 0
    lost: int = 0
    duplicate_segment_renders: int = 0
    duplicate_charges: int = 0
    duplicate_postiz_posts: int = 0  # counted in the Postiz double's store, by publish key
    lost_postiz_posts: int = 0  # completed publishes with no post on their channel there
    postiz_refused: int = 0  # publishes ended publish_failed (Postiz reported ERROR)
    postiz_errored: int = 0  # posts the double failed on purpose (the ERROR fault)
    postiz_stuck: int = 0  # posts the double held in QUEUE until its workers were back
    postiz_faults_hit: dict[str, int] = field(default_factory=dict)
    ledger_invariants_hold: bool = False
    stale_holds: int = 0
    leaked_permits: int = 0
    postiz_faults: int = 0
    worker_kills: int = 0
    server_restarts: int = 0
    function_kills: int = 0
    kill_candidates: int = 0  # render invocations the kill fraction applied to
    payload_faults: int = 0
    payload_wrong: list[str] = field(default_factory=list)
    duplicated_events: int = 0
    late_events: int = 0
    segment_renders: int = 0
    captures: int = 0
    # DynamoDB transactions cancelled by TransactionConflict, single writes refused with
    # TransactionConflictException, S3 conditional writes answered 409 (smm_local.contention):
    # all retried by the product; none may show up as a failure.
    conflicts: dict[str, int] = field(default_factory=dict)
    iam_denials: list[str] = field(default_factory=list)  # calls template.yaml did not grant
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        return (
            [
                f"workflows started {self.started}, completed {self.completed}, "
                f"failed {self.failed}, lost {self.lost}",
                f"duplicate renders of a finished segment {self.duplicate_segment_renders} "
                f"(of {self.segment_renders} segment renders)",
                f"duplicate charges {self.duplicate_charges} (of {self.captures} charges), "
                f"duplicate Postiz posts "
                f"{self.duplicate_postiz_posts}, lost Postiz posts {self.lost_postiz_posts}, "
                "ledger invariants "
                f"{'hold' if self.ledger_invariants_hold else 'BROKEN'}, stale holds "
                f"{self.stale_holds}, leaked permits {self.leaked_permits}, Payload documents "
                f"ending in the wrong stage {len(self.payload_wrong)}",
                f"chaos: worker SIGKILLs {self.worker_kills}, server restarts "
                f"{self.server_restarts}, functions killed mid-invocation {self.function_kills} "
                f"of {self.kill_candidates} render invocations, events delivered twice "
                f"{self.duplicated_events}, late redeliveries {self.late_events}, Postiz faults "
                f"{self.postiz_faults}, Payload faults {self.payload_faults}",
                "Postiz's side: faults that hit a request or a post "
                + (
                    ", ".join(f"{k} {v}" for k, v in sorted(self.postiz_faults_hit.items()))
                    or "none"
                )
                + f"; publishes ended publish_failed {self.postiz_refused} (posts Postiz "
                f"failed {self.postiz_errored}), posts held in QUEUE {self.postiz_stuck}",
                "conflicts met and retried: "
                + (", ".join(f"{k} {v}" for k, v in sorted(self.conflicts.items())) or "none")
                + f"; IAM denials {len(self.iam_denials)}",
                f"took {self.seconds:.1f}s",
            ]
            + [f"failure: {f}" for f in self.failures]
            + [f"Payload wrong: {w}" for w in self.payload_wrong]
            + [f"IAM denied: {d}" for d in self.iam_denials]
        )


def segment_duplicates(log_text: str) -> tuple[int, int]:
    """(duplicate renders, all renders). A segment is rendered twice when it is published
    more than once (two renders ran at the same moment) or a render starts after it was
    published; a render killed before publishing, then redone, is no duplicate."""
    events: dict[str, list[tuple[str, datetime]]] = defaultdict(list)
    for line in log_text.splitlines():
        if "segment render started" not in line and "segment published" not in line:
            continue
        with contextlib.suppress(ValueError, KeyError):
            record = json.loads(line[line.index("{") :])
            at = datetime.fromisoformat(record["timestamp"].replace("Z", "+00:00"))
            events[record["segment_key"]].append((record["message"], at))
    duplicates = renders = 0
    for entries in events.values():
        published = [at for message, at in entries if message == "segment published"]
        starts = [at for message, at in entries if message == "segment render started"]
        renders += len(starts)
        if published:
            late = sum(1 for at in starts if at > min(published))
            duplicates += max(len(published) - 1, late)
    return duplicates, renders


def ledger_checks(stack: LocalStack, report: SoakReport) -> None:
    ledger = Ledger(stack.dynamodb(), stack.ledger_table)
    balance = ledger.balance(ACCOUNT)
    report.ledger_invariants_hold = (
        balance.balance >= 0
        and balance.held >= 0
        and balance.granted == balance.balance + balance.captured + balance.held
    )
    captures = Counter(
        entry.get("hold")
        for entry in ledger.history(ACCOUNT, limit=100_000)
        if entry.get("op") == "capture"
    )
    report.duplicate_charges = sum(n - 1 for n in captures.values() if n > 1)
    report.captures = sum(captures.values())
    # Every workflow has ended: any hold still open was never settled.
    report.stale_holds = sum(1 for h in ledger.open_holds() if h["account"] == ACCOUNT)
