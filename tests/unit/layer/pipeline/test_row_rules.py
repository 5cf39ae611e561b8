"""The rules a row meets before it is sent: placeholders, formulas, email syntax, InsideView ids, a repeated header."""

import pytest

from enrichment.pipeline import row_rules
from enrichment.pipeline.row_rules import InvalidValue, email_address, email_key, is_placeholder


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "\t",
        "\u00a0",
        "\u200b",
        "n/a",
        "N/A",
        " na ",
        "NA",
        "n.a.",
        "none",
        "None",
        "NULL",
        "nil",
        "NaN",
        "undefined",
        "-",
        "--",
        "—",
        ".",
        "?",
        '""',
        "''",
        "#N/A",
        "#n/a",
        "#REF!",
        "#VALUE!",
        "#DIV/0!",
        "TBD",
        "tba",
        "unknown",
        "Unknown",
        "(none)",
        "<null>",
        "[blank]",
        "not available",
    ],
)
def test_placeholders_read_as_empty(value):
    assert is_placeholder(value)


@pytest.mark.parametrize("value", ["Ann", "0", "007", "nancy", "none@x.com", "Unknown Pleasures Ltd", "N/A Corp", "a"])
def test_values_are_not_placeholders(value):
    assert not is_placeholder(value)


def test_without_placeholders_trims_and_says_what_it_dropped():
    kept, dropped = row_rules.without_placeholders(
        {"email": " n/a ", "full_name": " Ada Lovelace ", "company_name": "", "contact_id": "#N/A"}
    )
    assert kept == {"full_name": "Ada Lovelace"}
    assert dropped == {"email": "n/a", "contact_id": "#N/A"}
    assert row_rules.placeholder_note(dropped, ["email"]) == "; email 'n/a' is a placeholder, read as empty"
    assert row_rules.placeholder_note(dropped, ["email", "contact_id"]).endswith("are placeholders, read as empty")
    assert row_rules.placeholder_note(dropped, ["full_name"]) == ""


# ---- formulas ----


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ('=HYPERLINK("http://x")@domain.com', "starts with '='"),
        ('"=1+1"@example.com', "'=' after a quote"),
        ("'=1+1", "'=' after a quote"),
        ("+cmd|' /C calc'!A0", "starts with '+'"),
        ("-2+3", "starts with '-'"),
        ("@SUM(1,2)", "starts with '@'"),
        ('x=HYPERLINK("http://evil")', "contains '=HYPERLINK('"),
    ],
)
def test_formulas_are_never_values(value, says):
    reason = row_rules.formula_reason("email", value)
    assert reason and says in reason and "formula" in reason and reason.startswith("email ")


@pytest.mark.parametrize("value", ["-1", "+15", "Acme (UK) Ltd", "a=b@x.com", "Smith-Jones(CEO)", "Ada"])
def test_numbers_and_text_are_not_formulas(value):
    assert row_rules.formula_reason("x", value) is None


def test_refuse_formulas_names_the_first_field_holding_one():
    fields = {"full_name": "Ada", "company_name": "=1+1", "linkedin_url": "@x"}
    assert row_rules.refuse_formulas(fields, ["full_name", "company_name", "linkedin_url"]).startswith("company_name")
    assert row_rules.refuse_formulas({"full_name": "Ada"}, ["full_name", "email"]) is None


# ---- emails ----


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ('=HYPERLINK("http://x")@domain.com', "formula"),
        ('"=1+1"@example.com', "formula"),
        ('"john smith"@example.com', "quoting the part before the @-sign is not allowed"),
        ("user(comment)@example.com", "invalid characters before the @-sign"),
        ("<john@globex.io>", "angle brackets"),
        ("John Doe <john@globex.io>", "angle brackets"),
        ("a" * 250 + "@x.com", "256 characters long; an email address has at most 254"),
        ("a" * 65 + "@x.com", "too long before the @-sign"),
        ("john.@x.com", "period immediately before the @-sign"),
        (".john@x.com", "cannot start with a period"),
        ("john..smith@x.com", "two periods in a row"),
        ("john@x.com.", "cannot end with a period"),
        ("john@x..com", "two periods in a row"),
        ("john@localhost", "should have a period"),
        ("john@x.local", "special-use or reserved name"),
        ("john@[10.0.0.1]", "bracketed IP address"),
        ("john smith@x.com", "invalid characters"),
        ("john@", "there must be something after the @-sign"),
        ("@nowhere.com", "there must be something before the @-sign"),
        ("not-an-email", "must have an @-sign"),
        ("a@b@x.com", "invalid characters"),
        ("john\u200b@x.com", "unsafe characters"),
        ("-john@x.com", "formula"),
        ("+john@x.com", "formula"),
    ],
)
def test_email_syntax_is_the_library_s_with_the_value_and_the_rule(value, says):
    with pytest.raises(InvalidValue) as refused:
        email_address(value)
    reason = str(refused.value)
    assert says in reason, reason
    assert reason.startswith(f"email {row_rules.shown(value)}"), "the reason names the value"


