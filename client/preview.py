"""A job's preview as text: how the file is read, what each column feeds, what would be sent, in how many chunks.

Shared by `enrich preview` (the API's dry run) and `make preview` (the same layer function on a local file).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

NAME_WIDTH = 32


def _file_format(found: dict[str, str] | None) -> str:
    """How the reader reads the file: "csv, windows-1252, delimiter ';', line ends CR, gzip", "xlsx, sheet 'A'"."""
    if not found:
        return "inline records, or a file that cannot be opened"
    if found.get("format") == "xlsx":
        return f"xlsx, sheet {found.get('sheet')!r}"
    parts = [found.get("format", "csv"), found.get("encoding", "?"), f"delimiter {found.get('delimiter')!r}"]
    parts.append(f"line ends {found.get('line_ends', '?')}")
    if found.get("compression"):
        parts.append(found["compression"])
    return ", ".join(parts)


def render(preview: dict[str, Any]) -> str:
    if "steps" in preview:
        return render_steps(preview)
    vendor, used = preview["vendor"], preview["vendor_fields"]
    lines = [f"file: {_file_format(preview.get('file'))}"]
    if preview["columns"]:
        lines.append(f"columns ({vendor} matches on {', '.join(used)}):")
        lines += _column_lines(preview["columns"], lambda column: _target(column, vendor, used))
    cached = f"{preview['cached_rows']} answered from the cache, " if preview.get("cached_rows") else ""
    lines.append(
        f"rows: {preview['rows']}: {preview['to_send']} to send, {cached}{preview['invalid_input']} invalid_input, "
        f"{preview['duplicate']} duplicate"
    )
    if preview["invalid_reasons"]:
        lines.append("invalid_input, most frequent reasons:")
        for reason in preview["invalid_reasons"]:
            rows = ", ".join(str(r) for r in reason["first_rows"])
            more = ", …" if reason["rows"] > len(reason["first_rows"]) else ""
            lines.append(f"  {reason['rows']:>6}  {reason['reason']}  (rows {rows}{more})")
    if preview["duplicates"]:
        pairs = ", ".join(f"row {d['row']} = row {d['of']}" for d in preview["duplicates"])
        more = ", …" if preview["duplicate"] > len(preview["duplicates"]) else ""
        lines.append(f"duplicates (answered from the earlier row, sent once): {pairs}{more}")
    lines.append(f"chunks: {preview['chunks']} of up to {preview['chunk_size']} rows")
    if preview.get("expected_credits") is not None:
        lines.append(
            f"credits: expected {preview['expected_credits']:g} ({_basis(preview)}); "
            f"at worst {preview['worst_case_credits']:g}"
        )
    lines.append("a preview: nothing was sent, no credit was spent")
    if preview.get("error"):
        lines.append(f"the job would fail: {preview['error']}")
    return "\n".join(lines)


def _basis(estimate: dict[str, Any]) -> str:
    """What an estimate (a vendor's preview, a step's) is based on: past jobs' rate, or the default."""
    rate = f"{100 * estimate['match_rate']:.1f}% matched"
    if estimate["basis"] == "observed":
        return f"observed over {estimate['basis_rows']} rows of past jobs, {rate}"
    return f"default, {rate}"


def _column_lines(columns: list[dict[str, Any]], target: Callable[[dict[str, Any]], str]) -> list[str]:
    """Each input column, aligned, and what it feeds."""
    width = min(NAME_WIDTH, max(len(c["name"]) for c in columns))
    return [f"  {c['column']:>3}  {c['name']:<{width}}  -> {target(c)}" for c in columns]


def render_steps(preview: dict[str, Any]) -> str:
    """A job of steps: how the file is read, its columns, then per step what it can take and cost."""
    lines = [f"file: {_file_format(preview.get('file'))}"]
    if preview["columns"]:
        lines.append("columns:")
        lines += _column_lines(
            preview["columns"], lambda c: "ignored" if c["field"] is None else f"{c['field']} ({c['matched_by']})"
        )
    lines.append(f"rows: {preview['rows']}")
    for step in preview["steps"]:
        head = f"step {step['step']}: {step['vendor']}" + (" (validate)" if step["role"] == "validate" else "")
        if step["role"] == "find":
            cached = (
                f", {step['cached_rows']} answered from the cache ({step['cached_matched']} matched: not passed on)"
                if step["cached_rows"]
                else ""
            )
            lines.append(
                f"{head}: can take {step['rows_can_take']} rows ({step['duplicate']} duplicate{cached}), "
                f"{step['rows_not_taken']} not taken"
            )
        else:
            lines.append(
                f"{head}: at most {step['rows_can_take']} addresses to grade, "
                f"{step['rows_not_taken']} rows' own not an address"
            )
        for reason in step["invalid_reasons"][:3]:
            lines.append(f"  {reason['rows']:>6}  not taken: {reason['reason']}")
        lines.append(
            f"  sent: at worst {step['worst_case_rows']} ({step['chunks_at_worst']} chunks of up to "
            f"{step['chunk_size']}), expected {step['expected_rows_sent']:g}"
        )
        expected, worst = step["expected_credits"], step["worst_case_credits"]
        lines.append(f"  credits: expected {expected:g} ({_basis(step)}); at worst {worst:g}")
    budget = f", capped by max_credits {preview['max_credits']:g}" if preview.get("max_credits") is not None else ""
    lines.append(
        f"credits in all: expected {preview['expected_credits']:g}; at worst {preview['worst_case_credits']:g}{budget}"
    )
    lines.append("a preview: nothing was sent, no credit was spent")
    if preview.get("error"):
        lines.append(f"the job would fail: {preview['error']}")
    return "\n".join(lines)


def _target(column: dict[str, Any], vendor: str, used: list[str]) -> str:
    if column["field"] is None:
        return "ignored" + (f" ({column['note']})" if column.get("note") else "")
    unused = "" if column["field"] in used else f", not used by {vendor}"
    return f"{column['field']} ({column['matched_by']}{unused})"
