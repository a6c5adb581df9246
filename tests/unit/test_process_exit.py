"""Ending without the interpreter's teardown (smm_runtime.process_exit) keeps everything a
normal exit would have given: the status, buffered output, log lines and batched spans."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest


def child(body: str) -> subprocess.CompletedProcess[str]:
    program = "from smm_runtime.process_exit import run_and_exit\n" + textwrap.dedent(body)
    return subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    ("ending", "status"),
    [
        ("return None", 0),
        ("raise SystemExit(None)", 0),
        ("raise SystemExit(3)", 3),
        ("raise SystemExit('error: --account: unknown')", 1),
        ("raise RuntimeError('boom')", 1),
        ("raise KeyboardInterrupt", 130),
    ],
)
def test_the_status_is_what_a_normal_exit_would_give(ending: str, status: int) -> None:
    done = child(f"""
        def main():
            {ending}
        run_and_exit(main)
    """)
    assert done.returncode == status, done.stderr
    if "error:" in ending:
        assert "error: --account: unknown" in done.stderr
    if "boom" in ending:
        assert "Traceback" in done.stderr and "RuntimeError: boom" in done.stderr


def test_buffered_output_and_log_lines_are_written_before_the_end() -> None:
    # stdout to a pipe is block-buffered: without the flush, os._exit would drop these lines.
    done = child("""
        import logging, sys
        handler = logging.StreamHandler(sys.stdout)
        logging.getLogger().addHandler(handler)
        logging.getLogger().setLevel(logging.INFO)
        def main():
            for n in range(1000):
                print("line", n)
            logging.getLogger("x").info("the last log line")
        run_and_exit(main)
    """)
    assert done.returncode == 0
    lines = done.stdout.splitlines()
    assert len(lines) == 1001 and lines[-2] == "line 999" and lines[-1] == "the last log line"


def test_a_batched_span_is_exported_before_the_end() -> None:
    # A batch processor holding the span for a minute: only the flush sends it.
    done = child("""
        import sys
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
        from smm_runtime import tracing
        provider = TracerProvider()
        provider.add_span_processor(BatchSpanProcessor(
            ConsoleSpanExporter(out=sys.stdout, formatter=lambda s: s.to_json(indent=None) + "\\n"),
            schedule_delay_millis=60_000))
        tracing._provider = provider
        def main():
            with provider.get_tracer("t").start_as_current_span("the-span"):
                pass
        run_and_exit(main)
    """)
    assert done.returncode == 0, done.stderr
    spans = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert [s["name"] for s in spans] == ["the-span"]
