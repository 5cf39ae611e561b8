"""Run schemathesis against the local jobs API: `python -m tests.integration.contract_runner [schemathesis args]`.

Starts the local runtime and the API server on 127.0.0.1, then runs `schemathesis run` (its default checks) on
the API's own OpenAPI document (/swagger?format=json); exits with schemathesis' code. Generated requests carry
any URL (webhook_url), and a created job's webhook is POSTed to it: run this only inside a network namespace
that has nothing but loopback (tests/integration/test_api_contract.py does).
"""

from __future__ import annotations

import contextlib
import logging
import subprocess
import sys
import warnings
from pathlib import Path

from localrt.api_server import LocalApi
from localrt.runtime import LocalRuntime

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
            command = [
                *(str(SCHEMATHESIS), "--config-file", str(CONFIG), "run"),
                *(f"{api.url}/swagger?format=json", "--no-color", *extra),
            ]
            return subprocess.run(command, check=False).returncode  # noqa: S603 (our own tool, our own arguments)
        finally:
            api.stop()


if __name__ == "__main__":
    log = Path(sys.argv[1])
    sys.exit(main(sys.argv[2:], log))
