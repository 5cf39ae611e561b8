"""Deliver S3 event notifications after the request that caused them, as S3 does.

moto sends a PUT's notification from inside the request, before it has stored the object's
metadata (where a dropped file's job options are). S3 delivers notifications asynchronously once
the object exists, so this queues them during the request and delivers them afterwards.

S3 names the version put (in a versioned bucket) and who put the object in each record,
`userIdentity.principalId` (`AWS:` and the principal id, AIDA... for a user, AROA...:session for a role session);
moto's records leave both out. Here the principal is that of the access key the request was signed with, looked
up in moto as the local API looks its callers up (localrt/iam_auth.py).

S3 invokes a function asynchronously (InvocationType Event), so a failed invocation is the Lambda service's to
retry and then record in the function's on-failure destination (localrt.lambdas); moto's own delivery invokes
synchronously and swallows the error.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from moto.awslambda.utils import get_backend
from moto.s3 import notifications
from moto.s3.responses import S3Response

from localrt import iam_auth, lambdas

_state = threading.local()
_original_send = notifications.send_event
_original_key_response = S3Response.key_response
_original_s3_event = notifications._get_s3_event
_original_invoke_awslambda = notifications._invoke_awslambda


def _s3_event(event_name: str, bucket: Any, key: Any, notification_id: str) -> dict[str, Any]:
    event = _original_s3_event(event_name, bucket, key, notification_id)
    if key.version_id != "null":  # a versioned bucket's event names the version put (moto's leaves it out)
        for record in event["Records"]:
            record["s3"]["object"]["versionId"] = key.version_id
    principal = getattr(_state, "principal", None)
    if principal is not None:
        for record in event["Records"]:
            record["userIdentity"] = {"principalId": f"AWS:{principal}"}
            record["requestParameters"] = {"sourceIPAddress": "127.0.0.1"}
    return event


def _invoke_awslambda(account_id: str, event_body: Any, fn_arn: str, region_name: str) -> None:
    """S3's delivery to a function: an asynchronous invoke (S3 drops it only if the function does not exist)."""
    try:
        function = get_backend(account_id, region_name).get_function(fn_arn)
    except Exception:  # noqa: BLE001 - moto's "function not found"; S3 cannot deliver to it, nothing else happens
        return
    function.invoke(json.dumps(event_body), {"x-amz-invocation-type": "Event"}, {})


def _send_event(*args: Any, **kwargs: Any) -> None:
    queue = getattr(_state, "queue", None)
    if queue is None:
        _original_send(*args, **kwargs)
    else:
        queue.append((args, kwargs))


def _deliver(principal: str | None, *args: Any, **kwargs: Any) -> None:
    _state.principal = principal
    try:
        _original_send(*args, **kwargs)
    finally:
        _state.principal = None
        lambdas.IN_FLIGHT.leave()  # entered when the delivery was queued


def _dropper(response: S3Response) -> str | None:
    """The principal id of who signed the S3 request (None: a key S3 would have refused)."""
    try:
        return iam_auth.principal_of(response.get_access_key()).user_id
    except iam_auth.Refused:
        return None


def _key_response(self: S3Response, *args: Any, **kwargs: Any) -> Any:
    _state.queue = []
    try:
        return _original_key_response(self, *args, **kwargs)
    finally:
        queue, _state.queue = _state.queue, None
        principal = _dropper(self) if queue else None
        for event_args, event_kwargs in queue:
            lambdas.IN_FLIGHT.enter()
            arguments = (principal, *event_args)
            threading.Thread(target=_deliver, args=arguments, kwargs=event_kwargs, daemon=True).start()


def install() -> None:
    notifications.send_event = _send_event
    notifications._get_s3_event = _s3_event
    notifications._invoke_awslambda = _invoke_awslambda
    S3Response.key_response = _key_response  # type: ignore[method-assign]


def uninstall() -> None:
    notifications.send_event = _original_send
    notifications._get_s3_event = _original_s3_event
    notifications._invoke_awslambda = _original_invoke_awslambda
    S3Response.key_response = _original_key_response  # type: ignore[method-assign]
