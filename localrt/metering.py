"""What AWS would bill for what runs locally: counted from the real requests of a real job, never estimated.

While a `Meter` is open it counts, process-wide:
- Step Functions state transitions (Standard): every state entered, in the parent execution and in every
  Distributed Map child execution (moto's interpreter records a `*StateEntered` history event for each), every
  retry of a state (AWS bills each retry as a transition), and one per child execution the Distributed Map
  starts (AWS: "one state transition for each child workflow execution");
- Lambda invocations and their duration (localrt.lambdas reports each one), billed per invocation rounded up to
  1 ms x the function's MemorySize, at the price of its architecture (Architectures in the template);
- S3 requests in the two price tiers (PUT, COPY, POST, LIST / GET, HEAD and all others; DELETE and abort are
  free) and DynamoDB on-demand read and write request units, for every botocore call the process makes
  (retries included, each attempt being a request), except those made inside `unmetered()` (the harness:
  dropping the file, waiting, downloading). Request units follow DynamoDB's rules: a write is 1 unit per KB of
  the item (the larger of before and after, read from moto's table), a read 1 unit per 4 KB (strongly
  consistent, half that eventually consistent), a transaction item twice that; a read that finds nothing is
  still a read.
Dollars come from the prices below (us-east-1, on demand, no free tier).
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import math
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from botocore.client import BaseClient
from botocore.exceptions import ClientError
from moto.stepfunctions.parser.asl.component.common.retry.retry_outcome import RetryOutcome
from moto.stepfunctions.parser.asl.component.state.exec.execute_state import ExecutionState
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor.distributed_item_processor_worker import (  # noqa: E501
    DistributedItemProcessorWorker,
)
from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager

from localrt import lambdas
from localrt.deploy import ACCOUNT

# Published us-east-1 prices, on demand, without free tiers. Checked 2026-11-23 against:
# Step Functions https://aws.amazon.com/step-functions/pricing/ (Standard workflows),
# Lambda https://aws.amazon.com/lambda/pricing/, S3 https://aws.amazon.com/s3/pricing/ (S3 Standard requests),
# DynamoDB https://aws.amazon.com/dynamodb/pricing/on-demand/.
PRICES_DATE = "2026-11-23"
USD_PER_TRANSITION = Decimal("0.025") / 1_000
USD_PER_LAMBDA_REQUEST = Decimal("0.20") / 1_000_000
USD_PER_GB_SECOND = {"x86_64": Decimal("0.0000166667"), "arm64": Decimal("0.0000133334")}
USD_PER_S3_TIER1_REQUEST = Decimal("0.005") / 1_000  # PUT, COPY, POST, LIST
USD_PER_S3_TIER2_REQUEST = Decimal("0.0004") / 1_000  # GET, HEAD and all other requests
USD_PER_WRITE_UNIT = Decimal("0.625") / 1_000_000
USD_PER_READ_UNIT = Decimal("0.125") / 1_000_000

# S3 operations by price tier (the pricing page names HTTP verbs; these are the API operations behind them).
S3_FREE = frozenset({"DeleteObject", "DeleteObjects", "AbortMultipartUpload"})
S3_TIER1_PREFIXES = ("Put", "Copy", "List", "Create", "Complete", "Upload", "Restore", "Post")

DYNAMODB_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem"})


@dataclass
class Usage:
    """What was counted: the billable quantities, and every AWS request by (service, operation) for reference."""

    states_entered: int = 0
    retries: int = 0
    child_executions: int = 0
    lambda_invocations: Counter[str] = field(default_factory=Counter)  # by function name
    lambda_billed_ms: Counter[str] = field(default_factory=Counter)
    mb_ms: Counter[str] = field(default_factory=Counter)  # billed milliseconds x MemorySize, by architecture
    s3_tier1: int = 0
    s3_tier2: int = 0
    dynamodb_read_units: float = 0.0
    dynamodb_write_units: float = 0.0
    # The largest input or output of any state, in the parent or a Map child: Step Functions refuses one over
    # 256 KiB, so it must never grow with the file.
    largest_state_payload: int = 0
    requests: Counter[tuple[str, str]] = field(default_factory=Counter)

    @property
    def transitions(self) -> int:
        return self.states_entered + self.retries + self.child_executions

    @property
    def invocations(self) -> int:
        return sum(self.lambda_invocations.values())

    @property
    def gb_seconds(self) -> dict[str, float]:
        return {arch: mb_ms / 1024 / 1000 for arch, mb_ms in self.mb_ms.items()}

    @property
    def total_gb_seconds(self) -> float:
        return sum(self.mb_ms.values()) / 1024 / 1000

    @property
    def s3_requests(self) -> int:
        return self.s3_tier1 + self.s3_tier2

    @property
    def dynamodb_units(self) -> float:
        return self.dynamodb_read_units + self.dynamodb_write_units

    def usd(self) -> dict[str, Decimal]:
        """Dollars by service, and their total."""
        lambda_usd = self.invocations * USD_PER_LAMBDA_REQUEST + sum(
            (Decimal(mb_ms) / 1024 / 1000 * USD_PER_GB_SECOND[arch] for arch, mb_ms in self.mb_ms.items()),
            Decimal(0),
        )
        costs = {
            "stepfunctions": self.transitions * USD_PER_TRANSITION,
            "lambda": lambda_usd,
            "s3": self.s3_tier1 * USD_PER_S3_TIER1_REQUEST + self.s3_tier2 * USD_PER_S3_TIER2_REQUEST,
            "dynamodb": Decimal(str(self.dynamodb_write_units)) * USD_PER_WRITE_UNIT
            + Decimal(str(self.dynamodb_read_units)) * USD_PER_READ_UNIT,
        }
        return costs | {"total": sum(costs.values(), Decimal(0))}


def s3_tier(operation: str) -> int:
    """1 (PUT, COPY, POST, LIST), 2 (GET, HEAD and others) or 0 (free: DELETE, abort)."""
    if operation in S3_FREE:
        return 0
    return 1 if operation.startswith(S3_TIER1_PREFIXES) else 2


# ---- DynamoDB item sizes (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html)


def _number_size(text: str) -> int:
    digits = text.lstrip("+-").replace(".", "").lower().split("e", 1)[0].strip("0") or "0"
    return math.ceil(len(digits) / 2) + 1


def value_size(value: dict[str, Any]) -> int:
    """The bytes DynamoDB counts for one typed value ({"S": ...}, {"N": ...}, {"M": {...}}, ...)."""
    (kind, data), *_ = value.items()
    match kind:
        case "S":
            return len(data.encode())
        case "N":
            return _number_size(str(data))
        case "B":
            return len(data) if isinstance(data, (bytes, bytearray)) else len(str(data).encode())
        case "BOOL" | "NULL":
            return 1
        case "SS":
            return sum(len(v.encode()) for v in data)
        case "NS":
            return sum(_number_size(str(v)) for v in data)
        case "BS":
            return sum(len(v) for v in data)
        case "L":
            return 3 + sum(value_size(v) + 1 for v in data)
        case "M":
            return 3 + sum(len(k.encode()) + value_size(v) + 1 for k, v in data.items())
    raise ValueError(f"not a DynamoDB attribute value: {kind}")


def item_size(item: dict[str, Any] | None) -> int:
    return sum(len(name.encode()) + value_size(value) for name, value in (item or {}).items())


def write_units(size: int) -> int:
    return max(1, math.ceil(size / 1024))


def read_units(size: int, consistent: bool) -> float:
    units = max(1, math.ceil(size / 4096))
    return float(units) if consistent else units / 2


def stored_item_size(region: str, table: str, key: dict[str, Any]) -> int | None:
    """The size of the item moto holds under `key` (None if there is none): what a write is billed on."""
    from moto.dynamodb.models import dynamodb_backends

    backend = dynamodb_backends[ACCOUNT][region]
    try:
        moto_table = backend.get_table(table)
        key = {name: key[name] for name in (moto_table.hash_key_attr, moto_table.range_key_attr) if name}
        item = backend.get_item(table, key)
    except Exception:  # a table or key it does not know: the request failed, billed as the smallest write
        return None
    return None if item is None else item_size(item.to_json()["Attributes"])


def _written_key(operation: str, request: dict[str, Any]) -> dict[str, Any]:
    return request["Item"] if operation in ("Put", "PutItem") else request["Key"]


# ---- the meter


_active: Meter | None = None
_lock = threading.Lock()
_unmetered: contextvars.ContextVar[bool] = contextvars.ContextVar("localrt_unmetered", default=False)

_original_add_event = EventManager.add_event
_original_handle_retry = ExecutionState._handle_retry
_original_eval_job = DistributedItemProcessorWorker._eval_job
_original_make_api_call = BaseClient._make_api_call


def _add_event(self: EventManager, context: Any, event_type: Any, *args: Any, **kwargs: Any) -> int:
    if _active is not None:
        if str(event_type.value).endswith("StateEntered"):
            _active._count(states_entered=1)
        _active._saw_payload(max(map(_payload_bytes, (*args, *kwargs.values())), default=0))
    return _original_add_event(self, context, event_type, *args, **kwargs)


def _payload_bytes(details: Any) -> int:
    """The largest state input or output an event's details carry ({"stateEnteredEventDetails": {"input": ...}})."""
    if not isinstance(details, dict):
        return 0
    return max(
        (
            len(value.encode())
            for part in details.values()
            if isinstance(part, dict)
            for name, value in part.items()
            if name in ("input", "output") and isinstance(value, str)
        ),
        default=0,
    )


