"""The corpus (tests/corpus/files.py) through the real pipeline: each file dropped into S3, run by the real state
machine and handlers against the vendor simulators, its outputs downloaded.

A job that runs gives one row out per data row in, in order, its cells as written (exactly in results.jsonl,
spreadsheet-safe in results.csv), with the status (and reason) its case expects; the vendor is sent the valid
rows alone, each once. A job that fails says what its case says, and nothing reaches the vendor.

Fast: every file is dropped at once and the jobs run side by side (the cases over a lowered size or row limit
after them, the limit being the Prepare function's setting); one test per case then reads its outcome.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from enrichment.files.columns import unique_names
from enrichment.files.csvio import safe_cell
from enrichment.files.output import csv_columns
from enrichment.pipeline.row_rules import email_address
from enrichment.settings import InputLimits
from enrichment.vendors import adapter_class
from localrt import lambdas
from tests.conftest import read_jsonl, unique_name
from tests.corpus.files import ANSWERED, Case, case_names, corpus

CORPUS_VENDORS = ("check365", "prospeo", "insideview")
# Every file asks the vendor (no answer from the result cache): what is sent is what this module checks, and files
# that share rows run at once.
NO_CACHE = {"cache_max_age_days": 0}


@dataclass
class Ran:
    case: Case
    job_id: str
    item: dict[str, Any]  # the job as it ended
    folder: Path  # its downloaded outputs


@dataclass
class CorpusRun:
    jobs: dict[str, Ran]  # by case name
    check365_uploads: dict[str, list[str]]  # Check365's jobs (our job id, chunk) -> the addresses uploaded
    insideview_ids: list[str]  # every contact id InsideView was sent
    prospeo_records: list[dict[str, Any]]  # every record Prospeo was sent
    ledgers: dict[str, dict[str, float | int]]  # what each vendor was asked and charged during the run


@pytest.fixture(scope="module")
def corpus_run(request, runtime, tmp_path_factory) -> CorpusRun:
    simulators = {name: runtime.simulators[name] for name in CORPUS_VENDORS}
    for simulator in simulators.values():
        simulator.reset()
    check365_before = set(simulators["check365"].jobs)
    insideview_before = set(simulators["insideview"].jobs)
    prospeo_before = len(simulators["prospeo"].received)
    folder = tmp_path_factory.mktemp("corpus")

    # The cases this session runs (`-k pdf` runs one job; the test of what the vendors were sent runs them all).
    chosen = {
        item.callspec.params["name"]
        for item in request.session.items
        if item.module is request.module and hasattr(item, "callspec")
    }
    if any(item.module is request.module and not hasattr(item, "callspec") for item in request.session.items):
        chosen = set(case_names())
    batches: dict[tuple[tuple[str, str], ...], list[Case]] = {}
    for case in (corpus()[name] for name in case_names() if name in chosen):
        batches.setdefault(tuple(sorted(case.environment.items())), []).append(case)
    jobs: dict[str, Ran] = {}
    for environment, batch in sorted(batches.items()):  # the usual settings first
        with pytest.MonkeyPatch.context() as patch:
            for function in ("PrepareFunction", "FinalizeFunction"):
                spec = lambdas.FUNCTIONS[runtime.function_name(function)]
                for key, value in environment:
                    patch.setitem(spec.environment, key, value)
            dropped = {}
            for case in batch:
                path = folder / (unique_name(case.name).removesuffix(".csv") + case.suffix)
                path.write_bytes(case.data)
                dropped[case.name] = runtime.drop(path, case.vendor, NO_CACHE)
            for case in batch:
                job_id = dropped[case.name]
                view = runtime.wait(job_id, timeout=240)
                jobs[case.name] = Ran(case, job_id, view.item, runtime.download(job_id, folder / job_id))
    # Prepare sets the csv module's cell limit (process-wide) to the size limit: not the lowered one, for the
    # tests after this batch, and results.csv with its 5 MB cell is read back.
    csv.field_size_limit(InputLimits().max_bytes)

    check365 = simulators["check365"]
    return CorpusRun(
        jobs=jobs,
        check365_uploads={k: job.emails for k, job in sorted(check365.jobs.items()) if k not in check365_before},
        insideview_ids=[
            i for k, job in simulators["insideview"].jobs.items() if k not in insideview_before for i in job.ids
        ],
        prospeo_records=simulators["prospeo"].received[prospeo_before:],
        ledgers={name: simulator.ledger() for name, simulator in simulators.items()},
    )


def as_check365_receives(sent: dict[str, str]) -> str:
    """An address as Check365 is sent it: lowercased whole by its adapter (its verdicts are matched back so)."""
    return sent["email"].lower()


def sent_by(run: CorpusRun, job_id: str) -> list[str]:
    """The addresses Check365 was sent for one of our jobs, chunk by chunk (its job ids are ours, per chunk)."""
    return [e for key, emails in run.check365_uploads.items() if key.startswith(f"{job_id}-c") for e in emails]


def cells_of(line: dict[str, Any]) -> list[str]:
    """A results.jsonl line's input cells, in order, past-the-header ones included."""
    return [v for k, v in line["input"].items() if k != "_extra"] + line["input"].get("_extra", [])


