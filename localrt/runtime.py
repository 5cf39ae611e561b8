"""Start emulated AWS (moto, in-process on 127.0.0.1), the vendor simulators, and deploy template.yaml."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import socket
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import httpx
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

from localrt import dynamodb, emf, event_rules, interpreter, lambdas, s3_events
from localrt.deploy import ACCOUNT, REGION, Deployment, deploy
from localrt.live import LiveVendor
from localrt.simulators.base import Simulator
from localrt.simulators.check365 import Check365Simulator
from localrt.simulators.insideview import InsideViewSimulator
from localrt.simulators.prospeo import ProspeoSimulator
from localrt.simulators.pubrio import PubrioSimulator
from localrt.state import LocalState

ROOT = Path(__file__).resolve().parent.parent
FINAL_STATUSES = {"SUCCEEDED", "PARTIAL", "FAILED", "CANCELLED"}

# The template's name for each vendor (parameters <Name>ApiUrl, outputs <Name>SecretArn).
TEMPLATE_NAMES = {"pubrio": "Pubrio", "prospeo": "Prospeo", "check365": "Check365", "insideview": "InsideView"}

# Pacing for local runs: short waits so a job finishes in seconds, the same code paths as in AWS. Chunk and batch
# sizes are the deployed ones (InsideView's 10,000-id jobs aside, smaller so a sample file makes several).
_FAST = {
    "first_wait_seconds": 1,
    "backoff_base_seconds": 1,
    "backoff_max_seconds": 3,
    "max_polls": 30,
    "deadline_seconds": 120,
    "http_timeout_seconds": 5,
}
LOCAL_VENDOR_SETTINGS = {
    "pubrio": _FAST,
    "prospeo": _FAST | {"requests_per_minute": 1800},  # the simulator's plan: Pro
    "check365": _FAST | {"requests_per_minute": 600},  # the simulator's limit
    "insideview": _FAST | {"chunk_size": 200},
}


def default_simulators() -> dict[str, Simulator]:
    return {
        "pubrio": PubrioSimulator(),
        "prospeo": ProspeoSimulator(),
        "check365": Check365Simulator(),
        "insideview": InsideViewSimulator(),
    }


class _ScaledSleep:
    """Stands in for the `time` module inside moto's retrier."""

    def __init__(self, scale: float) -> None:
        self.scale = scale

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds * self.scale)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class JobView:
    item: dict[str, Any]

    @property
    def status(self) -> str:
        return self.item.get("status", "PENDING")


