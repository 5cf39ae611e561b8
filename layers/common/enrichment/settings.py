"""Settings read from the function's environment, validated once per invocation.

The environment is read through `environ()` rather than `os.environ` directly: the
local runtime runs many functions in one process and concurrently, so it hands each
invocation its function's own environment through a context variable instead of
swapping the process-wide one (which would serialize every invocation).
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import os
from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import Field, ValidationError

from enrichment.models import Model, Vendor

_function_environ: contextvars.ContextVar[Mapping[str, str] | None] = contextvars.ContextVar(
    "function_environ", default=None
)


def environ() -> Mapping[str, str]:
    return _function_environ.get() or os.environ


@contextlib.contextmanager
def function_environment(env: Mapping[str, str]) -> Iterator[None]:
    """Run the enclosed code as if `env` were the function's environment (local runtime)."""
    token = _function_environ.set(dict(os.environ) | dict(env))
    try:
        yield
    finally:
        _function_environ.reset(token)


class VendorSettings(Model):
    """Per-vendor limits and pacing. Defaults follow ../shared/vendors.md; all are overridable."""

    chunk_size: int = Field(ge=1)
    # Chunks one Map item drives together (one child execution, one poll loop): fewer state transitions, and
    # one result object per batch for Finalize. Each chunk still has its own vendor request and send ledger.
    chunks_per_batch: int = Field(default=1, ge=1)
    max_concurrency: int = Field(default=2, ge=1)
    first_wait_seconds: int = Field(default=5, ge=0)
    backoff_base_seconds: int = Field(default=5, ge=1)
    backoff_max_seconds: int = Field(default=300, ge=1)
    max_polls: int = Field(default=200, ge=1)
    deadline_seconds: int = Field(default=6 * 3600, ge=1)
    http_timeout_seconds: float = Field(default=30.0, gt=0)
    requests_per_minute: int | None = Field(default=None, ge=1)
    # Plan quotas on top of the per-minute limit, paced like it when set. Pubrio's plans have hourly and daily
    # quotas, Prospeo's a daily limit (2,000 Starter, 5,000 Growth, 500,000 Pro; each record counts): the
    # numbers depend on the plan, so none is assumed (None). Without them, the vendor's 429 says when to resume.
    requests_per_hour: int | None = Field(default=None, ge=1)
    requests_per_day: int | None = Field(default=None, ge=1)
    # An unrecognised refusal (a 400 the vendor does not document as final) is tried this many times.
    max_refusals: int = Field(default=3, ge=1)
    # The account's own prices where the vendor sets them per account (Pubrio: per workspace, by contact type,
    # e.g. {"email-work": 20, "phone": 40}); unset items keep the price model's (vendors/pricing.py). A budget's
    # worst case is priced with them, so it holds for the account's real prices.
    credit_prices: dict[str, float] = Field(default_factory=dict)


# Documented limits where the vendor gives them; the rest are conservative assumptions.
DEFAULT_VENDOR_SETTINGS: dict[Vendor, dict[str, Any]] = {
    # Batch size is not documented (assumption: 100); 300 requests/min is documented. The plans' hourly and daily
    # quotas depend on the plan: requests_per_hour / requests_per_day stay unset unless configured.
    Vendor.PUBRIO: {"chunk_size": 100, "chunks_per_batch": 10, "max_concurrency": 4, "requests_per_minute": 300},
    # Documented: at most 50 records per call; each record counts as one request; Starter allows 300 a minute
    # (and 2,000 a day: set requests_per_day for the plan, which is not assumed).
    Vendor.PROSPEO: {
        "chunk_size": 50,
        "chunks_per_batch": 10,
        "max_concurrency": 2,
        "first_wait_seconds": 0,
        "requests_per_minute": 300,
    },
    # Batch size, rate limits and timing are not documented (assumptions).
    Vendor.CHECK365: {
        "chunk_size": 500,
        "chunks_per_batch": 2,
        "max_concurrency": 2,
        "first_wait_seconds": 10,
        "backoff_base_seconds": 10,
        "backoff_max_seconds": 120,
        "requests_per_minute": 120,
    },
    # Documented: up to 10,000 ids a job, jobs take a minute to hours. At most 2 jobs at once is inferred.
    Vendor.INSIDEVIEW: {
        "chunk_size": 10000,
        "max_concurrency": 2,
        "first_wait_seconds": 60,
        "backoff_base_seconds": 30,
        "backoff_max_seconds": 600,
        "deadline_seconds": 24 * 3600,
    },
}

# The most records one call may carry, where the vendor documents it. An override of chunk_size above it is
# capped to it (a bigger chunk would be refused whole: Prospeo answers more than 50 with INVALID_REQUEST).
DOCUMENTED_MAX_CHUNK_SIZE: dict[Vendor, int] = {Vendor.PROSPEO: 50}

