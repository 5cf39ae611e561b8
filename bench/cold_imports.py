"""Cold imports: how long a fresh Lambda process takes to import each function's handler, against `import boto3`.

The children run where a deployed function runs, not in the project's .venv: the .venv also holds the test and
local-runtime tools (pytest, moto, schemathesis...), and with them installed httpx loads its command-line extras and
pydantic reads every installed package's entry points for plugins, costs a deployed function never pays. So each
child is `python -I -S` (no site-packages, no user site, no PYTHON* variables) with sys.path = the function's folder,
the layer's folder (`layers/common`, as SAM packages it) and a folder of packages built once with
`pip install --target` from `layers/common/requirements.txt` plus boto3 and botocore at the .venv's versions (the
Lambda runtime brings its own boto3; the .venv pins the one we test with). That folder is kept under `.bench/`,
named by what it holds, and rebuilt when that changes; building it needs the package registry, and fails loudly
without it. `import boto3` runs in the same kind of child with the same sys.path and environment.

Each figure is timed inside the child, around the import alone (interpreter start-up is left out of both sides).
The environment is the one Lambda gives the function, tracing on. Runs are interleaved (function, boto3, next
function, ...) so that a busy moment of the machine weighs on both sides; each figure is the median of `repeats`
runs. `python -m bench.cold_imports` adds a last row, the floor: what any function imports before code of ours
(bench/import_floor.py: boto3, a pydantic model, Powertools' Logger and Tracer), measured the same way.

    python -m bench.cold_imports [repeats]
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

from localrt.template import load_template

ROOT = Path(__file__).resolve().parents[1]
LAYER = ROOT / "layers" / "common"
LAYER_REQUIREMENTS = LAYER / "requirements.txt"
BENCH_CACHE = ROOT / ".bench"  # ignored by git
# What the Lambda runtime brings itself, at the versions the project is tested with.
RUNTIME_PACKAGES = ("boto3", "botocore")
REGION = "us-east-1"
PSEUDO_PARAMETERS = {"AWS::StackName": "enrichment", "AWS::AccountId": "123456789012", "AWS::Region": REGION}

# Run in the child: put the function, the layer and its packages first on sys.path, time the import, print what
# was loaded.
_CHILD = """
import importlib, json, sys, time
sys.path[:0] = json.loads(sys.argv[1])
started, cpu_started = time.perf_counter(), time.process_time()
importlib.import_module(sys.argv[2])
elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
print(json.dumps({"seconds": elapsed, "cpu_seconds": cpu, "modules": sorted(sys.modules)}))
"""


@dataclass(frozen=True)
class LambdaFunction:
    """A function of the template, as Lambda would load it."""

    name: str  # the logical id
    folder: Path  # its CodeUri
    module: str  # the handler's module
    variables: dict[str, str]  # its environment variables (the template's Globals and its own), placeholders filled

    def environment(self, **extra: str) -> dict[str, str]:
        """The environment Lambda gives the function (tracing on): the template's variables, then Lambda's own."""
        lambda_sets = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "AWS_LAMBDA_FUNCTION_NAME": self.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
            "LAMBDA_TASK_ROOT": str(self.folder),
            "LAMBDA_RUNTIME_DIR": "/var/runtime",
            "_HANDLER": f"{self.module}.lambda_handler",
            "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
            "POWERTOOLS_SERVICE_NAME": self.variables.get("POWERTOOLS_SERVICE_NAME", "contact-enrichment"),
        }
        return self.variables | lambda_sets | extra


def _placeholder(value: Any, parameters: dict[str, Any]) -> str:
    """A template value as a deployment would give it, with a placeholder for each resource it names: a parameter
    is its default; a resource's name or ARN is `<LogicalId>-placeholder`, so JSON values stay JSON."""

    def named(name: str) -> str:
        if name in PSEUDO_PARAMETERS:
            return PSEUDO_PARAMETERS[name]
        return str(parameters.get(name, {}).get("Default", f"{name.split('.')[0]}-placeholder"))

    if isinstance(value, dict) and "Ref" in value:
        return named(value["Ref"])
    if isinstance(value, dict) and "Fn::Sub" in value:
        return re.sub(r"\$\{([^}]+)\}", lambda match: named(match.group(1)), value["Fn::Sub"])
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return named(value["Fn::GetAtt"][0])
    return str(value)


