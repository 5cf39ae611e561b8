"""A job's options: the job's own (`columns`) and the vendor's, which only its adapter's options model reads.

Both arrive in one `options` object (the API's `options`, `x-amz-meta-option-<name>`, schedules.json, `make run
OPTIONS=`), checked against one model per vendor (`options_model`: the vendor's options and the job's) when the
job is created: the API refuses invalid options at the door (422), the other entry points store them so that
Prepare fails the job naming the option. Each value's one form (a comma string for a list, JSON true or false
for a flag) is the options models' own (`option_types`), so every entry point accepts the same.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from annotated_types import Interval
from pydantic import BaseModel, BeforeValidator, Field, ValidationError, create_model
from pydantic_core import ErrorDetails

from enrichment.errors import BadInput
from enrichment.models import CANONICAL_FIELDS, JobStep, Model, Vendor
from enrichment.option_types import MAX_OPTION_TEXT, OptionInteger, OptionText, a_number
from enrichment.vendors import adapter_class

COLUMNS_EXAMPLE = '{"email": "Work Email 2", "company_name": "Account"}'
DEFAULT_CACHE_AGE_DAYS = 30
MAX_CACHE_AGE_DAYS = 365
CanonicalField = Literal[CANONICAL_FIELDS]  # type: ignore[valid-type]


class JobOptions(Model, extra="forbid"):
    columns: dict[CanonicalField, OptionText] = Field(
        default_factory=dict,
        description=f"field -> column name: the column each named field is read from, whatever the headers say; "
        f"for example {COLUMNS_EXAMPLE}",
    )
    max_credits: OptionInteger | None = Field(
        default=None,
        description="the most credits the job may spend: each chunk's worst case is reserved before it is sent, "
        "and a chunk that does not fit is not sent (its rows end skipped)",
    )
    cache_max_age_days: Annotated[int, Interval(ge=0, le=MAX_CACHE_AGE_DAYS), BeforeValidator(a_number)] = Field(
        default=DEFAULT_CACHE_AGE_DAYS,
        description="rows the vendor answered within this many days (in any job) are answered from the result cache: "
        f"no vendor call, no credit; 0 turns the cache off for the job (default {DEFAULT_CACHE_AGE_DAYS}, "
        f"at most {MAX_CACHE_AGE_DAYS})",
    )


JOB_OPTION_NAMES = frozenset(JobOptions.model_fields)


class InvalidOptions(BadInput):
    """Options a vendor's job does not take: each problem is (the option, what is wrong, naming what it takes)."""

    def __init__(self, vendor: Vendor, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__(f"invalid options for {vendor.value}: " + "; ".join(f"{o}: {m}" for o, m in problems))


@functools.cache
def options_model(vendor: Vendor) -> type[BaseModel]:
    """Every option a job for `vendor` takes: the vendor's (its adapter's model, which forbids others) and the job's."""
    vendor_model = adapter_class(vendor).options_model
    name = vendor_model.__name__.removesuffix("Options") + "JobOptions"
    return create_model(
        name, __base__=(vendor_model, JobOptions), __doc__=f"The options of a {vendor.value} job (see the README)."
    )


def option_problems(vendor: Vendor, errors: list[ErrorDetails]) -> list[tuple[str, str]]:
    """pydantic's errors about a job's options as (option, why), naming what the option takes."""
    names = ", ".join([*adapter_class(vendor).options_model.model_fields, *JobOptions.model_fields])
    problems = []
    for error in errors:
        loc = [str(part) for part in error["loc"] if not isinstance(part, int)]  # list positions say little
        where = ".".join(loc) or '""'
        if error["type"] == "extra_forbidden" and len(loc) == 1:
            problems.append((where, f"unknown option; {vendor.value} takes {names}"))
        elif loc[:1] == ["columns"] and loc[-1] == "[key]":
            problems.append(("columns", f"{loc[1]!r} is not a field; the fields are: {', '.join(CANONICAL_FIELDS)}"))
        elif error["type"] == "literal_error":
            given = repr(error["input"])[:60]
            problems.append((where, f"{given} is not one of {error.get('ctx', {}).get('expected', '')}"))
        elif error["type"] == "bool_type":
            problems.append((where, "takes true or false (JSON booleans, not text)"))
        elif error["type"] in ("model_type", "model_attributes_type", "dict_type") and not loc:
            problems.append(("options", "an object of option names and values"))
        else:
            problems.append((where if loc else "options", error["msg"].removeprefix("Value error, ")))
    return problems


def parse_options(vendor: Vendor, options: Mapping[str, Any]) -> BaseModel:
    """The options checked against the vendor's job options model; InvalidOptions names each option wrong."""
    try:
        return options_model(Vendor(vendor)).model_validate(options)
    except ValidationError as exc:
        raise InvalidOptions(Vendor(vendor), option_problems(Vendor(vendor), exc.errors())) from None


def options_as_stored(parsed: BaseModel) -> dict[str, Any]:
    """The options a job keeps: those given, each in its one form (a list, not a comma string)."""
    return parsed.model_dump(mode="json", exclude_unset=True)


def options_to_store(vendor: Vendor, options: Mapping[str, Any]) -> dict[str, Any]:
    """What a job created outside the API (an S3 drop, a schedule) keeps: valid options in their one form; invalid
    ones as given, so Prepare fails the job naming them, with any value DynamoDB could not hold as its JSON text."""
    try:
        return options_as_stored(parse_options(vendor, options))
    except InvalidOptions:
        return {(name if name else json.dumps(name)): _storable(value) for name, value in options.items()}


def _storable(value: Any) -> Any:
    return value if _holds(value) else json.dumps(value, default=str)[: 4 * MAX_OPTION_TEXT]


def _holds(value: Any) -> bool:
    """Whether DynamoDB keeps the value as it is: numbers in its range, maps without empty keys."""
    if value is None or isinstance(value, (str, bool)):
        return True
    if isinstance(value, int):
        return abs(value) < 10**38
    if isinstance(value, float):
        return math.isfinite(value) and (value == 0 or 1e-130 <= abs(value) < 1e125)
    if isinstance(value, list):
        return all(_holds(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and k and _holds(v) for k, v in value.items())
    return False


def vendor_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """The options the vendor's adapter reads: all but the job's own."""
    return {name: value for name, value in options.items() if name not in JOB_OPTION_NAMES}


def job_options(options: Mapping[str, Any]) -> JobOptions:
    """The job's own options, checked; BadInput says what is wrong in words a person reads."""
    try:
        return JobOptions.model_validate({n: v for n, v in options.items() if n in JOB_OPTION_NAMES})
    except ValidationError as exc:
        others = [e for e in exc.errors() if e["loc"][:1] != ("columns",)]
        if others:
            where = ".".join(str(p) for p in others[0]["loc"])
            raise BadInput(f"invalid option {where}: {others[0]['msg']}") from None
        unknown = [str(e["loc"][1]) for e in exc.errors() if e["loc"][-1] == "[key]"]
        if unknown:
            raise BadInput(
                f"invalid option columns: {', '.join(map(repr, unknown))} is not a field; "
                f"the fields are: {', '.join(CANONICAL_FIELDS)}"
            ) from None
        raise BadInput(
            f"invalid option columns: it maps fields to column names, like {COLUMNS_EXAMPLE}; "
            f"got {str(options.get('columns'))[:200]!r}"
        ) from None


MAX_STEPS = 6
VALIDATING_VENDORS = frozenset({Vendor.CHECK365})  # they grade an email; the others find contacts


class StepsRefused(BadInput):
    """Steps that do not hold: the field at fault (`steps`, `steps[2].options`, `options`) and what is wrong."""

    def __init__(self, field: str, message: str) -> None:
        self.field, self.message = field, message
        super().__init__(f"{field}: {message}")


def parse_steps(steps: Any, options: Mapping[str, Any]) -> list[JobStep]:
    """A job's steps, checked: each a known vendor, its options valid together with the job's (`options`), at
    most one validation step and it comes last (it grades the best email the steps before it found).

    StepsRefused (a BadInput) names the step or field and what is wrong. A single-vendor job has no steps (it is
    `vendor` and `options`)."""
    if not isinstance(steps, list) or not steps or not all(isinstance(step, Mapping) for step in steps):
        raise StepsRefused("steps", 'a list of steps, each like {"vendor": "prospeo", "options": {...}}')
    if len(steps) > MAX_STEPS:
        raise StepsRefused("steps", f"at most {MAX_STEPS} steps, got {len(steps)}")
    if misplaced := sorted(set(options) - JOB_OPTION_NAMES):
        raise StepsRefused(
            "options",
            f"{', '.join(misplaced)} belong to a step's vendor: put them in that step's options "
            f"(a job of steps takes only {', '.join(sorted(JOB_OPTION_NAMES))} for itself)",
        )
    parsed = []
    for number, step in enumerate(steps, start=1):
        where = f"steps[{number}]"
        if unknown := sorted(set(step) - {"vendor", "options", "validate"}):
            raise StepsRefused(where, f"unknown key {', '.join(unknown)}; a step takes vendor, options and validate")
        try:
            vendor = Vendor(step.get("vendor"))
        except ValueError:
            raise StepsRefused(
                f"{where}.vendor",
                f"{str(step.get('vendor'))[:40]!r} is not one of {', '.join(v.value for v in Vendor)}",
            ) from None
        step_options = step.get("options") or {}
        if not isinstance(step_options, Mapping):
            raise StepsRefused(f"{where}.options", "an object of option names and values")
        if job_level := sorted(set(step_options) & JOB_OPTION_NAMES):
            raise StepsRefused(
                f"{where}.options", f"{', '.join(job_level)} is the job's option: give it once, for the job"
            )
        validate = step.get("validate")
        if vendor in VALIDATING_VENDORS:
            if validate not in (None, "email"):
                raise StepsRefused(f"{where}.validate", f'{vendor.value} validates "email"')
            validate = "email"
        elif validate is not None:
            raise StepsRefused(f"{where}.validate", f"{vendor.value} finds contacts; {_validators()} validates emails")
        try:
            checked = options_as_stored(parse_options(vendor, {**step_options, **options}))
        except InvalidOptions as exc:
            raise StepsRefused(where, str(exc)) from None
        parsed.append(JobStep(vendor=vendor, options=vendor_options(checked), validation=validate))
    validating = [n for n, step in enumerate(parsed) if step.validation]
    if len(validating) > 1 or (validating and validating[0] != len(parsed) - 1):
        raise StepsRefused(
            "steps", "one validation step at most, and last: it validates the best email the steps before it found"
        )
    return parsed


def _validators() -> str:
    return " or ".join(sorted(v.value for v in VALIDATING_VENDORS))
