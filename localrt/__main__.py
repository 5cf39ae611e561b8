"""Command line of the local runtime: `python -m localrt run|preview|demo|api|sample|check-vendor`.

`run --fault NAME[*N]` injects a named fault for the job's vendor before the job starts (names and what
each simulates: localrt/faults.py; `check_5xx` applies to nothing for Prospeo, which has no check). After a
job, its output folder holds `simulator.json`: the vendor simulator's ledger for the job, its vendor and
the fault words given. `run` exits 1 when the job ends FAILED, saying why on the line before the output folder.

`run --step VENDOR` (repeatable, in order; instead of --vendor) runs a job of steps, dropped under inbox/steps/;
`--option VENDOR.KEY=VALUE` is that step's option, `KEY=VALUE` the job's. Faults are injected for every step's
vendor (a fault that applies to nothing for one of them says so), and `simulator.json` holds the job's `steps`
and, under `vendors`, each step vendor's ledger for the job.

`preview` runs the layer's preview (what `POST /jobs` with dry_run answers) on a local file, in the local stack
with its state (`--state-dir`): rows the result cache would answer and the match rates observed in past local
jobs count as they would in AWS. Nothing is sent. It exits 1 when the job would fail. `preview --step VENDOR ...`
previews a job of steps (each step's rows and credits, at worst and expected).

`--live vendor.json` (run, check-vendor) puts the vendor's real endpoint and credentials in place of its
simulator (localrt/live.py); the output folder then holds `vendor.json` (the endpoint, never the credentials)
instead of a simulator's ledger.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

from client.cli import job_options, steps_body
from client.preview import render
from localrt import faults as named_faults
from localrt import live as live_config
from localrt.runtime import ROOT, TEMPLATE_NAMES, JobView, LocalRuntime
from localrt.samples import GENERATORS, waterfall_csv

SAMPLES = {vendor: ROOT / "samples" / f"{vendor}.csv" for vendor in ("pubrio", "prospeo", "check365", "insideview")}
SAMPLE_OPTIONS: dict[str, dict[str, Any]] = {
    "pubrio": {"contact_types": ["email-work", "email-personal", "phone"]},
    "prospeo": {"enrich_mobile": True},
    "check365": {},
    "insideview": {},
}
# The demo's job of steps: the email waterfall of the README's first recipe, on its file.
WATERFALL_SAMPLE = ROOT / "samples" / "waterfall.csv"
WATERFALL_STEPS = ("pubrio", "prospeo", "check365")


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
            f"{self.labels[item['job_id']]:<9} {item['job_id']}  {view.status:<10} "
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


class LocalJob(NamedTuple):
    """A job `run` drops: its vendor (a job of steps: its first step's), file and options, and its steps' vendors
    in order (none: a job of one vendor)."""

    vendor: str
    path: Path
    options: dict[str, Any]
    steps: tuple[str, ...] = ()

    @property
    def vendors(self) -> list[str]:
        return list(dict.fromkeys(self.steps)) if self.steps else [self.vendor]

    @property
    def label(self) -> str:
        return ">".join(self.steps) if self.steps else self.vendor


def run_jobs(
    runtime: LocalRuntime,
    jobs: list[LocalJob] | list[tuple[str, Path, dict[str, Any]]],
    out: Path,
    faults: list[named_faults.Fault] | None = None,
) -> list[dict[str, Any]]:
    """Drop each job's file and wait for each; `faults` are injected for every job's vendors first.

    Each job's output folder gets simulator.json: its vendor simulator's ledger for that job only (the requests
    the job's own invocations sent: localrt/simulators/base.py), the job, the vendor and the fault words; for a
    job of steps, its steps and each step vendor's ledger under `vendors`."""
    faults = faults or []
    local_jobs = [LocalJob(*job) for job in jobs]
    for vendor in dict.fromkeys(vendor for job in local_jobs for vendor in job.vendors):
        for note in named_faults.inject(runtime, vendor, faults):
            print(note, file=sys.stderr)
    started = time.monotonic()
    ids = {}
    for job in local_jobs:
        steps = {"steps": list(job.steps)} if job.steps else {}
        ids[runtime.drop(job.path, job.vendor, job.options, **steps)] = job
    progress = Progress({job_id: job.label for job_id, job in ids.items()})
    summary = []
    for job_id, job in ids.items():
        view = runtime.wait(job_id, timeout=900, on_progress=progress)
        folder = runtime.download(job_id, out / job_id)
        words = [fault.word for fault in faults]
        if job.steps:
            ledgers = {vendor: runtime.simulators[vendor].ledger(job_id) for vendor in job.vendors}
            record = {"job_id": job_id, "steps": list(job.steps), "faults": words, "vendors": ledgers}
            (folder / "simulator.json").write_text(json.dumps(record, indent=2) + "\n")
        elif job.vendor in runtime.simulators:
            ledger = runtime.simulators[job.vendor].ledger(job_id)
            record = {"job_id": job_id, "vendor": job.vendor, "faults": words, **ledger}
            (folder / "simulator.json").write_text(json.dumps(record, indent=2) + "\n")
        else:
            endpoint = {"vendor": job.vendor, "live": True, "api_url": runtime.live[job.vendor].api_url}
            (folder / "vendor.json").write_text(json.dumps(endpoint, indent=2) + "\n")
        counts = view.item.get("counts") or {}
        summary.append(
            {
                "vendor": job.label,
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


def _say_restored(runtime: LocalRuntime, state_dir: Path | None) -> None:
    if state_dir is not None:
        jobs = runtime.restored.get(runtime.outputs["JobsTableName"])
        what = (
            f"{jobs} items of the jobs table, {runtime.restored['objects']} objects"
            if runtime.restored
            else "nothing yet"
        )
        print(f"local state: {state_dir} ({what}; `make clean-local` forgets it)", file=sys.stderr, flush=True)


def check_vendor(vendor: str, live: live_config.LiveVendor | None, out: Path, state_dir: Path | None = None) -> int:
    """The vendor function's access check, as `enrich check-vendor` runs it in AWS: one line, exit 1 if not ok."""
    out.mkdir(parents=True, exist_ok=True)
    with (
        open(out / "local-run.log", "w") as log,
        contextlib.redirect_stdout(log),
        LocalRuntime(log_level="INFO", live={vendor: live} if live else None, state_dir=state_dir) as runtime,
    ):
        answer, failed = runtime.invoke(f"{TEMPLATE_NAMES[vendor]}Function", {"action": "check_access"})
    if failed:
        print(f"not ok: {vendor}: the check itself failed: {answer.get('errorMessage') if answer else answer}")
        return 1
    print(("ok: " if answer["ok"] else "not ok: ") + answer["message"])
    return 0 if answer["ok"] else 1


@contextlib.contextmanager
def _local_stack(out: Path, state_dir: Path | None) -> Iterator[Any]:
    """The local stack's settings while it runs (its functions' logs in out/local-run.log), for a preview."""
    out.mkdir(parents=True, exist_ok=True)
    with (
        open(out / "local-run.log", "w") as log,
        contextlib.redirect_stdout(log),
        LocalRuntime(log_level="INFO", state_dir=state_dir) as runtime,
    ):
        _say_restored(runtime, state_dir)
        yield runtime.settings()


def preview_file(path: Path, vendor: str, options: dict[str, Any], out: Path, state_dir: Path | None = None) -> int:
    """The layer's preview of a local file in the local stack (its cache, its past jobs' match rates, the chunk
    sizes `run` uses): one report, exit 1 if the job would fail."""
    from enrichment.files.reader import LocalFile  # the layer: on sys.path through localrt.live
    from enrichment.models import Vendor
    from enrichment.pipeline.preview import preview_input

    with _local_stack(out, state_dir) as settings:
        # Read as the job reads its object from S3: the same reader, the same limits, the deployed settings.
        preview = preview_input(
            LocalFile(path),
            Vendor(vendor),
            options,
            settings.vendor(Vendor(vendor)),
            settings.input_limits,
            settings=settings,
        )
    print(render(preview.model_dump(mode="json")))
    return 1 if preview.error else 0


def preview_steps_file(
    path: Path, vendors: list[str], options: dict[str, Any], out: Path, state_dir: Path | None = None
) -> int:
    """The layer's preview of a job of steps on a local file, in the local stack (as preview_file): each step's
    rows and credits, at worst and expected. Exit 1 if the job would fail; 2 if the steps do not hold."""
    from enrichment.errors import BadInput
    from enrichment.files.reader import LocalFile  # the layer: on sys.path through localrt.live
    from enrichment.options import parse_steps
    from enrichment.pipeline.steps_preview import preview_steps

    try:
        body = steps_body(vendors, options)
        steps = parse_steps(body["steps"], body["options"])
    except (BadInput, ValueError) as error:
        print(f"preview: {error}", file=sys.stderr)
        return 2
    with _local_stack(out, state_dir) as settings:
        preview = preview_steps(LocalFile(path), steps, body["options"], settings.input_limits, settings=settings)
    print(render(preview.model_dump(mode="json")))
    return 1 if preview.error else 0


def serve_api(port: int, out: Path, webhook_allow: str = "", state_dir: Path | None = None) -> int:
    from localrt.api_server import LocalApi

    out.mkdir(parents=True, exist_ok=True)
    log_path = out / "local-api.log"
    print("starting emulated AWS, vendor simulators, and deploying template.yaml ...", file=sys.stderr)
    with (
        open(log_path, "w") as log,
        contextlib.redirect_stdout(log),
        LocalRuntime(log_level="INFO", webhook_allow=webhook_allow, state_dir=state_dir) as runtime,
    ):
        _say_restored(runtime, state_dir)
        api = LocalApi(runtime, port).start()
        print(
            f"jobs API:    {api.url}  (SigV4-signed requests, as in AWS: `enrich` or curl --aws-sigv4)", file=sys.stderr
        )
        print(f"data bucket: {runtime.bucket}; function logs: {log_path}", file=sys.stderr)
        allowed = f"; also {webhook_allow} (WEBHOOK_ALLOW, http or https)" if webhook_allow else ""
        print(f"webhooks:    https URLs on the public internet{allowed}", file=sys.stderr)
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


def _resolved(folder: Path | None) -> Path | None:
    return folder.resolve() if folder is not None else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localrt", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="one job on any CSV, through the S3 drop and the state machine")
    preview = commands.add_parser(
        "preview", help="what a job would do with a CSV (columns, rows to send, invalid, chunks): nothing is sent"
    )
    for command in (run, preview):
        what = command.add_mutually_exclusive_group(required=True)
        what.add_argument("--vendor", choices=sorted(SAMPLES))
        what.add_argument(
            "--step",
            action="append",
            choices=sorted(SAMPLES),
            metavar="VENDOR",
            help="a step of a job of several (repeatable, in order; instead of --vendor), e.g. --step pubrio "
            "--step prospeo --step check365",
        )
        command.add_argument("--input", required=True, type=Path)
        command.add_argument(
            "--option",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="a job option, e.g. enrich_mobile=true or contact_types=email-work,phone; with --step, "
            "VENDOR.KEY=VALUE is that step's (prospeo.enrich_mobile=true)",
        )
        command.add_argument(
            "--columns",
            default="",
            metavar="FIELD=COLUMN,...",
            help="the column each field is read from, e.g. 'email=Work Email 2,company_name=Account'",
        )
    run.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="NAME[*N]",
        help="inject a named fault for the vendor before the job starts, N times (default 1), or "
        "out_of_credits@k (after k submissions); names: "
        + ", ".join(named_faults.KNOWN)
        + " (check_5xx applies to nothing for prospeo, which has no check; see localrt/faults.py)",
    )
    access = commands.add_parser(
        "check-vendor", help="prove the vendor takes the credentials: its cheapest call, no credits where it allows"
    )
    access.add_argument("--vendor", required=True, choices=sorted(SAMPLES))
    for command in (run, access):
        command.add_argument(
            "--live",
            type=Path,
            metavar="VENDOR.JSON",
            help="the vendor's endpoint and credentials instead of its simulator: "
            '{"api_url", "login_url" (insideview), "credentials": {...}, "settings": {...}}',
        )
    demo = commands.add_parser("demo", help="a sample job per vendor, and a waterfall of three")
    api = commands.add_parser("api", help="serve the jobs API on 127.0.0.1 until interrupted")
    api.add_argument("--port", type=int, default=3000)
    api.add_argument(
        "--webhook-allow",
        default="",
        metavar="HOST:PORT,...",
        help="receivers a webhook may reach off the public internet, over http or https (e.g. 127.0.0.1:8123)",
    )
    sample = commands.add_parser("sample", help="write a test file with invalid rows, blanks and duplicates")
    kind = sample.add_mutually_exclusive_group(required=True)
    kind.add_argument("--vendor", choices=sorted(GENERATORS))
    kind.add_argument(
        "--waterfall",
        action="store_true",
        help="rows carrying different identifiers, for a job of several steps (samples/waterfall.csv)",
    )
    sample.add_argument("--rows", type=int, default=1000)
    sample.add_argument("--output", required=True, type=Path)
    for command in (run, preview, demo, api, access):
        command.add_argument("--out", type=Path, default=ROOT / "out")
        command.add_argument(
            "--state-dir",
            type=Path,
            metavar="FOLDER",
            help="keep the stack's data (jobs, the cache, outputs) in FOLDER between commands (make: .local); "
            "without it, nothing outlives the command",
        )
    args = parser.parse_args(argv)

    if args.command == "sample":
        args.output.parent.mkdir(parents=True, exist_ok=True)
        generate = waterfall_csv if args.waterfall else GENERATORS[args.vendor]
        args.output.write_text(generate(args.rows), newline="")
        print(args.output)
        return 0

    if args.command == "api":
        return serve_api(args.port, args.out.resolve(), args.webhook_allow, _resolved(args.state_dir))
    if args.command in ("run", "preview"):
        if not args.input.is_file():
            parser.error(f"--input {args.input} is not a file")
        try:
            options = job_options(args.option, [c for c in args.columns.split(",") if c.strip()])
        except ValueError as error:
            parser.error(str(error))
    if args.command == "preview":
        if args.step and len(args.step) > 1:  # a job of one step is a single-vendor job
            return preview_steps_file(args.input, args.step, options, args.out.resolve(), _resolved(args.state_dir))
        vendor = args.vendor
        if args.step:  # one step: its options (VENDOR.KEY) and the job's, as one vendor's
            try:
                body = steps_body(args.step, options)
            except ValueError as error:
                parser.error(str(error))
            vendor, options = args.step[0], {**body["options"], **body["steps"][0].get("options", {})}
        return preview_file(args.input, vendor, options, args.out.resolve(), _resolved(args.state_dir))
    live = None
    if getattr(args, "live", None):
        if getattr(args, "step", None):
            parser.error("--live replaces one vendor's simulator: run a job of steps against the simulators")
        try:
            live = live_config.load(args.live, args.vendor)
        except live_config.LiveConfigError as error:
            parser.error(str(error))
    if args.command == "check-vendor":
        return check_vendor(args.vendor, live, args.out.resolve(), _resolved(args.state_dir))
    faults: list[named_faults.Fault] = []
    if args.command == "run":
        try:
            faults = named_faults.parse_all(args.fault)
        except named_faults.FaultError as error:
            parser.error(str(error))
        if faults and live:
            parser.error("faults are injected into the simulators: they do not apply to a --live vendor")
        from enrichment.errors import BadInput
        from enrichment.jobs.steps import job_steps
        from enrichment.models import Vendor
        from enrichment.options import parse_options

        # A drop whose options (or steps) do not hold makes no job: it is moved to rejected/, saying why. So say it
        # here, with the layer's own checks of what the drop carries.
        try:
            if args.step:
                job_steps([{"vendor": vendor} for vendor in args.step], None, options, bucket="")
            else:
                parse_options(Vendor(args.vendor), options)
        except BadInput as error:
            parser.error(str(error))
        jobs = [
            LocalJob(args.step[0] if args.step else args.vendor, args.input.resolve(), options, tuple(args.step or ()))
        ]
    else:
        jobs = [LocalJob(vendor, path, SAMPLE_OPTIONS[vendor]) for vendor, path in SAMPLES.items()]
        jobs.append(LocalJob(WATERFALL_STEPS[0], WATERFALL_SAMPLE, {}, WATERFALL_STEPS))

    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    log_path = out / "local-run.log"
    print("starting emulated AWS, vendor simulators, and deploying template.yaml ...", file=sys.stderr)
    print(f"function logs: {log_path}", file=sys.stderr)
    # The handlers log (Powertools JSON) on stdout, as in Lambda: keep them in a file. Their metrics (EMF) go to the
    # emulated CloudWatch (localrt/emf.py).
    with (
        open(log_path, "w") as log,
        contextlib.redirect_stdout(log),
        LocalRuntime(
            log_level="INFO", live={args.vendor: live} if live else None, state_dir=_resolved(args.state_dir)
        ) as runtime,
    ):
        _say_restored(runtime, _resolved(args.state_dir))
        summary = run_jobs(runtime, jobs, out, faults)
    print(_table(summary), file=sys.stderr)
    for row in summary:
        reason = " ".join(str(row["reason"] or "").split())  # one line: for `run`, the one before the folder's
        if row["status"] == "FAILED":
            print(f"{row['vendor']}: job {row['job_id']} FAILED: {reason or 'no reason recorded'}", file=sys.stderr)
        elif reason:
            print(f"{row['vendor']}: {reason}", file=sys.stderr)
    sys.stderr.flush()
    if args.command == "run":
        print(summary[0]["output"], flush=True)  # the last line: the job's output folder
    failed = [row for row in summary if row["status"] == "FAILED"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
