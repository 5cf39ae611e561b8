"""No vendor key ever reaches a log line, an error, or an output file."""

from __future__ import annotations

import logging

from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

from localrt.samples import check365_csv, insideview_csv, prospeo_csv, pubrio_csv
from tests.conftest import SECRETS, unique_name


class Collect(logging.Handler):
    """Every line the handlers log, formatted by Powertools' own formatter (the JSON Lambda would print)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(LambdaPowertoolsFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def test_keys_never_appear_in_logs_errors_or_outputs(
    runtime, pubrio, prospeo, check365, insideview, tmp_path, capfd, caplog
):
    caplog.set_level(logging.DEBUG)  # botocore and httpx included
    powertools = logging.getLogger("contact-enrichment")
    collect = Collect()
    powertools.addHandler(collect)
    pubrio.inject("429", times=1)
    pubrio.inject("500", times=1, path="/redeem/people/batch/query")  # at submit, a 5xx is an answer lost
    prospeo.inject("429", times=1)
    check365.inject("timeout", times=1, seconds=3)  # its key rides in the query string of the timed-out call
    check365.inject("500", times=1)
    insideview.expire_tokens()  # a login again, with the client secret in the query string
    insideview.inject("429", times=1)
    samples = {"pubrio": pubrio_csv, "prospeo": prospeo_csv, "check365": check365_csv, "insideview": insideview_csv}
    jobs = []
    for vendor, sample in samples.items():
        text = sample(60, seed=9)
        path = tmp_path / unique_name(vendor)
        path.write_text(text)
        jobs.append(runtime.drop(path, vendor))
    views = [runtime.wait(job_id, timeout=120) for job_id in jobs]
    # and a job whose key the vendor rejects (rotated on its side), so the credentials error path logs too
    prospeo.api_key = "rotated-key"
    path = tmp_path / unique_name("rejected")
    path.write_text(prospeo_csv(10, seed=10))
    jobs.append(runtime.drop(path, "prospeo"))
    try:
        views.append(runtime.wait(jobs[-1], timeout=120))
    finally:
        prospeo.api_key = SECRETS["prospeo"]
        powertools.removeHandler(collect)
    assert [v.status for v in views] == ["SUCCEEDED"] * 4 + ["FAILED"]
    assert "credentials rejected" in views[-1].item["error"]

    captured = capfd.readouterr()
    texts = [captured.out, captured.err, caplog.text, *collect.lines, *(str(v.item) for v in views)]
    for job_id in jobs:
        folder = runtime.download(job_id, tmp_path / job_id)
        texts += [p.read_text() for p in folder.iterdir()]
    sfn = runtime.client("stepfunctions")
    for job_id in jobs:
        arn = runtime.outputs["JobStateMachineArn"].replace(":stateMachine:", ":execution:") + f":{job_id}"
        texts.append(str(sfn.get_execution_history(executionArn=arn)["events"]))
    assert any("job started" in line for line in collect.lines), "the handlers' logs were captured"
    for secret in SECRETS.values():
        leaks = [text[max(0, text.index(secret) - 300) : text.index(secret) + 50] for text in texts if secret in text]
        assert not leaks
