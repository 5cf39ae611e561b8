"""Read a SAM template (with its short-form intrinsic tags) and resolve intrinsic functions."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

_TAGS = (
    "Ref",
    "Sub",
    "GetAtt",
    "Join",
    "If",
    "Select",
    "Split",
    "Equals",
    "Not",
    "And",
    "Or",
    "FindInMap",
    "Base64",
    "ImportValue",
    "GetAZs",
    "Condition",
)


class _CfnLoader(yaml.SafeLoader):
    pass


def _construct(tag: str):
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if tag == "GetAtt":
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {"Ref": value} if tag == "Ref" else {"Condition": value} if tag == "Condition" else {f"Fn::{tag}": value}

    return construct


for _tag in _TAGS:
    _CfnLoader.add_constructor(f"!{_tag}", _construct(_tag))


def load_template(path: Path) -> dict[str, Any]:
    return yaml.load(path.read_text(), Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass


class UnresolvedReference(KeyError):
    pass


NO_VALUE = object()  # Ref AWS::NoValue: the property it stands for is left out


class Resolver:
    """Evaluates Ref, Fn::Sub, Fn::GetAtt, Fn::Join and Fn::If against parameters, conditions and deployed
    resources."""

    def __init__(self, pseudo: dict[str, str], parameters: dict[str, str]) -> None:
        self.values: dict[str, Any] = dict(pseudo) | dict(parameters)
        self.attributes: dict[tuple[str, str], Any] = {}
        self.conditions: dict[str, bool] = {}

    def evaluate_conditions(self, conditions: dict[str, Any]) -> None:
        """The template's Conditions, each true or false for these parameters (one may name another)."""
        for name in conditions:
            self.conditions[name] = self._condition(conditions, name)

    def _condition(self, conditions: dict[str, Any], name: str) -> bool:
        if name not in self.conditions:
            self.conditions[name] = self.truth(conditions[name], conditions)
        return self.conditions[name]

    def truth(self, value: Any, conditions: dict[str, Any]) -> bool:
        ((key, arg),) = value.items()
        if key == "Condition":
            return self._condition(conditions, arg)
        if key == "Fn::Equals":
            return str(self.resolve(arg[0])) == str(self.resolve(arg[1]))
        if key == "Fn::Not":
            return not self.truth(arg[0], conditions)
        if key == "Fn::And":
            return all(self.truth(a, conditions) for a in arg)
        if key == "Fn::Or":
            return any(self.truth(a, conditions) for a in arg)
        raise NotImplementedError(f"{key} is not supported in a condition by the local runtime")

    def define(self, logical_id: str, ref: Any, **attributes: Any) -> None:
        self.values[logical_id] = ref
        for name, value in attributes.items():
            self.attributes[(logical_id, name)] = value

    def ref(self, name: str) -> Any:
        if name not in self.values:
            raise UnresolvedReference(name)
        return self.values[name]

    def get_att(self, logical_id: str, attribute: str) -> Any:
        if (logical_id, attribute) not in self.attributes:
            raise UnresolvedReference(f"{logical_id}.{attribute}")
        return self.attributes[(logical_id, attribute)]

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [r for r in (self.resolve(v) for v in value) if r is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return NO_VALUE if arg == "AWS::NoValue" else self.ref(arg)
            if key == "Fn::If":
                name, if_true, if_false = arg
                return self.resolve(if_true if self.conditions[name] else if_false)
            if key == "Fn::GetAtt":
                return self.get_att(*(arg.split(".", 1) if isinstance(arg, str) else arg))
            if key == "Fn::Sub":
                template, variables = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))
                return self.substitute(template, variables)
            if key == "Fn::Join":
                return arg[0].join(str(self.resolve(v)) for v in arg[1])
            if key.startswith("Fn::"):
                raise NotImplementedError(f"{key} is not supported by the local runtime")
        return {k: r for k, r in ((k, self.resolve(v)) for k, v in value.items()) if r is not NO_VALUE}

    def substitute(self, template: str, variables: dict[str, Any] | None = None) -> str:
        variables = variables or {}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(variables[name])
            if "." in name and not name.startswith("AWS::"):
                return str(self.get_att(*name.split(".", 1)))
            return str(self.ref(name))

        return re.sub(r"\$\{([^}]+)\}", replace, template)


def references(value: Any) -> set[str]:
    """Logical ids a value refers to (for deployment order)."""
    found: set[str] = set()
    if isinstance(value, list):
        for v in value:
            found |= references(v)
    elif isinstance(value, dict):
        for key, arg in value.items():
            if key == "Ref" and isinstance(arg, str):
                found.add(arg)
            elif key == "Fn::GetAtt":
                found.add((arg.split(".", 1) if isinstance(arg, str) else arg)[0])
            elif key == "Fn::Sub":
                text = arg if isinstance(arg, str) else arg[0]
                found |= {m.split(".", 1)[0] for m in re.findall(r"\$\{([^!}][^}]*)\}", text)}
                if not isinstance(arg, str):
                    found |= references(arg[1])
            else:
                found |= references(arg)
    return found


def jobs_table(name: str) -> dict[str, Any]:
    """CreateTable's arguments for a table named `name` shaped as the template's jobs table (keys, indexes)."""
    return _table_shape("JobsTable", name)


def result_cache_table(name: str) -> dict[str, Any]:
    """CreateTable's arguments for a table named `name` shaped as the template's result cache."""
    return _table_shape("ResultCacheTable", name)


def _table_shape(logical_id: str, name: str) -> dict[str, Any]:
    properties = load_template(Path(__file__).resolve().parents[1] / "template.yaml")["Resources"][logical_id]
    shape = ("BillingMode", "AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes")
    return {
        "TableName": name,
        **{key: properties["Properties"][key] for key in shape if key in properties["Properties"]},
    }
