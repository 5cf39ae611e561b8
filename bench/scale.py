"""Prepare and Finalize at 10,000 to 1,000,000 rows: wall time, peak memory and S3 requests of each step.

For each size, a Prospeo-shaped input (email-less rows: first and last name, company, title, city; about 3%
duplicates and 2% invalid rows) is put in an emulated S3 (moto's server, in this process, on 127.0.0.1) beside a
real job item in the template's jobs table. Prepare then Finalize each run alone in a fresh child process calling
the layer's own `prepare_job` and `finalize_job` with the product's Prospeo settings (chunks of 50, batches of 10),
so the memory measured is the step's, not moto's. Before Finalize, made-up batch results are written, as the
vendor step leaves them when every chunk is done: a plausible RecordResult per row sent (one in ten not found).
The vendor step also leaves a ChunkResult per chunk; they are left out here, since Finalize lists them but reads
none when batches settled (at a million rows they would add about 20 listing pages, 0.00002 requests a row).

Each child counts its own S3 requests (botocore's request-created event: each HTTP request, retries included)
and its peak resident memory (getrusage). The children are forked from multiprocessing's forkserver, a small
process of its own: a child this process spawned directly would report this process's high-water mark (moto's
data) as its own, since Linux carries ru_maxrss across exec.

    python -m bench.scale [--sizes 10000,100000]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LAYER = ROOT / "layers" / "common"
BUCKET = "bench-data"
JOBS_TABLE = "bench-jobs"
RESULT_CACHE_TABLE = "bench-result-cache"  # empty: every row is looked up and missed, then sent (Prepare's worst case)
SIZES = (10_000, 100_000, 1_000_000)
COLUMNS = ("step", "rows", "wall_s", "peak_rss_mb", "s3_requests", "s3_requests_per_row")
# Objects bigger than this are kept on disk by moto rather than in this process's memory.
MOTO_KEY_BUFFER = 256 << 10

FIRST = ("Ada", "Grace", "Alan", "Radia", "Barbara", "Edsger", "Frances", "Donald", "Margaret", "Ken", "Zoë", "José")
LAST = ("Lovelace", "Hopper", "Turing", "Perlman", "Liskov", "Dijkstra", "Allen", "Knuth", "Hamilton", "Thompson")
COMPANIES = ("Initech", "Umbrella", "Globex", "Hooli", "Stark Industries", "Wayne Enterprises", "Acme, Inc.", "Soylent")
TITLES = ("Engineer", "Head of Sales", "CFO", "Product Manager", "Data Scientist", "Account Executive")
CITIES = ("Berlin", "Lisbon", "Austin", "Toronto", "Zürich", "Nairobi", "Osaka")


def rows(sizes: tuple[int, ...] = SIZES) -> list[dict[str, Any]]:
    """The figures of Prepare and of Finalize at each size, in that order."""
    figures: list[dict[str, Any]] = []
    with _emulated_aws() as env:
        for size in sizes:
            job_id = f"bench-{size}"
            _put_job(job_id, size)
            figures.append(_child("prepare", job_id, size, env))
            _settle_every_batch(job_id)
            figures.append(_child("finalize", job_id, size, env))
            _delete_job(job_id)
    return figures


def table(figures: list[dict[str, Any]]) -> str:
    cells = [list(COLUMNS)] + [[_cell(f[c]) for c in COLUMNS] for f in figures]
    widths = [max(len(row[i]) for row in cells) for i in range(len(COLUMNS))]
    return "\n".join("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in cells)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.5f}" if value < 0.1 else f"{value:,.1f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


# ---- the emulated stack (this process) ----


@contextmanager
def _emulated_aws() -> Iterator[dict[str, str]]:
    """moto's server on a free loopback port, with the data bucket and the template's jobs table; the environment
    a child needs to reach them."""
    import resource

    os.environ["MOTO_S3_DEFAULT_KEY_BUFFER_SIZE"] = str(MOTO_KEY_BUFFER)
    # Each object moto keeps on disk holds a file open.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard != resource.RLIM_INFINITY else max(soft, 65536), hard))
    from bench.moto_server import moto_server
    from localrt.template import jobs_table, result_cache_table

    sys.path.insert(0, str(LAYER))
    environment = {
        "DATA_BUCKET": BUCKET,
        "JOBS_TABLE": JOBS_TABLE,
        "IDEMPOTENCY_TABLE": "bench-idempotency",
        "RESULT_CACHE_TABLE": RESULT_CACHE_TABLE,
        "VENDOR_FUNCTIONS": json.dumps({"prospeo": "arn:aws:lambda:us-east-1:123456789012:function:prospeo"}),
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
    }
    with moto_server(environment) as env:
        from enrichment import aws

        aws.client("s3").create_bucket(Bucket=BUCKET)
        aws.client("dynamodb").create_table(**jobs_table(JOBS_TABLE))
        aws.client("dynamodb").create_table(**result_cache_table(RESULT_CACHE_TABLE))
        yield env


def _input_lines(size: int) -> Iterator[str]:
    """A Prospeo-shaped CSV: names and a company (no email); about 3% repeat an earlier row and 2% are invalid
    (a first name alone)."""
    pick = random.Random(size)
    yield "first_name,last_name,company,title,city\r\n"
    earlier: list[str] = []
    for row in range(1, size + 1):
        chance = pick.random()
        if chance < 0.03 and earlier:
            line = pick.choice(earlier)
        elif chance < 0.05:
            line = f"{pick.choice(FIRST)},,,{pick.choice(TITLES)},{pick.choice(CITIES)}\r\n"
        else:
            company = pick.choice(COMPANIES)
            line = f'{pick.choice(FIRST)},{pick.choice(LAST)}-{row},"{company} {row % 997}",'
            line += f"{pick.choice(TITLES)},{pick.choice(CITIES)}\r\n"
            if len(earlier) < 10_000:
                earlier.append(line)
            else:
                earlier[pick.randrange(len(earlier))] = line
        yield line


def _put_job(job_id: str, size: int) -> None:
    from enrichment import aws
    from enrichment.files import layout
    from enrichment.jobs.store import JobStore, now_iso
    from enrichment.models import Job, Vendor

    with tempfile.NamedTemporaryFile("w", encoding="utf-8", newline="", suffix=".csv") as file:
        file.writelines(_input_lines(size))
        file.flush()
        aws.client("s3").upload_file(file.name, BUCKET, layout.input_key(job_id))
    job = Job(
        job_id=job_id,
        vendor=Vendor.PROSPEO,
        input_name=f"{job_id}.csv",
        input_key=layout.input_key(job_id),
        output_prefix=layout.output_prefix(job_id),
        created_at=now_iso(),
    )
    JobStore(JOBS_TABLE).create(job)


def _settle_every_batch(job_id: str) -> None:
    """What the vendor step leaves when every chunk is done: a BatchResult per batch."""
    from enrichment.files import layout, storage

    def settle(ref: dict[str, Any]) -> None:
        batch = storage.get_json(BUCKET, ref["batch_key"])
        result = {"batch_index": ref["batch_index"], "chunks": [_chunk_result(c) for c in batch["chunks"]]}
        storage.put_json(BUCKET, layout.batch_result_key(job_id, ref["batch_index"]), result)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(settle, storage.get_json(BUCKET, layout.manifest_key(job_id))))


def _chunk_result(chunk: dict[str, Any]) -> dict[str, Any]:
    from enrichment.models import ChunkResult, RecordResult

    results = {}
    for record in chunk["records"]:
        fields, ref = record["fields"], record["ref"]
        if int(ref) % 10 == 0:
            results[ref] = RecordResult(status="not_matched", reason="no person found", raw={"error": "NO_MATCH"})
            continue
        first, last, company = fields.get("first_name", ""), fields.get("last_name", ""), fields.get("company_name", "")
        domain = "".join(ch for ch in company.lower() if ch.isalnum())[:20] + ".com"
        email = f"{first.lower()}.{last.lower()}@{domain}"
        person = {"first_name": first, "last_name": last, "full_name": f"{first} {last}", "job_title": "Engineer"}
        person |= {"linkedin_url": f"https://www.linkedin.com/in/{first.lower()}-{last.lower()}", "location": "Berlin"}
        results[ref] = RecordResult(
            status="matched",
            emails=[{"value": email, "type": "work", "status": "valid", "vendor_status": "VERIFIED"}],
            person=person,
            company={"name": company, "website": f"https://{domain}", "domain": domain, "industry": "Software"},
            credits=1,
            raw={"error": False, "person": {"email": {"email": email, "status": "VERIFIED"}, **person}},
        )
    done = ChunkResult(chunk_index=chunk["chunk_index"], status="done", credits=len(results), results=results)
    return done.model_dump(mode="json")


def _delete_job(job_id: str) -> None:
    from enrichment import aws
    from enrichment.files import storage

    s3 = aws.client("s3")
    keys = list(storage.list_keys(BUCKET, f"jobs/{job_id}/"))
    for start in range(0, len(keys), 1000):
        s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": k} for k in keys[start : start + 1000]]})


def _child(step: str, job_id: str, size: int, env: dict[str, str]) -> dict[str, Any]:
    """The step in a fresh process of its own (a new pool: a new worker, forked from the forkserver)."""
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("forkserver")) as pool:
        return pool.submit(_run_step, step, job_id, size, env).result()


# ---- a child: one step, alone ----


def _run_step(step: str, job_id: str, size: int, env: dict[str, str]) -> dict[str, Any]:
    import resource
    import time

    os.environ.update(env)
    sys.path.insert(0, str(LAYER))

    from enrichment import aws
    from enrichment.models import FinalizeInput
    from enrichment.pipeline.finalize import finalize_job
    from enrichment.pipeline.prepare import prepare_job
    from enrichment.settings import Settings

    sent = 0

    def count(**_: Any) -> None:
        nonlocal sent
        sent += 1

    aws.client("s3").meta.events.register("request-created.s3", count)
    settings = Settings.load()
    started = time.perf_counter()
    if step == "prepare":
        prepare_job(job_id, settings)
    else:
        ended = finalize_job(FinalizeInput(job_id=job_id, finalizer="bench"), settings)
        if sum(ended.counts.values()) != size or ended.error:
            raise RuntimeError(f"finalize ended {ended.status.value} with {ended.counts}: {ended.error}")
    wall = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {
        "step": step,
        "rows": size,
        "wall_s": round(wall, 2),
        "peak_rss_mb": round(peak_kib / 1024, 1),
        "s3_requests": sent,
        "s3_requests_per_row": round(sent / size, 6),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="row counts, comma-separated")
    args = parser.parse_args(argv)
    print(table(rows(tuple(int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()))))


if __name__ == "__main__":
    main()
