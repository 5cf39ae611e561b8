"""The one interface every vendor adapter implements, and the HTTP plumbing they share."""

from __future__ import annotations

import abc
import json
import logging
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, Field, ValidationError

from enrichment.errors import (
    AccountBlocked,
    BadCredentials,
    EnrichmentError,
    NotSent,
    OutcomeUnknown,
    OutOfCredits,
    Refused,
    Throttled,
    Transient,
)
from enrichment.metrics import Metric, count
from enrichment.models import Chunk, Model, RecordResult, Vendor
from enrichment.option_types import Flag
from enrichment.settings import VendorSettings

if TYPE_CHECKING:
    import httpx

# httpx logs each request's full URL at INFO, and Check365 takes its key in the query string.
for _name in ("httpx", "httpcore"):
    logging.getLogger(_name).setLevel(logging.WARNING)


class ChunkOutcome(Model):
    """What a submit or a check learned: still running (with a vendor reference), done, or failed."""

    status: Literal["running", "done", "failed"]
    vendor_ref: str | None = None
    wait_hint_seconds: float | None = None
    progress: float | None = None
    results: dict[str, RecordResult] = {}
    credits: float = 0
    reason: str | None = None


class VendorOptions(Model, extra="forbid"):
    """Options every vendor's job takes; each vendor's options model adds its own."""

    allow_resend: Flag = Field(
        default=False,
        description="when a submission's answer was lost after the vendor may have accepted it, send it again "
        "(and risk paying twice) instead of reporting its rows as errors; vendors whose repeats are free resend anyway",
    )


class VendorAdapter(abc.ABC):
    """Submit a chunk, check a vendor job, normalize answers, map failures to error kinds."""

    vendor: ClassVar[Vendor]
    options_model: ClassVar[type[VendorOptions]]
    input_fields: ClassVar[tuple[str, ...]]  # the canonical fields this vendor can match on
    # The result columns (files/output.py) this vendor's answers can fill: results.csv carries only these.
    result_columns: ClassVar[tuple[str, ...]]
    credits_unit: ClassVar[str]  # what the job's credits count, for summary.json and the report
    # Whether sending the same records again costs nothing (a documented fact of the vendor's pricing).
    repeat_is_free: ClassVar[bool] = False
    # The options that change the vendor's answer to one record (its result cache scope: pipeline/result_cache.py);
    # options about how we send (allow_resend) or who pays are not among them.
    answer_options: ClassVar[tuple[str, ...]] = ()
    # Whether `find_submission` can tell if the vendor holds a submission whose answer was lost.
    can_find_submission: ClassVar[bool] = False

    def __init__(
        self,
        *,
        api_url: str,
        credentials: Mapping[str, str],
        settings: VendorSettings,
        extra_urls: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.credentials = credentials
        self.settings = settings
        self.extra_urls = dict(extra_urls or {})
        self.transport = transport  # None: the network; contract tests pass the documents' answers
        # Called right before a paid request leaves: the send ledger records it first.
        self.before_paid_request: Callable[[], None] = lambda: None

    # ---- input side: used by prepare, no network ----

    @classmethod
    def parse_options(cls, raw: Mapping[str, Any]) -> VendorOptions:
        return cls.options_model.model_validate(dict(raw))

    @classmethod
    @abc.abstractmethod
    def validate(cls, fields: Mapping[str, str]) -> str | None:
        """Why the record cannot be sent to this vendor, or None when it can."""

    @classmethod
    @abc.abstractmethod
    def dedupe_key(cls, fields: Mapping[str, str]) -> str:
        """Records with the same key are the same request to this vendor."""

    # ---- vendor side ----

    def request_cost(self, chunk: Chunk, action: str) -> int:
        """How much of the vendor's request budget one call takes (most count calls)."""
        return 1

    @abc.abstractmethod
    def submit(self, chunk: Chunk, options: BaseModel) -> ChunkOutcome: ...

    @abc.abstractmethod
    def check(self, vendor_ref: str, chunk: Chunk, options: BaseModel) -> ChunkOutcome: ...

    @abc.abstractmethod
    def check_access(self) -> str:
        """The cheapest documented call that proves the credentials work, spending no credits where the vendor
        allows it: one line saying what was confirmed. The vendor's errors raise as in submit and check."""

    def find_submission(self, chunk: Chunk, options: BaseModel) -> ChunkOutcome | None:
        """Look up a submission whose answer was lost: its outcome if the vendor holds it, None if it does not.
        Only for vendors with `can_find_submission`."""
        raise NotImplementedError(f"{self.vendor.value} offers no way to look a submission up")

    # ---- shared HTTP plumbing ----

    def request(
        self,
        method: str,
        url: str,
        classify: Callable[[httpx.Response, Any], None],
        *,
        text: bool = False,
        paid: bool = False,
        **kwargs: Any,
    ) -> Any:
        """One call (`url` is a path on the API, or absolute). Transport faults become Transient; the
        vendor's own errors go through `classify`. Returns the JSON body, or the text when `text`.

        A `paid` call (one that may cost credits) is announced to `before_paid_request` first, and a fault
        after it left (no answer, 5xx, a body that is not JSON) raises OutcomeUnknown; a fault before it
        left raises NotSent. Messages never carry the URL: some vendors take their key in the query string."""
        import httpx  # here, not at the top: Prepare and Finalize use the adapters' rules, never their calls

        if paid:
            self.before_paid_request()
        count(Metric.VENDOR_REQUESTS)
        try:
            try:
                with httpx.Client(
                    base_url=self.api_url, timeout=self.settings.http_timeout_seconds, transport=self.transport
                ) as http:
                    response = http.request(method, url, **kwargs)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol) as exc:
                raise NotSent(f"{self.vendor.value}: could not connect ({type(exc).__name__})") from None
            except httpx.TimeoutException:
                raise Transient(
                    f"{self.vendor.value}: no answer within {self.settings.http_timeout_seconds:g}s"
                ) from None
            except httpx.TransportError as exc:
                raise Transient(f"{self.vendor.value}: the connection failed ({type(exc).__name__})") from None
            try:
                body = response.json()
            except (json.JSONDecodeError, UnicodeDecodeError):
                body = None
            try:
                classify(response, body)
            except Throttled:
                count(Metric.VENDOR_THROTTLES)
                raise
            if text:
                return response.text
            if body is None:
                raise Transient(f"{self.vendor.value}: HTTP {response.status_code} with a body that is not JSON")
            return body
        except NotSent:
            raise
        except Transient as lost:
            if paid:
                raise OutcomeUnknown(str(lost)) from None
            raise

    def parse(self, model: type[BaseModel], body: Any, *, paid: bool = False) -> Any:
        """Validate a vendor answer; an answer of the wrong shape is treated as a passing fault (and, for a
        paid call, as an answer lost after the vendor may have accepted it)."""
        try:
            return model.model_validate(body)
        except ValidationError as exc:
            fields = ", ".join(".".join(str(p) for p in e["loc"]) or "body" for e in exc.errors()[:3])
            error = OutcomeUnknown if paid else Transient
            raise error(f"{self.vendor.value}: malformed answer ({fields})") from None