class LocalRuntime:
    """The whole product on this machine. Use as a context manager."""

    def __init__(
        self,
        *,
        stack_name: str = "enrich-local",
        vendor_settings: dict[str, Any] | None = None,
        log_level: str = "WARNING",
        simulators: dict[str, Simulator] | None = None,
        retry_delay_scale: float = 1.0,
        live: dict[str, LiveVendor] | None = None,
        webhook_allow: str = "",
        state_dir: Path | None = None,
    ) -> None:
        """`retry_delay_scale` shortens the state machine's Retry intervals (tests use 0.1): the same
        retries, on a faster clock. Wait states need no such help: their seconds come from the data.
        `live` puts a vendor's real endpoint and credentials in place of its simulator (localrt/live.py),
        with the product's default settings for it and the file's overrides, not the fast local ones.
        `webhook_allow` is the template's WebhookAllow: host:port pairs a webhook may reach off the public
        internet (jobs/webhook_address.py), empty by default as in AWS.
        `state_dir` keeps the stack's data between runtimes (localrt/state.py): restored at start, saved at stop;
        None (tests) keeps it in memory only."""
        self.stack_name = stack_name
        self.live = live or {}
        self.vendor_settings = (vendor_settings or LOCAL_VENDOR_SETTINGS) | {
            vendor: config.settings for vendor, config in self.live.items()
        }
        self.log_level = log_level
        simulators = simulators or default_simulators()
        self.simulators: dict[str, Simulator] = {k: v for k, v in simulators.items() if k not in self.live}
        self.retry_delay_scale = retry_delay_scale
        self.webhook_allow = webhook_allow
        self._server: Any = None
        self._saved_env: dict[str, str | None] = {}
        self.deployment: Deployment | None = None
        self.state = LocalState(state_dir) if state_dir is not None else None
        self.restored: dict[str, int] = {}  # what start() put back from state_dir: {table or "objects": count}
        self._not_waited_for: set[str] = set()  # executions wait_idle found still running after its timeout

    # ---- lifecycle ----

    def __enter__(self) -> LocalRuntime:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        from moto.server import ThreadedMotoServer

        port = free_port()
        self._set_env(
            {
                "AWS_ACCESS_KEY_ID": "local",
                "AWS_SECRET_ACCESS_KEY": "local",
                "AWS_SESSION_TOKEN": "local",
                "AWS_DEFAULT_REGION": REGION,
                "AWS_REGION": REGION,
                "MOTO_PORT": str(port),
                "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
                "POWERTOOLS_TRACE_DISABLED": "true",
                "POWERTOOLS_LOG_LEVEL": self.log_level,
                "POWERTOOLS_SERVICE_NAME": "contact-enrichment",
            }
        )
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        self._server.start()
        httpx.post(
            f"http://127.0.0.1:{port}/moto-api/config", json={"stepfunctions": {"execute_state_machine": True}}
        ).raise_for_status()
        for simulator in self.simulators.values():
            simulator.start()
            lambdas.SIMULATOR_ORIGINS.add(simulator.url)
        parameters = {f"{TEMPLATE_NAMES[name]}ApiUrl": sim.url for name, sim in self.simulators.items()}
        if "insideview" in self.simulators:  # the simulator serves the login host too
            parameters["InsideViewLoginUrl"] = self.simulators["insideview"].url
        for name, config in self.live.items():
            parameters[f"{TEMPLATE_NAMES[name]}ApiUrl"] = config.api_url
            if config.login_url:
                parameters["InsideViewLoginUrl"] = config.login_url
        parameters |= {
            "VendorSettings": json.dumps(self.vendor_settings),
            "LogLevel": self.log_level,
            "WebhookAllow": self.webhook_allow,
        }
        self.deployment = deploy(ROOT, self.stack_name, parameters)
        if self.state is not None:  # into the stack just deployed, before anything runs
            self.restored = self.state.restore(self.bucket)
        lambdas.install(self.deployment.functions, self.deployment.layer_dirs)
        emf.install(REGION)
        s3_events.install()
        event_rules.install()
        interpreter.install()
        dynamodb.install()
        retrier_decl.time = _ScaledSleep(self.retry_delay_scale)
        self._reset_layer_caches()
        secrets = self.client("secretsmanager")
        credentials = {name: sim.credentials() for name, sim in self.simulators.items()}
        credentials |= {name: config.credentials for name, config in self.live.items()}
        for name, secret in credentials.items():
            secrets.put_secret_value(
                SecretId=self.outputs[f"{TEMPLATE_NAMES[name]}SecretArn"], SecretString=json.dumps(secret)
            )

    def stop(self) -> None:
        if self._server is not None and self.deployment is not None:
            self._stop_executions()
            self._save_state()
        for simulator in self.simulators.values():
            if simulator._server is not None:
                lambdas.SIMULATOR_ORIGINS.discard(simulator.url)
            simulator.stop()
        if self._server is not None:
            self._server.stop()
            self._server = None
        lambdas.uninstall()
        emf.uninstall()
        s3_events.uninstall()
        event_rules.uninstall()
        interpreter.uninstall()
        dynamodb.uninstall()
        retrier_decl.time = time
        self._reset_layer_caches()
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    def _save_state(self) -> None:
        if self.state is None:
            return
        try:
            self.state.save(self.bucket)
        except Exception as error:  # stopping goes on; the last complete snapshot stays as it was
            print(f"local state not saved ({type(error).__name__}: {error}); kept: the one before", file=sys.stderr)

    def _stop_executions(self) -> None:
        """Executions still polling (a job left unfinished) would call a server that is going away."""
        sfn = self.client("stepfunctions")
        with contextlib.suppress(Exception):
            paginator = sfn.get_paginator("list_executions")
            for page in paginator.paginate(stateMachineArn=self.outputs["JobStateMachineArn"], statusFilter="RUNNING"):
                for execution in page["executions"]:
                    sfn.stop_execution(executionArn=execution["executionArn"], cause="local runtime stopping")

    def _set_env(self, values: dict[str, str]) -> None:
        for key, value in values.items():
            self._saved_env.setdefault(key, os.environ.get(key))
            os.environ[key] = value

    @staticmethod
    def _reset_layer_caches() -> None:
        # Cached clients and secrets from an earlier runtime would point at a dead server.
        try:
            from enrichment import aws, secrets
        except ImportError:
            return
        aws.reset_clients()
        secrets._provider.cache_clear()

    # ---- use ----

    def forget_cached_secrets(self) -> None:
        """The functions read their secrets afresh, as they do in AWS once the cache expires after a rotation."""
        from enrichment import secrets

        secrets._provider.cache_clear()

    @property
    def outputs(self) -> dict[str, Any]:
        assert self.deployment is not None
        return self.deployment.outputs

    @property
    def bucket(self) -> str:
        return self.outputs["DataBucketName"]

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=REGION)

    @property
    def result_cache_table(self) -> str:
        assert self.deployment is not None
        return self.deployment.resources["ResultCacheTable"]

    def forget_result_cache(self) -> int:
        """Delete every result cache entry (as `enrich cache purge --all` would): a test starts with none, as it
        starts with a clean simulator ledger. The number deleted."""
        from enrichment.pipeline.result_cache import PurgeRequest, purge

        return purge(self.result_cache_table, PurgeRequest()).deleted

    def function_name(self, logical_id: str) -> str:
        assert self.deployment is not None
        return self.deployment.resources[logical_id]

    def vendor_function(self, vendor: str) -> str:
        """The deployed name of a vendor's function (the template's <Name>Function)."""
        if vendor not in TEMPLATE_NAMES:
            raise KeyError(f"unknown vendor {vendor!r}; known: {', '.join(TEMPLATE_NAMES)}")
        return self.function_name(f"{TEMPLATE_NAMES[vendor]}Function")

    def inject_fault(self, kind: str, *, vendor: str, times: int = 1) -> None:
        """A runtime fault in the vendor's function for its next `times` matching invocations.

        `check_timeout`: a round that checks a vendor job (a batch with an accepted chunk) runs the handler in
        full (its side effects happen), then reports Sandbox.Timedout instead of its answer (see localrt.lambdas)."""
        lambdas.FAULTS.inject(kind, self.vendor_function(vendor), times)

    def runtime_faults(self) -> dict[tuple[str, str], int]:
        """Runtime faults not yet met: {(kind, function name): times left}."""
        return lambdas.FAULTS.pending()

    def reset_faults(self) -> None:
        """Forget every runtime fault not yet met."""
        lambdas.FAULTS.clear()

    def settings(self, logical_id: str = "ApiFunction") -> Any:
        """The layer's Settings as the deployed function `logical_id` loads them (its environment variables)."""
        from enrichment.settings import Settings, function_environment

        with function_environment(lambdas.FUNCTIONS[self.function_name(logical_id)].environment):
            return Settings.load()

    def set_environment(self, logical_id: str, variables: dict[str, str]) -> None:
        """Change a deployed function's environment variables, as `aws lambda update-function-configuration`
        does: its next invocations see them."""
        name = self.function_name(logical_id)
        spec = lambdas.FUNCTIONS[name]
        spec.environment.update(variables)
        self.client("lambda").update_function_configuration(
            FunctionName=name, Environment={"Variables": dict(spec.environment)}
        )

    def invoke(self, logical_id: str, event: dict[str, Any]) -> tuple[Any, bool]:
        """Invoke a deployed function as AWS would; returns its answer and whether it raised."""
        answer = self.client("lambda").invoke(FunctionName=self.function_name(logical_id), Payload=json.dumps(event))
        return json.loads(answer["Payload"].read() or b"null"), "FunctionError" in answer

    def trigger(self, rule_name: str) -> tuple[Any, bool]:
        """Fire a scheduled rule now: its function gets the Scheduled Event EventBridge would send."""
        assert self.deployment is not None
        if rule_name not in self.deployment.schedules:
            known = ", ".join(sorted(self.deployment.schedules))
            raise KeyError(f"no scheduled rule {rule_name!r} in the template (scheduled rules: {known})")
        rule_arn = self.client("events").describe_rule(Name=rule_name)["Arn"]
        event = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": ACCOUNT,
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "region": REGION,
            "resources": [rule_arn],
            "detail": {},
        }
        function = self.deployment.schedules[rule_name]
        answer = self.client("lambda").invoke(FunctionName=function, Payload=json.dumps(event))
        return json.loads(answer["Payload"].read() or b"null"), "FunctionError" in answer

    def drop(
        self,
        path: Path,
        vendor: str,
        options: dict[str, Any] | None = None,
        name: str | None = None,
        *,
        steps: list[str] | None = None,
    ) -> str:
        """Put a file under inbox/<vendor>/ as a user would; returns the job id it starts. With `steps` (vendor
        names in order) it goes under inbox/steps/ with them in its metadata, and `vendor` is not used; options
        named `<vendor>.<name>` are that step's (jobs/ingest.py)."""
        from enrichment.jobs.ingest import STEPS_FOLDER, STEPS_METADATA, drop_request, s3_job_id

        key = f"inbox/{STEPS_FOLDER if steps else vendor}/{name or path.name}"
        metadata = {f"option-{k.replace('_', '-')}": json.dumps(v) for k, v in (options or {}).items()}
        if steps:
            metadata[STEPS_METADATA] = " ".join(steps)
        answer = self.client("s3").put_object(Bucket=self.bucket, Key=key, Body=path.read_bytes(), Metadata=metadata)
        return s3_job_id(self.bucket, key, answer["ETag"], drop_request(metadata))

    def job(self, job_id: str) -> JobView | None:
        from enrichment.jobs.store import JobStore

        found = JobStore(self.outputs["JobsTableName"]).get(job_id)
        return JobView(found.model_dump(mode="json")) if found else None

    def wait(
        self, job_id: str, *, timeout: float = 300, on_progress: Callable[[JobView], None] | None = None
    ) -> JobView:
        """Wait for the job's final status and for its execution to end (polls the job item, no fixed sleeps)."""
        deadline = time.monotonic() + timeout
        sfn = self.client("stepfunctions")
        execution_arn = self.outputs["JobStateMachineArn"].replace(":stateMachine:", ":execution:") + f":{job_id}"
        while time.monotonic() < deadline:
            view = self.job(job_id)
            if view and on_progress:
                on_progress(view)
            if view and view.status in FINAL_STATUSES:
                try:
                    if sfn.describe_execution(executionArn=execution_arn)["status"] != "RUNNING":
                        return view
                except sfn.exceptions.ExecutionDoesNotExist:
                    return view
            time.sleep(0.2)
        raise TimeoutError(f"job {job_id} did not finish within {timeout:g}s")

    def wait_idle(self, timeout: float = 60) -> None:
        """Wait until no job's execution is running (one an earlier command or test left at work would otherwise
        call the simulators of the next). An execution still running after `timeout` is waited for no more, now or
        later: it is stuck, or meant to be (a test's), and nothing should wait on it again."""
        deadline = time.monotonic() + timeout
        sfn = self.client("stepfunctions")
        machine = self.outputs["JobStateMachineArn"]
        while True:
            pages = sfn.get_paginator("list_executions").paginate(stateMachineArn=machine, statusFilter="RUNNING")
            running = {e["executionArn"] for page in pages for e in page["executions"]} - self._not_waited_for
            if not running:
                return
            if time.monotonic() > deadline:
                self._not_waited_for |= running
                return
            time.sleep(0.2)

    def metric_sum(self, name: str, *, since: float, **dimensions: str) -> float:
        """The sum of a metric the functions emitted since `since` (Unix seconds), with exactly these dimensions
        besides `service`, read back from CloudWatch (localrt.emf puts each invocation's EMF there)."""
        assert self.deployment is not None
        function = next(iter(self.deployment.functions))
        dims = {"service": function.environment["POWERTOOLS_SERVICE_NAME"]} | dimensions
        answer = self.client("cloudwatch").get_metric_statistics(
            Namespace=function.environment["POWERTOOLS_METRICS_NAMESPACE"],
            MetricName=name,
            Dimensions=[{"Name": k, "Value": v} for k, v in dims.items()],
            StartTime=dt.datetime.fromtimestamp(since, dt.UTC),
            EndTime=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5),
            Period=60,
            Statistics=["Sum"],
        )
        return sum(point["Sum"] for point in answer["Datapoints"])

    def download(self, job_id: str, folder: Path) -> Path:
        from enrichment.files.layout import OUTPUT_FILES, output_prefix

        folder.mkdir(parents=True, exist_ok=True)
        s3 = self.client("s3")
        for name in OUTPUT_FILES:
            try:
                s3.download_file(self.bucket, output_prefix(job_id) + name, str(folder / name))
            except s3.exceptions.ClientError:
                continue  # a job that failed before reading its input has only summary.json
        return folder
