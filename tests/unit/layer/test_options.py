"""A job's options: one form per option wherever they come from, checked against the vendor's job options model,
and never stored in a form that breaks a read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from client.cli import parse_options as command_line_options
from enrichment.jobs.ingest import options_from_metadata
from enrichment.jobs.schedules import load_schedules
from enrichment.jobs.store import Unstorable, _to_dynamo
from enrichment.models import Vendor
from enrichment.options import InvalidOptions, options_as_stored, options_model, options_to_store, parse_options

ROOT = Path(__file__).resolve().parents[3]


def stored(vendor: str, options: dict) -> dict:
    return options_as_stored(parse_options(Vendor(vendor), options))


@pytest.mark.parametrize(
    "given",
    [
        {"contact_types": ["email-work", "phone"]},
        {"contact_types": "email-work,phone"},
        {"contact_types": " email-work , phone,email-work"},  # spaces around a part; a repeat is kept once
        options_from_metadata({"option-contact-types": "email-work,phone"}),  # `aws s3 cp --metadata`
        options_from_metadata({"option-contact-types": '["email-work", "phone"]'}),
        command_line_options(["contact_types=email-work,phone"]),  # make run OPTIONS=, enrich --option
    ],
)
def test_a_list_option_has_one_form_from_every_entry_point(given):
    assert stored("pubrio", given) == {"contact_types": ["email-work", "phone"]}


@pytest.mark.parametrize("given", [{"enrich_mobile": True}, options_from_metadata({"option-enrich-mobile": "true"})])
def test_a_flag_is_json_true_or_false_from_every_entry_point(given):
    assert stored("prospeo", given) == {"enrich_mobile": True}


@pytest.mark.parametrize(
    ("vendor", "options", "problem"),
    [
        ("prospeo", {"enrich_mobile": "maybe"}, "enrich_mobile: takes true or false"),
        ("prospeo", {"enrich_mobile": "yes"}, "enrich_mobile: takes true or false"),
        ("prospeo", {"enrich_mobile": 1}, "enrich_mobile: takes true or false"),
        (
            "prospeo",
            {"enrich_mobil": True},
            "enrich_mobil: unknown option; prospeo takes allow_resend, only_verified_email, enrich_mobile, "
            "only_verified_mobile, columns, max_credits, cache_max_age_days",
        ),
        ("pubrio", {"contact_types": ["fax"]}, "contact_types: 'fax' is not one of 'email-work', 'email-personal'"),
        ("pubrio", {"contact_types": "email-work,"}, "contact_types: '' is not one of"),
        ("pubrio", {"contact_types": []}, "contact_types: Value should have at least 1 item"),
        ("pubrio", {"contact_types": "phone," * 40}, "contact_types: a comma string is at most 200 characters"),
        ("pubrio", {"profile_id": "12"}, "profile_id: a JSON number is required"),
        ("pubrio", {"profile_id": 1.5}, "profile_id: Input should be a valid integer"),
        ("check365", {"columns": {"emial": "Email"}}, "columns: 'emial' is not a field; the fields are: first_name"),
        (
            "check365",
            {"x": 1e-200, "": 1},
            'x: unknown option; check365 takes allow_resend, columns, max_credits, cache_max_age_days; "": unknown',
        ),
    ],
)
def test_invalid_options_name_the_option_and_what_it_takes(vendor, options, problem):
    with pytest.raises(InvalidOptions) as raised:
        parse_options(Vendor(vendor), options)
    assert str(raised.value).startswith(f"invalid options for {vendor}: {problem}")


def test_only_verified_mobile_implies_enrich_mobile_in_what_is_stored():
    assert stored("prospeo", {"only_verified_mobile": True}) == {"only_verified_mobile": True, "enrich_mobile": True}


def test_options_a_drop_cannot_have_refused_are_stored_in_a_form_that_reads_back():
    """An S3 drop has no one to answer: its invalid options are kept (Prepare fails the job naming them), each
    value DynamoDB could not keep as it is written as its JSON text."""
    given = {"a": {"": None}, "x": 1e-200, "n": 10**40, "": True, "contact_types": "fax", "ok": [1, "b", None]}
    kept = options_to_store(Vendor.PUBRIO, given)
    assert kept == {
        "a": '{"": null}',
        "x": "1e-200",
        "n": str(10**40),
        '""': True,
        "contact_types": "fax",
        "ok": [1, "b", None],
    }
    _to_dynamo(kept)  # no Unstorable
    with pytest.raises(InvalidOptions, match="contact_types: 'fax' is not one of"):
        parse_options(Vendor.PUBRIO, kept)


@pytest.mark.parametrize("value", [{"": 1}, 1e-200, 1e300, 10**40, {"a": [{"": 2}]}])
def test_the_store_refuses_what_dynamodb_would_refuse_or_change(value):
    with pytest.raises(Unstorable):
        _to_dynamo({"options": value})


def test_every_vendors_options_model_forbids_other_names_and_documents_each_option():
    for vendor in Vendor:
        schema = options_model(vendor).model_json_schema()
        assert schema["additionalProperties"] is False
        assert {"allow_resend", "columns"} <= set(schema["properties"])


def test_the_shipped_schedules_have_valid_options():
    schedules = load_schedules(ROOT / "functions" / "schedule" / "schedules.json")
    assert schedules
    for schedule in schedules.values():
        parse_options(schedule.vendor, schedule.options)  # InvalidOptions would name the option


def test_metadata_values_are_json_or_text():
    assert options_from_metadata(
        {"option-enrich-mobile": "true", "option-profile-id": "12", "option-contact-types": "phone", "other": "x"}
    ) == {"enrich_mobile": True, "profile_id": 12, "contact_types": "phone"}
    assert json.loads(json.dumps(options_from_metadata({"option-columns": '{"email": "Mail"}'}))) == {
        "columns": {"email": "Mail"}
    }
