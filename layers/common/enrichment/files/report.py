"""report.html: a job's outcome for a person to read, one self-contained page beside results.csv.

Inline CSS and inline SVG only: no script, no font, image or style sheet from anywhere, so it opens the same
from a bucket, a mail attachment or a laptop with no network. Every value from the job (cells, reasons, the
file's name, options) is escaped. The row figures are counted by `RowTally` while Finalize writes the results,
in the same single pass: nothing is read twice and nothing is kept per row.
"""

from __future__ import annotations

import html
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from enrichment.files.output import CACHE_SOURCE, ROW_COLUMNS
from enrichment.models import ContactStatus, JobStatus, RowStatus
from enrichment.pipeline.row_rules import reason_kind

TOP_REASONS = 10
FIRST_ROWS = 5
# Distinct reasons kept while counting; past this, new ones count together, so memory stays bounded.
MAX_REASON_KINDS = 1000
OTHER_REASONS = "other reasons"
UNEXPLAINED = (RowStatus.NOT_MATCHED, RowStatus.INVALID_INPUT, RowStatus.ERROR, RowStatus.SKIPPED)
GRADED_COLUMNS = {"result_email_status": "Emails", "result_phone_status": "Phones"}

OUTCOME_COLOURS = {
    RowStatus.MATCHED: "#2f855a",
    RowStatus.NOT_MATCHED: "#8a94a6",
    RowStatus.INVALID_INPUT: "#d69e2e",
    RowStatus.DUPLICATE: "#4c6ef5",
    RowStatus.ERROR: "#c53030",
    RowStatus.SKIPPED: "#b7791f",
}
GRADE_COLOURS = {
    ContactStatus.VALID: "#2f855a",
    ContactStatus.RISKY: "#d69e2e",
    ContactStatus.INVALID: "#c53030",
    ContactStatus.UNKNOWN: "#8a94a6",
}
STATUS_COLOURS = {
    JobStatus.SUCCEEDED: "#2f855a",
    JobStatus.PARTIAL: "#d69e2e",
    JobStatus.FAILED: "#c53030",
    JobStatus.CANCELLED: "#6b7280",
}


@dataclass
class ReasonCount:
    status: str
    reason: str
    rows: int = 0
    first_rows: list[int] = field(default_factory=list)


class RowTally:
    """The report's row figures, counted one row at a time from the cells results.csv gets."""

    def __init__(self, columns: Sequence[str]) -> None:
        self.columns = tuple(columns)  # the result columns results.csv carries
        self.counts: Counter[str] = Counter()
        self.filled: Counter[str] = Counter()
        self.grades: dict[str, Counter[str]] = {c: Counter() for c in GRADED_COLUMNS if c in self.columns}
        self.reasons: dict[tuple[str, str], ReasonCount] = {}
        self.cached = 0  # rows answered from the result cache (their duplicates are counted as duplicates)
        # Rows the vendor itself answered in this job, and how many matched: the observed match rate's share.
        self.vendor_answered = 0
        self.vendor_matched = 0

    def add(self, row: int, cells: Mapping[str, str]) -> None:
        status = cells["result_status"]
        self.counts[status] += 1
        source = cells.get("result_source")
        if source == CACHE_SOURCE and status != RowStatus.DUPLICATE:
            self.cached += 1
        elif source and status in (RowStatus.MATCHED, RowStatus.NOT_MATCHED):
            self.vendor_answered += 1
            self.vendor_matched += status == RowStatus.MATCHED
        for column in self.columns:
            if cells.get(column):
                self.filled[column] += 1
        for column, grades in self.grades.items():
            if cells.get(column):
                grades[cells[column]] += 1
        if status in UNEXPLAINED:
            kind = reason_kind(cells.get("result_reason") or "no reason recorded")
            if (status, kind) not in self.reasons and len(self.reasons) >= MAX_REASON_KINDS:
                kind = OTHER_REASONS
            found = self.reasons.setdefault((status, kind), ReasonCount(status, kind))
            found.rows += 1
            if len(found.first_rows) < FIRST_ROWS:
                found.first_rows.append(row)

    @property
    def rows(self) -> int:
        return self.counts.total()

    def top_reasons(self, limit: int = TOP_REASONS) -> list[ReasonCount]:
        return sorted(self.reasons.values(), key=lambda r: (-r.rows, r.first_rows[0]))[:limit]


