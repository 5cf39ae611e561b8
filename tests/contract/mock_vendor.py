"""A vendor in a test's hands: httpx's mock transport calls it with each request the adapter sends."""

from __future__ import annotations

from collections.abc import Callable

import httpx


class MockVendor:
    """Answers every call with `answer(request)` and keeps the requests, in order."""

    def __init__(self, answer: Callable[[httpx.Request], httpx.Response]) -> None:
        self.answer = answer
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answer(request)


def answering(status: int, body: object, headers: dict[str, str] | None = None) -> MockVendor:
    """A vendor that gives every call the same JSON answer."""
    return MockVendor(lambda _: httpx.Response(status, json=body, headers=headers))
