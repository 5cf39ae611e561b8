"""A job of several steps end to end (issue 14): Pubrio -> Prospeo -> Check365 on samples/waterfall.csv, through the
real state machine, checked against what each vendor's simulator received and charged (its per-job ledger).

- no row is sent to a vendor after an earlier step matched it, and none to a vendor that cannot take it (Pubrio: a
  people-search id; Prospeo: name + company, a LinkedIn URL or an email);
- every email found (or given) is validated exactly once across the job, and its verdict joins its rows;
- results.csv keeps one row per input row in order, with the step that answered, the vendors of the email and the
  phone, the verdict and the credits; summary.json's `waterfall` agrees with the ledgers and the rows;
- under `max_credits` the whole pipeline never charges more than the budget, and rows earlier steps found keep
  their finds; a step that fails leaves what the steps before it found in the output.
"""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from enrichment.files.columns import map_columns
from enrichment.files.csvio import safe_cell
from enrichment.jobs.service import new_job_id, start_job
from enrichment.models import Vendor
from enrichment.options import parse_steps
from enrichment.vendors.vocabulary import EMAIL_WORDS
from localrt import faults
from localrt.runtime import ROOT, JobView, LocalRuntime
from localrt.samples import waterfall_csv
from localrt.simulators.prospeo import REQUEST_FIELDS, ProspeoSimulator, matchable
from localrt.simulators.pubrio import PRICES as PUBRIO_PRICES
from localrt.simulators.pubrio import PubrioSimulator
from tests.conftest import TEST_VENDOR_SETTINGS, read_jsonl, read_results
from tests.e2e.test_budget import deployed_with

SAMPLE = ROOT / "samples" / "waterfall.csv"
PUBRIO_TYPES = ["email-work", "email-personal", "phone"]  # phones too, so result_phone_source has two vendors
STEPS = [
    {"vendor": "pubrio", "options": {"contact_types": PUBRIO_TYPES}},
    {"vendor": "prospeo", "options": {"enrich_mobile": True}},
    {"vendor": "check365", "validate": "email"},
]
FINDERS = ("pubrio", "prospeo")
ADDRESS = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")  # what Check365 can take (the test's view; the core has its own)


def run_steps_job(
    runtime: LocalRuntime, tmp_path: Path, text: str, steps: list[dict[str, Any]], options: dict[str, Any] | None = None
) -> tuple[JobView, Path]:
    """Start a job of `steps` on `text` as the entry points do (options.parse_steps, then jobs.service.start_job),
    wait for it to end, download its outputs: (job, folder)."""
    settings = runtime.settings()
    job_id = new_job_id()
    start_job(
        job_id=job_id,
        vendor=Vendor(steps[0]["vendor"]),
        options=options or {},
        source="test",
        owner=None,
        settings=settings,
        body=text.encode(),
        steps=parse_steps(steps, options or {}),
    )
    view = runtime.wait(job_id, timeout=300)
    return view, runtime.download(job_id, tmp_path / job_id)


def input_rows(text: str) -> list[dict[str, str]]:
    """Each input row as the canonical fields its columns map to (the file's own header names)."""
    header, *rows = list(csv.reader(io.StringIO(text)))
    fields = map_columns(header).fields
    return [{field: cells[index].strip() for field, index in fields.items()} for cells in rows]


def people_search_id(row: dict[str, str]) -> str | None:
    try:
        return str(uuid.UUID(row.get("people_search_id", "")))
    except ValueError:
        return None


def prospeo_record(row: dict[str, str]) -> dict[str, str]:
    """What Prospeo can be sent of the row (an email only if it is an address)."""
    return {k: row[k] for k in REQUEST_FIELDS if row.get(k) and (k != "email" or ADDRESS.fullmatch(row[k]))}


