"""enrichment.metrics: what a handler decorated with its log_metrics writes (EMF on stdout), invocation by
invocation, in the process Powertools shares its metric set across."""

from __future__ import annotations

import json
import warnings

import pytest

from enrichment import metrics
from enrichment.metrics import Metric, count, for_vendor, job_settled, log_metrics
from enrichment.models import JobStatus, Vendor
from enrichment.settings import function_environment

ENVIRONMENT = {"POWERTOOLS_METRICS_NAMESPACE": "ContactEnrichment", "POWERTOOLS_SERVICE_NAME": "contact-enrichment"}


def emf_lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{") and '"_aws"' in line]


def values(line: dict, name: str) -> list[float]:
    """A metric's values in an EMF line (a list, or one number)."""
    value = line[name]
    return value if isinstance(value, list) else [value]


def invoke(handler, event: dict | None = None):
    with function_environment(ENVIRONMENT):
        return handler(event or {}, None)


@log_metrics
def vendor_round(event: dict, context: object) -> str:
    for_vendor(Vendor(event["vendor"]))
    for _ in range(event.get("requests", 0)):
        count(Metric.VENDOR_REQUESTS)
    if event.get("raise"):
        raise RuntimeError("the round failed")
    return "ok"


def test_an_invocation_writes_one_emf_line_with_the_contract_s_names_and_dimensions(capsys):
    assert invoke(vendor_round, {"vendor": "pubrio", "requests": 3}) == "ok"
    (line,) = emf_lines(capsys.readouterr().out)
    (directive,) = line["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "ContactEnrichment"
    assert sorted(directive["Dimensions"][0]) == ["service", "vendor"]
    assert line["service"] == "contact-enrichment" and line["vendor"] == "pubrio"
    assert directive["Metrics"] == [{"Name": "VendorRequests", "Unit": "Count"}]
    assert values(line, "VendorRequests") == [1.0, 1.0, 1.0]


def test_invocations_of_other_vendors_in_one_process_start_afresh_without_a_warning(capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Powertools' "Dimension 'vendor' has already been added" would raise
        invoke(vendor_round, {"vendor": "pubrio", "requests": 1})
        invoke(vendor_round, {"vendor": "check365", "requests": 2})
        invoke(vendor_round, {"vendor": "prospeo"})  # nothing to count: nothing written, nothing warned
        invoke(vendor_round, {"vendor": "insideview", "requests": 1})
    lines = emf_lines(capsys.readouterr().out)
    assert [(line["vendor"], values(line, "VendorRequests")) for line in lines] == [
        ("pubrio", [1.0]),
        ("check365", [1.0, 1.0]),
        ("insideview", [1.0]),
    ]


def test_an_invocation_that_raises_still_writes_what_it_counted(capsys):
    with pytest.raises(RuntimeError):
        invoke(vendor_round, {"vendor": "pubrio", "requests": 2, "raise": True})
    (line,) = emf_lines(capsys.readouterr().out)
    assert values(line, "VendorRequests") == [1.0, 1.0]
    assert not metrics.metrics.provider.metric_set and not metrics.metrics.provider.dimension_set


def test_a_settled_job_counts_its_status_rows_by_outcome_credits_and_duration(capsys):
    @log_metrics
    def finalize(event: dict, context: object) -> None:
        counts = {"matched": 5, "not_matched": 1, "invalid_input": 2, "duplicate": 1, "error": 0}
        job_settled(Vendor.CHECK365, JobStatus.SUCCEEDED, counts, credits=6, duration_seconds=12.5)

    invoke(finalize)
    (line,) = emf_lines(capsys.readouterr().out)
    units = {m["Name"]: m["Unit"] for m in line["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert line["vendor"] == "check365"
    assert {name: values(line, name) for name in units} == {
        "JobsSucceeded": [1.0],
        "Rows": [9.0],
        "RowsMatched": [5.0],
        "RowsNotMatched": [1.0],
        "RowsInvalidInput": [2.0],
        "RowsDuplicate": [1.0],
        "RowsError": [0.0],
        "RowsSkipped": [0.0],
        "Credits": [6.0],
        "JobDuration": [12.5],
    }
    assert units["JobDuration"] == "Seconds" and units["Credits"] == "Count"


def test_every_final_status_and_row_outcome_has_its_metric():
    assert {s for s in JobStatus if s.is_final} == set(metrics.JOBS_BY_STATUS)
    assert set(metrics.ROWS_BY_STATUS) == set(metrics.RowStatus)
