"""A job's options: the job's own (`columns`) and the vendor's, which only its adapter's options model reads.

Both arrive in one `options` object (the API's `options`, `x-amz-meta-option-<name>`, `make run OPTIONS=`), so
the job's own are taken out before the vendor's model, which forbids names it does not know, sees them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from enrichment.errors import BadInput

COLUMNS_EXAMPLE = '{"email": "Work Email 2", "company_name": "Account"}'


class JobOptions(BaseModel):
    columns: dict[str, str] = Field(
        default_factory=dict,
        description=f"field -> column name: the column each named field is read from, whatever the headers say; "
        f"for example {COLUMNS_EXAMPLE}",
    )


JOB_OPTION_NAMES = frozenset(JobOptions.model_fields)


def vendor_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """The options the vendor's adapter reads: all but the job's own."""
    return {name: value for name, value in options.items() if name not in JOB_OPTION_NAMES}


def job_options(options: Mapping[str, Any]) -> JobOptions:
    """The job's own options, checked; BadInput says what is wrong in words a person reads."""
    try:
        return JobOptions.model_validate({n: v for n, v in options.items() if n in JOB_OPTION_NAMES})
    except ValidationError:
        raise BadInput(
            f"invalid option columns: it maps fields to column names, like {COLUMNS_EXAMPLE}; "
            f"got {str(options.get('columns'))[:200]!r}"
        ) from None