class Received:
    """What each vendor received and answered for one job, from its simulator (tagged with the job, or for Prospeo,
    which keeps every record as sent, those since `prospeo_from`)."""

    def __init__(self, runtime: LocalRuntime, job_id: str, prospeo_from: int) -> None:
        pubrio, prospeo, check365 = (runtime.simulators[v] for v in ("pubrio", "prospeo", "check365"))
        with pubrio.lock:
            redeems = [r for r in pubrio.redeems.values() if r.submitted_by == job_id]
        self.pubrio_ids = [people for redeem in redeems for people in redeem.peoples]
        self.pubrio_answers = {p["people_search_id"]: p for redeem in redeems for p in redeem.results}
        self.prospeo_records = prospeo.received[prospeo_from:]
        with check365.lock:
            bulk = [job for job in check365.jobs.values() if job.submitted_by == job_id]
        self.check365_emails = [email.lower() for job in bulk for email in job.emails]
        self.verdicts = {result["email"].lower(): result["status"] for job in bulk for result in job.results}
        self.credits = {v: runtime.simulators[v].ledger(job_id)["credits_charged"] for v in ("pubrio", "prospeo")}
        self.credits["check365"] = check365.ledger(job_id)["credits_charged"]

    def pubrio_matched(self) -> set[str]:
        return {p for p, answer in self.pubrio_answers.items() if answer["emails"] or answer["phones"]}

    def finder(self, row: dict[str, str], mobile: bool = False) -> tuple[str | None, list[str], list[str]]:
        """The step that matched the row as the vendors answered (a duplicate's is its twin's), and the emails and
        phones it gave: (vendor or None, emails, phones)."""
        if (people := people_search_id(row)) in self.pubrio_matched():
            answer = self.pubrio_answers[people]
            return "pubrio", [e["value"] for e in answer["emails"]], [p["value"] for p in answer["phones"]]
        record = prospeo_record(row)
        key = ProspeoSimulator.record_key(record)
        sent = {ProspeoSimulator.record_key(r) for r in self.prospeo_records}
        if record and key in sent and (answer := ProspeoSimulator.person(record, mobile)) is not None:
            mobile_phone = answer["person"]["mobile"]
            phones = [mobile_phone["mobile"], mobile_phone["mobile_international"]] if mobile_phone["mobile"] else []
            return "prospeo", [answer["person"]["email"]["email"]], phones
        return None, [], []


def verdict(check365_status: str) -> str:
    return EMAIL_WORDS[Vendor.CHECK365][check365_status].value


def assert_sent_only_what_each_step_may_take(rows: list[dict[str, str]], got: Received) -> None:
    """Pubrio got ids only; Prospeo only rows Pubrio did not match, each as its row holds it and takable."""
    ids = {people_search_id(row) for row in rows} - {None}
    assert max(Counter(got.pubrio_ids).values(), default=0) <= 1, "an id redeemed twice"
    assert set(got.pubrio_ids) <= ids
    matched_by_pubrio = got.pubrio_matched()
    for record in got.prospeo_records:
        number = int(record["identifier"])
        row = rows[number - 1]
        assert matchable(record), f"row {number} sent to Prospeo, which cannot take it: {record}"
        assert {k: v for k, v in record.items() if k != "identifier"} == prospeo_record(row), f"row {number}"
        assert people_search_id(row) not in matched_by_pubrio, f"row {number} sent to Prospeo after Pubrio matched it"
    assert max(Counter(ProspeoSimulator.record_key(r) for r in got.prospeo_records).values(), default=0) <= 1


