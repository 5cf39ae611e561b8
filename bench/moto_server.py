"""Emulated AWS for a benchmark: moto's server on a free loopback port, this process's clients pointed at it."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator

from localrt.runtime import free_port


@contextlib.contextmanager
def moto_server(environment: dict[str, str] | None = None) -> Iterator[dict[str, str]]:
    """Yields the environment a child process needs to reach the server too (`environment` on top)."""
    from moto.server import ThreadedMotoServer

    from enrichment import aws  # the layer: on sys.path once a benchmark put it there

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # a line per request otherwise
    port = free_port()
    env = {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_SESSION_TOKEN": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
    } | (environment or {})
    saved = {key: os.environ.get(key) for key in env}
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    os.environ.update(env)
    aws.reset_clients()
    try:
        yield env
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        aws.reset_clients()
