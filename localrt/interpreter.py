"""Where moto's ASL interpreter would make a local job slower, or stop it, where Step Functions would not.

moto's Distributed Map keeps the Map's MaxConcurrency (MaxConcurrencyPath included: that many workers) and each
worker takes the next item as soon as its child execution ends, as Step Functions does. Two things are the
emulator's own, and are replaced here:
- A worker moves to its next item by calling itself (`_eval_pool` recursing once per item), so a worker that
  runs more items than Python's recursion limit allows (about 900) dies with a RecursionError, and the Map waits
  forever for items nobody runs: a local job of a few thousand chunks never ends. The loop below is the same
  steps without the recursion.
- Every Task that invokes a Lambda function builds a new boto3 client (and opens a new connection to the
  emulator) for that one call. One client per region, shared (botocore clients are thread-safe), keeps a pool of
  open connections instead.
"""

from __future__ import annotations

import functools
import sys
import threading
from typing import Any

import boto3
from botocore.client import BaseClient
from botocore.config import Config
from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import TimeoutSeconds
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor.distributed_item_processor_worker import (  # noqa: E501
    DistributedItemProcessorWorker,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.job import Job
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.parse import asl_parser  # noqa: F401 (loads every module that makes clients)
from moto.stepfunctions.parser.asl.utils import boto_client

_original_eval_pool = DistributedItemProcessorWorker._eval_pool
_original_client_for = boto_client.boto_client_for
_lock = threading.Lock()


def _eval_pool(self: DistributedItemProcessorWorker, job: Job | None, worker_frame: Environment) -> None:
    """moto's worker loop, item after item, without recursion: each item runs in a fresh frame; the next is taken
    as soon as one ends; a failed item or a stop ends the worker (the Map then fails or stops, as in moto)."""
    while job is not None:
        job_frame = worker_frame.open_inner_frame()
        self._eval_job(env=job_frame, job=job)
        worker_frame.delete_frame(job_frame)
        if isinstance(job.job_output, Exception) or self.stopped():
            break
        next_job = self._job_pool.next_job()
        if next_job is None:
            break
        self._job_pool.close_job(job)
        job = next_job
    # The frame is closed before the last job, so the Map sees its environment settled when it sees the job end.
    self._env.delete_frame(worker_frame)
    if job is not None:
        self._job_pool.close_job(job)


@functools.cache
def _shared_client(region: str, service: str, endpoint_url: str | None) -> BaseClient:
    with _lock:  # a session is not thread-safe while it builds a client
        return boto3.session.Session().client(
            service,
            region_name=region,
            endpoint_url=endpoint_url,
            aws_access_key_id="ak",
            aws_secret_access_key="sk",  # noqa: S106 (moto's own placeholder)
            config=Config(
                parameter_validation=False,
                retries={"max_attempts": 0, "total_max_attempts": 1},
                connect_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS,
                read_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS,
                max_pool_connections=64,
            ),
        )


def _client_for(region: str, service: str, state_credentials: Any = None) -> BaseClient:
    """moto's boto_client_for, one client per (region, service) instead of one per call."""
    from moto.core.models import botocore_stubber
    from moto.settings import moto_server_port

    endpoint = None if botocore_stubber.enabled else f"http://127.0.0.1:{moto_server_port()}"
    return _shared_client(region, service, endpoint)


def _rebind(old: Any, new: Any) -> None:
    """Point every loaded module of moto's interpreter that imported `old` by name at `new`."""
    for module in list(sys.modules.values()):
        name = getattr(module, "__name__", "") or ""
        if name.startswith("moto.stepfunctions.parser") and getattr(module, "boto_client_for", None) is old:
            module.boto_client_for = new  # type: ignore[attr-defined]


def install() -> None:
    DistributedItemProcessorWorker._eval_pool = _eval_pool  # type: ignore[method-assign]
    _rebind(_original_client_for, _client_for)


def uninstall() -> None:
    DistributedItemProcessorWorker._eval_pool = _original_eval_pool  # type: ignore[method-assign]
    _rebind(_client_for, _original_client_for)
    _shared_client.cache_clear()  # the next runtime serves on another port
