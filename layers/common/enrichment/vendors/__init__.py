"""The vendor adapters, by vendor name."""

from __future__ import annotations

from enrichment.models import Vendor
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


__all__ = ["ADAPTERS", "ChunkOutcome", "UnsupportedVendor", "VendorAdapter", "adapter_class"]
