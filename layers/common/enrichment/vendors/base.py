"""The one interface every vendor adapter implements, and the HTTP plumbing they share."""

from __future__ import annotations

import abc
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Literal

import httpx
from pydantic import BaseModel, ValidationError

from enrichment.errors import BadChunk, BadCredentials, EnrichmentError, OutOfCredits, Throttled, Transient
from enrichment.models import Chunk, RecordResult, Vendor
from enrichment.settings import VendorSettings

# httpx logs each request's full URL at INFO, and Check365 takes its key in the query string.
for _name in ("httpx", "httpcore"):
    logging.getLogger(_name).setLevel(logging.WARNING)


class ChunkOutcome(BaseModel):
    """What a submit or a check learned: still running (with a vendor reference), done, or failed."""

    status: Literal["running", "done", "failed"]
    vendor_ref: str | None = None
    wait_hint_seconds: float | None = None
    progress: float | None = None
    results: dict[str, RecordResult] = {}
    credits: float = 0
    reason: str | None = None


class VendorAdapter(abc.ABC):
    """Submit a chunk, check a vendor job, normalize answers, map failures to error kinds."""

    vendor: ClassVar[Vendor]
    options_model: ClassVar[type[BaseModel]]
    input_fields: ClassVar[tuple[str, ...]]  # the canonical fields this vendor can match on

    def __init__(
        self,
        *,
        api_url: str,
        credentials: Mapping[str, str],
        settings: VendorSettings,
        extra_urls: Mapping[str, str] | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.credentials = credentials
        self.settings = settings
        self.extra_urls = dict(extra_urls or {})

    # ---- input side: used by prepare, no network ----

    @classmethod
    def parse_options(cls, raw: Mapping[str, Any]) -> BaseModel:
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

    # ---- shared HTTP plumbing ----

    def request(
        self,
        method: str,
        url: str,
        classify: Callable[[httpx.Response, Any], None],
        *,
        text: bool = False,
        **kwargs: Any,
    ) -> Any:
        """One call (`url` is a path on the API, or absolute). Transport faults become Transient; the
        vendor's own errors go through `classify`. Returns the JSON body, or the text when `text`.

        Messages never carry the URL: some vendors take their key in the query string."""
        try:
            with httpx.Client(base_url=self.api_url, timeout=self.settings.http_timeout_seconds) as http:
                response = http.request(method, url, **kwargs)
        except httpx.TimeoutException:
            raise Transient(f"{self.vendor.value}: no answer within {self.settings.http_timeout_seconds:g}s") from None
        except httpx.TransportError as exc:
            raise Transient(f"{self.vendor.value}: connection failed ({type(exc).__name__})") from None
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        classify(response, body)
        if text:
            return response.text
        if body is None:
            raise Transient(f"{self.vendor.value}: HTTP {response.status_code} with a body that is not JSON")
        return body

    def parse(self, model: type[BaseModel], body: Any) -> Any:
        """Validate a vendor answer; an answer of the wrong shape is treated as a passing fault."""
        try:
            return model.model_validate(body)
        except ValidationError as exc:
            fields = ", ".join(".".join(str(p) for p in e["loc"]) or "body" for e in exc.errors()[:3])
            raise Transient(f"{self.vendor.value}: malformed answer ({fields})") from None


def retry_after_seconds(response: httpx.Response, *header_names: str) -> float | None:
    for name in ("retry-after", *header_names):
        value = response.headers.get(name)
        if value:
            try:
                return max(0.0, float(value))
            except ValueError:
                continue
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
    else:
        error = BadChunk(f"{where}, request rejected: {message}")
    raise error