def failure_problems(ran: Ran, run: CorpusRun) -> list[str]:
    case, item = ran.case, ran.item
    if item["status"] != "FAILED":
        return [f"the job is {item['status']}, not FAILED ({case.error})"]
    problems = [
        f"the error {item['error']!r} does not say {words!r}" for words in case.error if words not in item["error"]
    ]
    summary = json.loads((ran.folder / "summary.json").read_text())
    if summary["error"] != item["error"]:
        problems.append(f"summary.json's error {summary['error']!r} is not the job's")
    if (ran.folder / "results.csv").exists():
        problems.append("a job that could not read its file wrote results.csv")
    if case.vendor == "check365" and (sent := sent_by(run, ran.job_id)):
        problems.append(f"Check365 was sent {sent[:5]}")
    return problems


def row_problems(ran: Ran, run: CorpusRun) -> list[str]:
    case, item = ran.case, ran.item
    if item["status"] != case.status:
        return [f"the job is {item['status']} ({item.get('error')}), not {case.status}"]
    lines = read_jsonl(ran.folder / "results.jsonl")
    with open(ran.folder / "results.csv", newline="", encoding="utf-8") as handle:
        table = list(csv.reader(handle))
    names = case.names or unique_names(case.header)
    problems = []
    if len(lines) != len(case.rows) or len(table) != len(case.rows) + 1:
        problems.append(f"{len(lines)} rows in results.jsonl, {len(table) - 1} in results.csv, for {len(case.rows)}")
    result_columns = list(csv_columns(adapter_class(case.vendor).result_columns))  # the vendor's columns only
    if table and table[0] != [safe_cell(n) for n in names] + result_columns:
        problems.append(f"results.csv's header {table[0]} is not {names} and {case.vendor}'s result columns")
    status_at = len(names) + result_columns.index("result_status")
    for number, (row, line, out) in enumerate(zip(case.rows, lines, table[1:], strict=False), start=1):
        where = f"row {number} {[c[:40] for c in row.cells[:3]]}"
        expected = {"matched", "not_matched"} if row.status == ANSWERED else {row.status}
        if line["row"] != number:
            problems.append(f"{where}: numbered {line['row']} in results.jsonl")
        if cells_of(line) != row.cells:
            problems.append(f"{where}: results.jsonl holds the cells {cells_of(line)}")
        padded = row.cells[: len(names)] + [""] * (len(names) - len(row.cells))
        if out[: len(names)] != [safe_cell(c) for c in padded]:
            problems.append(f"{where}: results.csv holds the cells {out[: len(names)]}")
        if line["status"] not in expected or out[status_at] != line["status"]:
            problems.append(f"{where}: {line['status']} ({line['reason']}), expected {row.status}")
        elif row.reason and row.reason not in (line["reason"] or ""):
            problems.append(f"{where}: the reason {line['reason']!r} does not say {row.reason!r}")

    summary = json.loads((ran.folder / "summary.json").read_text())
    counted = Counter(line["status"] for line in lines)
    if summary["rows"] != len(case.rows) or {k: v for k, v in summary["counts"].items() if v} != counted:
        problems.append(f"summary.json counts {summary['rows']} rows {summary['counts']}, the rows say {counted}")
    if not summary["input_format"].items() >= case.input_format.items():
        problems.append(f"summary.json's input_format is {summary['input_format']}, not {case.input_format}")
    if case.vendor == "check365":
        sent = sent_by(run, ran.job_id)
        expected_sent = [as_check365_receives(row.sent) for row in case.rows if row.sent]
        if sent != expected_sent:
            problems.append(f"Check365 was sent {sent}, not the valid rows' {expected_sent}")
        if item["credits"] != len(sent):
            problems.append(f"{item['credits']} credits for {len(sent)} addresses")
    return problems


@pytest.mark.parametrize("name", case_names())
def test_each_file_comes_out_as_its_case_says(corpus_run, name):
    ran = corpus_run.jobs[name]
    problems = failure_problems(ran, corpus_run) if ran.case.status == "FAILED" else row_problems(ran, corpus_run)
    assert not problems, f"{name} ({ran.case.about}), job {ran.job_id}:\n  " + "\n  ".join(problems)


def test_each_vendor_was_sent_the_valid_rows_alone_each_once(corpus_run):
    cases = [ran.case for ran in corpus_run.jobs.values()]

    def expected(vendor: str) -> list[dict[str, str]]:
        return [row.sent for case in cases if case.vendor == vendor for row in case.rows if row.sent]

    addresses = [e for emails in corpus_run.check365_uploads.values() for e in emails]
    assert Counter(addresses) == Counter(map(as_check365_receives, expected("check365")))
    assert all(email_address(e).lower() == e for e in addresses), "every address sent is valid"
    assert Counter(corpus_run.insideview_ids) == Counter(sent["contact_id"] for sent in expected("insideview"))
    records = [{k: v for k, v in r.items() if k != "identifier"} for r in corpus_run.prospeo_records]
    assert sorted(map(json.dumps, records)) == sorted(map(json.dumps, expected("prospeo")))

    assert corpus_run.ledgers["check365"]["credits_charged"] == len(addresses)
