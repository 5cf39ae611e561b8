"""Where uploads go, and the input's name a job reports (summary.json, report.html)."""

import pytest

from enrichment.files import layout

TOKEN = "0123456789abcdef01234567"


@pytest.mark.parametrize(
    ("file_name", "key", "name"),
    [
        ("contacts.csv", f"uploads/{TOKEN}-contacts.csv", "contacts.csv"),
        ("Q3 leads (final).xlsx", f"uploads/{TOKEN}-Q3_leads_final_.xlsx", "Q3_leads_final_.xlsx"),
        ("../../etc/passwd", f"uploads/{TOKEN}-etc_passwd", "etc_passwd"),
        ("Müller.csv", f"uploads/{TOKEN}-M_ller.csv", "M_ller.csv"),
        (None, f"uploads/{TOKEN}.csv", f"{TOKEN}.csv"),
        ("...", f"uploads/{TOKEN}.csv", f"{TOKEN}.csv"),
    ],
)
def test_an_upload_keeps_the_users_file_name_in_safe_characters(file_name, key, name):
    assert layout.upload_key(TOKEN, file_name) == key
    assert layout.input_name(key) == name


def test_a_dropped_files_name_is_its_own():
    assert layout.input_name("inbox/prospeo/0123456789abcdef01234567-leads.csv") == (
        "0123456789abcdef01234567-leads.csv"
    )


def test_a_result_key_says_whether_it_holds_a_batch_or_a_chunk():
    assert layout.result_index("job-1", layout.batch_result_key("job-1", 12)) == ("batch", 12)
    assert layout.result_index("job-1", layout.chunk_result_key("job-1", 7)) == ("chunk", 7)
    assert layout.result_index("job-1", layout.results_prefix("job-1") + "notes.txt") is None
    assert layout.result_index("job-1", layout.chunk_result_key("job-2", 7)) is None
