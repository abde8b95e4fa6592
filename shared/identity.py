"""The internal identity token the gateway issues, and the ``CurrentPrincipal`` dependency.

Every service refuses a request without a valid token (architecture: services accept a
request only with a short-lived, signed identity token from the gateway) and authorises
from the principal's role and organisational unit.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request

from shared import clock
from shared.errors import Forbidden, Unauthorized
from shared.settings import get_settings

IDENTITY_HEADER = "X-KPP-Identity"
ISSUER = "kpp-gateway"
AUDIENCE = "kpp-internal"


class Role(StrEnum):
    admin = "admin"
    key_office = "key_office"  # 重点办
    township = "township"  # 乡镇
    department = "department"  # 部门
    leader = "leader"  # 县领导 (read)
    enterprise = "enterprise"  # 企业 (its own projects)
    platform = "platform"  # another government platform, by app key
    system = "system"  # a KPP worker calling another service


OFFICE_ROLES = frozenset({Role.admin, Role.key_office})


@dataclass(frozen=True, slots=True)
class Principal:
    subject: str
    role: Role
    unit_id: str | None = None
    name: str = ""
    scopes: frozenset[str] = field(default_factory=frozenset)
    # an enterprise user's unified social credit code
    org_code: str | None = None
    app_key: str | None = None

    @property
    def is_office(self) -> bool:
        """The key office and admins see and act on everything."""
        return self.role in OFFICE_ROLES or self.role == Role.system

    @property
    def reads_all(self) -> bool:
        return self.is_office or self.role in (Role.leader, Role.platform)

    def may_act_for_unit(self, unit_id: str | None) -> bool:
        """A township or department acts on its own unit's matters; the office on all."""
        if self.is_office:
            return True
        if self.role in (Role.township, Role.department):
            return unit_id is not None and unit_id == self.unit_id
        return False

    def require_unit(self, unit_id: str | None) -> None:
        if not self.may_act_for_unit(unit_id):
            raise Forbidden("无权操作其他单位的事项", code="auth.unit_forbidden")

    def require_office(self) -> None:
        if not self.is_office:
            raise Forbidden("仅重点办或管理员可执行此操作", code="auth.office_only")

    def require_role(self, *roles: Role) -> None:
        if self.role not in roles and self.role != Role.admin:
            raise Forbidden("当前角色无权执行此操作", code="auth.role_forbidden")

    def claims(self) -> dict[str, Any]:
        return {
            "sub": self.subject,
            "role": str(self.role),
            "unit": self.unit_id,
            "name": self.name,
            "scp": sorted(self.scopes),
            "org": self.org_code,
            "app": self.app_key,
        }

    @classmethod
    def from_claims(cls, claims: dict[str, Any]) -> Principal:
        return cls(
            subject=claims["sub"],
            role=Role(claims["role"]),
            unit_id=claims.get("unit"),
            name=claims.get("name") or "",
            scopes=frozenset(claims.get("scp") or ()),
            org_code=claims.get("org"),
            app_key=claims.get("app"),
        )


SYSTEM_PRINCIPAL = Principal(subject="kpp-system", role=Role.system, name="系统")


def issue_identity_token(principal: Principal, *, ttl_s: int | None = None) -> str:
    settings = get_settings()
    now = clock.wall_timestamp()
    payload = principal.claims() | {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + (ttl_s or settings.internal_token_ttl_s),
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(payload, settings.secret_key, algorithm="HS256")


# token → (principal, expiry): the gateway re-uses a token per principal (TokenCache), so a
# service checks each one's signature once, not on every request (issue 15)
_verified: dict[tuple[str, str], tuple[Principal, float]] = {}
_VERIFIED_MAX = 10_000


def verify_identity_token(token: str) -> Principal:
    settings = get_settings()
    hit = _verified.get((settings.secret_key, token))
    if hit is not None:
        if clock.wall_timestamp() >= hit[1]:
            raise Unauthorized("内部身份令牌已过期", code="auth.identity_expired")
        return hit[0]
    try:
        claims = jwt.decode(
            token, settings.secret_key, algorithms=["HS256"], audience=AUDIENCE, issuer=ISSUER
        )
        principal = Principal.from_claims(claims)
        if len(_verified) >= _VERIFIED_MAX:
            _verified.clear()
        # keyed by the secret and the whole signed token: any other claim is another key
        _verified[(settings.secret_key, token)] = (principal, float(claims["exp"]))
        return principal
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("内部身份令牌已过期", code="auth.identity_expired") from exc
    except (jwt.InvalidTokenError, KeyError, ValueError) as exc:
        raise Unauthorized("内部身份令牌无效", code="auth.identity_invalid") from exc


class TokenCache:
    """Re-uses one token per principal for half its lifetime: no signing per request."""

    def __init__(self) -> None:
        self._tokens: dict[Principal, tuple[str, float]] = {}

    def token_for(self, principal: Principal) -> str:
        now = time.monotonic()
        cached = self._tokens.get(principal)
        if cached and cached[1] > now:
            return cached[0]
        ttl = get_settings().internal_token_ttl_s
        token = issue_identity_token(principal, ttl_s=ttl)
        if len(self._tokens) > 10_000:
            self._tokens.clear()
        self._tokens[principal] = (token, now + ttl / 2)
        return token


token_cache = TokenCache()


async def current_principal(request: Request) -> Principal:
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    token = request.headers.get(IDENTITY_HEADER)
    if not token:
        raise Unauthorized("缺少内部身份令牌：请经网关访问", code="auth.identity_missing")
    principal = verify_identity_token(token)
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
