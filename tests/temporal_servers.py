"""Real Temporal servers for tests, from the pinned registry wheels (no downloads)."""

from __future__ import annotations

import sys
from pathlib import Path

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from orchestrator.visibility.attributes import KEYS, register_search_attributes

BIN = Path(sys.executable).parent


async def start_dev_server() -> WorkflowEnvironment:
    env = await WorkflowEnvironment.start_local(
        namespace="smm-hub-core",
        data_converter=pydantic_data_converter,
        dev_server_existing_path=str(BIN / "temporal"),
        dev_server_log_level="error",
        search_attributes=KEYS,  # the engine's, as setup.sh registers them on a real server
    )
    return env


async def start_time_skipping() -> WorkflowEnvironment:
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter,
        test_server_existing_path=str(BIN / "temporal-test-server"),
    )
    # The workflows upsert the engine's search attributes: unregistered, every workflow task
    # would fail (the test server takes them through the operator API).
    await register_search_attributes(env.client, fresh=True)
    return env
