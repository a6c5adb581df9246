"""Credits: the price model (configuration), estimates from the resolved length, actual cost.

The estimate is what a render reserves before anything is dispatched; the actual cost is
computed from what the functions measured (GB-seconds) and never exceeds the estimate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

from smm_runtime.contract.basetypes import ComputeUsage
from smm_runtime.contract.ownership import ACCOUNT_PATTERN


class PriceModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    credits_per_second: dict[str, float] = Field(
        default_factory=lambda: {"9:16": 1.0, "1:1": 0.8, "16:9": 1.0},
        description="Per rendered second, by preset.",
    )
    credits_per_image: float = Field(default=2.0, ge=0)
    credits_per_variant: float = Field(
        default=1.0, ge=0, description="Each extra preset of a video, each extra image."
    )
    credits_per_gb_second: float = Field(default=0.05, ge=0)
    minimum_charge: int = Field(default=1, ge=0)


def estimate_video(total_frames: int, fps: int, presets: Sequence[str], model: PriceModel) -> int:
    """Credits for a video of ``total_frames`` (its resolved length) in each preset."""
    seconds = total_frames / fps
    credits = sum(seconds * model.credits_per_second.get(p, 1.0) for p in presets)
    credits += model.credits_per_variant * (len(presets) - 1)
    return max(model.minimum_charge, math.ceil(credits))


def estimate_images(count: int, model: PriceModel) -> int:
    credits = model.credits_per_image * count + model.credits_per_variant * (count - 1)
    return max(model.minimum_charge, math.ceil(credits))


def actual(usage: ComputeUsage, model: PriceModel, held: int) -> int:
    measured = math.ceil(usage.gb_seconds * model.credits_per_gb_second)
    return min(held, max(model.minimum_charge, measured))


class LedgerOp(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    op: str = Field(pattern=r"^(grant|reserve|capture|release)$")
    account: str = Field(pattern=ACCOUNT_PATTERN)
    key: str = Field(min_length=1, max_length=400)
    hold_id: str | None = None
    amount: int = 0
    # A reserve for this run alone: the activity appends the run id to the hold (and its
    # key) and answers with the hold id that capture and release then use.
    per_run: bool = False
