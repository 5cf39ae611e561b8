"""The functions' metrics, as CloudWatch gets them in AWS: each invocation's EMF lines become CloudWatch metrics.

In Lambda, Powertools writes an invocation's metrics as one EMF (embedded metric format) JSON line on stdout;
CloudWatch Logs stores the line in the function's log group and extracts the metrics it declares. Here that is
emulated faithfully in two parts:

- **One metric set per invocation.** Lambda runs one invocation at a time in a process, and Powertools keeps one
  metric set per process (class-level dicts every `Metrics()` shares). Here invocations share the process and run
  in threads, so the set (metrics, dimensions, metadata) of every Powertools EMF provider is looked up in the
  running invocation's own store (a ContextVar); outside an invocation each provider keeps its own, as before.
- **The EMF line reaches CloudWatch.** Powertools prints it from its EMF provider module; there `print` is
  replaced: within an invocation the line is parsed and its metrics are put into (moto's) CloudWatch with
  `put_metric_data`, one datum per value, with the line's namespace, dimension sets, units and timestamp, as
  CloudWatch's EMF extraction does. Nothing reaches the console; outside an invocation the line is printed.

Tests read the metrics back with CloudWatch's own API (`LocalRuntime.metric_sum`).
"""

from __future__ import annotations

import builtins
import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import boto3
from aws_lambda_powertools.metrics.provider.cloudwatch_emf import cloudwatch as emf_provider

# The provider's attributes that make up the process's metric set.
METRIC_SET_ATTRIBUTES = ("metric_set", "dimension_set", "metadata_set", "dimension_sets")
MAX_DATA_PER_CALL = 1000  # CloudWatch's limit of PutMetricData


@dataclass
class InvocationMetrics:
    """What one invocation's process would hold: its metric set, and the EMF documents it wrote."""

    function_name: str
    metric_set: dict[str, Any] = field(default_factory=dict)
    dimension_set: dict[str, str] = field(default_factory=dict)
    metadata_set: dict[str, Any] = field(default_factory=dict)
    dimension_sets: list[dict[str, str]] = field(default_factory=list)
    documents: list[dict[str, Any]] = field(default_factory=list)


_current: ContextVar[InvocationMetrics | None] = ContextVar("localrt_invocation_metrics", default=None)
_region: str | None = None
_cloudwatch: Any = None


def _per_invocation(name: str) -> property:
    """The provider's `name`: the running invocation's, else the provider's own (kept in its __dict__, so that it
    is there again once the property is removed)."""

    def get(provider: Any) -> Any:
        invocation = _current.get()
        return getattr(invocation, name) if invocation is not None else vars(provider)[name]

    def set_(provider: Any, value: Any) -> None:
        vars(provider)[name] = value

    return property(get, set_)


def _print_emf(*values: Any, **kwargs: Any) -> None:
    """`print` inside Powertools' EMF provider: within an invocation, the line goes to CloudWatch."""
    invocation = _current.get()
    if invocation is None or len(values) != 1 or kwargs:
        builtins.print(*values, **kwargs)
        return
    document = json.loads(values[0])
    invocation.documents.append(document)
    put_metrics(document)


def metric_data(document: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    """An EMF document as PutMetricData calls: (namespace, metric data), one datum per value and dimension set."""
    directives = document["_aws"]
    timestamp = dt.datetime.fromtimestamp(directives["Timestamp"] / 1000, dt.UTC)
    calls = []
    for directive in directives["CloudWatchMetrics"]:
        data = []
        for dimension_names in directive["Dimensions"]:
            dimensions = [{"Name": name, "Value": str(document[name])} for name in dimension_names]
            for metric in directive["Metrics"]:
                values = document[metric["Name"]]
                for value in values if isinstance(values, list) else [values]:
                    datum = {
                        "MetricName": metric["Name"],
                        "Dimensions": dimensions,
                        "Value": float(value),
                        "Unit": metric.get("Unit", "None"),
                        "Timestamp": timestamp,
                        "StorageResolution": metric.get("StorageResolution", 60),
                    }
                    data.append(datum)
        calls.append((directive["Namespace"], data))
    return calls


def put_metrics(document: dict[str, Any]) -> None:
    global _cloudwatch
    if _cloudwatch is None:
        _cloudwatch = boto3.client("cloudwatch", region_name=_region)
    for namespace, data in metric_data(document):
        for start in range(0, len(data), MAX_DATA_PER_CALL):
            _cloudwatch.put_metric_data(Namespace=namespace, MetricData=data[start : start + MAX_DATA_PER_CALL])


@contextmanager
def invocation(function_name: str) -> Iterator[InvocationMetrics]:
    """The enclosed code is one invocation: a fresh metric set, its EMF lines sent to CloudWatch."""
    metrics = InvocationMetrics(function_name)
    token = _current.set(metrics)
    try:
        yield metrics
    finally:
        _current.reset(token)


def install(region: str) -> None:
    global _region, _cloudwatch
    _region, _cloudwatch = region, None
    provider = emf_provider.AmazonCloudWatchEMFProvider
    for name in METRIC_SET_ATTRIBUTES:
        setattr(provider, name, _per_invocation(name))
    emf_provider.print = _print_emf  # type: ignore[attr-defined]


def installed_region() -> str | None:
    """The region metrics go to while installed, else None."""
    return _region if isinstance(vars(emf_provider.AmazonCloudWatchEMFProvider).get("metric_set"), property) else None


def uninstall() -> None:
    global _cloudwatch, _region
    _cloudwatch, _region = None, None
    provider = emf_provider.AmazonCloudWatchEMFProvider
    for name in METRIC_SET_ATTRIBUTES:
        if isinstance(vars(provider).get(name), property):
            delattr(provider, name)
    vars(emf_provider).pop("print", None)
