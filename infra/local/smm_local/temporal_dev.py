"""The local Temporal dev server's namespace, made ready for the worker."""

from __future__ import annotations

import asyncio


def ensure_search_attributes(address: str, namespace: str = "smm-hub-core") -> None:
    """A persistent dev database (`make dev`, `make demo`) from before an attribute existed:
    start-dev's --search-attribute flags only apply to a fresh one, and the worker refuses to
    start without them, so add what is missing through the operator API."""
    from temporalio.client import Client

    from orchestrator.visibility.attributes import register_search_attributes

    async def register() -> None:
        await register_search_attributes(await Client.connect(address, namespace=namespace))

    asyncio.run(register())
