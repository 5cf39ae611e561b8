"""Prospeo function: submits and checks Prospeo jobs for the state machine's poll loop."""

from enrichment.models import Vendor
from enrichment.pipeline.vendor_function import chunk_step_handler

lambda_handler = chunk_step_handler(Vendor.PROSPEO)
