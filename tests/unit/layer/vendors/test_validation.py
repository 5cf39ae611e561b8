"""What each vendor can match on: decided before anything is sent."""

import pytest

from enrichment.vendors.check365 import Check365Adapter
from enrichment.vendors.insideview import InsideViewAdapter
from enrichment.vendors.prospeo import ProspeoAdapter, ProspeoOptions
from enrichment.vendors.pubrio import PubrioAdapter


@pytest.mark.parametrize(
    ("fields", "ok"),
    [
        ({"first_name": "A", "last_name": "B", "company_website": "x.com"}, True),
        ({"full_name": "A B", "company_name": "X"}, True),
        ({"linkedin_url": "https://linkedin.com/in/a"}, True),
        ({"email": "a@x.com"}, True),
        ({"person_id": "abc"}, True),
        ({"full_name": "A B"}, False),
        ({"first_name": "A", "company_name": "X"}, False),
        ({"company_name": "X", "company_website": "x.com"}, False),
        ({}, False),
    ],
)
def test_prospeo_minimum_datapoints(fields, ok):
    assert (ProspeoAdapter.validate(fields) is None) is ok


def test_prospeo_duplicates_ignore_case_and_spaces():
    assert ProspeoAdapter.dedupe_key({"email": " A@X.com"}) == ProspeoAdapter.dedupe_key({"email": "a@x.com "})
    assert ProspeoAdapter.dedupe_key({"email": "a@x.com"}) != ProspeoAdapter.dedupe_key({"email": "b@x.com"})


def test_prospeo_verified_mobile_implies_mobile():
    assert ProspeoOptions(only_verified_mobile=True).enrich_mobile is True


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "missing"),
        ("12345", "not a UUID"),
        ("n/a", "not a UUID"),
    ],
)
def test_pubrio_needs_a_uuid(value, reason):
    assert reason in PubrioAdapter.validate({"people_search_id": value})


def test_pubrio_duplicates_compare_uuids():
    upper = "540574D1-FF74-475B-AEA2-F8AE643B806D"
    assert PubrioAdapter.validate({"people_search_id": upper}) is None
    assert PubrioAdapter.dedupe_key({"people_search_id": upper}) == PubrioAdapter.dedupe_key(
        {"people_search_id": upper.lower()}
    )


# ---- the row rules each adapter applies (prepare has already read placeholders as empty) ----


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ('=HYPERLINK("http://x")@domain.com', "formula"),
        ('"=1+1"@example.com', "formula"),
        ("user(comment)@example.com", "invalid characters before the @-sign"),
        ("<john@globex.io>", "angle brackets"),
        ('"john"@example.com', "quoting"),
        ("a" * 250 + "@x.com", "at most 254"),
        ("a" * 65 + "@x.com", "too long before the @-sign"),
        ("john@x.com.", "cannot end with a period"),
        ("n/a", "must have an @-sign"),
    ],
)
def test_check365_is_never_sent_what_is_not_an_address(value, says):
    reason = Check365Adapter.validate({"email": value})
    assert reason and says in reason and reason.startswith("email "), reason


def test_check365_missing_email():
    assert Check365Adapter.validate({}) == "email is missing"


def test_check365_takes_idn_domains_and_compares_them_normalized():
    assert Check365Adapter.validate({"email": "jürgen@MÜNCHEN.de"}) is None
    assert Check365Adapter.dedupe_key({"email": "info@xn--mnchen-3ya.de"}) == Check365Adapter.dedupe_key(
        {"email": "Info@München.DE"}
    )


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("-1", "digits only"),
        ("TBD", "digits only"),
        ("unknown", "digits only"),
        ("abc123", "digits only"),
        ("1.35E+07", "scientific notation"),
        ("=1+1", "formula"),
    ],
)
def test_insideview_ids_are_digits(value, says):
    reason = InsideViewAdapter.validate({"contact_id": value})
    assert reason and says in reason and value in reason, reason


def test_insideview_keeps_leading_zeros():
    assert InsideViewAdapter.validate({"contact_id": "0042"}) is None
    assert InsideViewAdapter.dedupe_key({"contact_id": "0042"}) != InsideViewAdapter.dedupe_key({"contact_id": "42"})


def test_pubrio_refuses_a_formula_by_name():
    reason = PubrioAdapter.validate({"people_search_id": '=HYPERLINK("http://x")'})
    assert "formula" in reason and "people_search_id" in reason


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"email": "n/a"}, "does not count as a datapoint; too few datapoints"),
        ({"email": "#N/A"}, "does not count as a datapoint"),
        ({"email": "john@"}, "does not count as a datapoint"),
        ({"email": "john@", "linkedin_url": "https://linkedin.com/in/a"}, "never sent a malformed email"),
        ({"email": "=1+1@x.com", "full_name": "A B"}, "formula"),
        ({"linkedin_url": '=HYPERLINK("http://x")'}, "linkedin_url"),
        ({"person_id": "@abc"}, "person_id"),
        ({"full_name": "=cmd|' /C calc'!A0", "company_name": "X"}, "full_name"),
    ],
)
def test_prospeo_refuses_malformed_emails_and_formulas(fields, says):
    reason = ProspeoAdapter.validate(fields)
    assert reason and says in reason, reason


def test_prospeo_duplicates_compare_normalized_emails():
    assert ProspeoAdapter.dedupe_key({"email": "info@xn--mnchen-3ya.de"}) == ProspeoAdapter.dedupe_key(
        {"email": "INFO@MÜNCHEN.de"}
    )