VENDOR_API_URLS: dict[Vendor, str] = {
    Vendor.PUBRIO: "https://api.pubrio.com",
    Vendor.PROSPEO: "https://api.prospeo.io",
    Vendor.CHECK365: "https://api.check365.io",
    Vendor.INSIDEVIEW: "https://api.insideview.com",
}


def vendor_settings(vendor: Vendor, overrides: Mapping[str, Any] | None = None) -> VendorSettings:
    """The vendor's defaults with `overrides` on top, chunk_size capped at the vendor's documented maximum."""
    settings = VendorSettings(**(DEFAULT_VENDOR_SETTINGS[vendor] | dict(overrides or {})))
    most = DOCUMENTED_MAX_CHUNK_SIZE.get(vendor)
    if most is not None and settings.chunk_size > most:
        settings = settings.model_copy(update={"chunk_size": most})
    return settings


class InputLimits(Model):
    """What one job's input may be: a larger file is refused before anything is sent."""

    max_bytes: int = Field(default=10**9, ge=1)  # 1 GB as stored; a gzip file's content is held to it too
    max_rows: int = Field(default=1_000_000, ge=1)


class SettingsError(RuntimeError):
    """The function is deployed without a setting it needs."""


class Settings(Model):
    data_bucket: str
    jobs_table: str
    idempotency_table: str
    # The result cache across jobs (pipeline/result_cache.py) and how long an entry is kept (its TTL).
    result_cache_table: str = ""
    result_cache_days: int = Field(default=90, ge=1)
    state_machine_arn: str = ""
    finalize_function: str = ""
    event_bus: str = ""
    webhook_secret_name: str = ""
    admin_role_name: str = ""  # callers in a session of this role see every job (jobs/access.py)
    webhook_allow: str = ""  # host:port pairs a webhook may reach off the public internet (jobs/webhook_address.py)
    vendor_functions: dict[str, str] = {}
    vendor_overrides: dict[str, dict[str, Any]] = {}
    # The most credits each vendor may be charged in a calendar month (UTC), across jobs: {"pubrio": 50000}.
    monthly_credit_budgets: dict[Vendor, float] = {}
    input_limits: InputLimits = Field(default_factory=InputLimits)
    env: dict[str, str] = {}

    @classmethod
    def load(cls) -> Settings:
        env = environ()
        try:
            return cls(
                data_bucket=env["DATA_BUCKET"],
                jobs_table=env["JOBS_TABLE"],
                idempotency_table=env["IDEMPOTENCY_TABLE"],
                result_cache_table=env.get("RESULT_CACHE_TABLE", ""),
                result_cache_days=env.get("RESULT_CACHE_DAYS") or 90,
                state_machine_arn=env.get("STATE_MACHINE_ARN", ""),
                finalize_function=env.get("FINALIZE_FUNCTION", ""),
                event_bus=env.get("EVENT_BUS_NAME", ""),
                webhook_secret_name=env.get("WEBHOOK_SECRET", ""),
                webhook_allow=env.get("WEBHOOK_ALLOW", ""),
                admin_role_name=env.get("ADMIN_ROLE_NAME", ""),
                vendor_functions=json.loads(env.get("VENDOR_FUNCTIONS") or "{}"),
                vendor_overrides=json.loads(env.get("VENDOR_SETTINGS") or "{}"),
                monthly_credit_budgets=json.loads(env.get("MONTHLY_CREDIT_BUDGETS") or "{}"),
                input_limits=InputLimits(
                    **{
                        limit: env[name]
                        for limit, name in (("max_bytes", "MAX_INPUT_BYTES"), ("max_rows", "MAX_INPUT_ROWS"))
                        if env.get(name)
                    }
                ),
                env={k: v for k, v in env.items() if k.split("_", 1)[0] in _VENDOR_PREFIXES},
            )
        except KeyError as missing:
            raise SettingsError(f"setting {missing} is not configured for this function") from None
        except (ValueError, ValidationError) as exc:
            raise SettingsError(f"invalid settings: {exc}") from None

    def vendor(self, vendor: Vendor) -> VendorSettings:
        return vendor_settings(vendor, self.vendor_overrides.get(vendor.value, {}))

    def vendor_api_url(self, vendor: Vendor) -> str:
        return self.env.get(f"{vendor.name}_API_URL") or VENDOR_API_URLS[vendor]

    def vendor_extra_urls(self, vendor: Vendor) -> dict[str, str]:
        """Further endpoints a vendor has (InsideView's login host), from <VENDOR>_<NAME>_URL settings."""
        prefix, suffix = f"{vendor.name}_", "_URL"
        return {
            key.removeprefix(prefix).removesuffix(suffix).lower(): value
            for key, value in self.env.items()
            if key.startswith(prefix) and key.endswith(suffix) and key != f"{vendor.name}_API_URL" and value
        }

    def vendor_secret_name(self, vendor: Vendor) -> str:
        name = self.env.get(f"{vendor.name}_SECRET")
        if not name:
            raise SettingsError(f"{vendor.name}_SECRET is not configured")
        return name


_VENDOR_PREFIXES = {v.name for v in Vendor}