def test_pubrio_then_prospeo_then_check365_on_the_sample_file(runtime, pubrio, prospeo, check365, tmp_path):
    with prospeo.lock:  # a fresh Prospeo account: no record enriched before (free again), whatever tests ran first
        prospeo.enriched.clear()
    text = SAMPLE.read_text(encoding="utf-8")
    rows = input_rows(text)
    prospeo_from = len(prospeo.received)
    view, out = run_steps_job(runtime, tmp_path, text, STEPS)
    assert view.status in ("SUCCEEDED", "PARTIAL"), view.item.get("error")
    got = Received(runtime, view.item["job_id"], prospeo_from)

    # What each vendor received: only what it can take, never a row an earlier step matched.
    assert_sent_only_what_each_step_may_take(rows, got)
    ids = {people_search_id(row) for row in rows} - {None}
    assert set(got.pubrio_ids) == ids  # the first step gets every row it can take
    matched_by_pubrio = got.pubrio_matched()
    sent_to_prospeo = {ProspeoSimulator.record_key(r) for r in got.prospeo_records}
    for number, row in enumerate(rows, 1):  # and the second every row the first did not match that it can take
        record = prospeo_record(row)
        if record and matchable(record) and people_search_id(row) not in matched_by_pubrio:
            assert ProspeoSimulator.record_key(record) in sent_to_prospeo, f"row {number} never reached Prospeo"
    finders = [got.finder(row, mobile=True) for row in rows]

    # One row out per input row, in order, with the merged answer.
    results = read_results(out)
    assert len(results) == len(rows) == 1000
    originals = list(csv.DictReader(io.StringIO(text)))
    assert [{k: r[k] for k in originals[0]} for r in results] == [
        {k: safe_cell(v) for k, v in row.items()} for row in originals
    ]
    validated: dict[str, list[int]] = {}  # email -> the rows it is the best email of
    for number, (row, result) in enumerate(zip(rows, results, strict=True), 1):
        where = f"row {number}: {result}"
        if result["result_status"] == "duplicate":
            twin = results[int(result["result_duplicate_of"]) - 1]
            for column in ("result_email", "result_email_source", "result_email_validation"):
                assert result[column] == twin[column], where
            continue
        finder, emails, phones = finders[number - 1]
        if finder:
            assert result["result_status"] == "matched", where
            assert result["result_source"] == result["result_vendor"] == finder, where
            assert result["result_email"] in emails if emails else not result["result_email"], where
            assert result["result_email_source"] == (finder if emails else ""), where
            assert result["result_phone"] in [safe_cell(p) for p in phones] if phones else not result["result_phone"], (
                where
            )
            assert result["result_phone_source"] == (finder if phones else ""), where
        else:
            assert result["result_status"] != "matched", where
            assert not result["result_email_source"] and not result["result_phone_source"], where
        best = (result["result_email"] if finder and emails else row.get("email", "")).lower()
        if ADDRESS.fullmatch(best):
            validated.setdefault(best, []).append(number)
            assert result["result_email_validation"] == verdict(got.verdicts[best]), where
        elif best:  # given, but not an address: never sent, graded invalid, and the row says why
            assert result["result_email_validation"] == "invalid", where
            assert "not a valid email address" in result["result_email_verification_reason"], where
        else:
            assert not result["result_email_validation"], where

    # Every email found (or given) validated once across the job, whichever rows share it.
    assert max(Counter(got.check365_emails).values(), default=0) <= 1, "an email validated twice"
    assert set(got.check365_emails) == set(validated)
    assert any(len(numbers) > 1 for numbers in validated.values())  # the sample shares some emails between rows
    assert {verdict(status) for status in got.verdicts.values()} == {"valid", "invalid", "risky", "unknown"}

    # Credits: per row, per vendor and in all, as the vendors charged them.
    credits = sum(got.credits.values())
    assert all(got.credits[v] > 0 for v in got.credits)
    assert view.item["credits"] == credits
    # per row where the vendor prices rows (Pubrio charges a redeem as a whole: its rows carry none)
    assert sum(float(r["result_credits"] or 0) for r in results) == credits - got.credits["pubrio"]

    # The summary's waterfall, against the ledgers and the rows.
    summary = json.loads((out / "summary.json").read_text())
    assert [s["vendor"] for s in summary["steps"]] == ["pubrio", "prospeo", "check365"]
    assert summary["credits_by_vendor"] == got.credits
    waterfall = summary["waterfall"]
    assert [(w["step"], w["vendor"], w["role"]) for w in waterfall] == [
        (1, "pubrio", "find"),
        (2, "prospeo", "find"),
        (3, "check365", "validate"),
    ]
    sent = {"pubrio": len(got.pubrio_ids), "prospeo": len(got.prospeo_records), "check365": len(got.check365_emails)}
    for step in waterfall:
        vendor = step["vendor"]
        assert step["credits"] == got.credits[vendor], step
        assert step["rows_sent"] == sent[vendor], step
        assert step["cached_rows"] == 0 and step["errors"] == 0 and step["skipped"] == 0, step
        # a duplicate counts as what its twin found; nothing cached, skipped or failed here
        assert step["matched"] + step["not_matched"] == step["rows_sent"] + step["duplicates"], step
        if step["role"] == "find":  # rows it matched, duplicates of them included
            matched = sum(1 for finder, _, _ in finders if finder == vendor)
            assert step["matched"] == matched > 0, step
            assert step["match_rate_added"] == round(matched / len(results), 4), step
    pubrio_step, prospeo_step, check365_step = waterfall
    assert pubrio_step["rows_received"] == len(results)
    assert (
        prospeo_step["rows_received"]
        == pubrio_step["passed_on"]
        == pubrio_step["rows_received"] - (pubrio_step["matched"])
    )
    matched_rows = sum(
        1
        for r in results
        if "matched"
        in (
            r["result_status"],
            r["result_duplicate_of"] and results[int(r["result_duplicate_of"]) - 1]["result_status"],
        )
    )
    assert matched_rows == pubrio_step["matched"] + prospeo_step["matched"]
    # the validation step gets every row with an email found or given (graded, an address or not)
    assert check365_step["rows_received"] == sum(1 for r in results if r["result_email_validation"])

    # results.jsonl keeps every step's answer for the row, in the job's order.
    records = read_jsonl(out / "results.jsonl")
    assert len(records) == 1000
    for record, result in zip(records, results, strict=True):
        vendors = [answer["vendor"] for answer in record["steps"]]
        assert vendors == [v for v in ("pubrio", "prospeo", "check365") if v in vendors], record
        if result["result_status"] == "matched":
            assert result["result_vendor"] in vendors, record


