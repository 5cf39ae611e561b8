"""Each function imports only what its path needs, and importing it calls nothing.

Every handler is imported as Lambda would import it (bench/cold_imports.py: a fresh process, the function's folder
and the layer on sys.path, the environment Lambda sets, tracing on), with AWS_ENDPOINT_URL on a closed loopback
port. Nothing is timed: the test reads which modules the import loaded, and which connections it tried.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest

from bench.cold_imports import LAYER, LambdaFunction, lambda_functions
from enrichment.models import Vendor
from enrichment.vendors import ADAPTER_PATHS

FUNCTIONS = lambda_functions()
VENDOR_FUNCTIONS = {"PubrioFunction", "ProspeoFunction", "Check365Function", "InsideViewFunction"}
ADAPTER_MODULES = {vendor: path.split(":")[0] for vendor, path in ADAPTER_PATHS.items()}

# Modules that cost an import a good part of `import boto3` (measured with -X importtime, and as CPU ms on top of
# boto3, pydantic and Powertools' Logger and Tracer), and the functions whose import may load them. The others load
# them when a call needs them, or never.
MAY_LOAD: dict[str, set[str]] = {
    "httpx": set(),  # 53 ms: vendor calls and webhooks import it when they send
    "enrichment.jobs.webhook_address": set(),  # httpx, to parse a webhook_url: only when one is given
    "openpyxl": set(),  # 57 ms: only for an .xlsx input
    "charset_normalizer": set(),  # 8 ms: only for an input that is not UTF-8
    "email_validator": set(),  # 20 ms: where email addresses are checked (Prepare, the preview), at the first one
    "requests": set(),  # 20 ms: X-Ray's patch_all imported it (and sqlite3) into every function
    "sqlite3": set(),
    "aws_lambda_powertools.utilities.parameters": set(),  # secrets: a vendor's key, the webhook's signing key
    "enrichment.secrets": set(),
    "aws_lambda_powertools.event_handler.openapi.models": set(),  # 75 ms: Swagger UI, at its first request
    "aws_lambda_powertools.event_handler": {"ApiFunction"},  # 22 ms
    "aws_lambda_powertools.utilities.idempotency": {"ApiFunction"},
    "enrichment.jobs.api_models": {"ApiFunction"},  # 18 ms
    "enrichment.pipeline.preview": {"ApiFunction"},  # 11 ms: the dry run's answer
    "aws_lambda_powertools.utilities.data_classes": {  # 11 ms (the package imports every event class)
        "ApiFunction",
        "IngestFunction",
        "ScheduleFunction",
        "WebhookFunction",
    },
    "enrichment.files.report": {"FinalizeFunction"},
    "enrichment.files.reader": {"PrepareFunction", "FinalizeFunction", "ApiFunction"},
    "enrichment.pipeline.classify": {"PrepareFunction", "ApiFunction"},
    # Each adapter (6-7 ms) is imported when its vendor is first asked for; the API's request model names every
    # vendor's options.
    **{module: {"ApiFunction"} for module in ADAPTER_MODULES.values()},
}

# Run in the child: the import, with every connection and name lookup it attempts recorded (audit hooks).
_CHILD = """
import importlib, json, sys
sys.path[:0] = json.loads(sys.argv[1])
attempts = []
sys.addaudithook(lambda event, args: attempts.append([event, repr(args)]) if event in NETWORK_EVENTS else None)
importlib.import_module(sys.argv[2])
for code in sys.argv[3:]:
    exec(code)
print(json.dumps({"modules": sorted(sys.modules), "network": attempts}))
""".replace("NETWORK_EVENTS", repr(("socket.connect", "socket.getaddrinfo", "socket.gethostbyname")))


@pytest.fixture(scope="module")
def closed_port() -> Iterator[int]:
    """A loopback port nothing listens on: bound, never listening, so a connection to it is refused."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield held.getsockname()[1]


def fresh_import(function: LambdaFunction, port: int, module: str | None = None, *then: str) -> dict:
    """Import `module` (the handler by default) as Lambda would, then run `then`; what was loaded and tried."""
    # Credentials, so that a call would go straight to the endpoint (and be seen) instead of looking for some.
    env = function.environment(
        AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}", AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing"
    )
    path = json.dumps([str(function.folder), str(LAYER)])
    child = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-I", "-c", _CHILD, path, module or function.module, *then],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert child.returncode == 0, child.stderr
    return json.loads(child.stdout.splitlines()[-1])


@pytest.mark.parametrize("function", FUNCTIONS, ids=[f.name for f in FUNCTIONS])
def test_importing_a_handler_loads_only_what_its_path_needs(function, closed_port):
    loaded = set(fresh_import(function, closed_port)["modules"])
    unexpected = sorted(m for m, allowed in MAY_LOAD.items() if m in loaded and function.name not in allowed)
    assert unexpected == [], f"{function.name} loads at import: {', '.join(unexpected)}"


@pytest.mark.parametrize("function", FUNCTIONS, ids=[f.name for f in FUNCTIONS])
def test_importing_a_handler_calls_nothing(function, closed_port):
    """With AWS on a closed port the import still succeeds: it opened no connection and looked up no name."""
    result = fresh_import(function, closed_port)
    assert result["network"] == []


def test_every_function_of_the_template_is_checked():
    assert {f.name for f in FUNCTIONS} >= VENDOR_FUNCTIONS | {"PrepareFunction", "FinalizeFunction", "ApiFunction"}


@pytest.mark.parametrize("vendor", list(Vendor))
def test_a_vendor_function_loads_its_own_adapter_alone_and_no_http_until_it_sends(vendor, closed_port):
    """The adapter is imported when the function first asks for its vendor: the other vendors' never, and httpx
    only when a request is sent. Reading the adapter's rules (as Prepare does) needs no HTTP either."""
    function = next(f for f in FUNCTIONS if f.name in VENDOR_FUNCTIONS and vendor.value in str(f.folder))
    use = f"from enrichment.vendors import adapter_class; adapter_class({vendor.value!r}).parse_options({{}})"
    loaded = set(fresh_import(function, closed_port, None, use)["modules"])
    assert {m for m in ADAPTER_MODULES.values() if m in loaded} == {ADAPTER_MODULES[vendor]}
    assert "httpx" not in loaded
