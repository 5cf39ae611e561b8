"""The vendor adapters, by vendor name. Each adapter's module is imported when its vendor is first asked for: a
function works with one vendor at a time, and an adapter brings its answer models and rules along."""

from __future__ import annotations

import importlib

from enrichment.errors import EnrichmentError
from enrichment.models import AccessCheck, Vendor
from enrichment.settings import Settings
from enrichment.vendors.base import ChunkOutcome, VendorAdapter

# Each vendor's adapter, as "module:class".
ADAPTER_PATHS: dict[Vendor, str] = {
    Vendor.PUBRIO: "enrichment.vendors.pubrio:PubrioAdapter",
    Vendor.PROSPEO: "enrichment.vendors.prospeo:ProspeoAdapter",
    Vendor.CHECK365: "enrichment.vendors.check365:Check365Adapter",
    Vendor.INSIDEVIEW: "enrichment.vendors.insideview:InsideViewAdapter",
}


class UnsupportedVendor(ValueError):
    pass


def supported_vendor(name: Vendor | str) -> Vendor:
    """The vendor a name names, without loading its adapter; UnsupportedVendor if none."""
    try:
        vendor = Vendor(name)
        if vendor in ADAPTER_PATHS:
            return vendor
    except ValueError:
        pass
    known = ", ".join(v.value for v in ADAPTER_PATHS)
    raise UnsupportedVendor(f"vendor {str(name)[:40]!r} is not supported (supported: {known})")


def adapter_class(vendor: Vendor | str) -> type[VendorAdapter]:
    module, name = ADAPTER_PATHS[supported_vendor(vendor)].split(":")
    return getattr(importlib.import_module(module), name)


def connect(vendor: Vendor, settings: Settings) -> VendorAdapter:
    """The vendor's adapter with its endpoints, settings and credentials (from Secrets Manager)."""
    from enrichment.secrets import vendor_credentials

    return adapter_class(vendor)(
        api_url=settings.vendor_api_url(vendor),
        credentials=vendor_credentials(vendor, settings),
        settings=settings.vendor(vendor),
        extra_urls=settings.vendor_extra_urls(vendor),
    )


def check_access(vendor: Vendor, settings: Settings) -> AccessCheck:
    """Prove the credentials and the endpoint work; what is wrong otherwise, in the vendor error's words."""
    try:
        message = connect(vendor, settings).check_access()
    except EnrichmentError as error:
        return AccessCheck(vendor=vendor, ok=False, message=f"{type(error).__name__}: {error}")
    return AccessCheck(vendor=vendor, ok=True, message=message)


__all__ = [
    "ADAPTER_PATHS",
    "ChunkOutcome",
    "UnsupportedVendor",
    "VendorAdapter",
    "adapter_class",
    "check_access",
    "connect",
    "supported_vendor",
]