def pubrio_cost(rows: list[dict[str, str]], contact_types: list[str]) -> float:
    """What Pubrio will charge for the rows' distinct ids (its simulator's answers are fixed by the id)."""
    ids = {people_search_id(row) for row in rows} - {None}
    answers = [PubrioSimulator.person(people, contact_types) for people in ids]
    return sum(PUBRIO_PRICES[c["type"]] for answer in answers for c in answer["emails"] + answer["phones"])


def test_the_budget_holds_across_every_step(runtime, pubrio, prospeo, check365, tmp_path):
    text = waterfall_csv(300, seed=29)
    rows = input_rows(text)
    # Pubrio in chunks of 10, one at a time: each holds at most 10 ids' worst case (300 credits) until it is charged.
    # The budget fits all of Pubrio's charges and one chunk's worst case, less 50: Pubrio sends everything, Prospeo's
    # records (at most 1 credit each, fewer than 250 here) fit, and what is left runs out during Check365's step.
    max_credits = int(pubrio_cost(rows, ["email-work", "email-personal"])) + 250
    settings = TEST_VENDOR_SETTINGS | {
        "pubrio": TEST_VENDOR_SETTINGS["pubrio"] | {"chunk_size": 10, "chunks_per_batch": 1, "max_concurrency": 1}
    }
    steps = [{"vendor": "pubrio"}, {"vendor": "prospeo"}, {"vendor": "check365", "validate": "email"}]
    prospeo_from = len(prospeo.received)
    with deployed_with(runtime, VENDOR_SETTINGS=json.dumps(settings)):
        view, out = run_steps_job(runtime, tmp_path, text, steps, {"max_credits": max_credits})
    got = Received(runtime, view.item["job_id"], prospeo_from)

    charged = sum(got.credits.values())
    assert charged <= max_credits, got.credits
    assert view.item["credits"] == charged
    assert_sent_only_what_each_step_may_take(rows, got)
    assert max(Counter(got.check365_emails).values(), default=0) <= 1
    results = read_results(out)
    assert len(results) == len(rows)
    reason = f"credit budget of {max_credits} reached"
    skipped = [r for r in results if r["result_status"] == "skipped"]
    assert all(r["result_reason"] == reason for r in skipped)
    # What earlier steps found stays found, validated or not.
    not_validated = set()
    for row, result in zip(rows, results, strict=True):
        if result["result_status"] == "duplicate":
            continue
        finder, _, _ = got.finder(row)
        if finder:
            assert result["result_status"] == "matched" and result["result_source"] == finder, result
            assert result["result_email"] and result["result_email_source"] == finder, result
        email = result["result_email"].lower()
        if email in got.verdicts:
            assert result["result_email_validation"] == verdict(got.verdicts[email]), result
        elif email:  # found, but the budget left nothing to validate it with: the row says so
            assert not result["result_email_validation"], result
            assert result["result_email_verification_reason"] == reason, result
            not_validated.add(email)
    assert not_validated, "the budget was meant to run out during the validation step"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["credits_by_vendor"] == got.credits and summary["max_credits"] == max_credits
    assert [w["credits"] for w in summary["waterfall"]] == [got.credits[v] for v in ("pubrio", "prospeo", "check365")]
    assert summary["waterfall"][2]["skipped"] > 0
    # The budget bound: the job did not do all it was asked, and says why (as a job of one vendor does).
    assert view.status == "PARTIAL", (view.item.get("error"), got.credits, max_credits)
    assert reason in view.item["error"]


