"""A small client of the jobs API: local by default or a deployed stack, every request SigV4-signed."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import httpx

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
DEFAULT_URL = "http://127.0.0.1:3000"
# Signs for the local API when no AWS credentials are configured: a key moto does not know, so the local API
# names the caller moto's default user (localrt/iam_auth.py). Not a secret: nothing accepts it outside moto.
LOCAL_CREDENTIALS = ("local", "local")


class ApiError(Exception):
    """An answer of the API (or of S3, to an upload) that refuses the request; status None: refused here,
    before anything was sent."""

    def __init__(self, status: int | None, body: Any) -> None:
        message = body.get("message") if isinstance(body, dict) else None
        errors = body.get("errors") if isinstance(body, dict) else None
        if errors:
            message = "; ".join(f"{e.get('field')}: {e.get('message')}" for e in errors)
        super().__init__(f"HTTP {status}: {message or body}" if status else f"{message or body}")
        self.status = status


class SigV4(httpx.Auth):
    """Signs each request with AWS credentials, as API Gateway's IAM auth requires: the caller's own (boto3's
    chain), or those given. `local`: without credentials, sign as the local runtime's default caller."""

    def __init__(self, region: str, credentials: Any = None, *, local: bool = False) -> None:
        if credentials is None:
            import boto3

            credentials = boto3.Session().get_credentials()
            if credentials is None and local:
                from botocore.credentials import Credentials

                credentials = Credentials(*LOCAL_CREDENTIALS)
            if credentials is None:
                raise SystemExit("no AWS credentials found to sign requests to a deployed API (see `aws configure`)")
        self.credentials = credentials.get_frozen_credentials()
        self.region = region

    def auth_flow(self, request: httpx.Request):
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        signed = AWSRequest(
            method=request.method,
            url=str(request.url),
            data=request.content,
            headers={k: v for k, v in request.headers.items() if k.lower() != "connection"},
        )
        SigV4Auth(self.credentials, "execute-api", self.region).add_auth(signed)
        request.headers.update(dict(signed.headers.items()))
        yield request


def s3_message(xml: str) -> str:
    """S3's error in words: its <Code> and <Message> (EntityTooLarge: Your proposed upload exceeds ...)."""
    code, message = (re.search(rf"<{tag}>(.*?)</{tag}>", xml, re.DOTALL) for tag in ("Code", "Message"))
    return ": ".join(m.group(1) for m in (code, message) if m) or xml[:200]


def region_of(url: str, default: str | None) -> str:
    match = re.search(r"\.execute-api\.([a-z0-9-]+)\.", urlsplit(url).netloc)
    return match.group(1) if match else (default or "us-east-1")


class JobsApi:
    def __init__(self, url: str, region: str | None = None) -> None:
        host = urlsplit(url).hostname or ""
        auth = SigV4(region_of(url, region), local=host in LOCAL_HOSTS)
        self.http = httpx.Client(base_url=url.rstrip("/"), auth=auth, timeout=60)

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.ConnectError:
            raise SystemExit(
                f"cannot reach the jobs API at {self.http.base_url}: start it with `make api`, or pass --url"
            ) from None
        body = response.json() if response.content else None
        if response.status_code >= 400:
            raise ApiError(response.status_code, body)
        return body

    def upload(self, content: bytes, filename: str = "contacts.csv") -> str:
        """Upload a file with the API's presigned POST form (its fields, then the file last); its input_key."""
        if not content:
            raise ApiError(None, f"{filename} is empty: there is nothing to upload")
        ticket = self._call("POST", "/uploads", params={"file_name": filename})
        if len(content) > ticket["max_bytes"]:
            raise ApiError(None, f"{filename} is {len(content):,} bytes, more than the {ticket['max_bytes']:,} allowed")
        try:
            answer = httpx.post(ticket["url"], data=ticket["fields"], files={"file": (filename, content)}, timeout=300)
        except httpx.ConnectError:
            raise SystemExit(f"cannot reach the upload address {ticket['url']}") from None
        if answer.status_code >= 300:
            raise ApiError(answer.status_code, f"the upload was refused: {s3_message(answer.text)}")
        return ticket["input_key"]

    def create(self, body: dict[str, Any], idempotency_key: str | None = None) -> dict[str, Any]:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        return self._call("POST", "/jobs", json=body, headers=headers)

    def get(self, job_id: str) -> dict[str, Any]:
        return self._call("GET", f"/jobs/{job_id}")

    def list(self, status: str | None = None, limit: int = 25, next_token: str | None = None) -> dict[str, Any]:
        params = {k: v for k, v in {"status": status, "limit": limit, "next_token": next_token}.items() if v}
        return self._call("GET", "/jobs", params=params)

    def cancel(self, job_id: str, *, hard: bool = False) -> dict[str, Any]:
        return self._call("POST", f"/jobs/{job_id}/cancel", params={"hard": "true"} if hard else None)

    def purge_cache(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST /cache/purge until it is over (a purge that stops early gives a next_token to go on from)."""
        total = {"deleted": 0, "scanned": 0}
        while True:
            answer = self._call("POST", "/cache/purge", json=body)
            total["deleted"] += answer["deleted"]
            total["scanned"] += answer["scanned"]
            if not answer.get("next_token"):
                return total
            body = {**body, "next_token": answer["next_token"]}

    def vendor_access(self, vendor: str) -> dict[str, Any]:
        return self._call("GET", f"/vendors/{vendor}/access")

    def credits(self, since: str | None = None) -> dict[str, Any]:
        return self._call("GET", "/credits", params={"since": since} if since else None)

    def results(self, job_id: str) -> dict[str, str]:
        return self._call("GET", f"/jobs/{job_id}/results")["files"]
