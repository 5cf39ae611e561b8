"""Run the real Lambda handlers in-process wherever moto invokes a function.

Every invocation (boto3 Invoke, a Task state's lambda:invoke, an S3 notification) passes through
`moto.awslambda.models.LambdaFunction._invoke_lambda`; replacing it runs the function's handler from
its CodeUri with its own environment, in the calling thread, so Map iterations stay concurrent.

Runtime faults, as the Lambda service shows them to the caller (is_error true, the payloads below):
- a crash: an httpx answer with the simulator header `X-Sim-Crash-Caller: 1` (simulator fault
  crash_after_accept) kills the invocation at once (`LambdaDied`, a BaseException the handler cannot
  catch): `{"errorType": "Runtime.ExitError", "errorMessage": "RequestId: <id> Error: Runtime exited
  without providing a reason"}`; the execution environment is discarded (the next call starts cold).
- `check_timeout` (see `FAULTS`): a round that checks a vendor job runs in full, side effects included, then
  the invocation reports `{"errorType": "Sandbox.Timedout", "errorMessage": "RequestId: <id> Error: Task timed out after
  <timeout, 2 decimals> seconds"}` instead of its answer.

Asynchronous invocations (InvocationType Event: EventBridge targets, S3 notifications, a boto3 invoke with
InvocationType="Event") are emulated as the Lambda service runs them: the caller gets 202 at once, the function runs
apart (a thread), a failed run is retried MaximumRetryAttempts times (the function's EventInvokeConfig, 2 when it has
none; AWS waits about 1 then 2 minutes between them, here they follow at once), and when all have failed the
invocation record goes to the OnFailure destination (an SQS queue), in the shape AWS documents: version, timestamp,
requestContext (requestId, functionArn, condition "RetriesExhausted", approximateInvokeCount), requestPayload,
responseContext (statusCode, executedVersion, functionError "Unhandled") and responsePayload (the error).
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import logging
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
from moto.awslambda.models import LambdaFunction

from localrt import emf
from localrt.simulators.base import CRASH_HEADER, JOB_HEADER

RUNTIME_FAULT_KINDS = ("check_timeout",)


class LambdaDied(BaseException):
    """The function's process died during the invocation. A BaseException, so that the handler's own
    `except Exception` blocks cannot catch it, as none can catch a killed process."""


class RuntimeFaults:
    """Counted faults per function name (thread-safe): `inject`, `take` one, `clear`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._remaining: dict[tuple[str, str], int] = {}

    def inject(self, kind: str, function_name: str, times: int = 1) -> None:
        if kind not in RUNTIME_FAULT_KINDS:
            raise ValueError(f"unknown runtime fault {kind!r}; known: {', '.join(RUNTIME_FAULT_KINDS)}")
        with self._lock:
            key = (kind, function_name)
            self._remaining[key] = self._remaining.get(key, 0) + times

    def take(self, kind: str, function_name: str) -> bool:
        with self._lock:
            left = self._remaining.get((kind, function_name), 0)
            if left <= 0:
                return False
            if left == 1:
                del self._remaining[(kind, function_name)]
            else:
                self._remaining[(kind, function_name)] = left - 1
            return True

    def pending(self) -> dict[tuple[str, str], int]:
        with self._lock:
            return dict(self._remaining)

    def clear(self) -> None:
        with self._lock:
            self._remaining.clear()


FAULTS = RuntimeFaults()
_in_invocation: ContextVar[str | None] = ContextVar("localrt_invocation", default=None)  # the request id
_invocation_job: ContextVar[str | None] = ContextVar("localrt_invocation_job", default=None)  # the event's job_id
# The simulators' origins ("http://127.0.0.1:<port>"): requests to them are tagged with the invocation's job (their
# per-job ledger, localrt/simulators/base.py); a live vendor's requests never are.
SIMULATOR_ORIGINS: set[str] = set()
_original_send = httpx.Client.send


def _send_or_die(self: httpx.Client, request: httpx.Request, **kwargs: Any) -> httpx.Response:
    """httpx.Client.send while the runtime is installed: a request to a simulator says which job's invocation sends
    it; a crash header kills the running invocation."""
    job = _invocation_job.get()
    if job and f"{request.url.scheme}://{request.url.netloc.decode()}" in SIMULATOR_ORIGINS:
        request.headers[JOB_HEADER] = job
    response = _original_send(self, request, **kwargs)
    if _in_invocation.get() is not None and response.headers.get(CRASH_HEADER) == "1":
        response.close()
        raise LambdaDied(f"{request.method} {request.url.path} answered with {CRASH_HEADER}")
    return response


_hook_users = 0  # who installed the hook and has not uninstalled it: a runtime, a test beside a running runtime