def test_a_failing_step_keeps_what_the_steps_before_it_found(runtime, pubrio, prospeo, check365, tmp_path):
    text = waterfall_csv(300, seed=31)
    rows = input_rows(text)
    faults.inject(runtime, "prospeo", faults.parse_all(["account_blocked"]))  # Prospeo refuses its first call
    steps = [{"vendor": "pubrio"}, {"vendor": "prospeo"}, {"vendor": "check365", "validate": "email"}]
    prospeo_from = len(prospeo.received)
    view, out = run_steps_job(runtime, tmp_path, text, steps)
    got = Received(runtime, view.item["job_id"], prospeo_from)

    # The stopped step stops only itself: the job goes on to validate what Pubrio found, and ends PARTIAL saying why.
    assert view.status == "PARTIAL", view.item.get("error")
    assert "prospeo" in view.item["error"] and "ACCOUNT_RESTRICTED" in view.item["error"]
    assert_sent_only_what_each_step_may_take(rows, got)
    results = read_results(out)
    assert len(results) == len(rows)
    matched_by_pubrio = got.pubrio_matched()
    assert matched_by_pubrio
    pubrio_rows = 0  # rows Pubrio's finds answer, duplicates included (the summary counts them as their twin's)
    for row, result in zip(rows, results, strict=True):
        if people_search_id(row) in matched_by_pubrio:
            pubrio_rows += 1
            if result["result_status"] == "duplicate":
                continue
            answer = got.pubrio_answers[people_search_id(row)]
            assert result["result_status"] == "matched" and result["result_source"] == "pubrio", result
            assert result["result_email"] in [e["value"] for e in answer["emails"]], result
            assert result["result_email_source"] == "pubrio", result
            email = result["result_email"].lower()
            assert result["result_email_validation"] == verdict(got.verdicts[email]), result
        elif result["result_status"] == "error":
            assert "ACCOUNT_RESTRICTED" in result["result_reason"], result
    assert got.credits["prospeo"] == 0
    summary = json.loads((out / "summary.json").read_text())
    pubrio_step = summary["waterfall"][0]
    assert pubrio_step["matched"] == pubrio_rows and pubrio_step["credits"] == got.credits["pubrio"] > 0
    assert summary["waterfall"][1]["errors"] > 0
    assert summary["waterfall"][2]["credits"] == got.credits["check365"] == len(got.check365_emails) > 0


def test_a_failing_validation_step_keeps_the_finds_and_says_so(runtime, prospeo, check365, tmp_path):
    text = waterfall_csv(200, seed=3)
    rows = input_rows(text)
    check365.inject("fail_job", times=10)  # every Check365 job of the step ends failed
    steps = [{"vendor": "prospeo"}, {"vendor": "check365", "validate": "email"}]
    prospeo_from = len(prospeo.received)
    view, out = run_steps_job(runtime, tmp_path, text, steps)
    got = Received(runtime, view.item["job_id"], prospeo_from)

    results = read_results(out)
    assert len(results) == len(rows)
    found = 0
    for row, result in zip(rows, results, strict=True):
        finder, emails, _ = got.finder(row)
        if finder and result["result_status"] != "duplicate":
            found += 1
            assert result["result_status"] == "matched" and result["result_email"] in emails, result
            assert not result["result_email_validation"], result
            assert "the Check365 job ended 'failed'" in result["result_email_verification_reason"], result
    assert found and got.credits["check365"] == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["waterfall"][1]["errors"] > 0
    # No email was validated: the job did not do all it was asked, and says so (PARTIAL naming the step's failure).
    assert view.status == "PARTIAL", view.item.get("error")
    assert "Check365" in (view.item.get("error") or "")
