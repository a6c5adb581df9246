"""The worker process exposes health and metrics for its container orchestrator."""

from __future__ import annotations

import asyncio
import signal
import urllib.error
import urllib.request
import uuid

import pytest
from temporalio.client import Client

from orchestrator.dispatch.noop import NoopInput, NoopWorkflow
from smm_local.loopback import free_port
from smm_local.stack import LocalStack
from smm_runtime.contract.kinds import NoopRequest

pytestmark = pytest.mark.integration


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()
    except OSError:
        return 0, ""


async def test_health_dispatch_metrics_and_sdk_metrics(client: Client, stack: LocalStack) -> None:
    queue = f"tq-{uuid.uuid4()}"
    health, sdk = free_port(), free_port()
    worker = stack.start_worker(
        {
            "SMM_TASK_QUEUE": queue,
            "SMM_HEALTH_PORT": str(health),
            "SMM_TEMPORAL_METRICS_PORT": str(sdk),
        },
        name="worker-health",
    )
    try:
        for _ in range(100):
            if get(f"http://127.0.0.1:{health}/healthz")[0] == 200:
                break
            await asyncio.sleep(0.2)
        assert get(f"http://127.0.0.1:{health}/healthz") == (200, "ok\n")
        await (
            await client.start_workflow(
                NoopWorkflow.run,
                NoopInput(request=NoopRequest(echo="m")),
                id=f"health-{uuid.uuid4().hex[:6]}",
                task_queue=queue,
            )
        ).result()
        status, metrics = get(f"http://127.0.0.1:{health}/metrics")
        assert status == 200
        assert 'smm_dispatch_total{kind="noop",outcome="dispatched"} 1' in metrics
        status, sdk_metrics = get(f"http://127.0.0.1:{sdk}/metrics")
        assert status == 200 and "temporal_" in sdk_metrics
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0  # drained and exited cleanly
