"""Faults by name, for `python -m localrt run --fault NAME` (`make run ... FAULTS='NAME NAME*N'`).

Each name applies to the vendor of the job, `times` times (`NAME*N`, default 1); it is injected after the
local runtime started and before the job's file is dropped, so the job meets it from its first request.

name                where it is injected              what it simulates
------------------  --------------------------------  ---------------------------------------------------------------
accept_then_drop    simulator: the submit path        the vendor accepts and processes the submission (it is paid
                                                      for), then the connection closes before any answer: the client
                                                      cannot know the submission was taken
crash_after_accept  simulator: the submit path, and   the vendor accepts the submission (paid for) and answers, but
                    the local Lambda runner           the calling Lambda dies then (Runtime.ExitError): nothing after
                                                      the call ran, the environment starts cold next time
check_5xx           simulator: the vendor's check     a server error while checking a job (the vendor's "500" fault:
                    path; Prospeo has no check (it    Pubrio 500, Check365 502, InsideView 503). Check paths: Pubrio
                    answers at submit): applies to    /redeem/people/batch/query; Check365 /api/validation/bulk-status;
                    nothing                           InsideView /api/v1/contact/job/** (job status and results)
check_timeout       the local Lambda runner: the      the round ran in full (its vendor calls and writes happened), but
                    vendor function's rounds that     the invocation reports Sandbox.Timedout instead of its answer
                    check a vendor job
out_of_credits      simulator: the account            the account is empty at once: the next submission gets the
                                                      vendor's out-of-credits answer (Pubrio 402, Prospeo 400
                                                      INSUFFICIENT_CREDITS, Check365 402, InsideView 400 4003);
                                                      *N does not apply
out_of_credits@k    simulator: the account            the first k submissions are served, the next ones find the
                                                      account empty
429                 simulator: any path               the vendor's rate-limit answer
500                 simulator: any path               the vendor's server-error answer (Prospeo: 400 INTERNAL_ERROR)
timeout             simulator: any path               the answer comes 10 s late, after the client gave up (the
                                                      request is still processed)
malformed           simulator: any path               a 200 whose JSON body is cut short
fail_job            simulator: the submit path        the vendor job is accepted, then ends failed (Prospeo, which
                                                      has no jobs: the call is rejected, 400 INVALID_REQUEST)
never_complete      simulator: the submit path        the vendor job is accepted and never finishes (Prospeo: none)
hourly_quota        simulator: any path               a 429 saying the plan's hourly quota is reached, resetting in 5 s
                                                      (Pubrio: its message names the quota, Retry-After; inferred)
daily_quota         simulator: any path               a 429 saying the plan's daily quota is reached, resetting in 5 s
                                                      (Prospeo: RATE_LIMITED with only x-daily-request-left: 0 and
                                                      x-daily-reset-seconds; Pubrio: as hourly_quota)
account_blocked     simulator: any path               the account cannot go on (Prospeo: ACCOUNT_RESTRICTED; Pubrio: a
                                                      400 saying the workspace is suspended; InsideView: the
                                                      documented 405 "Your are not allowed to access this API.";
                                                      Check365: a 403 saying the account is suspended): the job
                                                      stops, FAILED
unknown_status      simulator (InsideView only): a    the job's status says "queued", a word InsideView does not
                    job's status                      document: read as still running
expired_link        simulator (InsideView only): the  the signed results link is refused (403 "Request has expired");
                    results file                      asking for the results again gives a fresh link
missing_column      simulator (InsideView only): the  the results file has no contactId column (it is named id): the
                    results file                      chunk fails saying so, its rows never read as not_matched
success_false       simulator (Check365 only): the    the upload is answered HTTP 200 with success "false" (a string):
                    upload                            a refusal, tried again
no_results          simulator (Check365 only): a      a completed job's status comes without results: checked again,
                    completed job's status            never read as not_matched
drop_result         simulator (Check365 only): the    the completed job lacks the verdict for one address: that row is
                    upload                            an error saying so
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol

from localrt.simulators.insideview import CHECK_PATHS as INSIDEVIEW_CHECK_PATHS


class FaultError(ValueError):
    """A fault word that names no known fault or is badly formed."""


@dataclass(frozen=True)
class FaultSpec:
    """Where a named fault is injected: `target` "simulator" (a simulator kind, on `paths[vendor]` or on
    the simulator's own default path when the vendor is absent from `paths`) or "runtime" (a runtime kind)."""

    name: str
    target: str
    kind: str
    paths: dict[str, str | None] | None = None  # vendor -> path; a vendor mapped to None gets nothing
    counted: bool = True  # whether `*N` applies
    vendors: tuple[str, ...] | None = None  # a fault of these vendors' answers only (None: every vendor)


# The check path of each vendor (None: the vendor has no check, as Prospeo answers at submit).
CHECK_PATH: dict[str, str | None] = {
    "pubrio": "/redeem/people/batch/query",
    "check365": "/api/validation/bulk-status",
    "insideview": INSIDEVIEW_CHECK_PATHS,
    "prospeo": None,
}

FAULTS: dict[str, FaultSpec] = {
    spec.name: spec
    for spec in (
        FaultSpec("accept_then_drop", "simulator", "accept_then_drop"),
        FaultSpec("crash_after_accept", "simulator", "crash_after_accept"),
        FaultSpec("check_5xx", "simulator", "500", paths=CHECK_PATH),
        FaultSpec("check_timeout", "runtime", "check_timeout"),
        FaultSpec("out_of_credits", "simulator", "out_of_credits", counted=False),
        FaultSpec("429", "simulator", "429"),
        FaultSpec("500", "simulator", "500"),
        FaultSpec("timeout", "simulator", "timeout"),
        FaultSpec("malformed", "simulator", "malformed"),
        FaultSpec("fail_job", "simulator", "fail_job"),
        FaultSpec("never_complete", "simulator", "never_complete"),
        FaultSpec("hourly_quota", "simulator", "hourly_quota"),
        FaultSpec("daily_quota", "simulator", "daily_quota"),
        FaultSpec("account_blocked", "simulator", "account_blocked"),
        FaultSpec("unknown_status", "simulator", "unknown_status", vendors=("insideview",)),
        FaultSpec("expired_link", "simulator", "expired_link", vendors=("insideview",)),
        FaultSpec("missing_column", "simulator", "missing_column", vendors=("insideview",)),
        FaultSpec("success_false", "simulator", "success_false", vendors=("check365",)),
        FaultSpec("no_results", "simulator", "no_results", vendors=("check365",)),
        FaultSpec("drop_result", "simulator", "drop_result", vendors=("check365",)),
    )
}
KNOWN = (*FAULTS, "out_of_credits@k")
USAGE = "NAME or NAME*N (N times, default 1) or out_of_credits@k (after k submissions); names: " + ", ".join(KNOWN)

_WORD = re.compile(r"(?P<name>[A-Za-z0-9_]+)(?:@(?P<after>\d+))?(?:\*(?P<times>\d+))?")


@dataclass(frozen=True)
class Fault:
    """One parsed fault word."""

    word: str
    spec: FaultSpec
    times: int = 1
    after: int | None = None


def parse(word: str) -> Fault:
    """`kind`, `kind*N`, `out_of_credits@k` -> a Fault; FaultError names the known faults otherwise."""
    match = _WORD.fullmatch(word.strip())
    spec = FAULTS.get(match.group("name")) if match else None
    if match is None or spec is None:
        raise FaultError(f"unknown fault {word!r}; known: {', '.join(KNOWN)}")
    after, times = match.group("after"), match.group("times")
    if after is not None and spec.name != "out_of_credits":
        raise FaultError(f"fault {word!r}: @k goes with out_of_credits only")
    if times is not None and not spec.counted:
        raise FaultError(f"fault {word!r}: {spec.name} lasts once met, *N does not apply (out_of_credits@k does)")
    if times is not None and int(times) < 1:
        raise FaultError(f"fault {word!r}: N must be at least 1")
    return Fault(word, spec, int(times or 1), None if after is None else int(after))


def parse_all(words: list[str]) -> list[Fault]:
    return [parse(word) for word in words]


class _Runtime(Protocol):
    simulators: dict[str, Any]

    def inject_fault(self, kind: str, *, vendor: str, times: int = 1) -> None: ...


def inject(runtime: _Runtime, vendor: str, faults: list[Fault]) -> list[str]:
    """Inject each fault for `vendor` into the running local runtime (before the job starts).

    Returns notes for faults that apply to nothing for this vendor (check_5xx on Prospeo, another vendor's own)."""
    notes = []
    for fault in faults:
        spec = fault.spec
        if spec.vendors is not None and vendor not in spec.vendors:
            notes.append(f"fault {fault.word}: only for {', '.join(spec.vendors)}, nothing injected for {vendor}")
            continue
        if spec.target == "runtime":
            runtime.inject_fault(spec.kind, vendor=vendor, times=fault.times)
            continue
        if spec.paths is not None and spec.paths.get(vendor) is None:
            notes.append(f"fault {fault.word}: {vendor} has no check path, nothing injected")
            continue
        path = spec.paths[vendor] if spec.paths is not None else None
        runtime.simulators[vendor].inject(spec.kind, fault.times, path, after=fault.after)
    return notes
