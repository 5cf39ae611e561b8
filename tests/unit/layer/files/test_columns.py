"""Which column feeds which field: the headers tools export, the tie rule, the columns option, unique names."""

import pytest

from enrichment.errors import BadInput
from enrichment.files.columns import map_columns, unique_names
from enrichment.options import job_options, vendor_options

# The headers the exports people use write, by tool, and the field each is read as.
EXPORT_HEADERS = {
    "HubSpot": {
        "First Name": "first_name",
        "Last Name": "last_name",
        "Email": "email",
        "Company Name": "company_name",
        "Website URL": "company_website",
        "Company Domain Name": "company_website",
        "Associated Company": "company_name",
        "LinkedIn Company Page": "company_linkedin_url",
    },
    "Salesforce": {
        "First Name": "first_name",
        "Account Name": "company_name",
        "Company / Account": "company_name",
        "Email": "email",
        "Website": "company_website",
        "Account: Website": "company_website",
    },
    "Apollo": {
        "First Name": "first_name",
        "Company": "company_name",
        "Company Name for Emails": "company_name",
        "Email": "email",
        "Person Linkedin Url": "linkedin_url",
        "Website": "company_website",
        "Company Linkedin Url": "company_linkedin_url",
    },
    "Pipedrive": {
        "Person - Name": "full_name",
        "Person - First name": "first_name",
        "Person - Last name": "last_name",
        "Person - Email": "email",
        "Person - Email - Work": "email",
        "Email - Work": "email",
        "Person - Organization": "company_name",
        "Organization - Name": "company_name",
        "Organization - Website": "company_website",
    },
    "ZoomInfo": {
        "First Name": "first_name",
        "Email Address": "email",
        "Company Name": "company_name",
        "Website": "company_website",
        "LinkedIn Contact Profile URL": "linkedin_url",
        "LinkedIn Company Profile URL": "company_linkedin_url",
    },
    "LinkedIn Sales Navigator lists": {
        "LinkedIn Profile URL": "linkedin_url",
        "Contact LinkedIn": "linkedin_url",
        "Company": "company_name",
        "Company Website": "company_website",
        "Company Domain": "company_website",
        "Company LinkedIn URL": "company_linkedin_url",
    },
    "Google Contacts and Sheets": {
        "Given Name": "first_name",
        "Family Name": "last_name",
        "E-mail 1 - Value": "email",
        "Organization 1 - Name": "company_name",
        "Organization Name": "company_name",
        "Work Email": "email",
        "Full name": "full_name",
    },
}
CASES = [(tool, header, field) for tool, headers in EXPORT_HEADERS.items() for header, field in headers.items()]

# Headers that name something else: another tool's ids, a previous employer, a status. Read, they would send a
# vendor the wrong value (a ZoomInfo id as an InsideView contact id).
NOT_READ = [
    "ZoomInfo Contact ID",
    "ZoomInfo Company ID",
    "Apollo Contact Id",
    "Apollo Account Id",
    "Record ID",
    "Previous Company Name",
    "Previous Company LinkedIn Profile",
    "Email Status",
    "Email Domain",
    "Secondary Email",
    "ZoomInfo Contact Profile URL",
    "Sales Navigator Profile URL",
    "Contact owner",
    "Associated Company ID",
]


@pytest.mark.parametrize(("tool", "header", "field"), CASES, ids=[f"{t}: {h}" for t, h, _ in CASES])
def test_the_headers_tools_export_are_read_as_their_field(tool, header, field):
    assert map_columns([header]).fields == {field: 0}


@pytest.mark.parametrize("header", NOT_READ)
def test_headers_that_name_something_else_are_ignored(header):
    mapping = map_columns([header])
    assert mapping.fields == {}
    assert mapping.columns[0].field is None


def test_a_zoominfo_export_maps_its_own_columns_and_no_insideview_id():
    header = ["ZoomInfo Contact ID", "First Name", "Last Name", "Email Address", "Previous Company Name",
              "Company Name", "Website", "LinkedIn Contact Profile URL", "Supplemental Email"]  # fmt: skip
    assert map_columns(header).fields == {
        "first_name": 1,
        "last_name": 2,
        "email": 3,
        "company_name": 5,
        "company_website": 6,
        "linkedin_url": 7,
    }


# ---- the tie rule ----


