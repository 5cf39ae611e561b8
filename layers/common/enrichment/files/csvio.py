"""Reading contact files: header mapping, row parsing, and spreadsheet-safe cells."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator, Sequence

from enrichment.errors import BadInput
from enrichment.models import CANONICAL_FIELDS

# Header names are compared lowercased with every non-alphanumeric character removed, so
# "First Name", "first_name", "firstName" and "FIRST-NAME" are one column.
HEADER_ALIASES: dict[str, str] = {
    **{re.sub(r"[^a-z0-9]", "", f): f for f in CANONICAL_FIELDS},
    "first": "first_name",
    "firstname": "first_name",
    "givenname": "first_name",
    "fname": "first_name",
    "last": "last_name",
    "lastname": "last_name",
    "surname": "last_name",
    "familyname": "last_name",
    "lname": "last_name",
    "name": "full_name",
    "fullname": "full_name",
    "contactname": "full_name",
    "personname": "full_name",
    "emailaddress": "email",
    "workemail": "email",
    "mail": "email",
    "businessemail": "email",
    "emails": "email",
    "linkedin": "linkedin_url",
    "linkedinprofile": "linkedin_url",
    "linkedinprofileurl": "linkedin_url",
    "personlinkedinurl": "linkedin_url",
    "linkedinhandle": "linkedin_url",
    "company": "company_name",
    "organization": "company_name",
    "organisation": "company_name",
    "account": "company_name",
    "accountname": "company_name",
    "employer": "company_name",
    "website": "company_website",
    "domain": "company_website",
    "companydomain": "company_website",
    "companyurl": "company_website",
    "site": "company_website",
    "web": "company_website",
    "companylinkedin": "company_linkedin_url",
    "companylinkedinprofile": "company_linkedin_url",
    "prospeopersonid": "person_id",
    "pubrioid": "people_search_id",
    "peopleid": "people_search_id",
    "searchid": "people_search_id",
    "insideviewid": "contact_id",
    "insideviewcontactid": "contact_id",
}

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def header_key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def map_header(header: Sequence[str]) -> dict[str, int]:
    """Canonical field -> column index (the first column that maps to a field wins)."""
    mapping: dict[str, int] = {}
    for index, name in enumerate(header):
        field = HEADER_ALIASES.get(header_key(name))
        if field and field not in mapping:
            mapping[field] = index
    return mapping


def read_rows(lines: Iterable[str]) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The header and an iterator of (row number, cells); row 1 is the first row after the header.

    Decoding and CSV syntax errors become BadInput naming the line, so the job fails with a reason.
    """
    reader = csv.reader(_decoded(lines), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise BadInput("the file is empty: expected a header row and at least one row") from None
    except csv.Error as exc:
        raise BadInput(f"the header row is not valid CSV: {exc}") from None
    header = [h.strip() for h in header]
    if not any(header):
        raise BadInput("the first row is blank: expected a header row naming the columns")

    def rows() -> Iterator[tuple[int, list[str]]]:
        number = 0
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise BadInput(f"line {reader.line_num} is not valid CSV: {exc}") from None
            number += 1
            yield number, cells

    return header, rows()


def _decoded(lines: Iterable[str]) -> Iterator[str]:
    line_number = 0
    iterator = iter(lines)
    while True:
        try:
            line = next(iterator)
        except StopIteration:
            return
        except UnicodeDecodeError as exc:
            raise BadInput(
                f"the file is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} after line {line_number}); "
                "save it as CSV UTF-8 and drop it again"
            ) from None
        line_number += 1
        if "\x00" in line:
            raise BadInput(f"line {line_number} contains NUL bytes: this looks like a binary file, not CSV")
        yield line


def safe_cell(value: object) -> str:
    """A cell a spreadsheet will show as text, never run as a formula (OWASP CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text
