"""moto's DynamoDB operations as DynamoDB's: each item operation whole, and TransactWriteItems isolated from other
writes, undoing only its own items.

DynamoDB applies each item write whole, a conditional write's check and write at once, and a consistent read sees
whole items; moto changes an item in place, attribute after attribute, with no lock, so concurrent requests (the
Map's chunks, the rate gate's Lambdas) could see half a write, or both pass a condition only one should.

moto backs a transaction up by deep-copying every table it names, and rolls a cancelled one back by putting that
copy in the table's place. With the functions writing to the jobs table from many threads at once (chunk
markers, send ledgers, pacing budgets, the job item), that costs three things DynamoDB never does:
- a copy taken while another thread writes fails ("dictionary changed size during iteration": a 500, retried);
- a rollback puts back the whole table as it was, losing every other writer's items written meanwhile;
- each transaction copies the whole table: ~20 us an item, so a job's per-chunk transactions grow with the table.
Here every operation on moto's DynamoDB holds one lock (reads included; a transaction's items change with nobody
writing between its check and its rollback), moto's table copy is skipped, and a cancelled transaction puts back
only the items it names, as they were before it.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import threading
from collections.abc import Callable, Iterator
from typing import Any

from moto.dynamodb import models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table

OPERATIONS = (
    "put_item",
    "update_item",
    "delete_item",
    "get_item",
    "query",
    "scan",
    "batch_get_item",
    "transact_get_items",
)
_lock = threading.RLock()
_originals: dict[str, Callable[..., Any]] = {name: getattr(DynamoDBBackend, name) for name in OPERATIONS}
_original_transact = DynamoDBBackend.transact_write_items


class _CopyWithoutTables:
    """The `copy` module as moto's DynamoDB models see it: a table is its own backup (see the module's doc)."""

    copy = staticmethod(copy.copy)

    @staticmethod
    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)


def _serialized(write: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(write)
    def locked(self: DynamoDBBackend, *args: Any, **kwargs: Any) -> Any:
        with _lock:
            return write(self, *args, **kwargs)

    return locked


def _key_of(backend: DynamoDBBackend, operation: str, body: dict[str, Any]) -> dict[str, Any]:
    if operation != "Put":
        return body["Key"]
    table = backend.get_table(body["TableName"])
    return {name: body["Item"][name] for name in (table.hash_key_attr, table.range_key_attr) if name}


def _transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    with _lock:
        before: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = []
        for entry in transact_items:
            try:
                (operation, body), *_ = entry.items()
                key = _key_of(self, operation, body)
                item = self.get_item(body["TableName"], key)
            except Exception:  # noqa: S112 (a malformed entry: moto refuses the transaction before writing anything)
                continue
            before.append((body["TableName"], key, None if item is None else item.to_json()["Attributes"]))
        try:
            _original_transact(self, transact_items)
        except Exception:
            for table_name, key, attributes in reversed(before):
                if attributes is None:
                    self.delete_item(table_name, key)
                else:
                    self.put_item(table_name, attributes)
            raise


_installs = 0  # the runtime and a test may both ask: the patches stay until the last one is done


def install() -> None:
    global _installs
    _installs += 1
    if _installs > 1:
        return
    for name in OPERATIONS:
        setattr(DynamoDBBackend, name, _serialized(_originals[name]))
    DynamoDBBackend.transact_write_items = _transact_write_items  # type: ignore[method-assign]
    models.copy = _CopyWithoutTables  # type: ignore[attr-defined]


def uninstall() -> None:
    global _installs
    _installs = max(0, _installs - 1)
    if _installs:
        return
    for name in OPERATIONS:
        setattr(DynamoDBBackend, name, _originals[name])
    DynamoDBBackend.transact_write_items = _original_transact  # type: ignore[method-assign]
    models.copy = copy  # type: ignore[attr-defined]


@contextlib.contextmanager
def whole_operations() -> Iterator[None]:
    """The patches for the enclosed code only (tests and benchmarks that run moto without the local runtime)."""
    install()
    try:
        yield
    finally:
        uninstall()
