"""DynamoDB's item operations made whole in moto.

DynamoDB applies each item write whole, a conditional write's check and write at once, and a consistent read sees
whole items; moto changes an item in place, attribute after attribute, and checks a condition before it writes, with
no lock, so concurrent requests (the Map's chunks, the rate gate's Lambdas) could see half a write or both pass a
condition only one should. One lock around each operation makes it whole, as in DynamoDB.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable, Iterator
from typing import Any

from moto.dynamodb.models import DynamoDBBackend

OPERATIONS = (
    "get_item",
    "put_item",
    "update_item",
    "delete_item",
    "query",
    "scan",
    "batch_get_item",
    "transact_get_items",
    "transact_write_items",
)
_lock = threading.RLock()
_originals: dict[str, Callable[..., Any]] = {}


def _whole(operation: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(operation)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with _lock:
            return operation(*args, **kwargs)

    return locked


def install() -> None:
    if _originals:
        return
    for name in OPERATIONS:
        _originals[name] = getattr(DynamoDBBackend, name)
        setattr(DynamoDBBackend, name, _whole(_originals[name]))


def uninstall() -> None:
    for name, operation in _originals.items():
        setattr(DynamoDBBackend, name, operation)
    _originals.clear()


@contextlib.contextmanager
def whole_item_operations() -> Iterator[None]:
    installed = bool(_originals)
    install()
    try:
        yield
    finally:
        if not installed:
            uninstall()
