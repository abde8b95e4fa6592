"""JSON for events and jobs: Decimal as string, dates ISO; never pickle."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any


def _default(value: Any) -> Any:
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


# one encoder for every call: json.dumps builds a new one each time (~10 µs)
_encoder = json.JSONEncoder(default=_default, ensure_ascii=False, separators=(",", ":"))


def dumps(value: Any) -> str:
    return _encoder.encode(value)


def to_jsonable(value: Any) -> Any:
    """A value made of JSON types only (for JSONB columns and event payloads)."""
    return json.loads(dumps(value))
