"""A job's preview as text: how the file is read, what each column feeds, what would be sent, in how many chunks.

Shared by `enrich preview` (the API's dry run) and `make preview` (the same layer function on a local file).
"""

from __future__ import annotations

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
    vendor, used = preview["vendor"], preview["vendor_fields"]
    lines = [f"file: {_file_format(preview.get('file'))}"]
    if preview["columns"]:
        lines.append(f"columns ({vendor} matches on {', '.join(used)}):")
        width = min(NAME_WIDTH, max(len(c["name"]) for c in preview["columns"]))
        for column in preview["columns"]:
            lines.append(f"  {column['column']:>3}  {column['name']:<{width}}  -> {_target(column, vendor, used)}")
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
        rate = f"{100 * preview['match_rate']:.1f}% matched"
        basis = (
            f"observed over {preview['basis_rows']} rows of past jobs, {rate}"
            if preview["basis"] == "observed"
            else f"default, {rate}"
        )
        lines.append(
            f"credits: expected {preview['expected_credits']:g} ({basis}); at worst {preview['worst_case_credits']:g}"
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
