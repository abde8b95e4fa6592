"""JSON for events and jobs: Decimal as string, dates ISO; never pickle."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any


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
