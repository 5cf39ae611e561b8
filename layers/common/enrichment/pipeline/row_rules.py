"""Rules every row meets before it is sent: placeholders, spreadsheet formulas, emails, ids, a repeated header.

Prepare applies the row-level rules (placeholders read as empty, a repeated header row); each vendor
adapter applies the value rules to the fields it sends. A broken rule is a reason naming the value and
the rule, in plain words, and the row is `invalid_input`: nothing here ever reaches a vendor.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from enrichment.files.csvio import FORMULA_START, HEADER_ALIASES, header_key

# Cells that say "no value" in words. Compared case-insensitively, trimmed, and also inside one pair of
# brackets ("(none)", "<null>", "[blank]"). A cell with no letter or digit at all ("", "-", "--", "?",
# '""') is empty-looking whatever it holds, and so is any spreadsheet error value ("#N/A", "#REF!"):
# the value the cell once had is gone.
PLACEHOLDERS = frozenset(
    {
        "n/a",
        "n.a.",
        "n.a",
        "na",
        "none",
        "null",
        "nil",
        "nan",
        "undefined",
        "unknown",
        "tbd",
        "tba",
        "tbc",
        "blank",
        "empty",
        "not available",
        "not applicable",
    }
)
SPREADSHEET_ERROR = re.compile(r"^#(n/?a|ref!|value!|name\?|div/0!|null!|num!|spill!|calc!|getting_data)$")
_BRACKETS = ("()", "[]", "<>", "{}")
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"  # zero-width characters str.strip() keeps

# A cell starting with one of FORMULA_START is a spreadsheet formula, unless it is a plain signed number,
# which a spreadsheet reads as a number. A quote before "=" does not help:
# '"=1+1"@example.com' is a formula a user quoted.
SIGNED_NUMBER = re.compile(r"^[+-]\d+([.,]\d+)?$")
FORMULA_CALL = re.compile(r"=\s*[A-Za-z_][A-Za-z0-9_.]*\s*\(")  # =HYPERLINK( anywhere in the value

EMAIL_MAX_LENGTH = 254  # RFC 5321's path limit less the angle brackets; the library counts the same way
INSIDEVIEW_ID = re.compile(r"^[0-9]{1,64}$")  # documented example: 13496440,8802619,225
SCIENTIFIC = re.compile(r"^[0-9]+([.,][0-9]+)?[eE][+-]?[0-9]+$")  # 1.35E+07, 1,35E+07
DECIMAL = re.compile(r"^[0-9]+[.,]0+$")  # 13496440.0: an id read as a number and written back

REPEATED_HEADER = "a header row repeated in the data"
SHOWN_LENGTH = 60


class InvalidValue(ValueError):
    """A value that cannot be sent; its message is the row's reason."""


def shown(value: str) -> str:
    """A value as a reason quotes it: long values cut, so a reason stays readable."""
    return repr(value if len(value) <= SHOWN_LENGTH else value[:SHOWN_LENGTH] + "…")


# The value a reason quotes (`shown`: a repr after the field's name): left out, so one rule is one line.
_QUOTED_VALUE = re.compile(r"""(?<![\w'"])('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")""")


def reason_kind(reason: str) -> str:
    """A reason without the values it quotes: rows that break one rule with different values count together."""
    return _QUOTED_VALUE.sub("'…'", reason)


# ---- placeholders ----


def is_placeholder(value: str) -> bool:
    """Whether a cell only says "no value": empty-looking, a placeholder word, or a spreadsheet error."""
    text = value.strip().strip(_INVISIBLE).strip().casefold()
    if len(text) >= 2 and text[0] + text[-1] in _BRACKETS:
        text = text[1:-1].strip()
    return not any(c.isalnum() for c in text) or text in PLACEHOLDERS or bool(SPREADSHEET_ERROR.match(text))


