"""What each vendor can match on: decided before anything is sent."""

import pytest

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
