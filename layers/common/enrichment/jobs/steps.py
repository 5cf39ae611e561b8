"""A job of steps as the entry points take it, before options.parse_steps checks it.

- Steps as text (`x-amz-meta-steps`, `make run STEPS=`): the JSON of a steps list, or vendor names in order
  separated by spaces or commas (`pubrio prospeo check365`).
- Options of one step given beside the job's (`x-amz-meta-option-<vendor>.<name>`, `OPTIONS='prospeo.x=y'`,
  `enrich submit --option prospeo.x=y`): a `<vendor>.` prefix puts the option in every step of that vendor.
- Recipes: named steps lists, with optional job options, in one JSON file in the data bucket (RECIPES_KEY), as a
  schedule names its input there: `{"emails": {"steps": [...], "options": {"max_credits": 500}}}`.

Problems are BadInput naming what is wrong; the steps themselves are checked by options.parse_steps only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from pydantic import Field, ValidationError

from enrichment.errors import BadInput
from enrichment.files import storage
from enrichment.models import JobStep, Model
from enrichment.options import parse_steps

RECIPES_KEY = "recipes/recipes.json"
STEP_OPTION_SEPARATOR = "."
_NAMES = re.compile(r"[\s,]+")


def steps_from_text(text: str) -> list[dict[str, Any]]:
    """`[{"vendor": "prospeo", "options": {...}}, ...]` as JSON, or vendor names: `pubrio prospeo check365`."""
    text = text.strip()
    if text.startswith("["):
        try:
            steps = json.loads(text)
        except ValueError as exc:
            raise BadInput(
                f"steps: not JSON ({exc.msg} at character {exc.pos}); give a JSON list of steps or "
                "vendor names separated by spaces"
            ) from None
        return steps
    names = [name for name in _NAMES.split(text) if name]
    if not names:
        raise BadInput("steps: empty; give vendor names in order, like 'pubrio prospeo check365'")
    return [{"vendor": name.lower()} for name in names]


def with_step_options(steps: list[Any], options: Mapping[str, Any]) -> tuple[list[Any], dict[str, Any]]:
    """The steps with each `<vendor>.<name>` option put in every step of that vendor, and the job's own options
    (those without a prefix). A prefix naming no step's vendor is BadInput."""
    job_options: dict[str, Any] = {}
    by_vendor: dict[str, dict[str, Any]] = {}
    for name, value in options.items():
        vendor, separator, option = name.partition(STEP_OPTION_SEPARATOR)
        if not separator:
            job_options[name] = value
            continue
        by_vendor.setdefault(vendor.lower(), {})[option] = value
    vendors = {str(step.get("vendor")).lower() for step in steps if isinstance(step, Mapping)}
    for vendor, given in by_vendor.items():
        if vendor not in vendors:
            names = ", ".join(f"{vendor}.{option}" for option in given)
            raise BadInput(
                f"options: {names} name {vendor!r}, which is not a step of this job "
                f"(its steps: {', '.join(sorted(vendors)) or 'none'})"
            )
    merged = []
    for step in steps:
        given = by_vendor.get(str(step.get("vendor")).lower()) if isinstance(step, Mapping) else None
        if given:
            step_options = step.get("options") or {}
            if not isinstance(step_options, Mapping):
                raise BadInput(f"steps[{len(merged) + 1}].options: an object of option names and values")
            step = {**step, "options": {**step_options, **given}}
        merged.append(step)
    return merged, job_options


class Recipe(Model, extra="forbid"):
    """A named job of steps: its steps (each {vendor, options, validate}) and the job's own options, if any."""

    steps: list[dict[str, Any]] = Field(min_length=1)
    options: dict[str, Any] = {}
    description: str = ""


def load_recipe(bucket: str, name: str) -> Recipe:
    """The recipe so named in s3://<bucket>/RECIPES_KEY; BadInput when there is no such file or recipe."""
    document = storage.get_json_if_any(bucket, RECIPES_KEY)
    if document is None:
        raise BadInput(f"recipe {name!r}: there are no recipes (no s3://{bucket}/{RECIPES_KEY})")
    if not isinstance(document, dict):
        raise BadInput(f"recipe {name!r}: {RECIPES_KEY} is not a JSON object of named recipes")
    if name not in document:
        known = ", ".join(sorted(document)) or "none"
        raise BadInput(f"recipe {name[:60]!r}: no recipe of that name in {RECIPES_KEY} (it has: {known})")
    try:
        return Recipe.model_validate(document[name])
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(part) for part in problem["loc"]) or "the recipe"
        raise BadInput(f"recipe {name!r} in {RECIPES_KEY}: {where}: {problem['msg']}") from None


def job_steps(
    steps: list[Any] | None, recipe: str | None, options: Mapping[str, Any], bucket: str
) -> tuple[list[JobStep], dict[str, Any]]:
    """The steps given (or the recipe's), checked by options.parse_steps with `options`' `<vendor>.<name>` ones put
    in their steps, and the job's own options (a recipe's, overridden by those given). BadInput says what is
    wrong."""
    recipe_options: dict[str, Any] = {}
    if recipe is not None:
        loaded = load_recipe(bucket, recipe)
        steps, recipe_options = loaded.steps, loaded.options
    merged, own_options = with_step_options(steps or [], options)
    job_options = recipe_options | own_options
    return parse_steps(merged, job_options), job_options
