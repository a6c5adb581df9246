"""A function for the emulator's own tests: it does what the event asks, to meet Lambda's
limits (memory, /tmp) on purpose, or records what it was sent."""

from __future__ import annotations

import errno
import importlib.util
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if event.get("inspect"):
        return inspect()
    if event.get("hog_mb"):
        held = [bytearray(1024 * 1024) for _ in range(int(event["hog_mb"]))]  # touched pages
        time.sleep(float(event.get("hold_s", 2)))  # sampled memory: held long enough to see
        return {"held_mb": len(held)}
    if event.get("fill_tmp"):
        written = 0
        chunk = b"\0" * (1024 * 1024)
        try:
            with open(Path(tempfile.gettempdir()) / "fill", "wb") as out:
                while written < 4096:
                    out.write(chunk)
                    out.flush()
                    written += 1
        except OSError as err:
            return {"errno": err.errno, "enospc": err.errno == errno.ENOSPC, "written_mb": written}
        return {"errno": 0, "written_mb": written}
    if os.environ.get("PROBE_RECORDS"):
        path = Path(os.environ["PROBE_RECORDS"]) / f"{uuid.uuid4()}.json"
        path.write_text(json.dumps(event))
    if event.get("fail") or (event.get("requestPayload") or {}).get("fail"):
        raise RuntimeError("asked to fail")  # the probe, and the sink given its record
    return {"ok": True}


def inspect() -> dict[str, Any]:
    """What the environment looks like from inside."""
    try:
        Path("/var/task/written").write_text("x")
        task_write = 0
    except OSError as err:
        task_write = err.errno or -1
    try:
        import probe_layer  # type: ignore[import-not-found]  # from the layer's /opt/python

        layer = probe_layer.VALUE
    except ImportError:
        layer = None
    return {
        "python": f"{sys.version_info[0]}.{sys.version_info[1]}",
        "cwd": os.getcwd(),
        "opt": sorted(os.listdir("/opt")),
        "layer": layer,
        "task_write_errno": task_write,
        "dev_tree_importable": importlib.util.find_spec("smm_local") is not None,
        "tmp": tempfile.gettempdir(),
    }
