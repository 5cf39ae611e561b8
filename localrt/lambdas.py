"""Run the real Lambda handlers in-process wherever moto invokes a function.

Every invocation (boto3 Invoke, a Task state's lambda:invoke, an S3 notification) passes through
`moto.awslambda.models.LambdaFunction._invoke_lambda`; replacing it runs the function's handler from
its CodeUri with its own environment, in the calling thread, so Map iterations stay concurrent.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from moto.awslambda.models import LambdaFunction


@dataclass
class FunctionSpec:
    """A deployed function and its warm execution environments (one loaded handler module each).

    Like Lambda, an invocation takes an idle environment or starts a new one (a cold start), so
    concurrent invocations never share module-level state such as Powertools' Metrics.
    """

    name: str
    code_dir: Path
    handler: str
    environment: dict[str, str]
    timeout: int
    memory: int
    arn: str
    _idle: list[ModuleType] = field(default_factory=list, repr=False)
    _started: int = field(default=0, repr=False)
    running: int = 0
    peak_concurrency: int = 0  # the most invocations at once: shows the Map kept its concurrency
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @contextmanager
    def environment_instance(self) -> Iterator[Any]:
        module_name, function_name = self.handler.rsplit(".", 1)
        with self._lock:
            self.running += 1
            self.peak_concurrency = max(self.peak_concurrency, self.running)
            module = self._idle.pop() if self._idle else None
            if module is None:
                self._started += 1
                instance = self._started
        if module is None:
            module = self._load(module_name, instance)
        try:
            yield getattr(module, function_name)
        finally:
            with self._lock:
                self.running -= 1
                self._idle.append(module)

    def _load(self, module_name: str, instance: int) -> ModuleType:
        path = self.code_dir / (module_name.replace(".", "/") + ".py")
        unique = f"localfn_{self.name.replace('-', '_')}_{instance}"
        spec = importlib.util.spec_from_file_location(unique, path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load handler {self.handler} from {self.code_dir}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[unique] = module
        spec.loader.exec_module(module)
        return module


class LambdaContext:
    """The attributes of the Lambda context object that handlers and Powertools read."""

    def __init__(self, spec: FunctionSpec) -> None:
        self.function_name = spec.name
        self.function_version = "$LATEST"
        self.invoked_function_arn = spec.arn
        self.memory_limit_in_mb = spec.memory
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{spec.name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + spec.timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


FUNCTIONS: dict[str, FunctionSpec] = {}
_original_invoke = LambdaFunction._invoke_lambda


def _invoke_in_process(self: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
    spec = FUNCTIONS.get(self.function_name)
    if spec is None:
        return _original_invoke(self, event)
    from enrichment.settings import function_environment  # the layer, on sys.path once deployed

    payload = json.loads(event) if isinstance(event, (str, bytes)) else (event or {})
    try:
        with function_environment(spec.environment), spec.environment_instance() as handler:
            result = handler(payload, LambdaContext(spec))
        return json.dumps(result), False, ""
    except Exception as error:  # the Lambda service turns any exception into an error payload
        body = {
            "errorType": type(error).__name__,
            "errorMessage": str(error),
            "stackTrace": traceback.format_tb(error.__traceback__)[-5:],
        }
        return json.dumps(body), True, ""


def install(specs: list[FunctionSpec], layer_dirs: list[Path]) -> None:
    for directory in layer_dirs:
        if str(directory) not in sys.path:
            sys.path.insert(0, str(directory))
    FUNCTIONS.clear()
    FUNCTIONS.update({s.name: s for s in specs})
    LambdaFunction._invoke_lambda = _invoke_in_process  # type: ignore[method-assign]


def uninstall() -> None:
    FUNCTIONS.clear()
    for name in [m for m in sys.modules if m.startswith("localfn_")]:
        del sys.modules[name]
    LambdaFunction._invoke_lambda = _original_invoke  # type: ignore[method-assign]
