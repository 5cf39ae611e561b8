"""The cost bench on a tiny real job: the meter counts what the job did, and the table shows it."""

from __future__ import annotations

import contextlib
from collections import Counter
from decimal import Decimal

import pytest

from bench.cost import figures, measure
from bench.report import table
from localrt.lambdas import FUNCTIONS, FunctionSpec


def test_a_metered_job_counts_every_invocation_and_prices_the_counts(runtime, check365, tmp_path, monkeypatch):
    handler_calls: Counter[str] = Counter()
    original = FunctionSpec.environment_instance

    @contextlib.contextmanager
    def counted(self):  # where each handler is called: an oracle apart from the meter's own hook
        handler_calls[self.name] += 1
        with original(self) as handler:
            yield handler

    monkeypatch.setattr(FunctionSpec, "environment_instance", counted)
    usage = measure(runtime, "check365", 200, tmp_path)  # raises unless every row was answered

    assert usage.lambda_invocations == handler_calls
    for step in ("IngestFunction", "PrepareFunction", "FinalizeFunction", "WebhookFunction"):
        assert usage.lambda_invocations[runtime.function_name(step)] == 1
    assert usage.lambda_invocations[runtime.vendor_function("check365")] >= 2  # a submit and a check at least
    assert usage.lambda_billed_ms.keys() == handler_calls.keys()
    # the template: arm64, each function's own memory (1024 MB, vendor functions less)
    memory = {name: FUNCTIONS[name].memory for name in usage.lambda_billed_ms}
    assert (
        memory[runtime.vendor_function("check365")] == 256 and memory[runtime.function_name("PrepareFunction")] == 1024
    )
    expected = sum(ms * memory[name] for name, ms in usage.lambda_billed_ms.items()) / 1024 / 1000
    assert usage.gb_seconds == {"arm64": pytest.approx(expected)}
    assert usage.states_entered > 3 and usage.child_executions >= 1
    assert usage.transitions == usage.states_entered + usage.retries + usage.child_executions
    assert usage.s3_tier1 > 0 and usage.s3_tier2 > 0 and usage.dynamodb_write_units > 0
    assert usage.requests[("s3", "PutObject")] > 0 and ("lambda", "Invoke") in usage.requests, usage.requests

    usd = usage.usd()
    assert usd["stepfunctions"] == usage.transitions * Decimal("0.000025")
    assert usd["s3"] == usage.s3_tier1 * Decimal("0.000005") + usage.s3_tier2 * Decimal("0.0000004")
    assert usd["total"] == usd["stepfunctions"] + usd["lambda"] + usd["s3"] + usd["dynamodb"] > 0

    row = figures("check365", usage, rows=200)
    assert row["transitions"] == usage.transitions * 50 and row["usd_per_10k"] == float(usd["total"]) * 50
    assert table([("Cost", [row])]).splitlines()[3].startswith("check365")


def test_no_state_payload_grows_with_the_file(runtime, check365, tmp_path):
    # 2 and 12 batches of 2 chunks: the Map's result is in S3 and each child carries one batch, whatever the file.
    small = measure(runtime, "check365", 200, tmp_path).largest_state_payload
    large = measure(runtime, "check365", 2400, tmp_path).largest_state_payload
    assert 0 < large <= small + 256 and large <= 32 * 1024, (small, large)
