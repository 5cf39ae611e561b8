"""The LIVE file: a vendor's endpoint and credentials. Mistakes are named; a credential is never quoted."""

import json

import pytest

from localrt.live import LiveConfigError, load

SECRET = "sk-live-0123456789"


def write(tmp_path, content) -> object:
    path = tmp_path / "vendor.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def test_a_complete_file_is_read(tmp_path):
    live = load(
        write(
            tmp_path,
            {
                "api_url": "https://api.insideview.com",
                "login_url": "https://login.insideview.com",
                "credentials": {"client_id": "id", "client_secret": SECRET},
                "settings": {"chunk_size": 500, "max_concurrency": 1},
            },
        ),
        "insideview",
    )
    assert live.api_url == "https://api.insideview.com" and live.settings["chunk_size"] == 500


@pytest.mark.parametrize(
    ("content", "vendor", "says"),
    [
        ("{not json", "prospeo", "is not JSON"),
        ({"api_url": "https://x.io", "credentials": {"key": SECRET}}, "prospeo", "need api_key (missing: api_key)"),
        ({"api_url": "https://x.io", "credentials": {"client_id": SECRET}}, "insideview", "missing: client_secret"),
        (
            {"api_url": "ftp://x.io", "credentials": {"api_key": SECRET}},
            "pubrio",
            "api_url: Value error, must be an http(s) URL",
        ),
        (
            {"api_url": "https://x.io", "credentials": {"api_key": 12345}},
            "pubrio",
            "credentials.api_key: Input should be a valid string",
        ),
        (
            {"api_url": "https://x.io", "credentials": {"api_key": SECRET}, "settings": {"chunk_sz": 3}},
            "pubrio",
            "unknown chunk_sz",
        ),
        (
            {"api_url": "https://x.io", "credentials": {"api_key": SECRET}, "settings": {"chunk_size": 0}},
            "pubrio",
            "chunk_size: Input should be greater than or equal to 1",
        ),
        (
            {"api_url": "https://x.io", "login_url": "https://l.io", "credentials": {"api_key": SECRET}},
            "pubrio",
            "login_url is for insideview only",
        ),
        (
            {"api_url": "https://x.io", "credentials": {"api_key": SECRET}, "token": SECRET},
            "pubrio",
            "token: Extra inputs are not permitted",
        ),
    ],
)
def test_mistakes_are_named_without_quoting_a_credential(tmp_path, content, vendor, says):
    with pytest.raises(LiveConfigError) as caught:
        load(write(tmp_path, content), vendor)
    assert says in str(caught.value)
    assert SECRET not in str(caught.value) and "12345" not in str(caught.value)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(LiveConfigError, match="cannot read .*nowhere.json: No such file"):
        load(tmp_path / "nowhere.json", "pubrio")