def install_crash_hook() -> None:
    """Every httpx.Client (the vendor adapters make one per request) now honours CRASH_HEADER."""
    global _hook_users
    _hook_users += 1
    httpx.Client.send = _send_or_die  # type: ignore[method-assign]


def uninstall_crash_hook() -> None:
    """Undo one install: the hook stays while anyone else still needs it (a test that installs it beside the
    session's runtime must not take the runtime's job tags away)."""
    global _hook_users
    _hook_users = max(0, _hook_users - 1)
    if not _hook_users:
        httpx.Client.send = _original_send  # type: ignore[method-assign]


def exit_error(request_id: str) -> dict[str, str]:
    """What Lambda answers for a process that died mid-invocation."""
    return {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {request_id} Error: Runtime exited without providing a reason",
    }


def timeout_error(request_id: str, seconds: float) -> dict[str, str]:
    """What Lambda answers for an invocation that ran past its timeout."""
    return {
        "errorType": "Sandbox.Timedout",
        "errorMessage": f"RequestId: {request_id} Error: Task timed out after {seconds:.2f} seconds",
    }


def invoke_handler(
    run: Callable[[], Any], request_id: str, *, timed_out_after: float | None = None, job_id: str | None = None
) -> tuple[str, bool]:
    """Run one invocation (`run` calls the handler) as the Lambda service would: (payload JSON, is_error).

    An exception becomes the usual error payload; a `LambdaDied` (the crash hook) the exit error; with
    `timed_out_after`, the handler still runs in full and the answer is a timeout instead of its result."""
    token = _in_invocation.set(request_id)
    job_token = _invocation_job.set(job_id)
    try:
        result = run()
    except LambdaDied:
        return json.dumps(exit_error(request_id)), True
    except Exception as error:  # the Lambda service turns any exception into an error payload
        if timed_out_after is not None:
            return json.dumps(timeout_error(request_id, timed_out_after)), True
        body = {
            "errorType": type(error).__name__,
            "errorMessage": str(error),
            "stackTrace": traceback.format_tb(error.__traceback__)[-5:],
        }
        return json.dumps(body), True
    finally:
        _in_invocation.reset(token)
        _invocation_job.reset(job_token)
    if timed_out_after is not None:
        return json.dumps(timeout_error(request_id, timed_out_after)), True
    return json.dumps(result), False


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
    architecture: str = "x86_64"  # the template's Architectures: what its GB-seconds cost
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
        died = False
        try:
            yield getattr(module, function_name)
        except LambdaDied:
            died = True  # a dead process's environment is not reused: the next invocation starts cold
            raise
        finally:
            with self._lock:
                self.running -= 1
                if not died:
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


def checks_a_vendor_job(payload: Any) -> bool:
    """A vendor function's round for a batch holding an accepted vendor job (one it checks)."""
    if not isinstance(payload, dict) or payload.get("action") != "advance":
        return False
    chunks = (payload.get("progress") or {}).get("chunks") or {}
    return any(c.get("vendor_ref") and c.get("status") == "running" for c in chunks.values())


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


class InFlight:
    """Invocations running or on their way (an event being delivered to a function): what a meter waits out."""

    def __init__(self) -> None:
        self._count = 0
        self._changed = threading.Condition()

    def enter(self) -> None:
        with self._changed:
            self._count += 1

    def leave(self) -> None:
        with self._changed:
            self._count -= 1
            self._changed.notify_all()

    def wait_idle(self, timeout: float) -> None:
        """Until nothing runs or is on its way; TimeoutError after `timeout` seconds."""
        with self._changed:
            if not self._changed.wait_for(lambda: self._count == 0, timeout):
                raise TimeoutError(f"{self._count} invocations still running after {timeout:g}s")


IN_FLIGHT = InFlight()
FUNCTIONS: dict[str, FunctionSpec] = {}
# Called after every invocation with the function and the invocation's duration in seconds (localrt.metering).
INVOCATION_OBSERVERS: list[Callable[[FunctionSpec, float], None]] = []
_original_invoke = LambdaFunction._invoke_lambda
_original_function_invoke = LambdaFunction.invoke
DEFAULT_ASYNC_RETRIES = 2  # the Lambda service's MaximumRetryAttempts for a function without an EventInvokeConfig
logger = logging.getLogger(__name__)


