"""A job of steps as the entry points give it (jobs/steps.py), a drop under inbox/steps/ (jobs/ingest.py) and a
schedule of steps (jobs/schedules.py): each becomes a job whose item holds its checked steps, or is refused naming
what is wrong."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
from pydantic import ValidationError

from enrichment import aws
from enrichment.errors import BadInput
from enrichment.files.storage import ObjectVersion
from enrichment.jobs.ingest import (
    JobRejected,
    Rejection,
    drop_request,
    ingest_drop,
    job_id_for,
    options_from_metadata,
    s3_job_id,
)
from enrichment.jobs.schedules import Schedule, run_schedule
from enrichment.jobs.steps import RECIPES_KEY, job_steps, load_recipe, steps_from_text, with_step_options
from enrichment.jobs.store import JobStore
from enrichment.models import Job, JobStep, Vendor
from enrichment.settings import Settings

RECIPES = {
    "emails": {
        "description": "find work emails, then validate them",
        "steps": [
            {"vendor": "pubrio", "options": {"contact_types": "email-work"}},
            {"vendor": "prospeo"},
            {"vendor": "check365"},
        ],
        "options": {"max_credits": 300},
    },
    "broken": {"steps": []},
}


# ---- steps as text, step options, recipes ----


@pytest.mark.parametrize(
    "text",
    ["pubrio prospeo check365", "pubrio,prospeo,check365", " Pubrio, prospeo  check365 ", "pubrio\tprospeo\ncheck365"],
)
def test_vendor_names_in_order_are_steps(text):
    assert steps_from_text(text) == [{"vendor": "pubrio"}, {"vendor": "prospeo"}, {"vendor": "check365"}]


def test_a_json_list_is_taken_as_it_is():
    given = [{"vendor": "prospeo", "options": {"enrich_mobile": True}}, {"vendor": "check365", "validate": "email"}]
    assert steps_from_text(json.dumps(given)) == given


@pytest.mark.parametrize(("text", "words"), [("  ", "empty"), ('[{"vendor": "pubrio"', "not JSON")])
def test_steps_text_that_names_nothing_is_refused(text, words):
    with pytest.raises(BadInput, match=words):
        steps_from_text(text)


def test_a_vendor_prefixed_option_goes_to_every_step_of_that_vendor():
    steps = [{"vendor": "prospeo", "options": {"enrich_mobile": False}}, {"vendor": "check365"}, {"vendor": "prospeo"}]
    merged, job = with_step_options(steps, {"prospeo.enrich_mobile": True, "max_credits": 9})
    assert job == {"max_credits": 9}
    assert merged == [
        {"vendor": "prospeo", "options": {"enrich_mobile": True}},
        {"vendor": "check365"},
        {"vendor": "prospeo", "options": {"enrich_mobile": True}},
    ]
    assert steps[0]["options"] == {"enrich_mobile": False}  # the given steps are left as they were


def test_a_prefix_naming_no_step_is_refused_naming_it():
    with pytest.raises(BadInput, match=r"insideview\.x name 'insideview', which is not a step of this job"):
        with_step_options([{"vendor": "prospeo"}], {"insideview.x": 1})


def test_steps_are_checked_by_parse_steps_with_their_options():
    steps, job = job_steps(steps_from_text("pubrio check365"), None, {"pubrio.contact_types": "phone"}, "unused")
    assert steps == [
        JobStep(vendor=Vendor.PUBRIO, options={"contact_types": ["phone"]}),
        JobStep(vendor=Vendor.CHECK365, validation="email"),
    ]
    assert job == {}
    with pytest.raises(BadInput, match=r"steps\[2\].vendor: 'acme' is not one of"):
        job_steps(steps_from_text("pubrio acme"), None, {}, "unused")


@pytest.fixture
def recipes(emulated_aws: Settings) -> Settings:
    aws.client("s3").put_object(Bucket=emulated_aws.data_bucket, Key=RECIPES_KEY, Body=json.dumps(RECIPES).encode())
    return emulated_aws


def test_a_recipe_is_its_steps_and_job_options_and_given_options_win(recipes):
    steps, job = job_steps(None, "emails", {"max_credits": 50, "prospeo.enrich_mobile": True}, recipes.data_bucket)
    assert [s.vendor for s in steps] == [Vendor.PUBRIO, Vendor.PROSPEO, Vendor.CHECK365]
    assert steps[1].options == {"enrich_mobile": True} and steps[2].validation == "email"
    assert job == {"max_credits": 50}
    assert job_steps(None, "emails", {}, recipes.data_bucket)[1] == {"max_credits": 300}


def test_an_unknown_recipe_names_those_there_are(recipes):
    with pytest.raises(
        BadInput, match=r"recipe 'nope': no recipe of that name in recipes/recipes.json \(it has: broken, emails\)"
    ):
        load_recipe(recipes.data_bucket, "nope")
    with pytest.raises(BadInput, match=r"recipe 'broken' in recipes/recipes.json: steps: List should have at least 1"):
        load_recipe(recipes.data_bucket, "broken")


def test_no_recipes_file_is_said(emulated_aws):
    with pytest.raises(BadInput, match=r"there are no recipes \(no s3://.*/recipes/recipes.json\)"):
        load_recipe(emulated_aws.data_bucket, "emails")


# ---- the S3 drop ----


@pytest.fixture
def stack(emulated_aws: Settings) -> Iterator[Settings]:
    """The settings with a state machine to start (a Pass state: the job's item is what these tests read)."""
    sfn = aws.client("stepfunctions")
    definition = {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}
    arn = sfn.create_state_machine(
        name=f"unit-{uuid.uuid4().hex[:8]}",
        definition=json.dumps(definition),
        roleArn="arn:aws:iam::123456789012:role/unit",
    )["stateMachineArn"]
    aws.client("s3").put_object(Bucket=emulated_aws.data_bucket, Key=RECIPES_KEY, Body=json.dumps(RECIPES).encode())
    yield emulated_aws.model_copy(update={"state_machine_arn": arn})
    sfn.delete_state_machine(stateMachineArn=arn)


def drop(settings: Settings, key: str, metadata: dict[str, str]) -> tuple[ObjectVersion, str]:
    answer = aws.client("s3").put_object(
        Bucket=settings.data_bucket, Key=key, Body=b"email\nada@initech.com\n", Metadata=metadata
    )
    return ObjectVersion(settings.data_bucket, key), answer["ETag"]


def test_step_options_in_metadata_keep_their_vendor():
    metadata = {
        "option-prospeo.enrich-mobile": "true",
        "option-max-credits": "500",
        "option-Pubrio.Contact-Types": "phone",
    }
    assert options_from_metadata(metadata) == {
        "prospeo.enrich_mobile": True,
        "max_credits": 500,
        "pubrio.contact_types": "phone",
    }


def test_a_drop_under_steps_becomes_a_job_of_its_steps(stack):
    metadata = {"steps": "pubrio prospeo check365", "option-prospeo.enrich-mobile": "true", "option-max-credits": "500"}
    version, etag = drop(stack, "inbox/steps/contacts.csv", metadata)

    job = ingest_drop(version, etag, "AWS:AIDAEXAMPLE", stack)

    assert isinstance(job, Job)
    stored = JobStore(stack.jobs_table).require(job.job_id)
    assert stored.vendor == Vendor.PUBRIO and stored.options == {"max_credits": 500}
    assert stored.steps == [
        JobStep(vendor=Vendor.PUBRIO),
        JobStep(vendor=Vendor.PROSPEO, options={"enrich_mobile": True}),
        JobStep(vendor=Vendor.CHECK365, validation="email"),
    ]
    assert job.job_id == s3_job_id(stack.data_bucket, version.key, etag, drop_request(metadata))


def test_a_drop_naming_a_recipe_becomes_its_job(stack):
    version, etag = drop(stack, "inbox/steps/contacts.csv", {"recipe": "emails"})
    job = ingest_drop(version, etag, None, stack)
    assert isinstance(job, Job)
    stored = JobStore(stack.jobs_table).require(job.job_id)
    assert [s.vendor for s in stored.steps] == [Vendor.PUBRIO, Vendor.PROSPEO, Vendor.CHECK365]
    assert stored.steps[0].options == {"contact_types": ["email-work"]} and stored.options == {"max_credits": 300}


def test_a_job_of_one_step_is_a_single_vendor_job(stack):
    metadata = {"steps": "prospeo", "option-prospeo.enrich-mobile": "true", "option-max-credits": "50"}
    version, etag = drop(stack, "inbox/steps/contacts.csv", metadata)

    job = ingest_drop(version, etag, None, stack)

    stored = JobStore(stack.jobs_table).require(job.job_id)
    assert (stored.vendor, stored.steps, stored.options) == (
        Vendor.PROSPEO,
        [],
        {"enrich_mobile": True, "max_credits": 50},
    )


def test_a_job_of_one_vendor_is_dropped_as_ever(stack):
    version, etag = drop(stack, "inbox/prospeo/contacts.csv", {"option-enrich-mobile": "true"})
    job = ingest_drop(version, etag, None, stack)
    assert isinstance(job, Job) and job.steps == [] and job.options == {"enrich_mobile": True}
    assert job.job_id == s3_job_id(stack.data_bucket, version.key, etag, {"enrich_mobile": True})


@pytest.mark.parametrize(
    ("key", "metadata", "reason"),
    [
        ("inbox/steps/a.csv", {}, "a drop under inbox/steps/ names its steps: metadata steps"),
        ("inbox/steps/a.csv", {"steps": "pubrio", "recipe": "emails"}, "give steps or recipe, not both"),
        ("inbox/steps/a.csv", {"steps": "pubrio acme"}, "steps[2].vendor: 'acme' is not one of"),
        ("inbox/steps/a.csv", {"steps": "check365 prospeo"}, "one validation step at most, and last"),
        ("inbox/steps/a.csv", {"steps": "prospeo", "option-enrich-mobile": "true"}, "enrich_mobile belong to a step"),
        ("inbox/steps/a.csv", {"steps": "prospeo", "option-pubrio.x": "1"}, "pubrio.x name 'pubrio', which is not"),
        ("inbox/steps/a.csv", {"recipe": "nope"}, "recipe 'nope': no recipe of that name"),
        ("inbox/prospeo/a.csv", {"steps": "prospeo check365"}, "a job of steps is dropped under inbox/steps/"),
        ("inbox/prospeo/a.csv", {"recipe": "emails"}, "a job of steps is dropped under inbox/steps/"),
    ],
)
def test_a_drop_with_bad_steps_is_rejected_saying_why(stack, key, metadata, reason):
    version, etag = drop(stack, key, metadata)
    outcome = ingest_drop(version, etag, None, stack)
    assert isinstance(outcome, Rejection) and reason in outcome.reason, outcome
    assert outcome.rejected_key == f"rejected/{key}"
    stored = json.loads(aws.client("s3").get_object(Bucket=stack.data_bucket, Key=outcome.reason_key)["Body"].read())
    assert stored["reason"] == outcome.reason


# ---- schedules ----


def test_a_schedule_takes_one_of_vendor_steps_or_recipe():
    Schedule.model_validate({"steps": [{"vendor": "prospeo"}], "input_key": "schedules/a.csv"})
    Schedule.model_validate({"recipe": "emails", "input_key": "schedules/a.csv"})
    for spec in ({"input_key": "x"}, {"vendor": "prospeo", "recipe": "emails", "input_key": "x"}):
        with pytest.raises(ValidationError, match="give exactly one of vendor, steps or recipe"):
            Schedule.model_validate(spec)


def schedule_input(settings: Settings) -> str:
    key = "schedules/weekly.csv"
    aws.client("s3").put_object(Bucket=settings.data_bucket, Key=key, Body=b"email\nada@initech.com\n")
    return key


@pytest.mark.parametrize(
    ("spec", "vendors", "job_options"),
    [
        (
            {"steps": [{"vendor": "prospeo"}, {"vendor": "check365"}], "options": {"prospeo.enrich_mobile": True}},
            [Vendor.PROSPEO, Vendor.CHECK365],
            {},
        ),
        (
            {"recipe": "emails", "options": {"max_credits": 40}},
            [Vendor.PUBRIO, Vendor.PROSPEO, Vendor.CHECK365],
            {"max_credits": 40},
        ),
    ],
)
def test_a_schedule_of_steps_starts_a_job_of_steps(stack, spec, vendors, job_options):
    schedule = Schedule.model_validate(spec | {"input_key": schedule_input(stack)})
    job = run_schedule("weekly", schedule, "event-1", stack)
    stored = JobStore(stack.jobs_table).require(job.job_id)
    assert [s.vendor for s in stored.steps] == vendors and stored.options == job_options
    assert stored.vendor == vendors[0] and stored.source == "schedule:weekly"


def test_a_schedule_with_bad_steps_starts_nothing_and_says_why(stack):
    schedule = Schedule.model_validate(
        {"steps": [{"vendor": "check365"}, {"vendor": "pubrio"}], "input_key": schedule_input(stack)}
    )
    with pytest.raises(JobRejected, match="schedule weekly: steps: one validation step at most, and last"):
        run_schedule("weekly", schedule, "event-2", stack)
    assert JobStore(stack.jobs_table).get(job_id_for("schedule", "weekly", "event-2")) is None
