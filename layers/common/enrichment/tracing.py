"""X-Ray tracing for every function: Powertools' Tracer, patching only the libraries the functions call out with."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Tracer as PowertoolsTracer
from wrapt import register_post_import_hook

# The AWS SDK's calls are traced from the start; httpx's (vendor calls, webhooks) once a function imports httpx.
PATCHED_AT_START = ("botocore",)
PATCHED_WHEN_IMPORTED = ("httpx",)


class Tracer(PowertoolsTracer):
    """Powertools' Tracer, tracing the calls our functions make: boto3's, and httpx's when httpx is used.

    A plain Tracer() patches every library X-Ray supports and imports each to do so (httpx, sqlite3, requests),
    into every function at start, whether the function uses it or not."""

    def __init__(self, **options: Any) -> None:
        options.setdefault("patch_modules", PATCHED_AT_START)
        super().__init__(**options)
        if self.auto_patch:
            for module in PATCHED_WHEN_IMPORTED:
                register_post_import_hook(lambda _module, name=module: self.patch([name]), module)
