"""`make bench`: the figures behind issue 11's goals, in one table (a section per benchmark).

python -m bench [--sections pacing,cost,cold_imports,scale,job_time] [--rows N] [--sizes N,N,...] [--minutes M]
[--repeats R]. Each section is the module bench/<section>.py, imported by name: a missing one fails the run.
Each section runs in a fresh process: moto's state, peak RSS and imported modules are the section's own.
Progress goes to stderr, the table to stdout.
"""

from __future__ import annotations

import argparse
import importlib
import multiprocessing
import sys
import time
from concurrent.futures import ProcessPoolExecutor

from bench.report import SECTIONS, run_section, table, with_goals


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--sections", default=",".join(SECTIONS), help="comma-separated, of: " + ", ".join(SECTIONS))
    parser.add_argument("--rows", type=int, default=10_000, help="rows of each job (cost, job_time)")
    parser.add_argument(
        "--sizes",
        type=lambda text: tuple(int(size) for size in text.split(",") if size.strip()),
        default=(10_000, 100_000, 1_000_000),
        help="row counts for scale, e.g. 10000,100000",
    )
    parser.add_argument("--minutes", type=float, default=3.0, help="how long pacing drives each vendor")
    parser.add_argument("--repeats", type=int, default=7, help="cold imports timed per handler")
    options = parser.parse_args(argv)
    chosen = [name.strip() for name in options.sections.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in SECTIONS]
    if unknown:
        parser.error(f"unknown sections {', '.join(unknown)}; known: {', '.join(SECTIONS)}")
    for name in chosen:
        importlib.import_module(f"bench.{name}")  # a section that does not exist fails here, before any runs
    results = []
    for name in chosen:
        section = SECTIONS[name]
        print(f"bench: {name} ...", file=sys.stderr, flush=True)
        started = time.monotonic()
        with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as fresh:
            rows = fresh.submit(run_section, name, options).result()
        print(f"bench: {name} took {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
        results.append((section.title, with_goals(section, rows, options)))
    print(table(results), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
