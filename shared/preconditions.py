"""``If-Match``: the one parser and the one check for optimistic concurrency (issue 16).

The contract, the same on every route that takes the header:

- Our ETags are a resource's version number in quotes (``"3"``). ``W/"3"`` is accepted as
  ``"3"``: a proxy may weaken a tag, the version it names is the same. A list
  (``"3", "4"``) matches any of its versions; ``*`` matches whatever version exists
  (RFC 9110 §13.1.1) and fails only when there is no resource yet.
- A value that is none of these (``3`` without quotes, ``"abc"``, ``W/3``, an empty list) is
  422 ``precondition.invalid`` with the field ``If-Match``.
- A version that is not the current one is 412 ``<entity>.stale`` with ``current_version``.
- Routes that change a resource the client must have read first (PATCH of a project)
  *require* the header: ``IfMatchRequired`` declares it required in the OpenAPI, and
  ``shared.errors`` answers its absence with 428 ``precondition.required`` (RFC 6585).
  Routes where the write's own rules already refuse a stale request (an issue action checks
  the step) or where the first write creates the resource (a year's plan) take it as
  ``IfMatchOptional``: without it the write is not conditional.

``shared.problem_doc`` documents 412 wherever the header is taken and 428 where it is
required, so the OpenAPI says exactly this.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header

from shared.errors import InvalidInput, PreconditionFailed

HEADER = "If-Match"
REQUIRED_CODE = "precondition.required"
INVALID_CODE = "precondition.invalid"
_TAG = re.compile(r'(?:W/)?"([0-9]{1,9})"')


@dataclass(frozen=True, slots=True)
class IfMatch:
    """A parsed ``If-Match``: the versions it names, or ``any_version`` for ``*``."""

    versions: frozenset[int] = frozenset()
    any_version: bool = False

    def matches(self, current_version: int | None) -> bool:
        if current_version is None:  # no resource yet: nothing matches, not even "*"
            return False
        return self.any_version or current_version in self.versions


def parse_if_match(value: str | None) -> IfMatch | None:
    """``None`` when the header is absent; 422 ``precondition.invalid`` when malformed."""
    return None if value is None else _parse(value)


def _parse(value: str) -> IfMatch:
    raw = value.strip()
    if raw == "*":
        return IfMatch(any_version=True)
    versions = set()
    for part in raw.split(","):
        tag = _TAG.fullmatch(part.strip())
        if tag is None:
            raise InvalidInput(
                f'If-Match 须为 GET 返回的 ETag（如 "3" 或 W/"3"）或 *，收到：{value[:40]}',
                code=INVALID_CODE,
                fields=[{"field": HEADER, "message": "不是有效的 ETag"}],
            )
        versions.add(int(tag.group(1)))
    return IfMatch(frozenset(versions))


def require_version(if_match: IfMatch | None, current_version: int | None, *, entity: str, what: str) -> None:
    """412 ``<entity>.stale`` when ``if_match`` is given and does not name the current version."""
    if if_match is None or if_match.matches(current_version):
        return
    if current_version is None:
        raise PreconditionFailed(
            f"{what}尚不存在，If-Match 不成立", code=f"{entity}.stale", current_version=None
        )
    raise PreconditionFailed(
        f"{what}已被他人修改（当前版本 {current_version}），请重新获取后再改",
        code=f"{entity}.stale",
        current_version=current_version,
    )


def _required(
    if_match: Annotated[
        str, Header(alias=HEADER, max_length=200, description="必填：GET 返回的 ETag（版本），缺少时 428")
    ],
) -> IfMatch:
    return _parse(if_match)


def _optional(
    if_match: Annotated[
        str | None,
        Header(alias=HEADER, max_length=200, description="可选：GET 返回的 ETag（版本），不符时 412"),
    ] = None,
) -> IfMatch | None:
    return parse_if_match(if_match)


IfMatchRequired = Annotated[IfMatch, Depends(_required)]
IfMatchOptional = Annotated[IfMatch | None, Depends(_optional)]
