"""Command line of the local runtime: `python -m localrt run|demo`."""

from __future__ import annotations

import argparse
import contextlib
import sys
import threading
import time
from pathlib import Path
from typing import Any

from client.cli import parse_options
from localrt.runtime import ROOT, JobView, LocalRuntime
from localrt.samples import GENERATORS

SAMPLES = {vendor: ROOT / "samples" / f"{vendor}.csv" for vendor in ("pubrio", "prospeo", "check365", "insideview")}
SAMPLE_OPTIONS: dict[str, dict[str, Any]] = {
    "pubrio": {"contact_types": ["email-work", "email-personal", "phone"]},
    "prospeo": {"enrich_mobile": True},
    "check365": {},
    "insideview": {},
}


class Progress:
    """One status line per job, rewritten in place on a terminal, printed on change otherwise."""

    def __init__(self, labels: dict[str, str]) -> None:
        self.labels = labels
        self.last: dict[str, str] = {}
        self.tty = sys.stderr.isatty()

    def __call__(self, view: JobView) -> None:
        item = view.item
        total = item.get("chunks_total")
        chunks = f"{item.get('chunks_done', 0)}/{total}" if total is not None else "-"
        line = (
            f"{self.labels[item['job_id']]:<9} {item['job_id']}  {view.status:<9} "
            f"chunks {chunks:<7} credits {item.get('credits', 0):g}"
        )
        if self.last.get(item["job_id"]) != line:
            self.last[item["job_id"]] = line
            print(line, file=sys.stderr, flush=True)


def _table(rows: list[dict[str, Any]]) -> str:
    columns = [
        "vendor",
        "status",
        "rows",
        "matched",
        "not_matched",
        "invalid_input",
        "duplicate",
        "error",
        "credits",
        "seconds",
        "output",
    ]
    cells = [[str(r.get(c, "")) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    line = lambda values: "  ".join(v.ljust(w) for v, w in zip(values, widths, strict=True))  # noqa: E731
    return "\n".join([line(columns), line(["-" * w for w in widths]), *(line(r) for r in cells)])


def run_jobs(runtime: LocalRuntime, jobs: list[tuple[str, Path, dict[str, Any]]], out: Path) -> list[dict[str, Any]]:
    started = time.monotonic()
    ids = {runtime.drop(path, vendor, options): vendor for vendor, path, options in jobs}
    progress = Progress(ids)
    summary = []
    for job_id, vendor in ids.items():
        view = runtime.wait(job_id, timeout=900, on_progress=progress)
        folder = runtime.download(job_id, out / job_id)
        counts = view.item.get("counts") or {}
        summary.append(
            {
                "vendor": vendor,
                "job_id": job_id,
                "status": view.status,
                "rows": view.item.get("rows_total") or 0,
                **counts,
                "credits": f"{view.item.get('credits', 0):g}",
                "seconds": f"{time.monotonic() - started:.1f}",
                "output": str(folder),
                "error": counts.get("error", 0),
                "reason": view.item.get("error"),
            }
        )
    return summary


def serve_api(port: int, out: Path) -> int:
    from localrt.api_server import LocalApi

    out.mkdir(parents=True, exist_ok=True)
    log_path = out / "local-api.log"
    print("starting emulated AWS, vendor simulators, and deploying template.yaml ...", file=sys.stderr)
    with open(log_path, "w") as log, contextlib.redirect_stdout(log), LocalRuntime(log_level="INFO") as runtime:
        api = LocalApi(runtime, port).start()
        print(f"jobs API:    {api.url}  (Swagger UI: {api.url}/swagger)", file=sys.stderr)
        print(f"data bucket: {runtime.bucket}; function logs: {log_path}", file=sys.stderr)
        print(
            "scheduled rules (POST /_local/rules/<name> to fire one): "
            + ", ".join(sorted(runtime.deployment.schedules)),
            file=sys.stderr,
        )
        print("press Ctrl-C to stop", file=sys.stderr, flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print("stopping", file=sys.stderr)
        finally:
            api.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localrt", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="one job on any CSV, through the S3 drop and the state machine")
    run.add_argument("--input", required=True, type=Path)
    run.add_argument("--vendor", required=True, choices=sorted(SAMPLES))
    run.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a job option, e.g. enrich_mobile=true or contact_types=email-work,phone",
    )
    demo = commands.add_parser("demo", help="a sample job per vendor")
    api = commands.add_parser("api", help="serve the jobs API on 127.0.0.1 until interrupted")
    api.add_argument("--port", type=int, default=3000)
    sample = commands.add_parser("sample", help="write a test file with invalid rows, blanks and duplicates")
    sample.add_argument("--vendor", required=True, choices=sorted(GENERATORS))
    sample.add_argument("--rows", type=int, default=1000)
    sample.add_argument("--output", required=True, type=Path)
    for command in (run, demo, api):
        command.add_argument("--out", type=Path, default=ROOT / "out")
    args = parser.parse_args(argv)

    if args.command == "sample":
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(GENERATORS[args.vendor](args.rows), newline="")
        print(args.output)
        return 0

    if args.command == "api":
        return serve_api(args.port, args.out.resolve())
    if args.command == "run":
        if not args.input.is_file():
            parser.error(f"--input {args.input} is not a file")
        jobs = [(args.vendor, args.input.resolve(), parse_options(args.option))]
    else:
        jobs = [(vendor, path, SAMPLE_OPTIONS[vendor]) for vendor, path in SAMPLES.items()]

    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    log_path = out / "local-run.log"
    print("starting emulated AWS, vendor simulators, and deploying template.yaml ...", file=sys.stderr)
    print(f"function logs and metrics: {log_path}", file=sys.stderr)
    # The handlers log (Powertools JSON) and emit metrics (EMF) on stdout, as in Lambda: keep them in a file.
    with open(log_path, "w") as log, contextlib.redirect_stdout(log), LocalRuntime(log_level="INFO") as runtime:
        summary = run_jobs(runtime, jobs, out)
    print(_table(summary), file=sys.stderr)
    for row in summary:
        if row["reason"]:
            print(f"{row['vendor']}: {row['reason']}", file=sys.stderr)
    if args.command == "run":
        print(summary[0]["output"])  # the last line: the job's output folder
    failed = [row for row in summary if row["status"] == "FAILED"]
    return 1 if failed and args.command == "demo" else 0


if __name__ == "__main__":
    sys.exit(main())