def test_the_fields_own_name_beats_an_alias_whatever_its_place():
    mapping = map_columns(["Work Email", "Email Address", "E-mail"])
    assert mapping.fields == {"email": 2}
    (tie,) = mapping.ties
    assert (tie.field, tie.read, tie.not_read) == ("email", "E-mail", ["Work Email", "Email Address"])
    assert tie.rule == "the field's own name beats an alias"
    assert mapping.columns[0].note == "email is read from 'E-mail' (column 3): the field's own name beats an alias"
    assert [c.matched_by for c in mapping.columns] == [None, None, "field name"]


def test_among_equals_the_leftmost_is_read():
    assert map_columns(["Email", "email"]).fields == {"email": 0}
    assert map_columns(["Email", "email"]).ties[0].rule == "the leftmost column with the field's own name"
    mapping = map_columns(["Company", "Company Name for Emails", "Account Name"])
    assert mapping.fields == {"company_name": 0}
    assert mapping.ties[0].rule == "the leftmost of the aliases"
    assert mapping.ties[0].not_read == ["Company Name for Emails", "Account Name"]


def test_two_columns_with_one_name_read_the_first_and_report_the_second():
    mapping = map_columns(["Name", "Email", "Email"])
    assert mapping.names == ["Name", "Email", "Email (2)"]
    assert mapping.fields == {"full_name": 0, "email": 1}
    assert mapping.ties[0].not_read == ["Email (2)"]
    assert mapping.columns[2].field is None and "'Email' (column 2)" in mapping.columns[2].note


def test_the_columns_option_beats_every_header():
    mapping = map_columns(["Email", "Work Email 2", "Account"], {"email": "Work Email 2"})
    assert mapping.fields == {"email": 1, "company_name": 2}
    assert mapping.columns[1].matched_by == "columns option"
    assert mapping.ties[0].rule == "the columns option names it"
    assert mapping.columns[0].field is None


def test_a_column_the_option_names_feeds_only_that_field():
    mapping = map_columns(["Email", "Company"], {"full_name": "Company"})
    assert mapping.fields == {"email": 0, "full_name": 1}
    assert mapping.ties == []


def test_the_option_reaches_a_repeated_header_by_its_unique_name_or_as_headers_compare():
    assert map_columns(["Email", "Email"], {"email": "Email (2)"}).fields == {"email": 1}
    assert map_columns(["Work Email 2"], {"email": "work_email_2"}).fields == {"email": 0}


# ---- the columns option, checked ----


def test_an_unknown_field_fails_naming_the_fields():
    with pytest.raises(BadInput, match=r"the columns option names 'emial', which is not a field; the fields are: "):
        map_columns(["Email"], {"emial": "Email"})


def test_a_column_not_in_the_file_fails_listing_the_files_columns():
    with pytest.raises(BadInput) as raised:
        map_columns(["First Name", "Email", "Email"], {"email": "Work Email 3"})
    assert str(raised.value) == (
        "the columns option maps email to 'Work Email 3', which is not a column of this file; "
        "the file's columns are: 'First Name', 'Email', 'Email (2)'"
    )


def test_a_name_matching_several_columns_as_headers_compare_fails():
    with pytest.raises(BadInput, match="matches several columns"):
        map_columns(["Work Email", "work-email"], {"email": "WORK EMAIL"})


def test_one_column_for_two_fields_fails():
    with pytest.raises(BadInput, match="names 'Name' for both full_name and company_name"):
        map_columns(["Name"], {"full_name": "Name", "company_name": "Name"})


@pytest.mark.parametrize("columns", ["email=Work Email", ["Email"], {"email": 3}])
def test_a_columns_option_that_is_not_field_to_name_fails_with_an_example(columns):
    with pytest.raises(BadInput, match=r'invalid option columns: it maps fields to column names, like \{"email"'):
        job_options({"columns": columns})


def test_the_columns_option_never_reaches_the_vendors_options():
    options = {"columns": {"email": "Work Email 2"}, "enrich_mobile": True}
    assert vendor_options(options) == {"enrich_mobile": True}
    assert job_options(options).columns == {"email": "Work Email 2"}


# ---- unique names ----


def test_unique_names_number_repeats_in_order_and_name_blanks_by_position():
    assert unique_names(["Email", "Name", "Email", "", "Email"]) == [
        "Email",
        "Name",
        "Email (2)",
        "column 4",
        "Email (3)",
    ]


def test_a_unique_name_never_takes_one_the_file_uses():
    assert unique_names(["Email", "Email (2)", "Email"]) == ["Email", "Email (2)", "Email (3)"]
    assert unique_names(["column 2", ""]) == ["column 2", "column 2 (2)"]
