"""One vocabulary for every vendor's grade of an email or a phone; the vendor's own word kept beside it."""

from __future__ import annotations

import pytest

from enrichment.files.output import RESULT_COLUMNS, ROW_COLUMNS, csv_columns
from enrichment.models import ContactStatus, Vendor
from enrichment.vendors import adapter_class, vocabulary


@pytest.mark.parametrize(
    ("vendor", "word", "status"),
    [
        (Vendor.PUBRIO, "Verified", "valid"),
        (Vendor.PROSPEO, "VERIFIED", "valid"),
        (Vendor.PROSPEO, "UNVERIFIED", "unknown"),
        (Vendor.CHECK365, "active", "valid"),
        (Vendor.CHECK365, "inactive", "invalid"),
        (Vendor.CHECK365, "invalid", "invalid"),
        (Vendor.CHECK365, "spam trap", "risky"),
        (Vendor.CHECK365, "unvalidated", "unknown"),
        (Vendor.INSIDEVIEW, "ValidEmail", "valid"),
        (Vendor.INSIDEVIEW, "AcceptAll", "risky"),
    ],
)
def test_each_vendor_word_has_its_common_word_and_is_kept(vendor, word, status):
    email = vocabulary.email(vendor, "ada@example.com", type="work", word=word)
    assert (email.status, email.vendor_status) == (status, word)


@pytest.mark.parametrize("word", ["Spam Trap", "SPAM_TRAP", " spam-trap "])
def test_case_spaces_and_punctuation_do_not_change_a_word(word):
    assert vocabulary.email(Vendor.CHECK365, "a@b.co", type=None, word=word).status == ContactStatus.RISKY


@pytest.mark.parametrize("word", ["catch-all-ish", "Verified!!maybe", "42", "ValidEmail2"])
@pytest.mark.parametrize("vendor", list(Vendor))
def test_a_word_no_table_knows_is_unknown_never_an_error(vendor, word):
    email = vocabulary.email(vendor, "a@b.co", type=None, word=word)
    assert email.status == ContactStatus.UNKNOWN and email.vendor_status == word


@pytest.mark.parametrize("word", [None, "", "   "])
def test_no_word_is_unknown_with_no_vendor_word(word):
    email = vocabulary.email(Vendor.PUBRIO, "a@b.co", type="work", word=word)
    assert email.status == ContactStatus.UNKNOWN and email.vendor_status is None


def test_phones_are_graded_only_where_the_vendor_grades_them():
    assert vocabulary.phone(Vendor.PUBRIO, "+1", type="phone", word="Verified").status == ContactStatus.VALID
    assert vocabulary.phone(Vendor.PROSPEO, "+1", type="mobile", word=None).status == ContactStatus.UNKNOWN
    ungraded = vocabulary.phone(Vendor.INSIDEVIEW, "+1", type="work")
    assert ungraded.status is None and ungraded.vendor_status is None


def test_every_vendor_has_an_email_table_of_common_words():
    assert set(vocabulary.EMAIL_WORDS) == set(Vendor)
    for tables in (vocabulary.EMAIL_WORDS, vocabulary.PHONE_WORDS):
        for table in tables.values():
            assert set(table.values()) <= set(ContactStatus)


@pytest.mark.parametrize("vendor", list(Vendor))
def test_each_vendor_declares_result_columns_of_the_schema_and_a_credits_unit(vendor):
    adapter = adapter_class(vendor)
    assert set(adapter.result_columns) <= set(RESULT_COLUMNS) - set(ROW_COLUMNS)
    columns = csv_columns(adapter.result_columns)
    assert columns[: len(ROW_COLUMNS)] == ROW_COLUMNS
    assert list(columns) == [c for c in RESULT_COLUMNS if c in columns]  # schema order
    assert "result_email_status" in columns and "result_email_vendor_status" in columns
    assert ("result_phone_status" in columns) == (vendor in vocabulary.PHONE_WORDS)
    assert adapter.credits_unit.endswith("credits")


def test_a_column_outside_the_schema_is_refused():
    with pytest.raises(ValueError, match="result_colour"):
        csv_columns(["result_email", "result_colour"])
