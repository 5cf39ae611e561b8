"""The few error kinds the state machine acts on. The class name is the Step Functions error name."""

from __future__ import annotations

import json


class EnrichmentError(Exception):
    """Base class; `str(error)` must be safe to show to a user (no secrets, no row data)."""


class Throttled(EnrichmentError):
    """The vendor asked us to slow down (429, rate-limit codes). Retried with backoff and jitter."""

    def __init__(self, message: str, retry_after: float | None = None, *, quota: str | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        # The quota reached ("daily", "hourly") when it is not a short window: its reset may outlast the job.
        self.quota = quota


class Transient(EnrichmentError):
    """A fault that may pass (5xx, timeouts, a vendor's retryable 400). Retried a bounded number of times."""


class NotSent(Transient):
    """The request never reached the vendor (connection refused, DNS, a pool or connect timeout): safe to send again."""


class OutcomeUnknown(Transient):
    """A paid request left, and its answer was lost (read timeout, 5xx, malformed body, dropped connection):
    the vendor may have accepted and charged it. Reconciled with the vendor, never blindly sent again."""


class Refused(EnrichmentError):
    """The vendor refused the request for a reason not documented as final (an unrecognised 400): tried
    again later, and the chunk fails with the vendor's message if the refusal persists."""


class OutOfCredits(EnrichmentError):
    """The vendor account has no credits left. The job stops submitting and ends FAILED."""


class BadCredentials(EnrichmentError):
    """The vendor rejected our credentials. The job stops and ends FAILED."""


class AccountBlocked(EnrichmentError):
    """The vendor account cannot go on (restricted, suspended, disabled). The job stops and ends FAILED."""


class QuotaExhausted(EnrichmentError):
    """A daily or hourly quota was reached and resets only after the job's deadline. The job stops."""


class BadChunk(EnrichmentError):
    """The vendor rejected this chunk's input. The chunk's rows are marked as errors; the job goes on."""


class BadInput(EnrichmentError):
    """The input file cannot be read as a table of contacts. The job ends FAILED with this reason."""


class JobStopped(EnrichmentError):
    """The job was stopped (by a fatal vendor error on another chunk): submit nothing more."""


FATAL_ERRORS = (OutOfCredits, BadCredentials, AccountBlocked, QuotaExhausted, JobStopped)


def caught_message(failure: dict) -> str:
    """The message a person should read from a state machine Catch's {"Error", "Cause"}: a Lambda's
    `errorMessage` when the Cause is its error payload, else the error name and the Cause."""
    cause = str(failure.get("Cause") or "")
    try:
        message = json.loads(cause).get("errorMessage")
    except (ValueError, AttributeError):
        message = None
    return message or f"{failure.get('Error', 'error')}: {cause[:500]}".rstrip(": ")
