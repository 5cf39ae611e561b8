"""Any CSV a program or a person writes (tests/corpus/generated.py: random delimiters, line ends, encodings,
quoting, sizes, valid and invalid addresses) through the real pipeline with Check365: the job never crashes,
every data row comes out once, in order, with a status, and Check365 is sent the valid addresses alone, each once.

Few examples (each runs real jobs), the same every run; an example's files run side by side.
"""

from __future__ import annotations

from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st

from enrichment.models import RowStatus
from enrichment.pipeline.row_rules import email_address
from tests.conftest import read_jsonl, unique_name
from tests.corpus.generated import csv_files

STATUSES = {s.value for s in RowStatus}


@settings(
    max_examples=5,
    derandomize=True,
    database=None,
    deadline=None,
    # The simulator fixture is reset once for the test, not per example: each example's jobs are told apart by id.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    # No shrinking: every step of it runs jobs (minutes); a failure shows its files as generated (note()), and
    # tests/unit/layer/files/test_reader_properties.py shrinks what the reader gets wrong.
    phases=[Phase.explicit, Phase.generate],
)
@given(files=st.lists(csv_files("check365", max_rows=15, max_columns=4), min_size=1, max_size=3))
def test_any_csv_comes_out_row_for_row_and_only_valid_addresses_are_sent(runtime, check365, tmp_path_factory, files):
    folder = tmp_path_factory.mktemp("generated")
    dropped = []
    for file in files:
        note(f"{file.dialect}: {file.data!r}")
        path = folder / unique_name("generated")
        path.write_bytes(file.data)
        dropped.append(runtime.drop(path, "check365", {"cache_max_age_days": 0}))  # what is sent: every file asks
    for file, job_id in zip(files, dropped, strict=True):
        item = runtime.wait(job_id, timeout=180).item
        out = runtime.download(job_id, folder / job_id)
        sent = [e for key, job in list(check365.jobs.items()) if key.startswith(f"{job_id}-c") for e in job.emails]
        if not file.rows:
            assert item["status"] == "FAILED" and "the file has a header but no rows" in item["error"]
            assert not sent
            continue
        assert item["status"] == "SUCCEEDED", item.get("error")
        lines = read_jsonl(out / "results.jsonl")
        assert [line["row"] for line in lines] == list(range(1, len(file.rows) + 1)), "every row once, in order"
        cells = [
            [v for k, v in line["input"].items() if k != "_extra"] + line["input"].get("_extra", []) for line in lines
        ]
        assert cells == file.rows, "each row's cells as written"
        assert all(line["status"] in STATUSES for line in lines)

        # Sent: the addresses of the rows answered, each once, each valid (as Check365's adapter sends it: lowercased).
        assert all(email_address(e).lower() == e for e in sent)
        assert len(set(sent)) == len(sent) == sum(line["status"] == "matched" for line in lines)
        answered = {
            email_address(c[file.key_column]).lower() for c, line in zip(cells, lines) if line["status"] == "matched"
        }
        assert set(sent) == answered
        assert item["credits"] == len(sent)
