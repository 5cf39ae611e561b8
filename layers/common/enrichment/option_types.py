"""The one form each kind of option value takes, wherever the options come from.

The API's JSON body, S3 object metadata (`option-<name>`), schedules.json and `make run OPTIONS=` all end in the
same options models, whose fields use these types: the coercion lives here, once. A list option takes a JSON
list or the same choices as a comma string ("email-work,phone"); a flag takes JSON true or false, nothing else
("yes", 1 and "maybe" are refused); text is bounded. Each type's JSON schema (the OpenAPI document) says exactly
what it accepts, so the document and the validation never disagree.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from annotated_types import Interval
from pydantic import AfterValidator, BeforeValidator, Field, Strict, StringConstraints, WithJsonSchema

MAX_OPTION_TEXT = 256  # a column name or any other text option, in characters
MAX_LIST_TEXT = 200  # a list option given as a comma string, in characters
MAX_LIST_ITEMS = 50  # a list option's items (repeats allowed, kept once)

Flag = Annotated[bool, Strict(), Field(description="true or false (JSON booleans only)")]
OptionText = Annotated[str, StringConstraints(min_length=1, max_length=MAX_OPTION_TEXT)]


def a_number(value: Any) -> Any:
    # A JSON integer may be written 12.0 (JSON Schema's "integer" takes it); text and booleans are not numbers.
    if isinstance(value, (str, bool)):
        raise ValueError("a JSON number is required")
    return value


# JSON numbers are exact in every client up to 2**53 - 1, and DynamoDB holds them as they are.
OptionInteger = Annotated[int, Interval(ge=1, le=2**53 - 1), BeforeValidator(a_number)]


def _split_commas(value: Any) -> Any:
    """A comma string is the list of its parts; only spaces around a part are dropped (as the schema's pattern)."""
    if isinstance(value, str):
        if len(value) > MAX_LIST_TEXT:
            raise ValueError(f"a comma string is at most {MAX_LIST_TEXT} characters")
        return [part.strip(" ") for part in value.split(",")]
    return value


def _once_each(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def choice_list(*choices: str) -> Any:
    """Some of `choices` (at least one, each kept once, in order): a JSON list, or a comma string of them."""
    # Plain words and dashes, so the pattern reads the same in every regex dialect (no escapes).
    if not all(re.fullmatch(r"[a-z0-9][a-z0-9_-]*", choice) for choice in choices):
        raise ValueError(f"choices are lowercase words and dashes: {choices}")
    one = "|".join(choices)
    pattern = rf"^ *({one}) *(, *({one}) *)*$"
    schema = {
        "anyOf": [
            {"type": "array", "items": {"enum": list(choices)}, "minItems": 1, "maxItems": MAX_LIST_ITEMS},
            {"type": "string", "pattern": pattern, "maxLength": MAX_LIST_TEXT},
        ],
        "description": f"some of {', '.join(choices)}: a list, or a comma string like {','.join(choices[:2])!r}",
    }
    return Annotated[
        list[Literal[choices]],  # type: ignore[valid-type]
        BeforeValidator(_split_commas),
        Field(min_length=1, max_length=MAX_LIST_ITEMS),
        AfterValidator(_once_each),
        WithJsonSchema(schema),
    ]