def retry_after_seconds(response: httpx.Response, *header_names: str) -> float | None:
    for name in ("retry-after", *header_names):
        value = response.headers.get(name)
        if value:
            try:
                return max(0.0, float(value))
            except ValueError:
                continue
    return None


# What a refusal means, read from its words, for vendors that document no error codes (Pubrio, Check365).
# Inferred, so a key needs both parts: "API key" alone is not a rejection.
_KEY = re.compile(r"\b(api[ _-]?key|token|credential)", re.I)
_REJECTED = re.compile(
    r"\b(invalid|missing|expired|revoked|incorrect|wrong|not valid|not found|not provided|required|unauthori[sz]ed)\b",
    re.I,
)
_UNAUTHORIZED = re.compile(r"\bunauthori[sz]ed\b|\bunauthenticated\b|\bauthentication failed\b", re.I)
_BLOCKED = re.compile(
    r"\b(account|workspace|subscription)\b.*\b(suspended|restricted|disabled|blocked|banned|deactivated)\b", re.I
)
_NO_CREDITS = re.compile(
    r"\b(insufficient|enough|no|out of|lack of)\b[\w ]{0,20}\bcredits?\b|\bcredits?\b[\w ]{0,20}"
    r"\b(exhausted|insufficient|run out|ran out|exceeded|used up)\b",
    re.I,
)


def refusal_in_words(where: str, words: str, shown: str | None = None) -> EnrichmentError | None:
    """The final refusal a vendor's words say (a rejected key, a blocked account, no credits left), whatever the
    status code; None when they say none of these. `shown` is the message as reported (default: the words)."""
    shown = shown or words
    if (_KEY.search(words) and _REJECTED.search(words)) or _UNAUTHORIZED.search(words):
        return BadCredentials(f"{where}, credentials rejected: {shown}")
    if _BLOCKED.search(words):
        return AccountBlocked(f"{where}, account blocked: {shown}")
    if _NO_CREDITS.search(words):
        return OutOfCredits(f"{where}, out of credits: {shown}")
    return None


def raise_for_status(vendor: Vendor, code: int, message: str, retry_after: float | None = None) -> None:
    """Status-code rules the vendors share; an adapter maps its own error codes to a status first."""
    if code < 400:
        return
    where = f"{vendor.value}: HTTP {code}"
    error: EnrichmentError
    if code == 429:
        error = Throttled(f"{where}, rate limited: {message}", retry_after)
    elif code == 402:
        error = OutOfCredits(f"{where}, out of credits: {message}")
    elif code in (401, 403):
        error = BadCredentials(f"{where}, credentials rejected: {message}")
    elif code >= 500 or code == 408:
        error = Transient(f"{where}: {message}")
    else:  # not documented as final: tried again later, and the chunk fails if it persists
        error = Refused(f"{where}, request refused: {message}")
    raise error
