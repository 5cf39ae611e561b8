"""Deliver EventBridge events to Lambda targets, as EventBridge does (asynchronously).

moto matches rules and delivers to logs, SQS and other buses, but not to Lambda functions; this adds
that, for rules on any bus. Scheduled rules never fire in moto: `LocalRuntime.trigger` sends their
event by hand.
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


def _invoke(function_arn: str, event: Any) -> None:
    _, _, _, region, account, *_ = function_arn.split(":")
    try:
        get_backend(account, region).invoke(
            function_name=function_arn,
            qualifier=None,
            body=json.dumps(event),
            headers={"x-amz-invocation-type": "Event"},
            response_headers={},
        )
    finally:
        lambdas.IN_FLIGHT.leave()  # entered when the delivery was queued


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
        threading.Thread(target=_invoke, args=(target["Arn"], event), daemon=True).start()


def install() -> None:
    Rule.send_to_targets = _send_to_targets  # type: ignore[method-assign]


def uninstall() -> None:
    Rule.send_to_targets = _original_send  # type: ignore[method-assign]
