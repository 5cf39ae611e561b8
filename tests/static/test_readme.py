"""The README's promises that can be checked mechanically."""

import re
from pathlib import Path

from enrichment.files.output import RESULT_COLUMNS
from enrichment.settings import DEFAULT_VENDOR_SETTINGS
from enrichment.vendors.vocabulary import EMAIL_WORDS, PHONE_WORDS

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def test_the_output_schema_table_names_every_column_the_files_contain():
    table = README[README.index("| column | meaning |") :].split("\n\n", 1)[0]
    documented = re.findall(r"`(result_\w+)`", table)
    assert sorted(documented) == sorted(RESULT_COLUMNS)


def test_the_readme_starts_with_the_commands():
    first_block = README.split("```", 2)[1]
    assert "make demo" in first_block and "make test" in first_block and "make run" in first_block


def test_every_vendor_is_documented():
    for vendor in DEFAULT_VENDOR_SETTINGS:
        assert f"`{vendor.value}`" in README


def test_the_vocabulary_table_maps_every_vendor_word_as_the_code_does():
    table = README[README.index("| vendor | field | its word -> our status |") :].split("\n\n", 1)[0]
    for vendor, words in EMAIL_WORDS.items():
        row = next(line.strip() for line in table.splitlines() if line.strip().startswith(f"| {vendor.value} |"))
        documented = {}
        for part in row.split("|")[3].split(";"):
            said, arrow, status = part.partition("->")
            if arrow and (names := re.findall(r"`([^`]+)`", said)):
                documented |= dict.fromkeys(names, re.findall(r"`([^`]+)`", status)[0])
        assert documented == {word: str(status) for word, status in (words | PHONE_WORDS.get(vendor, {})).items()}
