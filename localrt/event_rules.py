"""Deliver EventBridge events to Lambda targets, as EventBridge does (asynchronously).

moto matches rules and delivers to logs, SQS and other buses, but not to Lambda functions; this adds
that, for rules on any bus. Scheduled rules never fire in moto: `LocalRuntime.trigger` sends their
event by hand.

The invocation is asynchronous (the function's failures are the Lambda service's to retry and record: see
localrt.lambdas). When EventBridge cannot invoke the target at all (the function does not exist, or the call keeps
failing) it retries per the target's RetryPolicy (here at once; a missing function is not retried, as EventBridge
does not retry ResourceNotFound) and then sends the event to the target's DeadLetterConfig queue, with the message
attributes EventBridge documents (RULE_ARN, TARGET_ARN, ERROR_CODE, ERROR_MESSAGE, EXHAUSTED_RETRY_CONDITION,
RETRY_ATTEMPTS).
"""

from __future__ import annotations

import copy
import json
import threading
from typing import Any

from moto.awslambda.utils import get_backend
from moto.events.models import Rule

from localrt import lambdas

_original_send = Rule.send_to_targets


DEFAULT_RETRY_ATTEMPTS = 185  # EventBridge's default RetryPolicy


def _invoke(rule_arn: str, target: dict[str, Any], event: Any) -> None:
    function_arn = target["Arn"]
    _, _, _, region, account, *_ = function_arn.split(":")
    retries = int((target.get("RetryPolicy") or {}).get("MaximumRetryAttempts", DEFAULT_RETRY_ATTEMPTS))
    try:
        for attempt in range(retries + 1):
            try:
                get_backend(account, region).invoke(
                    function_name=function_arn,
                    qualifier=None,
                    body=json.dumps(event),
                    headers={"x-amz-invocation-type": "Event"},
                    response_headers={},
                )
                return
            except Exception as error:  # noqa: BLE001 - EventBridge keeps what it could not deliver
                code = getattr(error, "error_type", None) or type(error).__name__  # moto: the AWS error code
                if code == "ResourceNotFoundException" or attempt == retries:
                    _dead_letter(rule_arn, target, event, code, getattr(error, "message", None) or str(error), attempt)
                    return
    finally:
        lambdas.IN_FLIGHT.leave()  # entered when the delivery was queued


def _dead_letter(rule_arn: str, target: dict[str, Any], event: Any, code: str, message: str, retries: int) -> None:
    queue = (target.get("DeadLetterConfig") or {}).get("Arn")
    if not queue:
        return  # EventBridge drops it too: this is what the dead-letter queue is for
    attributes = {
        "RULE_ARN": rule_arn,
        "TARGET_ARN": target["Arn"],
        "ERROR_CODE": code,
        "ERROR_MESSAGE": message[:256],
        "EXHAUSTED_RETRY_CONDITION": "MaximumRetryAttempts" if code != "ResourceNotFoundException" else "",
        "RETRY_ATTEMPTS": str(retries),
    }
    lambdas.send_to_destination(queue, event, {k: v for k, v in attributes.items() if v})


def _send_to_targets(self: Rule, original_event: dict[str, Any], transform_input: bool = True) -> None:
    functions = [t for t in self.targets if t["Arn"].startswith("arn:aws:lambda:")]
    others = copy.copy(self)
    others.targets = [t for t in self.targets if t not in functions]  # moto refuses targets it cannot reach
    _original_send(others, original_event, transform_input)
    if not self.event_pattern.matches_event(original_event):
        return
    for target in functions:
        event = json.loads(target["Input"]) if "Input" in target else original_event
        lambdas.IN_FLIGHT.enter()
        threading.Thread(target=_invoke, args=(self.arn, target, event), daemon=True).start()


def install() -> None:
    Rule.send_to_targets = _send_to_targets  # type: ignore[method-assign]


def uninstall() -> None:
    Rule.send_to_targets = _original_send  # type: ignore[method-assign]
