"""boto3 clients, created on first use (never at import) so tests and the local runtime can redirect them."""

from __future__ import annotations

import functools
import threading
from typing import Any

import boto3
from botocore.config import Config

_lock = threading.Lock()
_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, max_pool_connections=50)


@functools.cache
def _client(service: str, endpoint_url: str | None, region: str | None) -> Any:
    with _lock:  # boto3's default session is not thread-safe while creating clients
        return boto3.session.Session().client(service, config=_CONFIG, endpoint_url=endpoint_url, region_name=region)


def client(service: str) -> Any:
    import os

    return _client(
        service,
        os.environ.get("AWS_ENDPOINT_URL"),
        os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"),
    )


def reset_clients() -> None:
    """Forget cached clients (tests and the local runtime call this between runs)."""
    _client.cache_clear()
