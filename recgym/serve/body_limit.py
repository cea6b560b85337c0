"""An ASGI middleware that refuses request bodies over a size limit with 413, before the app reads them.

A declared ``Content-Length`` over the limit is refused without reading the body. A body without
one (chunked) is read up to the limit, then either refused or handed to the app as it came, so
the app never holds more than ``max_bytes`` of any request.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class BodySizeLimit:
    """Wrap an ASGI app so that HTTP request bodies larger than ``max_bytes`` get a 413 answer.

    Parameters
    ----------
    app : ASGI application
        The wrapped application.
    max_bytes : int
        Largest accepted body.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer 413 to an oversized body, or pass the request on."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = [value for name, value in scope["headers"] if name.lower() == b"content-length"]
        if declared:
            try:
                length = int(declared[0])
            except ValueError:
                await _answer(send, 400, f"Content-Length must be a number of bytes, got {declared[0][:40]!r}")
                return
            if length > self.max_bytes:
                await _answer(send, 413, self._too_large(f"{length:,} bytes declared"))
                return
            await self.app(scope, receive, send)
            return
        # No declared length (chunked): read at most max_bytes, then replay what came.
        messages: list[Message] = []
        received = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break  # the client went away
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                await _answer(send, 413, self._too_large(f"more than {self.max_bytes:,} bytes sent"))
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    def _too_large(self, what: str) -> str:
        return f"request body too large: {what}, the limit is {self.max_bytes:,} bytes (max_body_bytes)"


async def _answer(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
               (b"connection", b"close")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