def without_placeholders(fields: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """(the fields trimmed, without empty or placeholder cells; the placeholder cells that were dropped)."""
    kept: dict[str, str] = {}
    dropped: dict[str, str] = {}
    for name, value in fields.items():
        if is_placeholder(value):
            if value.strip():
                dropped[name] = value.strip()
        else:
            kept[name] = value.strip()
    return kept, dropped


def placeholder_note(dropped: Mapping[str, str], names: Iterable[str]) -> str:
    """What a reason adds when fields it is about held placeholders: "; email 'n/a' is a placeholder, read as empty"."""
    cells = [f"{name} {shown(dropped[name])}" for name in names if name in dropped]
    if not cells:
        return ""
    return f"; {' and '.join(cells)} {'is a placeholder' if len(cells) == 1 else 'are placeholders'}, read as empty"


# ---- formulas ----


def formula_reason(field: str, value: str) -> str | None:
    """Why `value` is a spreadsheet formula rather than a value, or None."""
    text = value.lstrip(" \"'")
    if text.startswith(FORMULA_START) and not SIGNED_NUMBER.match(text):
        why = f"it starts with {text[0]!r}" + (" after a quote" if text != value.lstrip(" ") else "")
    elif call := FORMULA_CALL.search(value):
        why = f"it contains {call.group(0).strip()!r}"
    else:
        return None
    return f"{field} {shown(value)} looks like a spreadsheet formula ({why}); a formula is never a valid value"


def refuse_formulas(fields: Mapping[str, str], names: Iterable[str]) -> str | None:
    """The first formula among `names`, as a reason, or None."""
    for name in names:
        if fields.get(name) and (reason := formula_reason(name, fields[name])):
            return reason
    return None


# ---- emails ----


def email_address(value: str, field: str = "email") -> str:
    """The address in the library's normalized form (domain lowercased, IDN as Unicode NFC).

    Raises InvalidValue naming the value and the rule. Syntax only, never the network: no quoted local
    part, no comments, no display name or angle brackets, no IP address for a domain, at most 64
    characters before the @ and 254 in all."""
    from email_validator import EmailNotValidError, validate_email  # only where addresses are checked

    value = value.strip()
    # A leading "@" is reported as what it is in an address: nothing before the @-sign (the library says so).
    if (reason := formula_reason(field, value)) and not value.startswith("@"):
        raise InvalidValue(reason)
    if len(value) > EMAIL_MAX_LENGTH:
        raise InvalidValue(
            f"{field} {shown(value)} is {len(value)} characters long; an email address has at most {EMAIL_MAX_LENGTH}"
        )
    try:
        checked = validate_email(
            value,
            check_deliverability=False,
            allow_quoted_local=False,
            allow_display_name=False,
            allow_domain_literal=False,
            allow_empty_local=False,
            strict=True,  # the 64-character limit before the @
        )
    except EmailNotValidError as exc:
        rule = str(exc).rstrip(".")
        raise InvalidValue(
            f"{field} {shown(value)} is not a valid email address: {rule[:1].lower()}{rule[1:]}"
        ) from None
    return checked.normalized


def email_key(value: str) -> str:
    """Addresses that are one mailbox for dedupe: normalized by the library, then compared case-insensitively."""
    return email_address(value).lower()


def as_sent(fields: Mapping[str, str]) -> dict[str, str]:
    """The fields as a vendor receives them: a valid email in the library's normalized form."""
    try:
        return {**fields, "email": email_address(fields["email"])} if fields.get("email") else dict(fields)
    except InvalidValue:
        return dict(fields)  # a vendor that does not match on email: it never reads this column


# ---- InsideView ids ----


def insideview_id_reason(value: str, field: str = "contact_id") -> str | None:
    """Why `value` is not an InsideView contact id (digits; leading zeros are part of the id), or None."""
    if INSIDEVIEW_ID.match(value):
        return None
    if SCIENTIFIC.match(value):
        return (
            f"{field} {shown(value)} looks like a number a spreadsheet rewrote in scientific notation; "
            "format the column as text and export again"
        )
    if DECIMAL.match(value):
        return (
            f"{field} {shown(value)} has a decimal part, as if a spreadsheet read the id as a number; "
            "format the column as text and export again"
        )
    if reason := formula_reason(field, value):
        return reason
    return f"{field} {shown(value)} is not an InsideView contact id: ids are digits only, like 13496440"


# ---- a repeated header ----


def _names_one_column(header_cell: str, cell: str) -> bool:
    expected, found = header_key(header_cell), header_key(cell)
    if not found:
        return False
    return found == expected or (HEADER_ALIASES.get(found) or found) == (HEADER_ALIASES.get(expected) or expected)


def repeats_header(header: Sequence[str], cells: Sequence[str]) -> bool:
    """Whether a row is the header again (files pasted together, an export with a header per page).

    The rule: at least half of the header's named columns (and at least one) hold their own column's
    name in this row, compared as headers are mapped: case, spaces and punctuation ignored, and two
    names of one field ("Email", "E-mail Address") count as the same."""
    named = [i for i, name in enumerate(header) if header_key(name)]
    same = sum(1 for i in named if i < len(cells) and _names_one_column(header[i], cells[i]))
    return same > 0 and same * 2 >= len(named)
