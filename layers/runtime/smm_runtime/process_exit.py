"""Ending a process that used a Temporal client, without the interpreter's teardown.

The client's native (Rust, Tokio) threads can outlive the event loop; when one of them
touches the interpreter while Python finalizes, CPython aborts the process ("Fatal Python
error: PyGILState_Release: thread state ... must be current when releasing", status -6,
temporalio/sdk-python#300). That turns a correct answer into a crash, at random, on exit.
Nothing of ours needs the teardown once what is buffered has been written, so short-lived
entry points (the CLI, the worker after a graceful shutdown, starters, benches) end here:
spans flushed, log handlers flushed, stdout and stderr flushed, then ``os._exit``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Callable
from typing import NoReturn

from smm_runtime import tracing


def exit_now(code: int) -> NoReturn:
    """Write what is buffered (spans, logs, stdout, stderr), then end with ``code``."""
    try:
        tracing.flush()
        for handler in logging.getLogger().handlers:
            handler.flush()
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):  # a closed pipe keeps the status
                stream.flush()
        os._exit(code)


def status_of(done: SystemExit) -> int:
    """The exit status ``sys.exit`` asked for: None is 0, an int is itself, and anything
    else (a message) was printed by Python's convention and is 1."""
    if done.code is None:
        return 0
    if isinstance(done.code, int):
        return done.code
    print(done.code, file=sys.stderr)
    return 1


def run_and_exit(main: Callable[[], object]) -> NoReturn:
    """Run ``main`` and end the process with its status; an uncaught exception is printed
    with its traceback and ends with 1, as Python itself would."""
    try:
        main()
        code = 0
    except SystemExit as done:
        code = status_of(done)
    except KeyboardInterrupt:
        code = 130
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    exit_now(code)
