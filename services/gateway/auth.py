"""Staff login and bearer tokens; the principal behind an outside request."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from functools import lru_cache

import bcrypt
import jwt
from sqlalchemy import case, func, select, update
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
    try:
        return bcrypt.checkpw(password.encode(), hashed.encode())
    except ValueError:  # a stored hash that is not bcrypt: no password matches it
        return False


@lru_cache
def _decoy_hash() -> str:
    """A hash of the configured cost that no password matches: unknown users take as long."""
    return hash_password("decoy-" + get_settings().secret_key[:8])


async def password_matches(password: str, hashed: str | None) -> bool:
    """bcrypt in a worker thread (it releases the GIL), never on the event loop; always the
    same work whether or not there is a hash to check (no user enumeration by timing)."""
    target = hashed or await asyncio.to_thread(_decoy_hash)
    ok = await asyncio.to_thread(check_password, password, target)
    return ok and hashed is not None


def principal_of(user: User) -> Principal:
    return Principal(
        subject=f"user:{user.username}",
        role=Role(user.role),
        unit_id=user.unit_id,
        name=user.name,
        org_code=user.org_code,
    )


def issue_staff_token(principal: Principal, *, kind: str = "access", version: int = 0) -> tuple[str, int]:
    """``version``: the user's token_version; a token of an older version is refused."""
    settings = get_settings()
    ttl = settings.staff_token_ttl_s if kind == "access" else settings.refresh_token_ttl_s
    now = clock.wall_timestamp()
    claims = principal.claims() | {
        "aud": STAFF_AUDIENCE,
        "typ": kind,
        "iat": now,
        "exp": now + ttl,
        "tv": version,
    }
    return jwt.encode(claims, settings.secret_key, algorithm="HS256"), ttl


_verified: dict[str, tuple[Principal, float, int]] = {}


def verify_staff_token(token: str, *, kind: str = "access") -> Principal:
    return verify_staff_token_version(token, kind=kind)[0]


def verify_staff_token_version(token: str, *, kind: str = "access") -> tuple[Principal, int]:
    """Decode a bearer token → (principal, token version); remembered until it expires."""
    now = clock.wall_timestamp()
    hit = _verified.get(token)
    if hit is not None and hit[1] > now and kind == "access":
        return hit[0], hit[2]
    try:
        claims = jwt.decode(
            token,
            get_settings().secret_key,
            algorithms=["HS256"],
            audience=STAFF_AUDIENCE,
            options={"verify_exp": False, "verify_iat": False},
        )
        if not isinstance(claims.get("exp"), int) or claims["exp"] <= now:
            raise jwt.ExpiredSignatureError("expired")  # security time: the wall clock
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("登录已过期，请重新登录", code="auth.token_expired") from exc
    except jwt.InvalidTokenError as exc:
        raise Unauthorized("访问令牌无效", code="auth.token_invalid") from exc
    if claims.get("typ") != kind:
        raise Unauthorized("令牌类型不正确", code="auth.token_invalid")
    principal = Principal.from_claims(claims)
    version = claims.get("tv", 0) if isinstance(claims.get("tv", 0), int) else -1
    if kind == "access":
        if len(_verified) > 50_000:
            _verified.clear()
        _verified[token] = (principal, float(claims["exp"]), version)
    return principal, version


def is_locked(user: User) -> bool:
    return bool(user.locked_until and user.locked_until > clock.now())


async def authenticate(session: AsyncSession, username: str, password: str) -> User:
    """Check a login; repeated failures lock the account for a while.

    Every answer costs one bcrypt check (an unknown, disabled or locked user too), so the
    time taken does not tell which usernames exist. A failure is counted by one atomic
    UPDATE (row lock): 40 wrong passwords at once count 40 and lock the account."""
    user = await session.scalar(select(User).where(User.username == username))
    now = clock.now()
    usable = user is not None and user.active
    locked = usable and user.locked_until is not None and user.locked_until > now
    matches = await password_matches(password, user.password_hash if usable else None)
    if not usable:
        # same answer as a wrong password: do not reveal which usernames exist
        raise Unauthorized("用户名或密码错误", code="auth.login_failed")
    if locked:
        raise Unauthorized(
            f"连续登录失败次数过多，账号已锁定至 {user.locked_until.isoformat(timespec='seconds')}",
            code="auth.locked",
        )
    if not matches:
        keep_on_refusal(session)
        reached = User.failed_logins + 1 >= MAX_FAILED_LOGINS
        await session.execute(
            update(User)
            .where(User.id == user.id)
            .values(
                failed_logins=case((reached, 0), else_=User.failed_logins + 1),
                locked_until=case(
                    (reached, func.greatest(func.coalesce(User.locked_until, now), now + LOCKOUT)),
                    else_=User.locked_until,
                ),
            )
            .execution_options(synchronize_session=False)
        )
        raise Unauthorized("用户名或密码错误", code="auth.login_failed")
    await session.execute(
        update(User)
        .where(User.id == user.id)
        .values(failed_logins=0, locked_until=None)
        .execution_options(synchronize_session=False)
    )
    return user
