"""CloudWatch metrics for one function invocation, as Powertools EMF lines.

Kept apart from the runner: what is measured (time, compute, output size per kind and
outcome) changes for dashboards, how an event is run to its end does not."""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit, single_metric
from pydantic import BaseModel


def emit_activity_metrics(
    kind: str, outcome: str, seconds: float, result: BaseModel | None
) -> None:
    """One EMF line per figure, dimensioned by kind and outcome (``result`` may be None)."""
    namespace = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "SmmCreativeEngine")
    values: list[tuple[str, Any, float]] = [("ActivitySeconds", MetricUnit.Seconds, seconds)]
    usage = getattr(result, "usage", None)
    if usage is not None:
        values.append(("GbSeconds", MetricUnit.Count, float(usage.gb_seconds)))
    size = getattr(result, "size_bytes", None) or getattr(
        getattr(result, "media", None), "size_bytes", None
    )
    if size:
        values.append(("OutputBytes", MetricUnit.Bytes, float(size)))
    for name, unit, value in values:
        with single_metric(name=name, unit=unit, value=value, namespace=namespace) as metric:
            metric.add_dimension(name="kind", value=kind)
            metric.add_dimension(name="outcome", value=outcome)
