"""Will every channel of a publish take it? Checked before anything is rendered or charged.

The trigger runs this before it answers 202. The publish workflow runs it again before the
render and after each revision, so before review links go out and before credits are
captured. Each refusal names the field to fix and the rule it breaks (``channels.py``
cites where each rule comes from).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from smm_runtime.contract.channels import fits, media_for, rule_for
from smm_runtime.contract.image_spec import IMAGE_SIZES
from smm_runtime.contract.publish_io import PostSpec
from smm_runtime.contract.validation import parse_image_spec, parse_spec

PRESET_ASPECTS = {"9:16": 9 / 16, "1:1": 1.0, "16:9": 16 / 9}
NAMES = {
    "x": "X",
    "instagram": "Instagram",
    "instagram-standalone": "Instagram",
    "linkedin": "LinkedIn",
    "linkedin-page": "LinkedIn",
    "facebook": "Facebook",
    "tiktok": "TikTok",
    "tiktok-business": "TikTok",
}
_URL = re.compile(r"https?://\S+")
_LIGHT = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))


@dataclass(frozen=True)
class CreativeFacts:
    """What the channels care about in a creative, from its spec alone."""

    kind: Literal["video", "image"]
    aspects: list[float]  # width / height of each output, in output order
    duration_s: float = 0.0
    fps: int = 30

    @property
    def content_types(self) -> list[str]:
        return ["video/mp4" if self.kind == "video" else "image/png"] * len(self.aspects)


@dataclass(frozen=True)
class Refusal:
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


@dataclass
class Preflight:
    refusals: list[Refusal] = field(default_factory=list)
    media: dict[str, list[int]] = field(default_factory=dict)  # channel -> output indexes


def facts_of(kind: str, spec: Any) -> CreativeFacts:
    """Parse the creative as the workflow will (a ContractError names the bad field)."""
    if kind == "video":
        video = parse_spec(spec)
        seconds = sum(s.duration_s for s in video.scenes) - sum(
            s.transition_in.duration_s for s in video.scenes[1:] if s.transition_in.type != "cut"
        )
        aspects = [PRESET_ASPECTS[p] for p in video.presets]
        return CreativeFacts("video", aspects, duration_s=seconds, fps=video.fps)
    image = parse_image_spec(spec)
    width, height = IMAGE_SIZES[image.size]
    return CreativeFacts("image", [width / height] * len(image.jobs()))


def x_length(text: str) -> int:
    """X's weighted length (twitter-text v3's defaults): a URL counts 23; code points in
    the Latin and punctuation ranges 1; everything else (CJK, emoji) 2."""
    total = 23 * len(_URL.findall(text))
    for char in _URL.sub("", text):
        total += 1 if any(lo <= ord(char) <= hi for lo, hi in _LIGHT) else 2
    return total


def _channel(
    index: int, channel: str, provider: str, post: PostSpec, facts: CreativeFacts, out: Preflight
) -> None:
    rule = rule_for(provider)
    name = NAMES.get(provider, provider)
    settings = post.channel_settings.get(channel, post.settings or {})
    where = f"post.channel_settings.{channel}"
    for key, problem in rule.settings(settings):
        out.refusals.append(Refusal(f"{where}.{key}", f"{name} needs {key}: it {problem}"))
    length = x_length(post.content) if provider == "x" else len(post.content)
    if length > rule.max_chars:
        out.refusals.append(
            Refusal(
                "post.content",
                f"{length} characters; {name} ({channel}) takes at most {rule.max_chars}",
            )
        )
    chosen = media_for(provider, facts.content_types, facts.aspects)
    out.media[channel] = chosen
    if facts.kind == "image":
        if not any(fits(facts.aspects[i], rule.image_aspects) for i in chosen):
            out.refusals.append(
                Refusal("creative.spec.size", f"{name} ({channel}) does not take this image shape")
            )
        return
    if not any(fits(facts.aspects[i], rule.video_aspects) for i in chosen):
        out.refusals.append(
            Refusal(
                "creative.spec.presets",
                f"{name} ({channel}) takes none of these shapes; add a preset it takes",
            )
        )
    if not rule.min_s <= facts.duration_s <= rule.max_s:
        out.refusals.append(
            Refusal(
                "creative.spec.scenes",
                f"the video is {facts.duration_s:g} s; {name} ({channel}) takes "
                f"{rule.min_s:g} to {rule.max_s:g} s",
            )
        )
    if not rule.min_fps <= facts.fps <= rule.max_fps:
        out.refusals.append(
            Refusal(
                "creative.spec.fps",
                f"{facts.fps} fps; {name} ({channel}) takes {rule.min_fps} to {rule.max_fps}",
            )
        )


def preflight(post: PostSpec, facts: CreativeFacts, providers: dict[str, str] | None) -> Preflight:
    """Every refusal for every channel. Without the channels' providers (Postiz not
    reachable from here), only what needs no provider is checked."""
    out = Preflight()
    for index, channel in enumerate(post.integrations):
        if providers is None:
            continue
        provider = providers.get(channel)
        if provider is None:
            out.refusals.append(
                Refusal(
                    f"post.integrations.{index}",
                    f"'{channel}' is not a channel of the Postiz organisation "
                    f"(it has {', '.join(sorted(providers)) or 'none'})",
                )
            )
            continue
        _channel(index, channel, provider, post, facts, out)
    return out
