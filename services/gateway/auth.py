"""Staff login and bearer tokens; the principal behind an outside request."""

from __future__ import annotations

from datetime import timedelta

import bcrypt
import jwt
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.models import User
from shared import clock
from shared.db import keep_on_refusal
from shared.errors import Unauthorized
from shared.identity import Principal, Role
from shared.settings import get_settings

STAFF_AUDIENCE = "kpp-staff"
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)


def hash_password(password: str) -> str:
    rounds = get_settings().bcrypt_rounds
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds)).decode()


def check_password(password: str, hashed: str) -> bool:
    return bcrypt.checkpw(password.encode(), hashed.encode())


def principal_of(user: User) -> Principal:
    return Principal(
        subject=f"user:{user.username}",
        role=Role(user.role),
        unit_id=user.unit_id,
        name=user.name,
        org_code=user.org_code,
    )


def issue_staff_token(principal: Principal, *, kind: str = "access") -> tuple[str, int]:
    settings = get_settings()
    ttl = settings.staff_token_ttl_s if kind == "access" else settings.refresh_token_ttl_s
    now = clock.wall_timestamp()
    claims = principal.claims() | {"aud": STAFF_AUDIENCE, "typ": kind, "iat": now, "exp": now + ttl}
    return jwt.encode(claims, settings.secret_key, algorithm="HS256"), ttl


_verified: dict[str, tuple[Principal, float]] = {}


def verify_staff_token(token: str, *, kind: str = "access") -> Principal:
    """Decode a bearer token; verified tokens are remembered until they expire."""
    now = clock.wall_timestamp()
    hit = _verified.get(token)
    if hit is not None and hit[1] > now and kind == "access":
        return hit[0]
    try:
        claims = jwt.decode(
            token, get_settings().secret_key, algorithms=["HS256"], audience=STAFF_AUDIENCE
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("登录已过期，请重新登录", code="auth.token_expired") from exc
    except jwt.InvalidTokenError as exc:
        raise Unauthorized("访问令牌无效", code="auth.token_invalid") from exc
    if claims.get("typ") != kind:
        raise Unauthorized("令牌类型不正确", code="auth.token_invalid")
    principal = Principal.from_claims(claims)
    if kind == "access":
        if len(_verified) > 50_000:
            _verified.clear()
        _verified[token] = (principal, float(claims["exp"]))
    return principal


def is_locked(user: User) -> bool:
    return bool(user.locked_until and user.locked_until > clock.now())


async def authenticate(session: AsyncSession, username: str, password: str) -> User:
    """Check a login; repeated failures lock the account for a while."""
    user = await session.scalar(select(User).where(User.username == username))
    now = clock.now()
    if user is None or not user.active:
        # same answer as a wrong password: do not reveal which usernames exist
        raise Unauthorized("用户名或密码错误", code="auth.login_failed")
    if user.locked_until and user.locked_until > now:
        raise Unauthorized(
            f"连续登录失败次数过多，账号已锁定至 {user.locked_until.isoformat(timespec='seconds')}",
            code="auth.locked",
        )
    if not check_password(password, user.password_hash):
        keep_on_refusal(session)
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until = now + LOCKOUT
            user.failed_logins = 0
        raise Unauthorized("用户名或密码错误", code="auth.login_failed")
    user.failed_logins = 0
    user.locked_until = None
    return user
