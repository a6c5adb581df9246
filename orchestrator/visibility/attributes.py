"""What the engine's workflows can be found by in Temporal's Web UI and CLI.

Search attributes (set by the workflows themselves, registered by infra/temporal/setup.sh;
a test compares the two): ``SmmStage`` (upserted on every stage change), ``SmmAccount``,
``SmmKind`` (publish, video, image) and ``SmmDocument`` (``<collection>/<id>`` of the Payload
document a publish belongs to). So ``temporal workflow list --query "SmmStage =
'awaiting_approval' AND SmmAccount = 'acme'"`` (or ``smm-engine list``) answers "which
creatives of acme wait for a human".
"""

from __future__ import annotations

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.common import SearchAttributeKey

STAGE = SearchAttributeKey.for_keyword("SmmStage")
ACCOUNT = SearchAttributeKey.for_keyword("SmmAccount")
KIND = SearchAttributeKey.for_keyword("SmmKind")
DOCUMENT = SearchAttributeKey.for_keyword("SmmDocument")
KEYS = (STAGE, ACCOUNT, KIND, DOCUMENT)
# name -> type, as `temporal operator search-attribute create --type` spells it.
SEARCH_ATTRIBUTES: dict[str, str] = {key.name: "Keyword" for key in KEYS}


async def missing_search_attributes(client: Client) -> list[str]:
    """The engine's search attributes the namespace lacks (a workflow that upserts one of
    them would fail every workflow task until it exists)."""
    listed = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=client.namespace)
    )
    known = set(listed.custom_attributes) | set(listed.system_attributes)
    return [name for name in SEARCH_ATTRIBUTES if name not in known]


async def register_search_attributes(client: Client, *, fresh: bool = False) -> None:
    """Add the missing ones (local servers and tests; on a real server, setup.sh does it).
    ``fresh``: a new server that has none yet (the time-skipping test server cannot list)."""
    absent = list(SEARCH_ATTRIBUTES) if fresh else await missing_search_attributes(client)
    if absent:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(
                namespace=client.namespace,
                search_attributes={
                    name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD for name in absent
                },
            )
        )


def search_attribute_flags() -> list[str]:
    """`temporal server start-dev` flags that register them from the start."""
    return [
        flag
        for name, kind in SEARCH_ATTRIBUTES.items()
        for flag in ("--search-attribute", f"{name}={kind}")
    ]
