"""enrich: submit a CSV, watch it with a progress bar, and fetch its results; or list, show and cancel jobs.

The jobs API is http://127.0.0.1:3000 (`make api`) unless --url or ENRICH_API_URL names a deployed
stack's ApiUrl, whose requests are then signed (SigV4) with your AWS credentials.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from client.api import DEFAULT_URL, ApiError, JobsApi
from client.preview import render

# Between polls of a watched job (a test interrupts it here, not in every thread's time.sleep).
pause = time.sleep

FINAL = {"SUCCEEDED", "PARTIAL", "FAILED", "CANCELLED"}
VENDORS = ["pubrio", "prospeo", "check365", "insideview"]


def parse_options(pairs: list[str]) -> dict[str, Any]:
    """KEY=VALUE pairs: JSON values (true, 3, ["a"]) or text. A list option takes a comma string as it is
    (contact_types=email-work,phone): the API reads it, as it reads S3 metadata, in the option's one form."""
    options: dict[str, Any] = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        try:
            options[key.strip()] = json.loads(value)
        except ValueError:
            options[key.strip()] = value
    return options


def parse_columns(pairs: list[str]) -> dict[str, str]:
    """FIELD=COLUMN NAME pairs (the `columns` option: the column each field is read from)."""
    columns: dict[str, str] = {}
    for pair in pairs:
        field, _, name = pair.partition("=")
        if not field.strip() or not name.strip():
            raise ValueError(f"a column is given as FIELD=COLUMN NAME, like 'email=Work Email 2'; got {pair!r}")
        columns[field.strip()] = name.strip()
    return columns


def job_options(options: list[str], columns: list[str]) -> dict[str, Any]:
    """The job's options from --option KEY=VALUE and --column FIELD=COLUMN NAME."""
    parsed = parse_options(options)
    if columns:
        given = parsed.get("columns") or {}
        if not isinstance(given, dict):
            raise ValueError("--option columns=... must be a JSON object when --column is given too")
        parsed["columns"] = given | parse_columns(columns)
    return parsed


def steps_body(vendors: list[str], options: dict[str, Any]) -> dict[str, Any]:
    """The request's `steps` and the job's own `options` from --step VENDOR (in order) and the options: one named
    `VENDOR.KEY` goes to every step of that vendor, the others are the job's. The API checks the rest."""
    steps: list[dict[str, Any]] = [{"vendor": vendor} for vendor in vendors]
    job: dict[str, Any] = {}
    for key, value in options.items():
        vendor, dot, name = key.partition(".")
        if not dot:
            job[key] = value
            continue
        if vendor not in vendors:
            raise ValueError(f"--option {key}: {vendor!r} is not a step (the steps: {' '.join(vendors)})")
        for step in steps:
            if step["vendor"] == vendor:
                step.setdefault("options", {})[name] = value
    return {"steps": steps, "options": job}


def job_body(args: argparse.Namespace, options: dict[str, Any]) -> dict[str, Any]:
    """What the job runs: --vendor and its options, or --step ... with theirs and the job's."""
    if args.step:
        return steps_body(args.step, options)
    return {"vendor": args.vendor, "options": options}


def progress_line(job: dict[str, Any], width: int = 30) -> str:
    """The job's progress as a bar of its chunks done: empty until its input is read, whatever its status."""
    progress = job["progress"]
    total, done = progress["chunks_total"], progress["chunks_done"]
    filled = int(width * (progress["percent"] or 0) / 100) if total != 0 else width
    chunks = f"{done}/{total}" if total is not None else "-"
    return (
        f"{job['job_id']} [{'#' * filled}{'.' * (width - filled)}] chunks {chunks:<7} "
        f"{job['status']:<9} credits {job['credits']:g}"
    )


def watch(api: JobsApi, job_id: str, interval: float = 1.0) -> dict[str, Any]:
    tty = sys.stderr.isatty()
    last = ""
    while True:
        job = api.get(job_id)
        line = progress_line(job)
        if line != last:
            print(("\r" + line) if tty else line, end="" if tty else "\n", file=sys.stderr, flush=True)
            last = line
        if job["status"] in FINAL:
            if tty:
                print(file=sys.stderr)
            return job
        pause(interval)


class StoppedWatching(Exception):
    """Ctrl-C while a job was being watched: the job goes on."""

    def __init__(self, job_id: str) -> None:
        super().__init__(job_id)
        self.job_id = job_id


def watch_until_interrupted(api: JobsApi, job_id: str) -> dict[str, Any]:
    try:
        return watch(api, job_id)
    except KeyboardInterrupt:
        raise StoppedWatching(job_id) from None


