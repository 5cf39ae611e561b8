"""The vendor adapters, by vendor name."""

from __future__ import annotations

from enrichment.errors import EnrichmentError
from enrichment.models import AccessCheck, Vendor
from enrichment.secrets import vendor_credentials
from enrichment.settings import Settings
from enrichment.vendors.base import ChunkOutcome, VendorAdapter
from enrichment.vendors.check365 import Check365Adapter
from enrichment.vendors.insideview import InsideViewAdapter
from enrichment.vendors.prospeo import ProspeoAdapter
from enrichment.vendors.pubrio import PubrioAdapter

ADAPTERS: dict[Vendor, type[VendorAdapter]] = {
    Vendor.PUBRIO: PubrioAdapter,
    Vendor.PROSPEO: ProspeoAdapter,
    Vendor.CHECK365: Check365Adapter,
    Vendor.INSIDEVIEW: InsideViewAdapter,
}


class UnsupportedVendor(ValueError):
    pass


def adapter_class(vendor: Vendor | str) -> type[VendorAdapter]:
    try:
        return ADAPTERS[Vendor(vendor)]
    except (ValueError, KeyError):
        known = ", ".join(v.value for v in ADAPTERS)
        raise UnsupportedVendor(f"vendor {str(vendor)[:40]!r} is not supported (supported: {known})") from None


def connect(vendor: Vendor, settings: Settings) -> VendorAdapter:
    """The vendor's adapter with its endpoints, settings and credentials (from Secrets Manager)."""
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
    "ADAPTERS",
    "ChunkOutcome",
    "UnsupportedVendor",
    "VendorAdapter",
    "adapter_class",
    "check_access",
    "connect",
]
