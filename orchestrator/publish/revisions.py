"""What a reviewer may change in a revise round: the creative's own text, by path.

``editable(kind, spec)`` lists the text a creative actually has (a template's text props, a
carousel's slide texts, a video's scene texts and captions) as ``{path: text}``; the review
page offers exactly those, and ``apply_edits`` writes new text back at those paths only, so
a revision can never add a prop a template does not take or touch anything but text. Pure:
runs inside the workflow.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from importlib import resources
from typing import Any

from pydantic import ValidationError

from smm_runtime.contract.publish_io import ApprovalDecision, ApprovalPolicy, PublishStatus
from smm_runtime.contract.validation import ContractError, describe_validation_error

# Each image template's props schema, generated from the Node function's own templates
# (functions/render_image/src/templates.mts, `make schema`): the text props are its plain strings.
TEMPLATE_PROPS: dict[str, dict[str, Any]] = json.loads(
    (resources.files("smm_runtime.contract") / "template_props.json").read_text()
)
TEMPLATE_TEXT = {
    name: tuple(
        prop
        for prop, rule in schema["properties"].items()
        if rule.get("type") == "string" and "pattern" not in rule
    )
    for name, schema in TEMPLATE_PROPS.items()
}
MAX_TEXT = 2000


class EditError(ValueError):
    """An edit the creative cannot take; the message names the path."""


class Rejected(Exception):
    """A decision that cannot be applied: recorded in the status, nothing else changes."""


def editable(kind: str, spec: dict[str, Any]) -> dict[str, str]:
    found: dict[str, str] = {}
    if kind == "video":
        for i, scene in enumerate(spec.get("scenes") or []):
            for j, text in enumerate(scene.get("texts") or []):
                if isinstance(text.get("text"), str):
                    found[f"scenes.{i}.texts.{j}.text"] = text["text"]
        for k, caption in enumerate(spec.get("captions") or []):
            if isinstance(caption.get("text"), str):
                found[f"captions.{k}.text"] = caption["text"]
    elif spec.get("carousel") is not None:
        for i, slide in enumerate(spec["carousel"]):
            for name in TEMPLATE_TEXT["carousel_slide"]:
                if isinstance(slide.get(name), str):
                    found[f"carousel.{i}.{name}"] = slide[name]
    else:
        props = spec.get("props") or {}
        for name in TEMPLATE_TEXT.get(str(spec.get("template")), ()):
            if isinstance(props.get(name), str):
                found[f"props.{name}"] = props[name]
    return found


def _limits(kind: str, spec: dict[str, Any], path: str) -> tuple[int, int]:
    """The length a text may have: the template's own limits for an image's props."""
    if kind == "video":
        return 1, MAX_TEXT
    template = "carousel_slide" if path.startswith("carousel.") else str(spec.get("template"))
    rule = TEMPLATE_PROPS.get(template, {}).get("properties", {}).get(path.rsplit(".", 1)[1], {})
    return int(rule.get("minLength", 1)), int(rule.get("maxLength", MAX_TEXT))


def apply_edits(kind: str, spec: dict[str, Any], edits: dict[str, str]) -> dict[str, Any]:
    """A copy of ``spec`` with new text at the given paths; an unknown path is refused."""
    allowed = editable(kind, spec)
    edited = copy.deepcopy(spec)
    for path, text in edits.items():
        if path not in allowed:
            offer = ", ".join(sorted(allowed)) or "nothing"
            raise EditError(f"edits.{path}: this creative has no such text (it has: {offer})")
        low, high = _limits(kind, spec, path)
        if not isinstance(text, str) or not text.strip() or not low <= len(text) <= high:
            raise EditError(f"edits.{path}: give {low} to {high} characters of text")
        target: Any = edited
        *parents, leaf = path.split(".")
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        target[leaf] = text
    return edited


def check_decision(
    raw: dict[str, Any],
    policy: ApprovalPolicy,
    status: PublishStatus,
    waiting: bool,
    revise: Callable[[ApprovalDecision], Any],
) -> ApprovalDecision:
    """The decision, or Rejected naming what is wrong (who, when, which text)."""
    try:
        decision = ApprovalDecision.model_validate(raw)
    except ValidationError as err:
        raise Rejected(describe_validation_error(err)) from None
    if policy.reviewers and decision.reviewer not in policy.reviewers:
        raise Rejected(f"reviewer: {decision.reviewer!r} may not decide on this creative")
    if not waiting:
        raise Rejected(f"stage: nothing awaits a decision (stage is {status.stage})")
    if decision.decision == "revise":
        if status.round > policy.max_revisions:
            raise Rejected("decision: the revision limit is reached; approve or reject")
        try:
            revise(decision)  # the revised creative must still be a valid spec
        except (ContractError, EditError) as err:
            raise Rejected(("" if isinstance(err, EditError) else "changes: ") + str(err)) from None
    return decision