def match_rate(counts: Mapping[str, int]) -> float | None:
    """Matched rows among those meant for the vendor (neither invalid nor a duplicate); None when there were none."""
    meant = sum(counts.get(s, 0) for s in (RowStatus.MATCHED, RowStatus.NOT_MATCHED, RowStatus.ERROR))
    return counts.get(RowStatus.MATCHED, 0) / meant if meant else None


# ---- rendering ----


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def _percent(part: float, whole: float) -> str:
    if not whole:
        return "–"
    share = 100 * part / whole
    return f"{share:.0f}%" if share in (0, 100) or share >= 10 else f"{share:.1f}%"


def _why(summary: Mapping[str, Any]) -> str:
    status, error = summary.get("status"), summary.get("error")
    counts = summary.get("counts") or {}
    if status == JobStatus.SUCCEEDED:
        return "Every row has an answer."
    if status == JobStatus.PARTIAL:
        errors = counts.get(RowStatus.ERROR, 0)
        return f"{_number(errors)} row{'s' if errors != 1 else ''} got no answer from the vendor: see why below."
    if status == JobStatus.CANCELLED:
        return f"The job was stopped ({error or 'cancelled'}); the rows answered before it stopped are kept."
    return f"The job failed: {error or 'no reason was recorded'}."


def _bars(chart: str, items: Sequence[tuple[str, int, str]], total: int, label: str) -> str:
    """A horizontal bar chart as inline SVG: one bar per (name, count, colour), its share of `total` written.
    Each bar names its chart, its name and its count (data- attributes), for a test to read."""
    width, label_width, count_width, bar_height, gap = 720, 150, 130, 22, 10
    bar_area = width - label_width - count_width
    height = len(items) * (bar_height + gap) + gap
    peak = max((count for _, count, _ in items), default=0) or 1
    parts = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{_e(label)}">'
    ]
    for index, (name, count, colour) in enumerate(items):
        y = gap + index * (bar_height + gap)
        length = round(bar_area * count / peak, 1) if count else 0
        middle = y + bar_height / 2
        parts.append(
            f"<g><title>{_e(name)}: {count:,} ({_percent(count, total)})</title>"
            f'<text x="{label_width - 10}" y="{middle}" text-anchor="end" dominant-baseline="central">{_e(name)}</text>'
            f'<rect x="{label_width}" y="{y}" width="{bar_area}" height="{bar_height}" rx="3" fill="#eef1f5"/>'
            f'<rect class="bar" data-chart="{chart}" data-name="{_e(name)}" data-count="{count}" '
            f'x="{label_width}" y="{y}" width="{length}" height="{bar_height}" rx="3" fill="{colour}"/>'
            f'<text x="{label_width + bar_area + 10}" y="{middle}" dominant-baseline="central">'
            f'<tspan class="count">{count:,}</tspan> <tspan class="share">{_percent(count, total)}</tspan></text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _figure(label: str, value: str, note: str = "") -> str:
    small = f'<div class="note">{_e(note)}</div>' if note else ""
    return f'<div class="figure"><div class="label">{_e(label)}</div><div class="value">{_e(value)}</div>{small}</div>'


def _table(head: Iterable[str], rows: Iterable[Iterable[str]], css: str = "") -> str:
    """A table of cells already made safe (escaped by the caller)."""
    header = "".join(f"<th>{h}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f'<table class="{css}"><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>'


def _tag(status: str) -> str:
    return f'<span class="tag" style="background:{OUTCOME_COLOURS[RowStatus(status)]}">{_e(status)}</span>'


def _rows_list(reason: ReasonCount) -> str:
    more = ", …" if reason.rows > len(reason.first_rows) else ""
    return _e(", ".join(str(r) for r in reason.first_rows) + more)


def _fill_bar(share: float) -> str:
    return (
        f'<svg class="fill" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 8" width="120" height="10" '
        f'preserveAspectRatio="none" aria-hidden="true"><rect width="100" height="8" rx="2" fill="#eef1f5"/>'
        f'<rect width="{round(100 * share, 1)}" height="8" rx="2" fill="#4c6ef5"/></svg>'
    )


def _input_format(found: Mapping[str, str] | None) -> str:
    if not found:
        return "not read"
    labels = {"delimiter": "delimiter {!r}", "line_ends": "line ends {}", "sheet": "sheet {!r}"}
    return ", ".join(labels.get(k, "{}").format(v) for k, v in found.items())


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    minutes, rest = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {rest} s" if minutes else f"{seconds:.1f} s"


def _budget_figures(summary: Mapping[str, Any]) -> list[str]:
    """The job's budget and the rows it kept from being sent, when it had one; credits by vendor."""
    figures = []
    if summary.get("max_credits") is not None:
        figures.append(_figure("Credit budget", _number(float(summary["max_credits"])), "max_credits"))
    skipped = int(summary.get("skipped_rows") or 0)
    if skipped or summary.get("max_credits") is not None:
        figures.append(_figure("Rows skipped", _number(skipped), "not sent: over the budget"))
    for vendor, credits in (summary.get("credits_by_vendor") or {}).items():
        figures.append(_figure(f"Credits: {vendor}", _number(float(credits))))
    return figures


def _expected_figures(summary: Mapping[str, Any]) -> list[str]:
    """What Prepare expected the job to cost, and at most, to set against the credits spent."""
    if summary.get("credits_expected") is None:
        return []  # a job that ended before Prepare estimated it
    basis = summary.get("credits_basis")
    based = f"observed over {summary.get('credits_basis_rows') or 0:,} rows" if basis == "observed" else "default"
    return [
        _figure("Credits expected", _number(float(summary["credits_expected"])), f"{based}; spent: above"),
        _figure("Credits at worst", _number(float(summary.get("credits_worst_case") or 0)), "the most it could cost"),
    ]


def _waterfall(summary: Mapping[str, Any]) -> str:
    """A job of steps: what each step was given, sent, found, passed on and cost; empty for a single vendor."""
    steps = summary.get("waterfall") or []
    if not steps:
        return ""
    rows_total = sum((summary.get("counts") or {}).values())

    def line(step: Mapping[str, Any]) -> list[str]:
        if step.get("role") == "validate":
            verdicts = ", ".join(f"{_e(k)} {v:,}" for k, v in (step.get("verdicts") or {}).items()) or "–"
            found, passed, added = f"graded: {verdicts}", "–", "–"
        else:
            found, passed = f"{step.get('matched', 0):,}", f"{step.get('passed_on', 0):,}"
            share = step.get("match_rate_added")
            added = f"+{100 * share:.1f}%" if share is not None else "–"
        return [
            f"{step.get('step')}. {_e(step.get('vendor'))} ({_e(step.get('role'))})",
            f"{step.get('rows_received', 0):,}",
            f"{step.get('rows_not_taken', 0):,}",
            f"{step.get('rows_sent', 0):,}",
            f"{step.get('cached_rows', 0):,}",
            found,
            passed,
            added,
            _number(float(step.get("credits") or 0)),
        ]

    table = _table(
        (
            "Step",
            "Rows given",
            "Could not take",
            "Sent",
            "From cache",
            "Matched",
            "Passed on",
            "Match rate added",
            "Credits",
        ),
        (line(step) for step in steps),
        "waterfall",
    )
    return (
        f"<section><h2>Steps</h2>{table}"
        f'<p class="hint">Each finding step is given the rows no earlier step matched ({rows_total:,} rows in all); '
        "rows it could not take lack what its vendor needs and go on to the next. The validation step grades the "
        "best email found for each row (or the row's own), each address once.</p></section>"
    )


def render_report(summary: Mapping[str, Any], tally: RowTally | None) -> str:
    """The page, from what summary.json says and the rows' tally (None: the job ended before its rows were read)."""
    status = str(summary.get("status") or "")
    counts: Mapping[str, int] = summary.get("counts") or {}
    rows = sum(counts.values())
    matched = counts.get(RowStatus.MATCHED, 0)
    credits = float(summary.get("credits") or 0)
    unit = summary.get("credits_unit") or "credits"
    rate = match_rate(counts)
    timings = summary.get("timings") or {}
    chunks = summary.get("chunks") or {}
    input_name = summary.get("input_name") or "not recorded"
    vendors = " → ".join(str(step.get("vendor")) for step in summary.get("steps") or []) or summary.get("vendor", "")
    title = f"{vendors} job {summary.get('job_id', '')}: {status}"

    figures = "".join(
        (
            _figure("Rows", _number(rows)),
            _figure("Matched", _number(matched)),
            _figure(
                "Match rate",
                f"{100 * rate:.1f}%" if rate is not None else "–",
                "of the rows sent (not invalid, not duplicates)",
            ),
            _figure("Credits spent", _number(credits), str(unit)),
            _figure(
                "Answered from the cache",
                _number(int(summary.get("cached_rows") or 0)),
                "rows: no vendor call, no credit",
            ),
            _figure(
                "Credits per matched row",
                _number(credits / matched) if matched else "–",
                str(unit),
            ),
            *_expected_figures(summary),
            *_budget_figures(summary),
            _figure("Duration", _duration(timings.get("duration_seconds"))),
        )
    )
    sections = [f'<section class="figures">{figures}</section>']
    if waterfall := _waterfall(summary):
        sections.append(waterfall)

    if rows:
        outcomes = [(s.value, counts.get(s.value, 0), OUTCOME_COLOURS[s]) for s in RowStatus]
        sections.append(
            f'<section><h2>Rows by outcome</h2><div class="chart-box" id="outcomes">'
            f"{_bars('outcomes', outcomes, rows, 'rows by outcome')}</div>"
            '<p class="hint">matched: the vendor answered with data; not_matched: it found nothing; '
            "invalid_input: never sent (see why below); duplicate: answered from an earlier row, sent once; "
            "error: no answer; skipped: never sent, a credit budget had no room for it.</p></section>"
        )
    else:
        sections.append('<section><h2>Rows by outcome</h2><p class="empty">No rows were read.</p></section>')

    if tally is not None:
        for column, grades in tally.grades.items():
            graded = grades.total()
            if not graded:
                continue
            known = [(g.value, grades.get(g.value, 0), GRADE_COLOURS[g]) for g in ContactStatus]
            known += [(word, n, "#8a94a6") for word, n in grades.items() if word not in set(ContactStatus)]
            name = GRADED_COLUMNS[column]
            sections.append(
                f'<section><h2>{_e(name)} by status</h2><div class="chart-box">'
                f"{_bars(name.lower(), known, graded, f'{name.lower()} by status')}</div>"
                f'<p class="hint">{_e(column)}, over the {graded:,} rows with one: the vendor\'s own word is in '
                f"{_e(column.replace('_status', '_vendor_status'))}.</p></section>"
            )

        reasons = tally.top_reasons()
        if reasons:
            table = _table(
                ("Outcome", "Reason", "Rows", "First rows"),
                (
                    (
                        _tag(r.status),
                        _e(r.reason),
                        f"{r.rows:,}",
                        _rows_list(r),
                    )
                    for r in reasons
                ),
                "reasons",
            )
            kinds = len(tally.reasons)
            more = f" ({kinds} different reasons in all)" if kinds > len(reasons) else ""
            sections.append(
                f"<section><h2>Why rows were not matched</h2>{table}"
                f'<p class="hint">The most frequent reasons{_e(more)}; rows are numbered from 1, the first row '
                "after the header. Values a reason quotes are shown as '…'.</p></section>"
            )

        data_columns = [c for c in tally.columns if c not in ROW_COLUMNS]
        if data_columns and rows:
            table = _table(
                ("Column", "Rows with a value", "Filled", ""),
                (
                    (
                        f"<code>{_e(c)}</code>",
                        f"{tally.filled[c]:,}",
                        _percent(tally.filled[c], rows),
                        _fill_bar(tally.filled[c] / rows),
                    )
                    for c in data_columns
                ),
                "columns",
            )
            sections.append(
                f"<section><h2>Result columns</h2>{table}"
                f'<p class="hint">The columns results.csv has for {_e(summary.get("vendor"))}, and how full each is '
                "over all rows; results.jsonl keeps the vendor's whole answer.</p></section>"
            )

    details = _table(
        ("", ""),
        (
            ("Input file", _e(input_name)),
            ("Read as", _e(_input_format(summary.get("input_format")))),
            ("Vendor", _e(summary.get("vendor"))),
            (
                "Options",
                _e(", ".join(f"{k}={json.dumps(v)}" for k, v in (summary.get("options") or {}).items()) or "none"),
            ),
            ("Chunks", _e(f"{chunks.get('total', 0)} ({chunks.get('failed', 0)} failed)")),
            ("Created", _e(timings.get("created_at") or "–")),
            ("Started", _e(timings.get("started_at") or "–")),
            ("Finished", _e(timings.get("finished_at") or "–")),
        ),
        "details",
    )
    sections.append(f"<section><h2>The job</h2>{details}</section>")

    colour = STATUS_COLOURS.get(status, "#6b7280")  # a StrEnum key is found by its text
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>{_e(title)}</title>
<style>{_STYLE}</style>
</head>
<body>
<main>
<header>
<div class="eyebrow">Enrichment report · {_e(summary.get("vendor"))}</div>
<h1>{_e(input_name)}</h1>
<div class="status"><span class="badge" id="status" style="background:{colour}">{_e(status)}</span>
<span class="why" id="why">{_e(_why(summary))}</span></div>
<div class="job">job <code>{_e(summary.get("job_id"))}</code></div>
</header>
{"".join(sections)}
<footer>{_FILES if tally is not None else _SUMMARY_ONLY}</footer>
</main>
</body>
</html>
"""


_FILES = (
    "Beside this page: results.csv (one row per input row, in order), results.jsonl (every vendor answer) "
    "and summary.json (these figures, for machines)."
)
_SUMMARY_ONLY = "Beside this page: summary.json (these figures, for machines). No row was read, so no results files."

_STYLE = """
*{box-sizing:border-box}
body{margin:0;background:#f5f7fa;color:#1f2933;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,
"Helvetica Neue",Arial,"DejaVu Sans",sans-serif}
main{max-width:960px;margin:0 auto;padding:32px 24px 48px}
header{margin-bottom:24px}
.eyebrow{text-transform:uppercase;letter-spacing:.08em;font-size:12px;color:#616e7c}
h1{margin:4px 0 12px;font-size:26px;font-weight:650;word-break:break-all}
h2{margin:0 0 12px;font-size:17px;font-weight:650}
.status{display:flex;align-items:center;gap:12px;flex-wrap:wrap}
.badge{color:#fff;font-weight:700;font-size:13px;letter-spacing:.04em;padding:4px 10px;border-radius:999px}
.why{font-size:15px}
.job{margin-top:8px;color:#616e7c;font-size:13px}
code{font:13px/1.4 ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace}
section{background:#fff;border:1px solid #e4e7eb;border-radius:10px;padding:20px 22px;margin:0 0 18px}
section.figures{display:grid;grid-template-columns:repeat(3,1fr);gap:0;padding:0;overflow:hidden}
.figure{padding:16px 20px;border-right:1px solid #e4e7eb;border-bottom:1px solid #e4e7eb}
.figure:nth-child(3n){border-right:0}
.figure:nth-last-child(-n+3){border-bottom:0}
.figure .label{font-size:12px;color:#616e7c;text-transform:uppercase;letter-spacing:.05em}
.figure .value{font-size:26px;font-weight:650;margin-top:2px}
.figure .note{font-size:12px;color:#7b8794}
.chart-box{overflow-x:auto}
svg.chart{max-width:100%;height:auto;font-size:14px}
svg.chart text{fill:#1f2933}
svg.chart .share{fill:#7b8794}
.hint{margin:10px 0 0;font-size:13px;color:#616e7c}
.empty{color:#616e7c}
table{width:100%;border-collapse:collapse;font-size:14px}
th{text-align:left;font-size:12px;text-transform:uppercase;letter-spacing:.05em;color:#616e7c;font-weight:600;
border-bottom:1px solid #e4e7eb;padding:6px 8px}
td{padding:7px 8px;border-bottom:1px solid #f0f2f5;vertical-align:top}
tr:last-child td{border-bottom:0}
table.reasons td:nth-child(2){word-break:break-word}
table.reasons td:nth-child(4){white-space:nowrap}
table.reasons td:nth-child(3),table.columns td:nth-child(2),table.columns td:nth-child(3){text-align:right;
white-space:nowrap}
table.reasons th:nth-child(3),table.columns th:nth-child(2),table.columns th:nth-child(3){text-align:right}
table.details td:first-child{width:140px;color:#616e7c}
table.details thead{display:none}
.tag{color:#fff;font-size:12px;padding:2px 8px;border-radius:999px;white-space:nowrap}
footer{font-size:13px;color:#616e7c;margin-top:8px}
"""
