"""Fixtures the end-to-end tests share."""

from __future__ import annotations

import pytest

from tests.e2e.test_events_and_webhooks import Receiver, webhooks_allowed


@pytest.fixture
def receiver(runtime):
    """A webhook receiver on 127.0.0.1, which the deployed functions may reach while the test runs."""
    local = Receiver()
    with webhooks_allowed(runtime, local.address):
        yield local
    local.stop()
