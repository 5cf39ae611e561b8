"""The jobs API on http://127.0.0.1:<port>, as `sam local start-api` would serve it: each HTTP request
becomes an API Gateway (REST, proxy) event for the real API function, invoked through moto's Lambda.

Only the routes the template gives the API function are served (anything else is 403, as API
Gateway answers). Every route is IAM-authorized, as the template's DefaultAuthorizer makes it: a request must be
SigV4-signed, and its caller is named in `requestContext.identity` as API Gateway names it (localrt/iam_auth.py);
an unsigned or wrongly signed request is answered 403 without reaching the function. The local-only route fires
scheduled rules, unsigned: POST /_local/rules/<rule name> (e.g. enrich-local-sweeper).
"""

from __future__ import annotations

import base64
import json
import re
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from localrt import iam_auth
from localrt.runtime import LocalRuntime

TEXT_TYPES = ("application/json", "text/", "application/x-www-form-urlencoded")
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024  # API Gateway's limit on a request's payload


def route_pattern(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\{[^}/]+\}", "[^/]+", path) + "$")


def api_event(
    method: str,
    raw_path: str,
    headers: dict[str, str],
    body: bytes,
    resource: str,
    caller: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The API Gateway (REST, proxy) event for a request; `caller` is what IAM auth found (iam_auth.identify)."""
    parts = urlsplit(raw_path)
    query = parse_qs(parts.query, keep_blank_values=True)
    is_text = not body or any(t in headers.get("Content-Type", headers.get("content-type", "")) for t in TEXT_TYPES)
    if is_text and body:
        try:
            text = body.decode()
        except UnicodeDecodeError:  # not text after all: handed over as bytes, for the function to refuse
            is_text = False
    return {
        "resource": resource,
        "path": parts.path,
        "httpMethod": method,
        "headers": dict(headers),
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": method,
            "path": f"/v1{parts.path}",
            "stage": "v1",
            "requestId": str(uuid.uuid4()),
            "identity": (caller or {}) | {"sourceIp": "127.0.0.1", "userAgent": headers.get("User-Agent", "")},
            "accountId": "123456789012",
            "apiId": "local",
        },
        "body": (text if is_text else base64.b64encode(body).decode()) if body else None,
        "isBase64Encoded": bool(body) and not is_text,
    }


class LocalApi:
    def __init__(self, runtime: LocalRuntime, port: int = 3000) -> None:
        assert runtime.deployment is not None
        self.runtime = runtime
        self.routes = [(m, route_pattern(p), p, f) for m, p, f in runtime.deployment.api_routes]
        self.server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.server.daemon_threads = True

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> LocalApi:
        threading.Thread(target=self.server.serve_forever, name="local-api", daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def handle(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict, bytes]:
        signed_path = raw_path  # the path as the caller signed it, stage included
        if raw_path.startswith("/v1/"):  # the stage, as in a deployed URL (and Swagger UI's "Try it out")
            raw_path = raw_path.removeprefix("/v1")
        path = urlsplit(raw_path).path
        if method == "POST" and path.startswith("/_local/rules/"):
            answer, failed = self.runtime.trigger(path.removeprefix("/_local/rules/"))
            return (500 if failed else 200), {"Content-Type": "application/json"}, json.dumps(answer).encode()
        # A method the path declares, else the path's ANY route (as API Gateway picks them).
        matching = [r for r in self.routes if r[1].match(path)]
        declared = [r for r in matching if r[0] == method] or [r for r in matching if r[0] == "ANY"]
        route = declared[0] if declared else None
        if route is None:
            return 403, {"Content-Type": "application/json"}, b'{"message":"Missing Authentication Token"}'
        _, _, resource, function = route
        try:
            caller = iam_auth.identify(method, signed_path, headers, body)
        except iam_auth.Refused as refused:
            return 403, {"Content-Type": "application/json"}, json.dumps({"message": str(refused)}).encode()
        event = api_event(method, raw_path, headers, body, resource, caller)
        answer = self.runtime.client("lambda").invoke(FunctionName=function, Payload=json.dumps(event))
        result = json.loads(answer["Payload"].read())
        if "FunctionError" in answer:  # Lambda would log the error; API Gateway answers 502
            failure = f"{result.get('errorType')}: {result.get('errorMessage')}"
            print(f"local API: {method} {path} failed: {failure}", file=sys.stderr)
            return 502, {"Content-Type": "application/json"}, b'{"message":"Internal server error"}'
        out = result.get("body") or ""
        data = base64.b64decode(out) if result.get("isBase64Encoded") else out.encode()
        response_headers = dict(result.get("headers") or {})
        for key, values in (result.get("multiValueHeaders") or {}).items():
            response_headers[key] = ", ".join(values)
        return int(result.get("statusCode", 200)), response_headers, data

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = self.headers.get("Content-Length") or "0"
                if not length.isdigit() or int(length) > MAX_PAYLOAD_BYTES:  # refused unread, as API Gateway does
                    self.close_connection = True
                    status, reason = (413, b"Request Too Long") if length.isdigit() else (400, b"Bad Request")
                    self._send(status, {"Content-Type": "application/json"}, b'{"message":"%s"}' % reason)
                    return
                length = int(length)
                body = self.rfile.read(length) if length else b""
                try:
                    status, headers, data = api.handle(self.command, self.path, dict(self.headers.items()), body)
                except Exception as error:  # a fault of this server: answered, never a dropped connection
                    message = json.dumps({"message": f"the local API server failed: {type(error).__name__}"})
                    status, headers, data = 500, {"Content-Type": "application/json"}, message.encode()
                self._send(status, headers, data)

            def _send(self, status: int, headers: dict[str, str], data: bytes) -> None:
                self.send_response(status)
                for key, value in headers.items():
                    if key.lower() not in ("content-length", "connection", "transfer-encoding"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":  # a HEAD answer has the headers of its body, not the body
                    self.wfile.write(data)

            def __getattr__(self, name: str) -> Any:
                # Every method is served (do_GET, do_TRACE, do_QUERY, ...): routing decides, not this server.
                if name.startswith("do_"):
                    return self._serve
                raise AttributeError(name)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