def lambda_functions(template: Path = ROOT / "template.yaml") -> list[LambdaFunction]:
    """Every AWS::Serverless::Function of the template."""
    loaded = load_template(template)
    globals_ = loaded.get("Globals", {}).get("Function", {})
    global_variables = globals_.get("Environment", {}).get("Variables", {})
    parameters = loaded.get("Parameters", {})
    functions = []
    for name, resource in loaded["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        properties = resource["Properties"]
        handler = properties.get("Handler", globals_.get("Handler"))
        own = properties.get("Environment", {}).get("Variables", {})
        functions.append(
            LambdaFunction(
                name=name,
                folder=ROOT / properties["CodeUri"],
                module=handler.rsplit(".", 1)[0],
                variables={key: _placeholder(value, parameters) for key, value in (global_variables | own).items()},
            )
        )
    return functions


def lambda_packages() -> Path:
    """The folder of packages a deployed function imports from (the layer's requirements and the runtime's boto3),
    built with pip on first use and kept under .bench/, in a folder named by what it holds."""
    runtime_pins = [f"{name}=={version(name)}" for name in RUNTIME_PACKAGES]
    holds = "\n".join([sys.version, LAYER_REQUIREMENTS.read_text(), *runtime_pins])
    folder = BENCH_CACHE / f"lambda-packages-{hashlib.sha256(holds.encode()).hexdigest()[:12]}"
    if (folder / ".complete").exists():
        return folder
    building = folder.with_name(folder.name + ".building")
    shutil.rmtree(building, ignore_errors=True)
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-input"]
    wanted = ["-r", str(LAYER_REQUIREMENTS), *runtime_pins]
    completed = subprocess.run(  # noqa: S603 - pip, with the layer's own requirements
        [*pip, "--target", str(building), *wanted], capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        # Some machines' pip configuration names local package folders that do not exist: pip warns once per package.
        said = [line for line in completed.stderr.splitlines() if "it is neither a file nor a directory" not in line]
        raise RuntimeError(
            f"could not build the Lambda-like package folder {folder} (pip install --target {' '.join(wanted)}); "
            "the package registry must be reachable. pip said:\n" + "\n".join(said)
        )
    (building / ".complete").write_text(holds)
    shutil.rmtree(folder, ignore_errors=True)
    building.rename(folder)
    return folder


def lambda_path(function: LambdaFunction, packages: Path) -> list[Path]:
    """sys.path as a deployed function has it: its folder, the layer (our code, then its packages)."""
    return [function.folder, LAYER, packages]


def import_in_fresh_process(
    module: str, path: list[Path], env: dict[str, str], python: str = sys.executable
) -> dict[str, Any]:
    """Import `module` in a new interpreter (isolated: no cwd, no PYTHON* variables, no user site, no site-packages:
    only `path` and the standard library); returns {"seconds": the import's wall time, "cpu_seconds": its CPU time,
    "modules": what sys.modules holds after it}."""
    completed = subprocess.run(  # noqa: S603 - our own interpreter and code
        [python, "-I", "-S", "-c", _CHILD, json.dumps([str(p) for p in path]), module],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"importing {module} failed:\n{completed.stderr}")
    return json.loads(completed.stdout.splitlines()[-1])


def rows(repeats: int = 7) -> list[dict]:
    """One row per function: the median import time of its handler, of boto3 alone, and their ratio."""
    functions = lambda_functions()
    packages = lambda_packages()
    runs: dict[str, dict[str, list[float]]] = {f.name: {"handler": [], "boto3": []} for f in functions}
    for attempt in range(repeats + 1):  # the first round only writes the bytecode caches
        for function in functions:
            path = lambda_path(function, packages)
            env = function.environment()
            handler = import_in_fresh_process(function.module, path, env)["seconds"]
            boto3 = import_in_fresh_process("boto3", path, env)["seconds"]
            if attempt:
                runs[function.name]["handler"].append(handler)
                runs[function.name]["boto3"].append(boto3)
    table = []
    for function in functions:
        handler_ms = statistics.median(runs[function.name]["handler"]) * 1000
        boto3_ms = statistics.median(runs[function.name]["boto3"]) * 1000
        table.append(
            {
                "function": function.name,
                "import_ms": round(handler_ms, 1),
                "boto3_ms": round(boto3_ms, 1),
                "ratio": round(handler_ms / boto3_ms, 2),
            }
        )
    return table


def floor(repeats: int = 7) -> dict:
    """What any function costs before our code (bench/import_floor.py: boto3, a pydantic model, Powertools' Logger
    and Tracer) against boto3 alone, measured as the functions are; a row like theirs."""
    path, env = [ROOT / "bench", lambda_packages()], lambda_functions()[0].environment()
    runs: dict[str, list[float]] = {"import_floor": [], "boto3": []}
    for attempt in range(repeats + 1):  # the first round only writes the bytecode caches
        for module, seconds in runs.items():
            measured = import_in_fresh_process(module, path, env)["seconds"]
            if attempt:
                seconds.append(measured)
    floor_ms, boto3_ms = (statistics.median(runs[module]) * 1000 for module in ("import_floor", "boto3"))
    return {
        "function": "(floor)",
        "import_ms": round(floor_ms, 1),
        "boto3_ms": round(boto3_ms, 1),
        "ratio": round(floor_ms / boto3_ms, 2),
    }


def main(argv: list[str]) -> None:
    repeats = int(argv[0]) if argv else 7
    print(
        f"cold imports: median of {repeats} fresh processes, import time only, tracing on, "
        "Lambda-like sys.path (no site-packages)"
    )
    print(f"{'function':<20} {'import ms':>10} {'boto3 ms':>10} {'ratio':>7}")
    for row in [*rows(repeats), floor(repeats)]:
        print(f"{row['function']:<20} {row['import_ms']:>10.1f} {row['boto3_ms']:>10.1f} {row['ratio']:>7.2f}")
    print("(floor): boto3, a pydantic model, Powertools' Logger and Tracer (bench/import_floor.py), nothing of ours")


if __name__ == "__main__":
    main(sys.argv[1:])
