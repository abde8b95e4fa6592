"""JSON for events, jobs and hot answers: Decimal as string, dates ISO; never pickle."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from pydantic import TypeAdapter
from starlette.responses import Response


def json_default(value: Any) -> Any:
    """The JSON form of a value ``json`` cannot write itself (the encoder's ``default``)."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if isinstance(value, BaseException):
        return f"{type(value).__name__}: {value}"
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


# one encoder for every call (json.dumps with options builds a new one each time)
_ENCODER = json.JSONEncoder(default=json_default, ensure_ascii=False, separators=(",", ":"))


def dumps(value: Any) -> str:
    return _ENCODER.encode(value)


def to_jsonable(value: Any) -> Any:
    """A value made of JSON types only (for JSONB columns and event payloads)."""
    return json.loads(dumps(value))


def model_response(
    model: TypeAdapter[Any], data: Any, *, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """``data`` checked against the response model and written as JSON bytes in one pass of
    pydantic-core — what FastAPI does with a returned dict, minus the sub-response it builds
    for a ``Response`` parameter (issue 15: for a hot read that sets a header)."""
    return Response(
        model.dump_json(model.validate_python(data)),
        status_code=status_code,
        headers=headers,
        media_type="application/json",
    )
