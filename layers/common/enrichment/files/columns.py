"""Which column each field is read from: the header aliases, the tie rule, the `columns` option, unique names.

The tie rule, when several columns name one field:
1. the column the job's `columns` option names for it;
2. else a column with the field's own name ("Email", "E-mail" for email) over an alias ("Work Email");
3. else, among equals, the leftmost.
Each column not read is reported with the column read instead and the rule that chose it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field

from enrichment.errors import BadInput
from enrichment.files.csvio import HEADER_ALIASES, header_key
from enrichment.models import CANONICAL_FIELDS, Model

MatchedBy = Literal["columns option", "field name", "alias"]
_RANK: dict[str, int] = {"columns option": 0, "field name": 1, "alias": 2}
LISTED_LENGTH = 500  # a reason listing the file's columns stays readable


class ColumnUse(Model):
    column: int = Field(description="its position in the file, from 1")
    header: str = Field(description="the header as the file writes it")
    name: str = Field(description="its unique name, as results.csv, results.jsonl and the columns option know it")
    field: str | None = Field(description="the field read from it; none: the column is ignored")
    matched_by: MatchedBy | None = Field(
        default=None, description="how: named by the columns option, the field's own name, or an alias"
    )
    note: str | None = Field(default=None, description="why a column that names a field is not read")


class ColumnTie(Model):
    field: str
    read: str = Field(description="the column read, by its unique name")
    not_read: list[str] = Field(description="the other columns naming the field, by their unique names")
    rule: str = Field(description="why that column won")


@dataclass(frozen=True)
class ColumnMapping:
    names: list[str]  # every column's unique name
    fields: dict[str, int]  # field -> the index of the column it is read from
    columns: list[ColumnUse]
    ties: list[ColumnTie]

    def report(self) -> dict[str, Any]:
        return {
            "columns": [c.model_dump(mode="json") for c in self.columns],
            "ties": [t.model_dump(mode="json") for t in self.ties],
        }


def unique_names(header: Sequence[str]) -> list[str]:
    """Each column's name in the outputs and the `columns` option: its header, except that a repeated header gets
    " (2)", " (3)", ... in order of appearance (the first keeps its name) and a blank one is "column N" (its
    position); a made-up name never takes one the file already uses."""
    taken = set(header)
    seen: Counter[str] = Counter()
    names: list[str] = []
    for position, name in enumerate(header, start=1):
        if name.strip():
            seen[name] += 1
            if seen[name] == 1:
                names.append(name)
                continue
            base, number = name, seen[name]
        else:
            base, number = f"column {position}", 1
        candidate = base if number == 1 else f"{base} ({number})"
        while candidate in taken:
            number += 1
            candidate = f"{base} ({number})"
        taken.add(candidate)
        names.append(candidate)
    return names


def map_columns(header: Sequence[str], chosen: Mapping[str, str] | None = None) -> ColumnMapping:
    """The field each column feeds, by the tie rule; `chosen` is the `columns` option (field -> column name).

    Raises BadInput when `chosen` names an unknown field, a column the file does not have, or one column twice."""
    names = unique_names(header)
    explicit = _explicit_columns(names, chosen or {})
    claimed = set(explicit.values())
    candidates: dict[str, list[tuple[int, MatchedBy]]] = defaultdict(list)
    for field, index in explicit.items():
        candidates[field].append((index, "columns option"))
    for index, name in enumerate(header):
        key = header_key(name)
        if index not in claimed and (field := HEADER_ALIASES.get(key)):
            candidates[field].append((index, "field name" if key == header_key(field) else "alias"))

    fields: dict[str, int] = {}
    read_as: dict[int, tuple[str, MatchedBy]] = {}
    notes: dict[int, str] = {}
    ties: list[ColumnTie] = []
    for field in CANONICAL_FIELDS:
        if not candidates[field]:
            continue
        ranked = sorted(candidates[field], key=lambda found: (_RANK[found[1]], found[0]))
        (index, how), *others = ranked
        fields[field] = index
        read_as[index] = (field, how)
        if others:
            rule = _rule(ranked)
            ties.append(ColumnTie(field=field, read=names[index], not_read=[names[i] for i, _ in others], rule=rule))
            for other, _ in others:
                notes[other] = f"{field} is read from {names[index]!r} (column {index + 1}): {rule}"
    columns = [
        ColumnUse(
            column=index + 1,
            header=header[index],
            name=names[index],
            field=read_as[index][0] if index in read_as else None,
            matched_by=read_as[index][1] if index in read_as else None,
            note=notes.get(index),
        )
        for index in range(len(header))
    ]
    return ColumnMapping(names=names, fields=fields, columns=columns, ties=sorted(ties, key=lambda t: fields[t.field]))


def listed(names: Sequence[str]) -> str:
    """The file's columns, quoted, as a reason lists them."""
    text = ", ".join(repr(n) for n in names)
    return text if len(text) <= LISTED_LENGTH else text[:LISTED_LENGTH] + "…"


def _rule(ranked: list[tuple[int, MatchedBy]]) -> str:
    how = ranked[0][1]
    if how == "columns option":
        return "the columns option names it"
    if how == "field name":
        if any(other == "field name" for _, other in ranked[1:]):
            return "the leftmost column with the field's own name"
        return "the field's own name beats an alias"
    return "the leftmost of the aliases"


def _explicit_columns(names: list[str], chosen: Mapping[str, str]) -> dict[str, int]:
    """The `columns` option as field -> column index: a name as in `names`, or one equal to it as headers are
    compared (case and separators ignored) when that picks a single column."""
    unknown = [field for field in chosen if field not in CANONICAL_FIELDS]
    if unknown:
        raise BadInput(
            f"the columns option names {', '.join(repr(f) for f in unknown)}, which is not a field; "
            f"the fields are: {', '.join(CANONICAL_FIELDS)}"
        )
    found: dict[str, int] = {}
    by_column: dict[int, str] = {}
    for field, wanted in chosen.items():
        if wanted in names:
            index = names.index(wanted)
        else:
            alike = [i for i, name in enumerate(names) if header_key(name) == header_key(wanted) and header_key(name)]
            if len(alike) != 1:
                which = "is not a column of this file" if not alike else "matches several columns"
                raise BadInput(
                    f"the columns option maps {field} to {wanted!r}, which {which}; "
                    f"the file's columns are: {listed(names)}"
                )
            index = alike[0]
        if index in by_column:
            raise BadInput(
                f"the columns option names {names[index]!r} for both {by_column[index]} and {field}; "
                "a column feeds one field"
            )
        by_column[index] = field
        found[field] = index
    return found
