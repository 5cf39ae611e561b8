"""A job's preview as text: how the file is read, what each column feeds, what would be sent, in how many chunks.

Shared by `enrich preview` (the API's dry run) and `make preview` (the same layer function on a local file).
"""

from __future__ import annotations

from typing import Any

NAME_WIDTH = 32


def render(preview: dict[str, Any]) -> str:
    vendor, used = preview["vendor"], preview["vendor_fields"]
    found = preview.get("file")
    lines = [
        f"file: {found['encoding']}, delimiter {found['delimiter']!r}, line ends {found['line_ends']}"
        if found
        else "file: inline records"
    ]
    if preview["columns"]:
        lines.append(f"columns ({vendor} matches on {', '.join(used)}):")
        width = min(NAME_WIDTH, max(len(c["name"]) for c in preview["columns"]))
        for column in preview["columns"]:
            lines.append(f"  {column['column']:>3}  {column['name']:<{width}}  -> {_target(column, vendor, used)}")
    lines.append(
        f"rows: {preview['rows']}: {preview['to_send']} to send, {preview['invalid_input']} invalid_input, "
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
    lines.append("a preview: nothing was sent, no credit was spent")
    if preview.get("error"):
        lines.append(f"the job would fail: {preview['error']}")
    return "\n".join(lines)


def _target(column: dict[str, Any], vendor: str, used: list[str]) -> str:
    if column["field"] is None:
        return "ignored" + (f" ({column['note']})" if column.get("note") else "")
    unused = "" if column["field"] in used else f", not used by {vendor}"
    return f"{column['field']} ({column['matched_by']}{unused})"
