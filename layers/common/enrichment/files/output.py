"""The output schema: the normalized columns appended to every input row, named the same for every vendor.

results.csv carries the row columns and those of the job's vendor's columns (its adapter's `result_columns`);
results.jsonl carries everything.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from enrichment.models import RecordResult, RowStatus

# Every row has these, whatever the vendor.
# result_source: who answered the row: the vendor's name (in this job), `cache` (the result cache: an answer the
# vendor gave an earlier job), empty when nobody did (invalid input, an error); result_fetched_at: when that answer
# was given (ISO 8601, UTC). A duplicate carries its twin's.
ROW_COLUMNS = (
    "result_status",
    "result_reason",
    "result_vendor",
    "result_duplicate_of",
    "result_source",
    "result_fetched_at",
)
CACHE_SOURCE = "cache"
# A job of several steps also says which step's vendor gave the email and the phone, and the validation step's
# verdict on the email (valid, invalid, risky, unknown: models.ContactStatus).
STEP_COLUMNS = ("result_email_source", "result_phone_source", "result_email_validation")
# Groups of result columns; each vendor's adapter names those it can fill (`result_columns`).
EMAIL_COLUMNS = ("result_email", "result_email_type", "result_email_status", "result_email_vendor_status")
PHONE_COLUMNS = ("result_phone", "result_phone_type", "result_phone_status", "result_phone_vendor_status")
PERSON_COLUMNS = (
    "result_first_name",
    "result_last_name",
    "result_full_name",
    "result_job_title",
    "result_linkedin_url",
    "result_location",
)
COMPANY_COLUMNS = (
    "result_company_name",
    "result_company_website",
    "result_company_domain",
    "result_company_linkedin_url",
    "result_company_industry",
    "result_company_size",
)
VERIFICATION_COLUMNS = (
    "result_email_safe_to_send",
    "result_email_risk",
    "result_email_is_role",
    "result_email_verification_reason",
    "result_email_provider",
)
RESULT_COLUMNS = (
    *ROW_COLUMNS,
    *STEP_COLUMNS,
    *EMAIL_COLUMNS,
    "result_other_emails",
    *PHONE_COLUMNS,
    "result_other_phones",
    *PERSON_COLUMNS,
    *COMPANY_COLUMNS,
    *VERIFICATION_COLUMNS,
    "result_credits",
)


def csv_columns(vendor_columns: Iterable[str]) -> tuple[str, ...]:
    """The result columns of a vendor's results.csv: the row columns, then the vendor's, in schema order."""
    wanted = set(vendor_columns)
    if unknown := wanted - set(RESULT_COLUMNS):
        raise ValueError(f"not result columns: {', '.join(sorted(unknown))}")
    return tuple(c for c in RESULT_COLUMNS if c in ROW_COLUMNS or c in wanted)


def _flag(value: bool | None) -> str:
    return "" if value is None else ("true" if value else "false")


def _others(items: list[Any]) -> str:
    return "; ".join("|".join(x or "" for x in (i.value, i.type, i.status)) for i in items)


def result_cells(
    status: RowStatus,
    reason: str | None,
    vendor: str,
    result: RecordResult | None,
    duplicate_of: int | None,
    source: str | None = None,
    fetched_at: str | None = None,
) -> dict[str, str]:
    r = result or RecordResult(status=RowStatus.ERROR)
    email = r.emails[0] if r.emails else None
    phone = r.phones[0] if r.phones else None
    v = r.verification
    cells = {
        "result_status": status.value,
        "result_reason": reason or "",
        "result_vendor": vendor,
        "result_duplicate_of": str(duplicate_of or ""),
        "result_source": source or "",
        "result_fetched_at": fetched_at or "",
        "result_email": email.value if email else "",
        "result_email_type": (email.type or "") if email else "",
        "result_email_status": (email.status or "") if email else "",
        "result_email_vendor_status": (email.vendor_status or "") if email else "",
        "result_other_emails": _others(r.emails[1:]),
        "result_phone": phone.value if phone else "",
        "result_phone_type": (phone.type or "") if phone else "",
        "result_phone_status": (phone.status or "") if phone else "",
        "result_phone_vendor_status": (phone.vendor_status or "") if phone else "",
        "result_other_phones": _others(r.phones[1:]),
        "result_first_name": r.person.first_name or "",
        "result_last_name": r.person.last_name or "",
        "result_full_name": r.person.full_name or "",
        "result_job_title": r.person.job_title or "",
        "result_linkedin_url": r.person.linkedin_url or "",
        "result_location": r.person.location or "",
        "result_company_name": r.company.name or "",
        "result_company_website": r.company.website or "",
        "result_company_domain": r.company.domain or "",
        "result_company_linkedin_url": r.company.linkedin_url or "",
        "result_company_industry": r.company.industry or "",
        "result_company_size": r.company.size or "",
        "result_email_safe_to_send": _flag(v.safe_to_send) if v else "",
        "result_email_risk": (v.risk or "") if v else "",
        "result_email_is_role": _flag(v.is_role) if v else "",
        "result_email_verification_reason": (v.reason or "") if v else "",
        "result_email_provider": (v.provider or "") if v else "",
        "result_credits": "" if r.credits is None or status == RowStatus.DUPLICATE else f"{r.credits:g}",
    }
    return cells
