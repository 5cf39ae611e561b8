"""Deliver S3 event notifications after the request that caused them, as S3 does.

moto sends a PUT's notification from inside the request, before it has stored the object's
metadata (where a dropped file's job options are). S3 delivers notifications asynchronously once
the object exists, so this queues them during the request and delivers them afterwards.
"""

from __future__ import annotations

import threading
from typing import Any

from moto.s3 import notifications
from moto.s3.responses import S3Response

from localrt import lambdas

_state = threading.local()
_original_send = notifications.send_event
_original_key_response = S3Response.key_response


def _send_event(*args: Any, **kwargs: Any) -> None:
    queue = getattr(_state, "queue", None)
    if queue is None:
        _original_send(*args, **kwargs)
    else:
        queue.append((args, kwargs))


def _deliver(*args: Any, **kwargs: Any) -> None:
    try:
        _original_send(*args, **kwargs)
    finally:
        lambdas.IN_FLIGHT.leave()  # entered when the delivery was queued


def _key_response(self: S3Response, *args: Any, **kwargs: Any) -> Any:
    _state.queue = []
    try:
        return _original_key_response(self, *args, **kwargs)
    finally:
        queue, _state.queue = _state.queue, None
        for event_args, event_kwargs in queue:
            lambdas.IN_FLIGHT.enter()
            threading.Thread(target=_deliver, args=event_args, kwargs=event_kwargs, daemon=True).start()


def install() -> None:
    notifications.send_event = _send_event
    S3Response.key_response = _key_response  # type: ignore[method-assign]


def uninstall() -> None:
    notifications.send_event = _original_send
    S3Response.key_response = _original_key_response  # type: ignore[method-assign]
