"""Where a job's files live in the data bucket."""

from __future__ import annotations

import re
from pathlib import PurePosixPath


def input_key(job_id: str) -> str:
    return f"jobs/{job_id}/input.csv"


# A job of several steps numbers each step's chunks and batches from step * STEP_STRIDE (more than a step can
# have: one chunk a row at most, rows at most InputLimits.max_rows), so a chunk's index names it in the whole job
# (its send ledger, budget reservation and result) and a retried Prepare numbers them alike.
STEP_STRIDE = 1_000_000


def first_index(step: int) -> int:
    return step * STEP_STRIDE


def _prepared(job_id: str, step: int) -> str:
    """Where Prepare writes a step's plan: the first step's where a single-vendor job's always was."""
    return f"jobs/{job_id}/prepared/" + (f"step-{step}/" if step else "")


def plan_key(job_id: str, step: int = 0) -> str:
    """The step's plan: a line per row it was given, in row order (a later step's holds only the rows passed on)."""
    return f"{_prepared(job_id, step)}rows.jsonl"


def columns_key(job_id: str) -> str:
    return f"jobs/{job_id}/prepared/columns.json"


def manifest_key(job_id: str, step: int = 0) -> str:
    return f"{_prepared(job_id, step)}manifest.json"


def twins_key(job_id: str, step: int = 0) -> str:
    """The rows sent that have duplicates, one row number a line in ascending order (written by Prepare before
    the plan, so a plan always has it): Finalize keeps just these rows' answers for their duplicates."""
    return f"{_prepared(job_id, step)}twins.txt"


# A plan entry's status set by Prepare: the row is answered from the result cache (its line in cached_key), not sent.
CACHED = "cached"


def cached_key(job_id: str, step: int = 0) -> str:
    """The rows answered from the result cache, one JSON line each ({"row", "fetched_at", "result"}) in row order:
    written by Prepare with the plan, read by Finalize alongside it."""
    return f"{_prepared(job_id, step)}cached.jsonl"


def batch_key(job_id: str, index: int) -> str:
    """A Map item's chunks, written by Prepare in one object (a ChunkBatch)."""
    return f"jobs/{job_id}/chunks/{index:06d}.json"


def results_prefix(job_id: str) -> str:
    return f"jobs/{job_id}/results/"


def chunk_result_key(job_id: str, index: int) -> str:
    """One chunk's ChunkResult, written when the chunk settles (before its send ledger says so)."""
    return f"{results_prefix(job_id)}{index:06d}.json"


def batch_result_key(job_id: str, index: int) -> str:
    """A settled batch's chunk results in one object (a BatchResult): what Finalize reads when it exists."""
    return f"{results_prefix(job_id)}batch-{index:06d}.json"


_RESULT_NAME = re.compile(r"^(batch-)?(\d{6,})\.json$")


def result_index(job_id: str, key: str) -> tuple[str, int] | None:
    """What a key under results_prefix holds: ("batch", index) for a BatchResult, ("chunk", index) for a
    ChunkResult, None for anything else."""
    prefix = results_prefix(job_id)
    found = _RESULT_NAME.match(key[len(prefix) :]) if key.startswith(prefix) else None
    if found is None:
        return None
    return ("batch" if found.group(1) else "chunk"), int(found.group(2))


def output_prefix(job_id: str) -> str:
    return f"jobs/{job_id}/output/"


OUTPUT_FILES = ("results.csv", "results.jsonl", "summary.json", "report.html")

# What an object of a job is, as the tag it is written with: the bucket's lifecycle rules filter on it (a job's
# folder mixes both kinds under one prefix). Outputs are kept OutputRetentionDays; working files are deleted by
# Finalize once the job has settled (files.retention), the rule catching any it could not delete.
RETENTION_TAG = "retention"
OUTPUT, WORKING = "output", "working"
_JOB_KEY = re.compile(r"^jobs/[^/]+/(output/|input\.csv$|prepared/|chunks/|results/)")


def retention_tag(key: str) -> str | None:
    """The tagging (S3's `key=value` form) an object under `key` is written with; None outside a job's folder."""
    found = _JOB_KEY.match(key)
    if found is None:
        return None
    return f"{RETENTION_TAG}={OUTPUT if found.group(1) == 'output/' else WORKING}"


def working_prefixes(job_id: str) -> tuple[str, ...]:
    """Where a job's working files are: its input's copy, the plan, the chunk batches and the chunks' results."""
    return (input_key(job_id), f"jobs/{job_id}/prepared/", f"jobs/{job_id}/chunks/", results_prefix(job_id))


INBOX = "inbox/"
UPLOADS = "uploads/"
# A job's input copied from under these is deleted there once the job has its copy (schedules/ inputs stay).
COPIED_THEN_DELETED = (INBOX, UPLOADS)
_UPLOAD_TOKEN = re.compile(r"^[0-9a-f]{24}-")


def upload_key(token: str, file_name: str | None) -> str:
    """Where an API upload goes: a fresh token, then the user's file name when given (in safe characters), so the
    job can name its input as the user knows it."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", file_name or "").strip("._")[:120]
    return f"{UPLOADS}{token}-{safe}" if safe else f"{UPLOADS}{token}.csv"


def input_name(key: str) -> str:
    """The input's name as its user knows it: a dropped file's own name, or an upload's without its token."""
    name = PurePosixPath(key).name
    return _UPLOAD_TOKEN.sub("", name) if key.startswith(UPLOADS) else name