def _invoke_in_process(self: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
    spec = FUNCTIONS.get(self.function_name)
    if spec is None:
        return _original_invoke(self, event)
    IN_FLIGHT.enter()
    try:
        return _invoke_spec(spec, event)
    finally:
        IN_FLIGHT.leave()


def _invoke_spec(spec: FunctionSpec, event: Any) -> tuple[str, bool, str]:
    from enrichment.settings import function_environment  # the layer, on sys.path once deployed

    payload = json.loads(event) if isinstance(event, (str, bytes)) else (event or {})
    context = LambdaContext(spec)
    timed_out = checks_a_vendor_job(payload) and FAULTS.take("check_timeout", spec.name)

    def run() -> Any:
        with function_environment(spec.environment), emf.invocation(spec.name), spec.environment_instance() as handler:
            return handler(payload, context)

    started = time.perf_counter()
    job_id = payload.get("job_id") if isinstance(payload, dict) else None
    body, is_error = invoke_handler(
        run,
        context.aws_request_id,
        timed_out_after=spec.timeout if timed_out else None,
        job_id=job_id if isinstance(job_id, str) else None,
    )
    for observe in INVOCATION_OBSERVERS:
        observe(spec, time.perf_counter() - started)
    return body, is_error, ""


def invocation_type(headers: Any) -> str:
    """The X-Amz-Invocation-Type of an Invoke (moto hands its request headers, or a dict, in either case)."""
    headers = headers or {}
    return headers.get("X-Amz-Invocation-Type") or headers.get("x-amz-invocation-type") or "RequestResponse"


def _invoke_function(self: LambdaFunction, body: Any, request_headers: Any, response_headers: Any) -> Any:
    """LambdaFunction.invoke: an asynchronous invocation of a deployed function runs apart; 202 with no body."""
    if invocation_type(request_headers) != "Event" or self.function_name not in FUNCTIONS:
        return _original_function_invoke(self, body, request_headers, response_headers)
    event = json.loads(body) if isinstance(body, (str, bytes)) and body else (body or {})
    IN_FLIGHT.enter()
    threading.Thread(target=_run_async, args=(self, event), daemon=True).start()
    return ""


def event_invoke_config(function: LambdaFunction) -> dict[str, Any]:
    """The function's EventInvokeConfig (PutFunctionEventInvokeConfig; the template's EventInvokeConfig)."""
    configs = function.event_invoke_config
    return configs[-1].config if configs else {}


def _run_async(function: LambdaFunction, event: Any) -> None:
    try:
        config = event_invoke_config(function)
        request_id = str(uuid.uuid4())
        attempts = 1 + int(config.get("MaximumRetryAttempts", DEFAULT_ASYNC_RETRIES))
        for _ in range(attempts):
            body, is_error, _ = function._invoke_lambda(event=event)
            if not is_error:
                return
        destination = (config.get("DestinationConfig") or {}).get("OnFailure", {}).get("Destination")
        record = failure_record(function.function_arn, request_id, event, json.loads(body or "null"), attempts)
        if destination:
            send_to_destination(destination, record)
        else:  # AWS discards it too: this is what the on-failure destination is for
            logger.warning(
                "asynchronous invocation of %s failed %d times; no destination", function.function_name, attempts
            )
    finally:
        IN_FLIGHT.leave()


def failure_record(function_arn: str, request_id: str, event: Any, error: Any, attempts: int) -> dict[str, Any]:
    """The record the Lambda service sends to an on-failure destination once an invocation's retries are spent."""
    return {
        "version": "1.0",
        "timestamp": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "requestContext": {
            "requestId": request_id,
            "functionArn": f"{function_arn}:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": attempts,
        },
        "requestPayload": event,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": error,
    }


def send_to_destination(arn: str, message: dict[str, Any], attributes: dict[str, str] | None = None) -> None:
    """Send to an SQS queue by its ARN, in moto's backend (the local destinations are queues)."""
    from moto.sqs.models import sqs_backends

    service, region, account, name = (arn.split(":") + [""] * 6)[2:6]
    if service != "sqs":
        raise NotImplementedError(f"{arn}: only SQS destinations are emulated locally")
    message_attributes = {k: {"DataType": "String", "StringValue": v} for k, v in (attributes or {}).items()}
    sqs_backends[account][region].send_message(name, json.dumps(message), message_attributes=message_attributes)


def install(specs: list[FunctionSpec], layer_dirs: list[Path]) -> None:
    for directory in layer_dirs:
        if str(directory) not in sys.path:
            sys.path.insert(0, str(directory))
    FUNCTIONS.clear()
    FUNCTIONS.update({s.name: s for s in specs})
    LambdaFunction._invoke_lambda = _invoke_in_process  # type: ignore[method-assign]
    LambdaFunction.invoke = _invoke_function  # type: ignore[method-assign]
    install_crash_hook()


def uninstall() -> None:
    FUNCTIONS.clear()
    FAULTS.clear()
    uninstall_crash_hook()
    for name in [m for m in sys.modules if m.startswith("localfn_")]:
        del sys.modules[name]
    LambdaFunction._invoke_lambda = _original_invoke  # type: ignore[method-assign]
    LambdaFunction.invoke = _original_function_invoke  # type: ignore[method-assign]