def test_long_values_are_cut_in_reasons():
    with pytest.raises(InvalidValue) as refused:
        email_address("a" * 300 + "@x.com")
    assert "a" * 60 + "…" in str(refused.value) and "a" * 61 not in str(refused.value)


@pytest.mark.parametrize(
    ("value", "normalized"),
    [
        ("ada@example.com", "ada@example.com"),
        (" Ada.Lovelace@Example.COM ", "Ada.Lovelace@example.com"),
        ("o'brien@x.com", "o'brien@x.com"),
        ("first+tag@x.com", "first+tag@x.com"),
        ("a=b@x.com", "a=b@x.com"),
        ("jürgen@MÜNCHEN.de", "jürgen@münchen.de"),
        ("info@xn--mnchen-3ya.de", "info@münchen.de"),  # an IDN domain in ASCII form is the same domain
        ("a" * 64 + "@x.com", "a" * 64 + "@x.com"),
        ("a@hooli.xyz", "a@hooli.xyz"),
    ],
)
def test_valid_addresses_in_the_library_s_normalized_form(value, normalized):
    assert email_address(value) == normalized


def test_email_key_compares_mailboxes():
    assert email_key(" ADA@X.COM ") == email_key("ada@x.com")
    assert email_key("info@xn--mnchen-3ya.de") == email_key("INFO@MÜNCHEN.DE")
    assert email_key("ada@x.com") != email_key("bob@x.com")


def test_as_sent_normalizes_a_valid_email_only():
    assert row_rules.as_sent({"email": "Ada@X.COM", "full_name": "Ada"}) == {"email": "Ada@x.com", "full_name": "Ada"}
    unmatched_on = {"email": "not-an-email", "contact_id": "1"}  # an InsideView row: the email is not read
    assert row_rules.as_sent(unmatched_on) == unmatched_on
    assert row_rules.as_sent({"contact_id": "1"}) == {"contact_id": "1"}


# ---- InsideView ids ----


@pytest.mark.parametrize("value", ["13496440", "8802619", "225", "0042", "1"])
def test_insideview_ids_are_digits_with_leading_zeros_kept(value):
    assert row_rules.insideview_id_reason(value) is None


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("1.35E+07", "scientific notation; format the column as text and export again"),
        ("1,3496E+7", "scientific notation"),
        ("1.35e7", "scientific notation"),
        ("13496440.0", "decimal part"),
        ("-1", "digits only"),
        ("TBD", "digits only"),
        ("unknown", "digits only"),
        ("12 345", "digits only"),
        ("id:77", "digits only"),
        ("abc123", "digits only"),
        ("13496440,8802619", "digits only"),
        ("١٢٣", "digits only"),  # digits, but not the ASCII ones an id is made of
        ("=A1", "formula"),
        ('=HYPERLINK("x")', "formula"),
        ("1" * 65, "digits only"),
    ],
)
def test_insideview_ids_refused_with_the_value_and_the_rule(value, says):
    reason = row_rules.insideview_id_reason(value)
    assert reason and says in reason and reason.startswith(f"contact_id {row_rules.shown(value)}"), reason


# ---- a repeated header ----


@pytest.mark.parametrize(
    ("header", "cells", "repeated"),
    [
        (["Email", "Name", "Company"], ["Email", "Name", "Company"], True),
        (["Email", "Name", "Company"], [" EMAIL ", "name", "company"], True),
        (["Email", "Name", "Company"], ["Email", "Name", ""], True),  # two of three
        (["Email", "Name", "Company", "Notes"], ["Email", "Name", "", ""], True),  # half
        (["Email Address", "First Name"], ["email_address", "first-name"], True),
        (["Email"], ["E-mail Address"], True),  # another name of the same field
        (["InsideView Contact ID", "Account"], ["insideview_id", "Account"], True),
        (["Email", "Name", "Company"], ["Email", "", ""], False),  # one of three
        (["Email", "Name", "Company"], ["ada@x.com", "Name", "Acme"], False),
        (["Email", "Name", "Company"], ["Name", "Email", "Company"], False),  # names in other places
        (["Email", "Name"], ["", ""], False),
        (["Email", "", "Company"], ["Email", "x", "Company"], True),  # an unnamed column does not count
    ],
)
def test_a_repeated_header_row(header, cells, repeated):
    assert row_rules.repeats_header(header, cells) is repeated
