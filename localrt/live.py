"""A vendor's real endpoint (or any server that follows the vendor's documents) in place of its simulator:
`make run ... LIVE=vendor.json`, `make check-vendor VENDOR=... LIVE=vendor.json`.

The file: {"api_url": "https://...", "login_url": "https://..." (InsideView only), "credentials": {...},
"settings": {...}} where `settings` overrides the product's defaults for the vendor (VendorSettings). The
credentials go into the emulated Secrets Manager, as they would in AWS; no message here ever quotes them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ValidationError, field_validator

# The file is checked before anything is deployed, against the layer's own settings model: the layer (on
# sys.path once deployed, see localrt.lambdas) is put there now.
LAYER = Path(__file__).resolve().parents[1] / "layers" / "common"
if str(LAYER) not in sys.path:
    sys.path.append(str(LAYER))

from enrichment.models import Vendor  # noqa: E402
from enrichment.settings import DEFAULT_VENDOR_SETTINGS, VendorSettings  # noqa: E402

# What each vendor's secret holds (the README's "Credentials" table).
CREDENTIAL_KEYS: dict[str, tuple[str, ...]] = {
    "pubrio": ("api_key",),
    "prospeo": ("api_key",),
    "check365": ("api_key",),
    "insideview": ("client_id", "client_secret"),
}


class LiveConfigError(ValueError):
    """The LIVE file cannot be used; the message never carries a credential."""


class LiveVendor(BaseModel, extra="forbid"):
    api_url: str
    login_url: str | None = None
    credentials: dict[str, str]
    settings: dict[str, Any] = {}

    @field_validator("api_url", "login_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError("must be an http(s) URL")
        return value


def load(path: Path, vendor: str) -> LiveVendor:
    try:
        raw = json.loads(path.read_text())
    except OSError as error:
        raise LiveConfigError(f"cannot read {path}: {error.strerror}") from None
    except ValueError as error:
        raise LiveConfigError(f"{path} is not JSON ({error.msg}, line {error.lineno})") from None
    try:
        live = LiveVendor.model_validate(raw)
    except ValidationError as error:  # loc and message only: the input may be a credential
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'file'}: {e['msg']}" for e in error.errors())
        raise LiveConfigError(f"{path}: {problems}") from None
    missing = [key for key in CREDENTIAL_KEYS[vendor] if not live.credentials.get(key)]
    if missing:
        needed = ", ".join(CREDENTIAL_KEYS[vendor])
        raise LiveConfigError(f"{path}: credentials for {vendor} need {needed} (missing: {', '.join(missing)})")
    if live.login_url and vendor != "insideview":
        raise LiveConfigError(f"{path}: login_url is for insideview only")
    unknown = sorted(set(live.settings) - set(VendorSettings.model_fields))
    if unknown:
        raise LiveConfigError(
            f"{path}: settings: unknown {', '.join(unknown)} (known: {', '.join(VendorSettings.model_fields)})"
        )
    try:
        VendorSettings(**(DEFAULT_VENDOR_SETTINGS[Vendor(vendor)] | live.settings))
    except (TypeError, ValidationError) as error:
        problems = (
            "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
            if isinstance(error, ValidationError)
            else str(error)
        )
        raise LiveConfigError(f"{path}: settings: {problems}") from None
    return live