def _handle_retry(self: ExecutionState, env: Any, failure_event: Any) -> RetryOutcome:
    outcome = _original_handle_retry(self, env, failure_event)
    if _active is not None and outcome == RetryOutcome.CanRetry:
        _active._count(retries=1)
    return outcome


def _eval_job(self: DistributedItemProcessorWorker, env: Any, job: Any) -> None:
    if _active is not None:
        _active._count(child_executions=1)
    return _original_eval_job(self, env, job)


def _make_api_call(self: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
    meter = _active
    if meter is None or _unmetered.get():
        return _original_make_api_call(self, operation_name, api_params)
    service = self.meta.service_model.service_name
    before = meter._sizes_before(self.meta.region_name, operation_name, api_params) if service == "dynamodb" else []
    try:
        answer = _original_make_api_call(self, operation_name, api_params)
    except ClientError as error:  # a refused request is still a request (a failed conditional write is billed)
        meter._record(self, service, operation_name, api_params, error.response, before)
        raise
    meter._record(self, service, operation_name, api_params, answer, before)
    return answer


class Meter:
    """Counts what AWS bills while open (one at a time: the hooks are process-wide). Use as a context manager."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._usage = Usage()

    def __enter__(self) -> Meter:
        global _active
        with _lock:
            if _active is not None:
                raise RuntimeError("a Meter is already open")
            _active = self
            EventManager.add_event = _add_event  # type: ignore[method-assign]
            ExecutionState._handle_retry = _handle_retry  # type: ignore[method-assign]
            DistributedItemProcessorWorker._eval_job = _eval_job  # type: ignore[method-assign]
            BaseClient._make_api_call = _make_api_call  # type: ignore[method-assign]
            lambdas.INVOCATION_OBSERVERS.append(self._invoked)
        return self

    def __exit__(self, *exc: object) -> None:
        global _active
        with _lock:
            lambdas.INVOCATION_OBSERVERS.remove(self._invoked)
            BaseClient._make_api_call = _original_make_api_call  # type: ignore[method-assign]
            DistributedItemProcessorWorker._eval_job = _original_eval_job  # type: ignore[method-assign]
            ExecutionState._handle_retry = _original_handle_retry  # type: ignore[method-assign]
            EventManager.add_event = _original_add_event  # type: ignore[method-assign]
            _active = None

    @staticmethod
    @contextlib.contextmanager
    def unmetered() -> Iterator[None]:
        """AWS requests made by this thread inside the block are not the job's (the harness's own calls)."""
        token = _unmetered.set(True)
        try:
            yield
        finally:
            _unmetered.reset(token)

    def usage(self) -> Usage:
        """A copy of what was counted so far."""
        with self._lock:
            return copy.deepcopy(self._usage)

    # ---- counting (called from the hooks, on any thread)

    def _count(self, **amounts: int) -> None:
        with self._lock:
            for name, amount in amounts.items():
                setattr(self._usage, name, getattr(self._usage, name) + amount)

    def _saw_payload(self, size: int) -> None:
        with self._lock:
            self._usage.largest_state_payload = max(self._usage.largest_state_payload, size)

    def _count_request(self, service: str, operation: str, attempts: int) -> None:
        with self._lock:
            self._usage.requests[(service, operation)] += attempts

    def _invoked(self, spec: lambdas.FunctionSpec, seconds: float) -> None:
        billed_ms = max(1, math.ceil(seconds * 1000))
        with self._lock:
            self._usage.lambda_invocations[spec.name] += 1
            self._usage.lambda_billed_ms[spec.name] += billed_ms
            self._usage.mb_ms[spec.architecture] += billed_ms * spec.memory

    def _sizes_before(self, region: str, operation: str, request: dict[str, Any]) -> list[int | None]:
        """The sizes of the items a write will touch, before it: an update or delete is billed on the larger."""
        if operation in DYNAMODB_WRITES:
            return [stored_item_size(region, request["TableName"], _written_key(operation, request))]
        if operation == "TransactWriteItems":
            return [
                stored_item_size(region, body["TableName"], _written_key(kind, body))
                for entry in request["TransactItems"]
                for kind, body in entry.items()
            ]
        return []

    def _record(
        self,
        client: BaseClient,
        service: str,
        operation: str,
        request: dict[str, Any],
        answer: dict[str, Any],
        before: list[int | None],
    ) -> None:
        attempts = 1 + int(answer.get("ResponseMetadata", {}).get("RetryAttempts", 0))
        self._count_request(service, operation, attempts)
        if service == "s3":
            tier = s3_tier(operation)
            if tier:
                self._count(**{f"s3_tier{tier}": attempts})
        if service != "dynamodb":
            return
        reads, writes = self._dynamodb_units(client.meta.region_name, operation, request, answer, before)
        with self._lock:
            self._usage.dynamodb_read_units += reads * attempts
            self._usage.dynamodb_write_units += writes * attempts

    @staticmethod
    def _dynamodb_units(
        region: str, operation: str, request: dict[str, Any], answer: dict[str, Any], before: list[int | None]
    ) -> tuple[float, float]:
        """(read units, write units) of one DynamoDB request."""
        consistent = bool(request.get("ConsistentRead"))
        if operation in DYNAMODB_WRITES:
            after = stored_item_size(region, request["TableName"], _written_key(operation, request))
            sent = item_size(request.get("Item"))
            return 0.0, float(write_units(max(before[0] or 0, after or 0, sent)))
        if operation == "GetItem":
            return read_units(item_size(answer.get("Item")), consistent), 0.0
        if operation in ("Query", "Scan"):
            return read_units(sum(item_size(item) for item in answer.get("Items", [])), consistent), 0.0
        if operation == "TransactWriteItems":
            units = 0
            for (kind, body), size_before in zip(
                (next(iter(entry.items())) for entry in request["TransactItems"]), before, strict=True
            ):
                after = stored_item_size(region, body["TableName"], _written_key(kind, body))
                units += 2 * write_units(max(size_before or 0, after or 0, item_size(body.get("Item"))))
            return 0.0, float(units)
        if operation == "TransactGetItems":
            found = answer.get("Responses", [])
            return sum(2 * read_units(item_size(r.get("Item")), True) for r in found) or 2.0, 0.0
        if operation == "BatchWriteItem":
            return 0.0, float(
                sum(
                    write_units(item_size(w.get("PutRequest", {}).get("Item")))
                    for writes in request["RequestItems"].values()
                    for w in writes
                )
            )
        if operation == "BatchGetItem":
            return sum(
                read_units(item_size(item), bool(request["RequestItems"][table].get("ConsistentRead")))
                for table, items in answer.get("Responses", {}).items()
                for item in items
            ), 0.0
        return 0.0, 0.0  # control-plane calls (DescribeTable, ...) are not billed by request units
