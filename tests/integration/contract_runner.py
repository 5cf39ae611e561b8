"""Run schemathesis against the local jobs API: `python -m tests.integration.contract_runner [schemathesis args]`.

Starts the local runtime and the API server on 127.0.0.1, then runs `schemathesis run` (its default checks) on
the API's own OpenAPI document (/swagger?format=json); exits with schemathesis' code. Every route is
IAM-authorized, as in AWS: the document is fetched signed, and schemathesis signs each request it sends
(tests/integration/contract_signing.py). Generated requests carry
any URL (webhook_url), and a created job's webhook is POSTed to it: run this only inside a network namespace
that has nothing but loopback (tests/integration/test_api_contract.py does).
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import warnings
from pathlib import Path

import httpx

from localrt.api_server import LocalApi
from localrt.runtime import LocalRuntime
from tests.conftest import api_auth

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
CONFIG = Path(__file__).with_name("schemathesis.toml")  # the rejections no schema can express


def main(extra: list[str], log_path: Path) -> int:
    # The handlers log (Powertools JSON) on stdout, as in Lambda: kept in a file, apart from schemathesis' report;
    # the emulated Step Functions reports each failed job on stderr (generated jobs fail often): not news here.
    logging.getLogger("moto").setLevel(logging.CRITICAL)
    warnings.simplefilter("ignore")
    with open(log_path, "w") as log, contextlib.redirect_stdout(log), LocalRuntime(log_level="WARNING") as runtime:
        api = LocalApi(runtime, port=0).start()
        try:
            document = log_path.with_name("openapi.json")
            answer = httpx.get(f"{api.url}/swagger", params={"format": "json"}, auth=api_auth())
            document.write_bytes(answer.raise_for_status().content)
            command = [
                *(str(SCHEMATHESIS), "--config-file", str(CONFIG), "run"),
                *(str(document), "--origin", api.url, "--no-color", *extra),  # the document's /v1 on this origin
            ]
            hooks = os.environ | {"SCHEMATHESIS_HOOKS": "tests.integration.contract_signing"}
            return subprocess.run(command, check=False, env=hooks).returncode  # noqa: S603 (our own tool)
        finally:
            api.stop()


if __name__ == "__main__":
    log = Path(sys.argv[1])
    sys.exit(main(sys.argv[2:], log))
