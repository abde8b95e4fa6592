"""Text PostgreSQL cannot store is refused at the door: a NUL byte is a 422, not a 503.

PostgreSQL ``text`` cannot hold U+0000; before this guard a NUL in any name, tag, work
plan, search term or login name reached the database and came back as a 503. The guard
(run by the one KPP request layer, ``shared.app``) looks at the decoded path, every query
parameter, every field of a form body (the login) and every string (and key) of a JSON
body, and answers 422 ``request.nul_character`` naming the field. The body is only parsed
when its raw bytes hold the JSON escape ``\\u0000`` (JSON cannot carry a raw NUL inside a
string), so ordinary requests pay one ``bytes.find``.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.errors import InvalidInput, problem_response

NUL = "\x00"


def nul_field(value: Any, where: str = "body") -> str | None:
    """The dotted location of the first string (or key) holding a NUL, else None (iterative)."""
    stack: list[tuple[str, Any]] = [(where, value)]
    while stack:
        loc, item = stack.pop()
        if isinstance(item, str):
            if NUL in item:
                return loc
        elif isinstance(item, dict):
            for key, sub in item.items():
                if NUL in key:
                    return f"{loc}.{key.replace(NUL, '?')}"
                stack.append((f"{loc}.{key}", sub))
        elif isinstance(item, list):
            stack.extend((f"{loc}.{i}", sub) for i, sub in enumerate(item))
    return None


def refusal(field: str) -> InvalidInput:
    return InvalidInput(
        f"{field} 含有空字符（U+0000），无法保存",
        code="request.nul_character",
        fields=[{"field": field, "type": "nul_character", "message": "含有空字符（U+0000）"}],
    )


def _query_field(query: bytes) -> str | None:
    if b"%00" not in query and b"\x00" not in query:
        return None
    for key, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        if NUL in key or NUL in value:
            return f"query.{key.replace(NUL, '?')}"
    return None


async def guard_nul(app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
    """Call ``app`` for an HTTP request unless the path, a query parameter, a form field or a
    JSON string holds a NUL byte: then answer the 422 (the KPP request layer calls this)."""
    field = "path" if NUL in scope["path"] else _query_field(scope.get("query_string", b""))
    if field is not None:
        await _refuse(scope, receive, send, field)
        return
    if scope["method"] not in ("POST", "PUT", "PATCH"):
        await app(scope, receive, send)
        return
    ctype = next((v for k, v in scope["headers"] if k == b"content-type"), b"")
    form = ctype.startswith(b"application/x-www-form-urlencoded")
    if b"json" not in ctype and not form:
        await app(scope, receive, send)
        return
    messages: list[Message] = []
    chunks: list[bytes] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    if form:
        field = _query_field(body)
        if field is not None:
            await _refuse(scope, receive, send, "body." + field.removeprefix("query."))
            return
    elif b"\\u0000" in body:
        try:
            field = nul_field(json.loads(body))
        except ValueError:  # malformed JSON: FastAPI answers it with its own 422
            field = None
        if field is not None:
            await _refuse(scope, receive, send, field)
            return

    async def replay() -> Message:
        if messages:
            return messages.pop(0)
        return await receive()

    await app(scope, replay, send)


async def _refuse(scope: Scope, receive: Receive, send: Send, field: str) -> None:
    instance = scope["path"].replace(NUL, "?")
    response = problem_response(422, refusal(field).body(instance))
    await response(scope, receive, send)
