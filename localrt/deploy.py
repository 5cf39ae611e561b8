"""Deploy template.yaml into moto: every resource comes from the template, in dependency order."""

from __future__ import annotations

import graphlib
import io
import json
import secrets
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from localrt.lambdas import FunctionSpec
from localrt.template import Resolver, load_template, references

ACCOUNT = "123456789012"
REGION = "us-east-1"


@dataclass
class Deployment:
    stack_name: str
    outputs: dict[str, Any]
    functions: list[FunctionSpec]
    layer_dirs: list[Path]
    resources: dict[str, Any] = field(default_factory=dict)  # logical id -> Ref value
    schedules: dict[str, str] = field(default_factory=dict)  # scheduled rule name -> the function it invokes
    api_routes: list[tuple[str, str, str]] = field(default_factory=list)  # (method, path, function)


def _placeholder_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README", "code runs in-process from CodeUri (localrt.lambdas)")
    return buffer.getvalue()


class Deployer:
    def __init__(self, root: Path, stack_name: str, parameters: dict[str, str]) -> None:
        self.root = root
        self.stack_name = stack_name
        self.template = load_template(root / "template.yaml")
        declared = self.template.get("Parameters", {})
        unknown = set(parameters) - set(declared)
        if unknown:
            raise ValueError(f"template has no parameters {sorted(unknown)}")
        values = {k: str(v.get("Default", "")) for k, v in declared.items()} | parameters
        self.resolver = Resolver(
            {
                "AWS::StackName": stack_name,
                "AWS::Region": REGION,
                "AWS::AccountId": ACCOUNT,
                "AWS::Partition": "aws",
                "AWS::URLSuffix": "amazonaws.com",
            },
            values,
        )
        self.functions: list[FunctionSpec] = []
        self.layer_dirs: list[Path] = []
        self.role_arn = ""
        self.schedules: dict[str, str] = {}
        self.api_routes: list[tuple[str, str, str]] = []
        self.bucket_logging: dict[str, dict[str, Any]] = {}  # bucket -> its access logging, set after every resource

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=REGION)

    def deploy(self) -> Deployment:
        self.resolver.evaluate_conditions(self.template.get("Conditions", {}))
        # A resource whose Condition is false is not created, as CloudFormation does.
        resources: dict[str, dict[str, Any]] = {
            logical_id: spec
            for logical_id, spec in self.template["Resources"].items()
            if self.resolver.conditions.get(spec.get("Condition", ""), True)
        }
        graph = {
            logical_id: {r for r in references(self._deploy_time_properties(spec)) if r in resources}
            for logical_id, spec in resources.items()
        }
        iam = self.client("iam")
        self.role_arn = iam.create_role(
            RoleName=f"{self.stack_name}-local",
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
        )["Role"]["Arn"]
        for logical_id in graphlib.TopologicalSorter(graph).static_order():
            spec = resources[logical_id]
            if not self._condition_holds(spec.get("Condition")):
                continue
            create = getattr(self, "_create_" + spec["Type"].replace("::", "_"), None)
            if create is None:
                raise NotImplementedError(f"{logical_id}: {spec['Type']} is not supported by the local runtime")
            create(logical_id, self._properties(spec))
        self._wire_events(resources)
        for bucket, status in self.bucket_logging.items():
            self.client("s3").put_bucket_logging(Bucket=bucket, BucketLoggingStatus=status)
        outputs = {k: self.resolver.resolve(v["Value"]) for k, v in self.template.get("Outputs", {}).items()}
        return Deployment(
            self.stack_name,
            outputs,
            self.functions,
            self.layer_dirs,
            {k: self.resolver.values[k] for k in resources if k in self.resolver.values},  # conditions
            self.schedules,
            self.api_routes,
        )

    # ---- helpers ----

    @staticmethod
    def _deploy_time_properties(spec: dict[str, Any]) -> dict[str, Any]:
        # Function events are wired after every resource exists (an S3 event points back at its bucket).
        properties = dict(spec.get("Properties", {}))
        properties.pop("Events", None)
        return properties

    def _properties(self, spec: dict[str, Any]) -> dict[str, Any]:
        properties = self._deploy_time_properties(spec)
        if spec["Type"] == "AWS::Serverless::Function":
            globals_ = self.template.get("Globals", {}).get("Function", {})
            merged = dict(globals_) | properties
            variables = globals_.get("Environment", {}).get("Variables", {}) | properties.get("Environment", {}).get(
                "Variables", {}
            )
            merged["Environment"] = {"Variables": variables}
            properties = merged
        properties.pop("Policies", None)  # IAM is not enforced locally
        return self.resolver.resolve(properties)

    def _name(self, logical_id: str) -> str:
        return f"{self.stack_name}-{logical_id}"

    # ---- resource types ----

    def _create_AWS_S3_Bucket(self, logical_id: str, p: dict[str, Any]) -> None:
        name = p.get("BucketName") or self._name(logical_id).lower()
        self.client("s3").create_bucket(Bucket=name)
        self._configure_bucket(name, p)
        self.resolver.define(logical_id, name, Arn=f"arn:aws:s3:::{name}")

    def _configure_bucket(self, name: str, p: dict[str, Any]) -> None:
        """Versioning, lifecycle rules and access logging as the template sets them: moto keeps versions (a delete
        leaves a delete marker, as in AWS) and checks the rules' shape; it never expires objects nor writes logs."""
        s3 = self.client("s3")
        if versioning := p.get("VersioningConfiguration"):
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": versioning["Status"]})
        if lifecycle := p.get("LifecycleConfiguration"):
            s3.put_bucket_lifecycle_configuration(
                Bucket=name, LifecycleConfiguration={"Rules": [_lifecycle_rule(r) for r in lifecycle["Rules"]]}
            )
        if logging := p.get("LoggingConfiguration"):
            target = {
                "TargetBucket": logging["DestinationBucketName"],
                "TargetPrefix": logging.get("LogFilePrefix", ""),
            }
            # Set once every resource exists: moto checks, as S3 does, that the log bucket's policy lets S3 deliver.
            self.bucket_logging[name] = {"LoggingEnabled": target}

    def _create_AWS_S3_BucketPolicy(self, logical_id: str, p: dict[str, Any]) -> None:
        """The policy as the template writes it, less what the local endpoint cannot meet: moto serves plain HTTP on
        loopback and evaluates bucket policies, so a TLS-only statement (aws:SecureTransport) would refuse every
        local request. tests/static checks that statement in the template instead."""
        document = dict(p["PolicyDocument"])
        document["Statement"] = [s for s in document["Statement"] if "aws:SecureTransport" not in json.dumps(s)]
        if document["Statement"]:
            self.client("s3").put_bucket_policy(Bucket=p["Bucket"], Policy=json.dumps(document))
        self.resolver.define(logical_id, p["Bucket"])

    def _create_AWS_DynamoDB_Table(self, logical_id: str, p: dict[str, Any]) -> None:
        name = p.get("TableName") or self._name(logical_id)
        ddb = self.client("dynamodb")
        kwargs = {
            k: p[k]
            for k in (
                "AttributeDefinitions",
                "KeySchema",
                "GlobalSecondaryIndexes",
                "LocalSecondaryIndexes",
                "BillingMode",
            )
            if k in p
        }
        arn = ddb.create_table(TableName=name, **kwargs)["TableDescription"]["TableArn"]
        ttl = p.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            ddb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
        self.resolver.define(logical_id, name, Arn=arn)

    def _create_AWS_SecretsManager_Secret(self, logical_id: str, p: dict[str, Any]) -> None:
        kwargs: dict[str, Any] = {}
        if generate := p.get("GenerateSecretString"):
            value = json.loads(generate.get("SecretStringTemplate", "{}"))
            value[generate["GenerateStringKey"]] = secrets.token_urlsafe(int(generate.get("PasswordLength", 32)))
            kwargs["SecretString"] = json.dumps(value)
        answer = self.client("secretsmanager").create_secret(
            Name=p.get("Name") or self._name(logical_id), Description=p.get("Description", ""), **kwargs
        )
        self.resolver.define(logical_id, answer["ARN"], Id=answer["ARN"])

    def _create_AWS_Events_EventBus(self, logical_id: str, p: dict[str, Any]) -> None:
        name = p.get("Name") or self._name(logical_id)
        arn = self.client("events").create_event_bus(Name=name)["EventBusArn"]
        self.resolver.define(logical_id, name, Arn=arn, Name=name)

    def _create_AWS_Logs_LogGroup(self, logical_id: str, p: dict[str, Any]) -> None:
        name = p.get("LogGroupName") or self._name(logical_id)
        logs = self.client("logs")
        logs.create_log_group(logGroupName=name)
        if "RetentionInDays" in p:
            logs.put_retention_policy(logGroupName=name, retentionInDays=int(p["RetentionInDays"]))
        self.resolver.define(logical_id, name, Arn=f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{name}:*")

    def _create_AWS_IAM_Role(self, logical_id: str, p: dict[str, Any]) -> None:
        # Created with its trust and inline policies, which moto keeps but does not enforce; a caller's session of
        # it (sts.assume_role) is known to moto, so the local API names such a caller by the role's session ARN.
        iam = self.client("iam")
        name = p.get("RoleName") or self._name(logical_id)
        optional = {k: p[k] for k in ("Description", "MaxSessionDuration", "Path") if k in p}
        role = iam.create_role(
            RoleName=name, AssumeRolePolicyDocument=json.dumps(p["AssumeRolePolicyDocument"]), **optional
        )["Role"]
        for policy in p.get("Policies", []):
            iam.put_role_policy(
                RoleName=name, PolicyName=policy["PolicyName"], PolicyDocument=json.dumps(policy["PolicyDocument"])
            )
        self.resolver.define(logical_id, name, Arn=role["Arn"], RoleId=role["RoleId"])

    def _create_AWS_Serverless_Api(self, logical_id: str, p: dict[str, Any]) -> None:
        # Served locally by `python -m localrt api` (localrt/api_server.py), which makes the same events.
        self.resolver.define(logical_id, f"local{logical_id.lower()}", RootResourceId="root")

    def _create_AWS_Serverless_LayerVersion(self, logical_id: str, p: dict[str, Any]) -> None:
        directory = (self.root / p["ContentUri"]).resolve()
        self.layer_dirs.append(directory)
        self.resolver.define(logical_id, f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:{logical_id}:1")

    def _create_AWS_Serverless_Function(self, logical_id: str, p: dict[str, Any]) -> None:
        name = p.get("FunctionName") or self._name(logical_id)
        environment = {k: str(v) for k, v in p["Environment"]["Variables"].items()}
        arn = self.client("lambda").create_function(
            FunctionName=name,
            Runtime=p["Runtime"],
            Role=self.role_arn,
            Handler=p["Handler"],
            Code={"ZipFile": _placeholder_zip()},
            Timeout=int(p.get("Timeout", 3)),
            MemorySize=int(p.get("MemorySize", 128)),
            Architectures=p.get("Architectures", ["x86_64"]),
            Environment={"Variables": environment},
        )["FunctionArn"]
        self._put_event_invoke_config(name, p.get("EventInvokeConfig"))
        self.functions.append(
            FunctionSpec(
                name=name,
                code_dir=(self.root / p["CodeUri"]).resolve(),
                handler=p["Handler"],
                environment=environment,
                timeout=int(p.get("Timeout", 3)),
                memory=int(p.get("MemorySize", 128)),
                arn=arn,
                architecture=p.get("Architectures", ["x86_64"])[0],
            )
        )
        self.resolver.define(logical_id, name, Arn=arn)

    def _create_AWS_Serverless_StateMachine(self, logical_id: str, p: dict[str, Any]) -> None:
        name = p.get("Name") or self._name(logical_id)
        definition = (self.root / p["DefinitionUri"]).read_text()
        for key, value in p.get("DefinitionSubstitutions", {}).items():
            definition = definition.replace("${" + key + "}", str(value))
        arn = self.client("stepfunctions").create_state_machine(
            name=name, definition=definition, roleArn=self.role_arn, type=p.get("Type", "STANDARD")
        )["stateMachineArn"]
        self.resolver.define(logical_id, arn, Arn=arn, Name=name)

    # ---- failure handling and operations (README "When something fails", "Alarms and runbook") ----

    def _condition_holds(self, name: str | None) -> bool:
        """A resource's Condition, evaluated from the template's Conditions (Fn::Equals, Not, And, Or)."""
        if name is None:
            return True
        return bool(self._evaluate(self.template.get("Conditions", {})[name]))

    def _evaluate(self, value: Any) -> Any:
        if isinstance(value, dict) and len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Condition":
                return self._condition_holds(arg)
            if key == "Fn::Equals":
                left, right = (self._evaluate(v) for v in arg)
                return str(left) == str(right)
            if key == "Fn::Not":
                return not self._evaluate(arg[0])
            if key == "Fn::And":
                return all(self._evaluate(v) for v in arg)
            if key == "Fn::Or":
                return any(self._evaluate(v) for v in arg)
        return self.resolver.resolve(value)

    def _put_event_invoke_config(self, function_name: str, config: dict[str, Any] | None) -> None:
        """SAM's EventInvokeConfig (an AWS::Lambda::EventInvokeConfig once transformed): what the emulated
        asynchronous invocations follow (localrt.lambdas)."""
        if not config:
            return
        kwargs: dict[str, Any] = {
            k: int(config[k]) for k in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds") if k in config
        }
        destinations = {
            outcome: {"Destination": target["Destination"]}
            for outcome, target in (config.get("DestinationConfig") or {}).items()
            if target.get("Destination")
        }
        if destinations:
            kwargs["DestinationConfig"] = destinations
        self.client("lambda").put_function_event_invoke_config(FunctionName=function_name, **kwargs)

    @staticmethod
    def _target_failure_handling(props: dict[str, Any]) -> dict[str, Any]:
        """A Schedule or EventBridgeRule event's DeadLetterConfig and RetryPolicy, as its target carries them."""
        handling: dict[str, Any] = {}
        if arn := (props.get("DeadLetterConfig") or {}).get("Arn"):
            handling["DeadLetterConfig"] = {"Arn": arn}
        if policy := props.get("RetryPolicy"):
            handling["RetryPolicy"] = {k: int(v) for k, v in policy.items()}
        return handling

    def _create_AWS_SQS_Queue(self, logical_id: str, p: dict[str, Any]) -> None:
        name = p.get("QueueName") or self._name(logical_id)
        attributes = {k: str(p[k]).lower() if isinstance(p[k], bool) else str(p[k]) for k in p if k != "QueueName"}
        sqs = self.client("sqs")
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.resolver.define(logical_id, url, Arn=arn, QueueName=name, QueueUrl=url)

    def _create_AWS_SQS_QueuePolicy(self, logical_id: str, p: dict[str, Any]) -> None:
        for url in p["Queues"]:
            self.client("sqs").set_queue_attributes(
                QueueUrl=url, Attributes={"Policy": json.dumps(p["PolicyDocument"])}
            )
        self.resolver.define(logical_id, f"{self.stack_name}-{logical_id}")

    def _create_AWS_SNS_Topic(self, logical_id: str, p: dict[str, Any]) -> None:
        attributes = {"KmsMasterKeyId": p["KmsMasterKeyId"]} if "KmsMasterKeyId" in p else {}
        name = p.get("TopicName") or self._name(logical_id)
        arn = self.client("sns").create_topic(Name=name, Attributes=attributes)["TopicArn"]
        self.resolver.define(logical_id, arn, TopicArn=arn, TopicName=name)

    def _create_AWS_SNS_Subscription(self, logical_id: str, p: dict[str, Any]) -> None:
        arn = self.client("sns").subscribe(TopicArn=p["TopicArn"], Protocol=p["Protocol"], Endpoint=p["Endpoint"])[
            "SubscriptionArn"
        ]
        self.resolver.define(logical_id, arn)

    def _create_AWS_CloudWatch_Alarm(self, logical_id: str, p: dict[str, Any]) -> None:
        kwargs = dict(p)
        kwargs["AlarmName"] = p.get("AlarmName") or self._name(logical_id)
        for key in ("Threshold",):
            kwargs[key] = float(kwargs[key])
        for key in ("Period", "EvaluationPeriods", "DatapointsToAlarm"):
            if key in kwargs:
                kwargs[key] = int(kwargs[key])
        for metric in kwargs.get("Metrics", []):
            if "MetricStat" in metric:
                metric["MetricStat"]["Period"] = int(metric["MetricStat"]["Period"])
        self.client("cloudwatch").put_metric_alarm(**kwargs)
        self.resolver.define(
            logical_id, kwargs["AlarmName"], Arn=f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{kwargs['AlarmName']}"
        )

    def _create_AWS_CloudWatch_Dashboard(self, logical_id: str, p: dict[str, Any]) -> None:
        name = p.get("DashboardName") or self._name(logical_id)
        json.loads(p["DashboardBody"])  # CloudWatch refuses a body that is not JSON: so does the local deploy
        self.client("cloudwatch").put_dashboard(DashboardName=name, DashboardBody=p["DashboardBody"])
        self.resolver.define(logical_id, name)

    def _wire_events(self, resources: dict[str, dict[str, Any]]) -> None:
        notifications: dict[str, list[dict[str, Any]]] = {}
        events = self.client("events")
        for logical_id, spec in resources.items():
            for event_name, event in spec.get("Properties", {}).get("Events", {}).items():
                props = self.resolver.resolve(event.get("Properties", {}))
                function_arn = self.resolver.get_att(logical_id, "Arn")
                function_name = self.resolver.ref(logical_id)
                kind = event["Type"]
                if kind == "S3":
                    config: dict[str, Any] = {
                        "Id": f"{logical_id}-{event_name}",
                        "LambdaFunctionArn": function_arn,
                        "Events": props["Events"] if isinstance(props["Events"], list) else [props["Events"]],
                    }
                    if "Filter" in props:
                        config["Filter"] = {"Key": {"FilterRules": props["Filter"]["S3Key"]["Rules"]}}
                    notifications.setdefault(props["Bucket"], []).append(config)
                elif kind == "Api":
                    self.api_routes.append((props["Method"].upper(), props["Path"], function_name))
                elif kind in ("Schedule", "EventBridgeRule"):
                    name = props.get("Name") or props.get("RuleName") or f"{self.stack_name}-{logical_id}-{event_name}"
                    rule: dict[str, Any] = {"Name": name}
                    if kind == "Schedule":
                        rule["ScheduleExpression"] = props["Schedule"]
                        rule["State"] = "ENABLED" if props.get("Enabled", True) else "DISABLED"
                    else:
                        rule["EventPattern"] = json.dumps(props["Pattern"])
                        rule["EventBusName"] = props.get("EventBusName", "default")
                    events.put_rule(**rule)
                    target = {"Id": f"{logical_id}-{event_name}", "Arn": function_arn}
                    if "Input" in props:
                        target["Input"] = props["Input"]
                    target |= self._target_failure_handling(props)
                    events.put_targets(Rule=name, EventBusName=rule.get("EventBusName", "default"), Targets=[target])
                    if kind == "Schedule":
                        self.schedules[name] = function_name
                else:
                    raise NotImplementedError(f"{logical_id}.{event_name}: {kind} events are not emulated")
        for bucket, configs in notifications.items():
            self.client("s3").put_bucket_notification_configuration(
                Bucket=bucket, NotificationConfiguration={"LambdaFunctionConfigurations": configs}
            )


def _lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """A CloudFormation lifecycle rule (AWS::S3::Bucket Rule) as PutBucketLifecycleConfiguration takes it."""
    converted: dict[str, Any] = {"ID": rule["Id"], "Status": rule["Status"]}
    tags = [{"Key": tag["Key"], "Value": tag["Value"]} for tag in rule.get("TagFilters", [])]
    prefix = rule.get("Prefix")
    if tags and prefix is not None:
        converted["Filter"] = {"And": {"Prefix": prefix, "Tags": tags}}
    elif len(tags) > 1:
        converted["Filter"] = {"And": {"Tags": tags}}
    elif tags:
        converted["Filter"] = {"Tag": tags[0]}
    else:
        converted["Filter"] = {"Prefix": prefix or ""}
    expiration: dict[str, Any] = {}
    if "ExpirationInDays" in rule:
        expiration["Days"] = int(rule["ExpirationInDays"])
    if rule.get("ExpiredObjectDeleteMarker"):
        expiration["ExpiredObjectDeleteMarker"] = True
    if expiration:
        converted["Expiration"] = expiration
    if noncurrent := rule.get("NoncurrentVersionExpiration"):
        converted["NoncurrentVersionExpiration"] = {"NoncurrentDays": int(noncurrent["NoncurrentDays"])}
    if abort := rule.get("AbortIncompleteMultipartUpload"):
        converted["AbortIncompleteMultipartUpload"] = {"DaysAfterInitiation": int(abort["DaysAfterInitiation"])}
    return converted


def deploy(root: Path, stack_name: str, parameters: dict[str, str]) -> Deployment:
    return Deployer(root, stack_name, parameters).deploy()
