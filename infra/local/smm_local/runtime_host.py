"""One warm Python "execution environment" of the emulator, in its own process.

Like Lambda's runtime: import the handler once (init), then serve invocations one at a time.
Requests arrive as JSON lines on stdin; answers go to a separate pipe so whatever the function
prints stays in the logs and cannot corrupt the protocol.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any


class LambdaContext:
    def __init__(self, request_id: str, deadline_ms: int) -> None:
        name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        region = os.environ.get("AWS_REGION", "us-east-1")
        self.function_name = name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{region}:123456789012:function:{name}"
        self.memory_limit_in_mb = int(os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"])
        self.aws_request_id = request_id
        self.log_group_name = f"/aws/lambda/{name}"
        self.log_stream_name = f"local/{os.getpid()}"
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))


def _error(err: BaseException, kind: str | None = None) -> dict[str, Any]:
    return {
        "ok": False,
        "errorType": kind or type(err).__name__,
        "errorMessage": str(err),
        "stackTrace": traceback.format_exception(err)[-5:],
    }


def import_root(code_dir: Path, module_name: str) -> Path:
    """Where the handler's top package lives. A makefile build lays ``functions/<name>/`` out
    under /var/task, so for ``functions.noop.app`` in ``.../functions/noop`` that is the
    folder two levels up; a flat ``app`` is imported from the code folder itself."""
    packages = module_name.split(".")[:-1]
    if packages and list(code_dir.parts[-len(packages) :]) == packages:
        return code_dir.parents[len(packages) - 1]
    return code_dir


def main() -> None:
    answers = os.fdopen(int(os.environ["SMM_EMULATOR_RESULT_FD"]), "w", buffering=1)
    module_name, _, function_name = os.environ["_HANDLER"].rpartition(".")
    sys.path.insert(0, str(import_root(Path(os.getcwd()), module_name)))
    started = time.monotonic()
    try:
        handler = getattr(importlib.import_module(module_name), function_name)
    except Exception as err:
        answers.write(
            json.dumps({"ready": False, **_error(err, "Runtime.ImportModuleError")}) + "\n"
        )
        sys.exit(1)
    answers.write(
        json.dumps({"ready": True, "init_ms": int((time.monotonic() - started) * 1000)}) + "\n"
    )
    for line in sys.stdin:
        request = json.loads(line)
        context = LambdaContext(request["request_id"], request["deadline_ms"])
        try:
            payload = handler(request["event"], context)
            answer = {"ok": True, "payload": payload}
        except Exception as err:
            answer = _error(err)
        answers.write(json.dumps(answer, default=str) + "\n")


if __name__ == "__main__":
    main()
