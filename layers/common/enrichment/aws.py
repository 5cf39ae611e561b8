"""boto3 clients, created on first use (never at import) so tests and the local runtime can redirect them."""

from __future__ import annotations

import functools
import threading
from typing import Any

import boto3
from botocore.config import Config

_lock = threading.Lock()
_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, max_pool_connections=50)
# Presigned S3 requests: SigV4 (botocore presigns with SigV2 otherwise, which newer regions refuse) on the
# bucket's regional host (else the global one, which redirects a POST for a bucket outside us-east-1).
_PRESIGN_CONFIG = _CONFIG.merge(Config(signature_version="s3v4", s3={"addressing_style": "virtual"}))


@functools.cache
def _client(service: str, endpoint_url: str | None, region: str | None, presigning: bool = False) -> Any:
    config = _PRESIGN_CONFIG if presigning else _CONFIG
    with _lock:  # boto3's default session is not thread-safe while creating clients
        return boto3.session.Session().client(service, config=config, endpoint_url=endpoint_url, region_name=region)


def _where() -> tuple[str | None, str | None]:
    import os

    return os.environ.get("AWS_ENDPOINT_URL"), os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")


def client(service: str) -> Any:
    return _client(service, *_where())


def presigning_client(service: str) -> Any:
    """A client for presigned URLs and forms (S3): see _PRESIGN_CONFIG."""
    return _client(service, *_where(), presigning=True)


def reset_clients() -> None:
    """Forget cached clients (tests and the local runtime call this between runs)."""
    _client.cache_clear()
