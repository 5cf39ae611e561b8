"""Where a job's files live in the data bucket."""

from __future__ import annotations


def input_key(job_id: str) -> str:
    return f"jobs/{job_id}/input.csv"


def plan_key(job_id: str) -> str:
    return f"jobs/{job_id}/prepared/rows.jsonl"


def columns_key(job_id: str) -> str:
    return f"jobs/{job_id}/prepared/columns.json"


def manifest_key(job_id: str) -> str:
    return f"jobs/{job_id}/prepared/manifest.json"


def chunk_key(job_id: str, index: int) -> str:
    return f"jobs/{job_id}/chunks/{index:06d}.json"


def chunk_result_key(job_id: str, index: int) -> str:
    return f"jobs/{job_id}/results/{index:06d}.json"


def output_prefix(job_id: str) -> str:
    return f"jobs/{job_id}/output/"


OUTPUT_FILES = ("results.csv", "results.jsonl", "summary.json", "report.html")
