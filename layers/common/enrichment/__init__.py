"""Shared library of the contact-enrichment orchestrator (the Lambda layer)."""
