"""Each vendor's words for how good an email or a phone is, mapped to one vocabulary (models.ContactStatus).

The tables keep each vendor's spelling (the README's vocabulary table lists them); a word is looked up with
case, spaces and punctuation ignored ("Spam Trap", "spam_trap" and "spam trap" are one word). A word no table
knows, or none at all, is `unknown`: never an error, since vendors add words without notice. The vendor's own
word is kept beside the common one (`vendor_status`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from enrichment.models import ContactStatus, Email, Phone, Vendor

VALID, INVALID, RISKY = ContactStatus.VALID, ContactStatus.INVALID, ContactStatus.RISKY

EMAIL_WORDS: dict[Vendor, dict[str, ContactStatus]] = {
    # Documented: "Verified" or null.
    Vendor.PUBRIO: {"Verified": VALID},
    # Documented: VERIFIED | UNVERIFIED. Unverified is Prospeo not vouching for the mailbox, not a bounce: unknown.
    Vendor.PROSPEO: {"VERIFIED": VALID, "UNVERIFIED": ContactStatus.UNKNOWN},
    # Seen (documented as examples): active, inactive, invalid, spam trap, unvalidated.
    Vendor.CHECK365: {
        "active": VALID,
        "inactive": INVALID,
        "invalid": INVALID,
        "spam trap": RISKY,
        "unvalidated": ContactStatus.UNKNOWN,
    },
    # Inferred from InsideView's files and its Refresh product's grades (valid emails, valid domains only,
    # invalid emails, failed validations): emailValidationStatus is not documented.
    Vendor.INSIDEVIEW: {
        "ValidEmail": VALID,
        "AcceptAll": RISKY,
        "ValidDomain": RISKY,
        "InvalidEmail": INVALID,
        "Failed": ContactStatus.UNKNOWN,
    },
}

# Only vendors that grade phones have a table: the others' phones have no status at all.
PHONE_WORDS: dict[Vendor, dict[str, ContactStatus]] = {
    Vendor.PUBRIO: {"Verified": VALID},  # as its emails: "Verified" or null
    Vendor.PROSPEO: {"VERIFIED": VALID, "UNVERIFIED": ContactStatus.UNKNOWN},  # mobile.status, as email.status
}


def _key(word: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", word.lower())


def _lookup(tables: Mapping[Vendor, Mapping[str, ContactStatus]]) -> dict[Vendor, dict[str, ContactStatus]]:
    return {vendor: {_key(word): status for word, status in table.items()} for vendor, table in tables.items()}


_EMAIL = _lookup(EMAIL_WORDS)
_PHONE = _lookup(PHONE_WORDS)


def _status(table: Mapping[str, ContactStatus], word: str | None) -> ContactStatus:
    return table.get(_key(word), ContactStatus.UNKNOWN) if word else ContactStatus.UNKNOWN


def _word(word: object) -> str | None:
    text = str(word).strip() if word is not None else ""
    return text or None


def email(vendor: Vendor, value: str, *, type: str | None, word: object) -> Email:
    """An email with the vendor's grade in the common vocabulary, and the vendor's word kept."""
    word = _word(word)
    return Email(value=value, type=type, status=_status(_EMAIL[vendor], word), vendor_status=word)


def phone(vendor: Vendor, value: str, *, type: str | None, word: object = None) -> Phone:
    """A phone, graded only where the vendor grades phones (else its status is none, not unknown)."""
    word = _word(word)
    table = _PHONE.get(vendor)
    return Phone(value=value, type=type, status=_status(table, word) if table is not None else None, vendor_status=word)
