"""Local runs that remember (localrt/state.py), through the entry `make run` uses: `python -m localrt run` twice with
one state folder (in tmp_path: tests never touch the project's .local/), each in its own process as `make run` is."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from localrt.samples import check365_csv
from localrt.state import POINTER
from tests.conftest import parse_csv

ROOT = Path(__file__).resolve().parents[2]


def _run(input_path: Path, out: Path, state: Path) -> tuple[Path, str]:
    command = [sys.executable, "-m", "localrt", "run", "--input", str(input_path), "--vendor", "check365"]
    answer = subprocess.run(
        [*command, "--out", str(out), "--state-dir", str(state)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert answer.returncode == 0, answer.stderr
    return Path(answer.stdout.splitlines()[-1]), answer.stderr


def _in_a_later_runtime(state: Path, script: str) -> dict:
    """What a later command's runtime (its own process, the same state folder) sees: the script's JSON on stdout."""
    program = textwrap.dedent(
        f"""
        import contextlib, json, sys
        from pathlib import Path
        from localrt.runtime import LocalRuntime
        def emit(value):  # the handlers log on stdout: the answer goes to the real one
            sys.__stdout__.write(json.dumps(value))
        with contextlib.redirect_stdout(sys.stderr), LocalRuntime(state_dir=Path({str(state)!r})) as runtime:
        """
    ) + textwrap.indent(textwrap.dedent(script), "    ")
    answer = subprocess.run(
        [sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
    )
    assert answer.returncode == 0, answer.stderr
    return json.loads(answer.stdout)


def test_a_second_run_finds_the_first_job_and_each_ledger_is_its_own(tmp_path: Path) -> None:
    text = check365_csv(120, seed=7)
    first_input, second_input = tmp_path / "contacts.csv", tmp_path / "contacts-again.csv"
    first_input.write_text(text)
    second_input.write_text(text)  # the same rows under another name: another job
    state, out = tmp_path / "state", tmp_path / "out"

    first, first_log = _run(first_input, out, state)
    assert "nothing yet" in first_log
    second, second_log = _run(second_input, out, state)
    assert f"local state: {state}" in second_log and "nothing yet" not in second_log

    first_ledger = json.loads((first / "simulator.json").read_text())
    second_ledger = json.loads((second / "simulator.json").read_text())
    first_summary = json.loads((first / "summary.json").read_text())
    assert first_ledger["job_id"] == first.name != second_ledger["job_id"] == second.name
    # Each ledger is its own job's: the first job's submissions are not counted again in the second's.
    assert first_ledger["paid_submissions"] == first_ledger["submissions"] >= 1
    assert first_ledger["duplicate_paid_submissions"] == 0
    assert first_ledger["credits_charged"] == first_summary["credits"]
    # The second run remembers the first's answers (the result cache came back with the state): it costs nothing.
    second_summary = json.loads((second / "summary.json").read_text())
    assert second_ledger["submissions"] == second_ledger["credits_charged"] == second_summary["credits"] == 0
    assert (
        second_summary["cached_rows"]
        == first_summary["rows"] - first_summary["counts"]["invalid_input"] - (first_summary["counts"]["duplicate"])
    )

    seen = _in_a_later_runtime(
        state,
        f"""
        first = runtime.job({first.name!r}).item
        second = runtime.job({second.name!r}).item
        runtime.download({first.name!r}, Path({str(tmp_path / "again")!r}))
        emit({{"first": first["status"], "second": second["status"], "rows": first["rows_total"]}})
        """,
    )
    assert seen == {"first": "SUCCEEDED", "second": "SUCCEEDED", "rows": len(parse_csv(text))}
    # The first job's outputs came back with the state: the same files `enrich download` would fetch.
    assert (tmp_path / "again" / "results.csv").read_bytes() == (first / "results.csv").read_bytes()

    # One complete snapshot, named by `current`: nothing else accumulates in the folder.
    snapshots = [p.name for p in state.iterdir() if p.is_dir()]
    assert snapshots == [(state / POINTER).read_text().strip()]


def test_a_snapshot_never_completed_is_not_read_and_expired_items_are_not_kept(tmp_path: Path) -> None:
    state = tmp_path / "state"
    saved = _in_a_later_runtime(
        state,
        """
        table = runtime.outputs["JobsTableName"]
        ddb = runtime.client("dynamodb")
        ddb.put_item(TableName=table, Item={"job_id": {"S": "pace-x"}, "item": {"S": "a"}, "expires_at": {"N": "1"}})
        ddb.put_item(TableName=table, Item={"job_id": {"S": "kept"}, "item": {"S": "b"}, "data": {"B": b"\\x00\\xff"}})
        emit({"table": table})
        """,
    )
    # A save killed before `current` was replaced: its folder is there, never named, never read.
    (state / "snapshot-00000000T000000-deadbeef").mkdir()
    (state / "snapshot-00000000T000000-deadbeef" / "manifest.json").write_text("{")
    seen = _in_a_later_runtime(
        state,
        f"""
        ddb = runtime.client("dynamodb")
        items = ddb.scan(TableName={saved["table"]!r})["Items"]
        emit({{"items": sorted((i["job_id"]["S"], i.get("data", {{}}).get("B", b"").hex()) for i in items)}})
        """,
    )
    assert seen == {"items": [["kept", "00ff"]]}
