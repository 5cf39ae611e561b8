import pytest

from enrichment.errors import BadInput
from enrichment.files.columns import map_columns
from enrichment.files.csvio import read_rows, safe_cell


def lines(data: bytes, size: int = 7):
    """A stream decoded incrementally into lines, line ends kept, in awkward block sizes."""
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    pending = ""
    for i in range(0, len(data), size):
        pending += decoder.decode(data[i : i + size])
        *done, pending = pending.split("\n")
        yield from (d + "\n" for d in done)
    pending += decoder.decode(b"", final=True)
    if pending:
        yield pending


@pytest.mark.parametrize("names", [["First Name"], ["first_name"], ["firstName"], ["FIRST-NAME"], [" first name "]])
def test_header_variants_map_to_one_column(names):
    assert map_columns(names).fields == {"first_name": 0}


def test_header_aliases():
    header = ["People Search ID", "LinkedIn", "Website", "Company", "E-mail Address", "Name"]
    assert map_columns(header).fields == {
        "people_search_id": 0,
        "linkedin_url": 1,
        "company_website": 2,
        "company_name": 3,
        "email": 4,
        "full_name": 5,
    }


def test_first_matching_column_wins_and_unknown_columns_are_kept_out():
    assert map_columns(["email", "Email Address", "notes"]).fields == {"email": 0}


@pytest.mark.parametrize("newline", [b"\n", b"\r\n"])
@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_reads_bom_and_line_endings_with_quoted_newlines(newline, bom):
    data = bom + newline.join([b"Name,Note", b'"Zo\xc3\xab","two' + newline + b'lines"', b"Bob,plain"]) + newline
    header, rows = read_rows(lines(data))
    assert header == ["Name", "Note"]
    assert list(rows) == [(1, ["Zoë", "two" + newline.decode() + "lines"]), (2, ["Bob", "plain"])]


def test_empty_file_is_a_clear_error():
    with pytest.raises(BadInput, match="empty"):
        read_rows(iter([]))


def test_unterminated_quote_names_the_line():
    header, rows = read_rows(lines(b'a,b\n1,2\n"3,4\n'))
    with pytest.raises(BadInput, match="line"):
        list(rows)


@pytest.mark.parametrize("value", ["=SUM(A1)", "+1555", "-2", "@cmd", "\tx", "\rx"])
def test_formula_cells_are_neutralised(value):
    assert safe_cell(value) == "'" + value


def test_plain_cells_are_untouched():
    assert safe_cell("ada@example.com") == "ada@example.com"
    assert safe_cell(None) == ""
