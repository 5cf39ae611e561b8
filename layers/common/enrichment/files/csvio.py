"""Reading contact files: the header aliases, row parsing, and spreadsheet-safe cells."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator

from enrichment.errors import BadInput
from enrichment.models import CANONICAL_FIELDS

# Header names are compared lowercased with every non-alphanumeric character removed, so
# "First Name", "first_name", "firstName" and "FIRST-NAME" are one column. Besides the fields' own names, the
# headers the exports people use write (HubSpot, Salesforce, Apollo, Pipedrive, ZoomInfo, LinkedIn and Sales
# Navigator list tools, Google Contacts and Sheets). Left out on purpose, so they stay ignored: other tools' ids
# ("ZoomInfo Contact ID", "Apollo Contact Id", "Record ID": never an InsideView contact id), a previous employer
# ("Previous Company Name"), "Email Status", "Email Domain" (often a free-mail domain, not the company's) and the
# tools' own profile links ("ZoomInfo Contact Profile URL", "Sales Navigator Profile URL").
HEADER_ALIASES: dict[str, str] = {
    **{re.sub(r"[^a-z0-9]", "", f): f for f in CANONICAL_FIELDS},
    "first": "first_name",
    "firstname": "first_name",
    "givenname": "first_name",
    "fname": "first_name",
    "personfirstname": "first_name",  # Pipedrive "Person - First name"
    "contactfirstname": "first_name",
    "last": "last_name",
    "lastname": "last_name",
    "surname": "last_name",
    "familyname": "last_name",
    "lname": "last_name",
    "personlastname": "last_name",  # Pipedrive "Person - Last name"
    "contactlastname": "last_name",
    "name": "full_name",
    "fullname": "full_name",
    "contactname": "full_name",
    "personname": "full_name",  # Pipedrive "Person - Name"
    "contactfullname": "full_name",
    "emailaddress": "email",  # ZoomInfo, Outlook "E-mail Address"
    "workemail": "email",
    "workemailaddress": "email",
    "mail": "email",
    "businessemail": "email",
    "businessemailaddress": "email",
    "emails": "email",
    "primaryemail": "email",
    "contactemail": "email",
    "personemail": "email",  # Pipedrive "Person - Email"
    "personemailwork": "email",  # Pipedrive "Person - Email - Work"
    "emailwork": "email",  # Pipedrive "Email - Work"
    "email1value": "email",  # Google Contacts "E-mail 1 - Value"
    "linkedin": "linkedin_url",
    "linkedinprofile": "linkedin_url",
    "linkedinprofileurl": "linkedin_url",
    "personlinkedinurl": "linkedin_url",  # Apollo
    "personlinkedin": "linkedin_url",
    "linkedincontactprofileurl": "linkedin_url",  # ZoomInfo
    "contactlinkedin": "linkedin_url",
    "contactlinkedinurl": "linkedin_url",
    "linkedinhandle": "linkedin_url",
    "company": "company_name",  # Apollo, Salesforce leads, Sales Navigator lists
    "organization": "company_name",
    "organisation": "company_name",
    "organizationname": "company_name",  # Pipedrive "Organization - Name", Google Contacts
    "organization1name": "company_name",  # Google Contacts "Organization 1 - Name"
    "personorganization": "company_name",  # Pipedrive "Person - Organization"
    "account": "company_name",
    "accountname": "company_name",  # Salesforce
    "companyaccount": "company_name",  # Salesforce "Company / Account"
    "associatedcompany": "company_name",  # HubSpot
    "companynameforemails": "company_name",  # Apollo
    "currentcompany": "company_name",
    "employer": "company_name",
    "website": "company_website",  # Apollo, Salesforce, ZoomInfo
    "websiteurl": "company_website",  # HubSpot
    "domain": "company_website",
    "domainname": "company_website",
    "companydomain": "company_website",
    "companydomainname": "company_website",  # HubSpot
    "companyurl": "company_website",
    "companywebsiteurl": "company_website",
    "accountwebsite": "company_website",  # Salesforce "Account: Website"
    "organizationwebsite": "company_website",  # Pipedrive "Organization - Website"
    "site": "company_website",
    "web": "company_website",
    "companylinkedin": "company_linkedin_url",
    "companylinkedinprofile": "company_linkedin_url",
    "companylinkedinprofileurl": "company_linkedin_url",
    "linkedincompanyprofileurl": "company_linkedin_url",  # ZoomInfo
    "linkedincompanypage": "company_linkedin_url",  # HubSpot
    "prospeopersonid": "person_id",
    "pubrioid": "people_search_id",
    "peopleid": "people_search_id",
    "searchid": "people_search_id",
    "insideviewid": "contact_id",
    "insideviewcontactid": "contact_id",
}

# What a spreadsheet runs as a formula (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def header_key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def read_rows(
    lines: Iterable[str], *, delimiter: str = ",", first_line: int = 1, max_rows: int | None = None
) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The header and an iterator of (row number, cells); row 1 is the first row after the header.

    `lines` are the file's physical lines, line ends kept, the first of them being the file's line
    `first_line`. CSV syntax errors become BadInput naming the file's own line, so the job fails with a reason.
    """
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    before = first_line - 1  # lines of the file the reader never sees

    def records() -> Iterator[tuple[int, list[str]]]:
        while True:
            starts_on = before + reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise BadInput(_csv_problem(str(exc), starts_on, before + reader.line_num)) from None
            yield starts_on, cells

    return tabulate(records(), max_rows=max_rows)


def _csv_problem(error: str, starts_on: int, line: int) -> str:
    if "unexpected end of data" in error:
        # Only a quote left open reaches the end of the file inside a row; it opens on the row's first line
        # unless an earlier cell of the row spans lines.
        return (
            f"a quote opened on line {starts_on} is never closed, so the rest of the file reads as one cell: "
            "close the quote (or remove it) and drop the file again"
        )
    if "expected after" in error:
        return (
            f"line {line} has text after a quoted cell's closing quote: inside quotes, write a quote as two "
            'quotes ("")'
        )
    return f"line {line} is not valid CSV: {error}"


def tabulate(
    records: Iterator[tuple[int, list[str]]], *, max_rows: int | None = None
) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """A table from (line, cells) records, the first being the header: the header and (row number, cells).

    Cells past the header's that are all empty (trailing delimiters) are not cells: the row is read without them.
    """
    first = next(records, None)
    if first is None:
        raise BadInput("the file is empty: expected a header row and at least one row")
    header = [h.strip() for h in first[1]]
    if not any(header):
        raise BadInput("the first row is blank: expected a header row naming the columns")

    def rows() -> Iterator[tuple[int, list[str]]]:
        for number, (line, cells) in enumerate(records, start=1):
            if max_rows is not None and number > max_rows:
                raise BadInput(
                    f"the file has more than {max_rows:,} rows, the limit (line {line} is row {number:,}): "
                    f"split it into files of at most {max_rows:,} rows"
                )
            if len(cells) > len(header) and not any(c.strip() for c in cells[len(header) :]):
                cells = cells[: len(header)]
            yield number, cells

    return header, rows()


def safe_cell(value: object) -> str:
    """A cell a spreadsheet will show as text, never run as a formula (OWASP CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text