def download(api: JobsApi, job_id: str, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, url in api.results(job_id).items():
        with httpx.stream("GET", url, timeout=300) as response:
            response.raise_for_status()
            with open(folder / name, "wb") as out:
                for block in response.iter_bytes():
                    out.write(block)
    return folder


def rows_text(job: dict[str, Any]) -> str:
    return f"rows {job['rows']}" if job.get("rows") is not None else "rows not read"


def summary(job: dict[str, Any]) -> str:
    counts = ", ".join(f"{k} {v}" for k, v in job["counts"].items() if v)
    text = f"{job['job_id']}  {job['vendor']}  {job['status']}  {rows_text(job)}"
    text += f"  ({counts})" if counts else ""
    text += f"  credits {job['credits']:g}"
    if job.get("error") or job["status"] == "FAILED":
        # Why, on one line: the last line before a submit's output folder.
        reason = " ".join(str(job.get("error") or "no reason recorded").split())
        text += f"\n{job['status']}: {reason}"
    return text


def ended_well(job: dict[str, Any]) -> bool:
    return job["status"] in ("SUCCEEDED", "PARTIAL")


URL_HELP = (
    f"the jobs API (default: $ENRICH_API_URL, else {DEFAULT_URL}, `make api`); a deployed stack's ApiUrl is "
    "called with SigV4-signed requests. Accepted before or after the command"
)
REGION_HELP = "the AWS region to sign requests for (default: $AWS_REGION, else the region in the URL)"


def build_parser() -> argparse.ArgumentParser:
    # --url and --region are the parser's and every command's: given anywhere, the one given wins.
    connection = argparse.ArgumentParser(add_help=False)
    connection.add_argument("--url", default=argparse.SUPPRESS, help=URL_HELP)
    connection.add_argument("--region", default=argparse.SUPPRESS, help=REGION_HELP)
    parser = argparse.ArgumentParser(
        prog="enrich", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", default=os.environ.get("ENRICH_API_URL", DEFAULT_URL), help=URL_HELP)
    parser.add_argument("--region", default=os.environ.get("AWS_REGION"), help=REGION_HELP)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", help="what to do")

    def command(name: str, text: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=text, description=text, parents=[connection])

    submit = command("submit", "upload a CSV, start a job, watch it, download its results")
    preview = command(
        "preview", "what a job would do with a CSV (columns, rows to send, invalid, chunks): nothing is sent"
    )
    for sub in (submit, preview):
        sub.add_argument("file", type=Path, help="the CSV (or .xlsx, .csv.gz) to enrich")
        what = sub.add_mutually_exclusive_group(required=True)
        what.add_argument("--vendor", choices=VENDORS, help="the vendor to send it to")
        what.add_argument(
            "--step",
            action="append",
            choices=VENDORS,
            metavar="VENDOR",
            help="a step of a job of several (repeatable, in order), e.g. --step pubrio --step prospeo "
            "--step check365: each finding step gets the rows the steps before it did not match, check365 "
            "validates the emails found",
        )
        sub.add_argument(
            "--option",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="a job option (repeatable): JSON values or text, e.g. enrich_mobile=true or "
            "contact_types=email-work,phone (see the README's options table); with --step, VENDOR.KEY=VALUE is "
            "that step's option (prospeo.enrich_mobile=true), KEY=VALUE the job's own (max_credits=500)",
        )
        sub.add_argument(
            "--column",
            action="append",
            default=[],
            metavar="FIELD=COLUMN",
            help="read FIELD from the column so named (repeatable), e.g. 'email=Work Email 2'",
        )
    submit.add_argument("--webhook", metavar="URL", help="URL to POST the signed completion event to")
    submit.add_argument("--out", type=Path, default=Path("results"), help="folder for the results (default ./results)")
    submit.add_argument("--no-wait", action="store_true", help="print the job id and return")
    for name, text in (
        ("status", "a job's status, as JSON"),
        ("watch", "a job's progress until it ends (Ctrl-C stops watching; the job goes on)"),
        ("cancel", "cancel a job: nothing more is sent; chunks the vendor accepted are still collected"),
        ("download", "download a job's results"),
    ):
        sub = command(name, text)
        sub.add_argument("job_id", help="the job's id, as submit or list printed it")
        if name == "download":
            sub.add_argument("--out", type=Path, default=Path("results"), help="folder for the results")
        if name == "cancel":
            sub.add_argument(
                "--hard",
                action="store_true",
                help="stop at once: chunks in flight are abandoned although the vendor may charge for them",
            )
    access = command(
        "check-vendor", "prove a vendor takes the stack's credentials (its cheapest call; no credits where it allows)"
    )
    access.add_argument("vendor", choices=VENDORS, help="the vendor to check")
    credits = command("credits", "the account's credits by vendor and month (every job's)")
    credits.add_argument("--since", help="the first month, YYYY-MM (default: this month)")
    cache = command("cache", "the result cache across jobs (admins only: sign as a session of the admin role)")
    cache_commands = cache.add_subparsers(
        dest="cache_command", required=True, metavar="ACTION", help="what to do with it: purge"
    )
    purging = cache_commands.add_parser(
        "purge",
        help="delete cache entries: by vendor, by age, or one person's (every vendor and option)",
        description="Delete result cache entries matching every filter given; later jobs ask the vendor again. "
        "One person (a data subject request): --email, --linkedin-url, --person-id, --contact-id, "
        "--people-search-id or --name. Nothing given: refused, unless --all.",
        parents=[connection],
    )
    purging.add_argument("--vendor", choices=VENDORS, help="only this vendor's entries")
    purging.add_argument("--older-than", type=int, metavar="DAYS", help="only entries fetched more than DAYS ago")
    person = purging.add_mutually_exclusive_group()
    for flag in ("email", "linkedin-url", "person-id", "contact-id", "people-search-id", "name"):
        person.add_argument(f"--{flag}", metavar="VALUE", help=f"one person's entries, by {flag.replace('-', '_')}")
    purging.add_argument("--all", action="store_true", help="every entry (when no filter is given)")
    listing = command("list", "jobs, newest first")
    listing.add_argument(
        "--status", choices=sorted(FINAL | {"PENDING", "RUNNING", "FINALIZING"}), help="only jobs of this status"
    )
    listing.add_argument("--limit", type=int, default=25, help="how many jobs (default 25, at most 100)")
    return parser


def credits_text(totals: dict) -> str:
    """One line per vendor and month: spent, held (answers lost: the vendor may have charged), in flight, budget."""
    lines = [f"{'month':<8} {'vendor':<11} {'spent':>10} {'held':>8} {'in flight':>10} {'budget':>10}"]
    for m in totals["months"]:
        budget = "-" if m.get("budget") is None else f"{m['budget']:g}"
        lines.append(
            f"{m['month']:<8} {m['vendor']:<11} {m['spent']:>10g} {m['held']:>8g} {m['reserved']:>10g} {budget:>10}"
        )
    if not totals["months"]:
        lines.append(f"(no credits since {totals['since']})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    api = JobsApi(args.url, args.region)

    try:
        return run(parser, args, api)
    except ApiError as error:
        print(f"enrich: {error}", file=sys.stderr)
        return 2
    except StoppedWatching as stopped:
        print(
            f"\nenrich: stopped watching; job {stopped.job_id} goes on (it is not cancelled). Follow it with "
            f"`enrich watch {stopped.job_id}`; cancel it with `enrich cancel {stopped.job_id}`",
            file=sys.stderr,
        )
        return 130
    except KeyboardInterrupt:
        print("\nenrich: interrupted", file=sys.stderr)
        return 130


def run(parser: argparse.ArgumentParser, args: argparse.Namespace, api: JobsApi) -> int:
    if args.command in ("submit", "preview"):
        if not args.file.is_file():
            parser.error(f"{args.file} is not a file")
        try:
            what = job_body(args, job_options(args.option, args.column))
        except ValueError as error:
            parser.error(str(error))
        content = args.file.read_bytes()
    if args.command == "preview":
        answer = api.create({**what, "dry_run": True, "input_key": api.upload(content, args.file.name)})
        print(render(answer))
        return 1 if answer.get("error") else 0
    if args.command == "submit":
        body: dict[str, Any] = dict(what)
        if args.webhook:
            body["webhook_url"] = args.webhook
        # Submitting the same file with the same settings again returns the same job, never a second one.
        key = hashlib.sha256(content + json.dumps(body, sort_keys=True).encode()).hexdigest()
        body["input_key"] = api.upload(content, args.file.name)
        job_id = api.create(body, idempotency_key=key)["job_id"]
        if args.no_wait:
            print(job_id)
            return 0
        job = watch_until_interrupted(api, job_id)
        folder = download(api, job_id, args.out / job_id)
        if (folder / "report.html").is_file():  # the page to open; the job's why stays the last line
            print(f"report: {folder / 'report.html'}", file=sys.stderr)
        print(summary(job), file=sys.stderr)
        print(folder)
        return 0 if ended_well(job) else 1
    if args.command == "status":
        print(json.dumps(api.get(args.job_id), indent=2))
    elif args.command == "watch":
        job = watch_until_interrupted(api, args.job_id)
        print(summary(job))
        return 0 if ended_well(job) else 1
    elif args.command == "cancel":
        print(summary(api.cancel(args.job_id, hard=args.hard)))
    elif args.command == "check-vendor":
        access = api.vendor_access(args.vendor)
        print(("ok: " if access["ok"] else "not ok: ") + access["message"])
        return 0 if access["ok"] else 1
    elif args.command == "credits":
        print(credits_text(api.credits(args.since)))
    elif args.command == "cache":
        body: dict[str, Any] = {"vendor": args.vendor, "older_than_days": args.older_than}
        for field in ("email", "linkedin_url", "person_id", "contact_id", "people_search_id", "name"):
            body[field] = getattr(args, field)
        body = {k: v for k, v in body.items() if v is not None}
        if args.all:
            body["everything"] = True
        if not body:
            parser.error("cache purge: name a vendor, --older-than, a person, or --all")
        purged = api.purge_cache(body)
        print(f"deleted {purged['deleted']} cache entries (of {purged['scanned']} looked at)")
    elif args.command == "download":
        print(download(api, args.job_id, args.out / args.job_id))
    elif args.command == "list":
        page = api.list(args.status, args.limit)
        for job in page["jobs"]:
            print(f"{job['created_at']}  {job['job_id']}  {job['vendor']:<10} {job['status']:<9} {rows_text(job)}")
        if page.get("next_token"):
            print("(more: use --limit)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
