"""Image spec v1: a branded card from a template, or a carousel of slides.

Templates live with the Node.js renderer (functions/render_image/src/templates.mts), each with its
own typed props; this side checks the shape of the request and which sizes exist.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

ImageSize = Literal["square", "portrait", "landscape", "link"]
IMAGE_SIZES: dict[str, tuple[int, int]] = {
    "square": (1080, 1080),
    "portrait": (1080, 1350),
    "landscape": (1200, 675),
    "link": (1200, 630),
}
TEMPLATES = ("quote_card", "promo_card", "carousel_slide", "link_preview")
TemplateName = Literal["quote_card", "promo_card", "carousel_slide", "link_preview"]


class ImageSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    spec_version: Literal[1] = 1
    brand_kit: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    size: ImageSize = "square"
    template: TemplateName | None = None
    props: dict[str, Any] | None = None
    carousel: list[dict[str, Any]] | None = Field(
        default=None,
        min_length=2,
        max_length=20,
        description="Slides' props; rendered with carousel_slide, index/total filled in.",
    )

    @model_validator(mode="after")
    def _one_kind(self) -> ImageSpec:
        if self.carousel is not None:
            if self.template not in (None, "carousel_slide") or self.props is not None:
                raise ValueError(
                    "a carousel takes 'carousel' (the slides' props) only; "
                    "drop 'template' and 'props'"
                )
        elif self.template is None or self.props is None:
            raise ValueError("set 'template' and 'props' for one image, or 'carousel'")
        if (self.template == "link_preview") != (self.size == "link"):
            raise ValueError(
                "size: link_preview is 1200x630 ('link'); other templates take "
                "square, portrait or landscape"
            )
        return self

    def jobs(self) -> list[tuple[str, dict[str, Any]]]:
        """(template, props) for every image, in output order."""
        if self.carousel is not None:
            total = len(self.carousel)
            return [
                ("carousel_slide", {**slide, "index": i + 1, "total": total})
                for i, slide in enumerate(self.carousel)
            ]
        assert self.template is not None and self.props is not None
        return [(self.template, self.props)]
