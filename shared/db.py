"""Database access: one async engine per process, one session per request or job.

The session is committed in exactly one place: ``UnitOfWorkRoute`` for requests,
``job_session`` for worker jobs. Domain services flush, never commit.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any

import asyncpg
from fastapi import Depends, Request, Response
from fastapi.routing import APIRoute
from sqlalchemy import MetaData, Select, event, exc
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, ORMExecuteState, Session

from shared.errors import KPPError
from shared.settings import get_settings

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def make_base(schema: str) -> type[DeclarativeBase]:
    """A declarative base whose tables all live in the service's own schema."""

    class Base(DeclarativeBase):
        metadata = MetaData(schema=schema, naming_convention=NAMING_CONVENTION)

    Base.__name__ = f"{schema.capitalize()}Base"
    return Base


_engine: AsyncEngine | None = None
_sessionmaker: async_sessionmaker[AsyncSession] | None = None


def get_engine() -> AsyncEngine:
    global _engine, _sessionmaker
    if _engine is None:
        settings = get_settings()
        _engine = create_async_engine(
            settings.database_url,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            connect_args={"server_settings": {"timezone": "UTC", "application_name": "kpp"}},
        )
        ping_when_idle(_engine)
        _sessionmaker = async_sessionmaker(_engine, expire_on_commit=False, autoflush=False)
    return _engine


# A connection idle this long is pinged before use (a restarted database is noticed before a
# request fails); one reused back to back under load skips the round trip (issue 15: the
# asyncpg dialect's pre-ping, BEGIN + ";" + ROLLBACK, was three of a project read's six).
PING_AFTER_IDLE_S = 2.0


def ping_when_idle(engine: AsyncEngine) -> None:
    event.listen(engine.sync_engine.pool, "checkout", _ping_if_idle)
    event.listen(engine.sync_engine.pool, "checkin", _note_checkin)


def _note_checkin(dbapi_connection: Any, record: Any) -> None:
    record.info["checked_in_at"] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    idle_since = record.info.get("checked_in_at")  # None: connected just now
    if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_S:
        return
    try:
        dbapi_connection.ping()
    except Exception as error:  # the pool replaces the connection and retries the checkout
        raise exc.DisconnectionError(f"connection failed its ping: {error!r}") from error


def sessionmaker() -> async_sessionmaker[AsyncSession]:
    get_engine()
    assert _sessionmaker is not None
    return _sessionmaker


async def dispose_engine() -> None:
    global _engine, _sessionmaker
    if _engine is not None:
        await _engine.dispose()
    _engine = _sessionmaker = None


def keep_on_refusal(session: AsyncSession) -> None:
    """Commit what was flushed even though the request ends in a refusal.

    For records of the refusal itself (a failed login counted towards lock-out).
    """
    session.info["keep_on_refusal"] = True


async def get_session(request: Request) -> AsyncSession:
    """The request's session; ``UnitOfWorkRoute`` commits or rolls it back."""
    session = getattr(request.state, "db_session", None)
    if session is None:
        session = sessionmaker()()
        request.state.db_session = session
    return session


DbSession = Annotated[AsyncSession, Depends(get_session)]


async def get_read_session(request: Request) -> AsyncSession:
    """The session of an endpoint that only reads, each read ONE statement (one snapshot).

    Its connection is in autocommit: no BEGIN before the statement and no COMMIT after it,
    two of a project read's three round trips (issue 15). Nothing can be written through
    it (``_refuse_writes``), so the unit of work has nothing to commit."""
    session = await get_session(request)
    session.info["read_only"] = True
    await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    return session


ReadSession = Annotated[AsyncSession, Depends(get_read_session)]


@dataclass(frozen=True)
class DriverStatement:
    """A statement compiled once for the asyncpg driver and the order of its parameters."""

    sql: str
    names: tuple[str, ...]


def driver_statement(statement: Any) -> DriverStatement:
    compiled = statement.compile(dialect=asyncpg_dialect())
    return DriverStatement(str(compiled), tuple(compiled.positiontup or ()))


WRITING_SQL = re.compile(r"\b(INSERT|UPDATE|DELETE|MERGE|TRUNCATE|FOR (NO KEY )?UPDATE|FOR (KEY )?SHARE)\b")


class ReadStatement:
    """A SELECT compiled once for the driver: the only kind of statement a ``ReadConnection``
    runs (nothing else can be written through one)."""

    __slots__ = ("sql",)

    def __init__(self, statement: Select[Any]) -> None:
        sql = driver_statement(statement).sql if isinstance(statement, Select) else ""
        # a data-modifying CTE or a locking read is not a snapshot read either
        if not sql or WRITING_SQL.search(sql):
            raise ReadOnlySessionError("a ReadConnection runs one plain SELECT")
        self.sql = sql


class ReadConnection:
    """A pooled connection for an endpoint whose whole read is ONE statement (issue 15).

    No session, no transaction: the one statement is its own snapshot, sent straight to the
    driver (no BEGIN/COMMIT, no ORM result layer, no unit-of-work bookkeeping). It runs only
    ``ReadStatement`` objects; ``UnitOfWorkRoute`` releases it when the request ends,
    whatever the answer."""

    __slots__ = ("_conn", "_broken")

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn
        self._broken = False

    async def fetchrow(self, statement: ReadStatement, *args: Any) -> Any:
        # checked out just now, so not invalidated: its pooled DBAPI connection is there
        # without get_raw_connection()'s greenlet hop
        raw = self._conn.sync_connection.connection  # type: ignore[union-attr]
        driver = raw.driver_connection
        try:
            return await driver.fetchrow(statement.sql, *args)
        except BaseException as error:
            # a statement the server refused leaves the line usable; a drop (class 08, or 57
            # as pg_terminate_backend sends), a cancelled or half-read reply does not
            refused = isinstance(error, asyncpg.PostgresError) and error.sqlstate[:2] not in ("08", "57")
            self._broken = not refused or driver.is_closed()
            raise

    async def release(self) -> None:
        """Back to the pool; one that failed other than by a server error (the server
        dropped it, the read was cancelled) is discarded, not handed to the next request:
        SQLAlchemy's own disconnect handling never saw the error."""
        if self._broken:
            await self._conn.invalidate()
        await self._conn.close()


async def get_read_connection(request: Request) -> ReadConnection:
    read = ReadConnection(await get_engine().connect())
    request.state.read_connection = read
    return read


class WriteConnection:
    """A pooled connection for a write that is a few statements sent straight to the driver
    (issue 15: the monthly report). Its one transaction begins at the first statement and
    ``UnitOfWorkRoute`` ends it — committed after the endpoint succeeded, rolled back on any
    error or refusal — then releases it: the anchor's BEGIN, statements, COMMIT, with no
    session, ORM or SQLAlchemy execution layer in between."""

    __slots__ = ("_conn", "_driver", "_broken")

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn
        # checked out just now, so not invalidated (as ReadConnection.fetchrow)
        self._driver = conn.sync_connection.connection.driver_connection  # type: ignore[union-attr]
        self._broken = False

    async def _run(self, method: str, statement: DriverStatement, params: dict[str, Any]) -> Any:
        driver = self._driver
        try:
            if not driver.is_in_transaction():
                await driver.execute("BEGIN")
            return await getattr(driver, method)(statement.sql, *(params[name] for name in statement.names))
        except BaseException as error:
            # as ReadConnection: a server error leaves the line usable, anything else not
            refused = isinstance(error, asyncpg.PostgresError) and error.sqlstate[:2] not in ("08", "57")
            self._broken = self._broken or not refused or driver.is_closed()
            raise

    async def fetchrow(self, statement: DriverStatement, params: dict[str, Any]) -> Any:
        return await self._run("fetchrow", statement, params)

    async def fetchval(self, statement: DriverStatement, params: dict[str, Any]) -> Any:
        return await self._run("fetchval", statement, params)

    async def fetch(self, statement: DriverStatement, params: dict[str, Any]) -> list[Any]:
        return await self._run("fetch", statement, params)

    async def commit(self) -> None:
        if not self._broken and self._driver.is_in_transaction():
            try:
                await self._driver.execute("COMMIT")
            except BaseException:
                self._broken = self._broken or self._driver.is_closed()
                raise

    async def release(self) -> None:
        """Roll back what was not committed and go back to the pool; a connection that
        failed other than by a server error, or cannot roll back, is discarded."""
        try:
            if not self._broken and self._driver.is_in_transaction():
                await self._driver.execute("ROLLBACK")
        except Exception:  # nothing was committed; the line is not handed on
            self._broken = True
        finally:
            if self._broken:
                await self._conn.invalidate()
            await self._conn.close()


async def get_write_connection(request: Request) -> WriteConnection:
    write = WriteConnection(await get_engine().connect())
    request.state.write_connection = write
    return write


class ReadOnlySessionError(RuntimeError):
    """A write attempted through a ``ReadSession``: a programming error, never user input."""


@event.listens_for(Session, "do_orm_execute")
def _refuse_writes(state: ORMExecuteState) -> None:
    if state.session.info.get("read_only") and (state.is_insert or state.is_update or state.is_delete):
        raise ReadOnlySessionError("a ReadSession cannot write: use DbSession")


@event.listens_for(Session, "before_flush")
def _refuse_flush(session: Session, context: Any, instances: Any) -> None:
    if session.info.get("read_only") and (session.new or session.dirty or session.deleted):
        raise ReadOnlySessionError("a ReadSession cannot write: use DbSession")


class UnitOfWorkRoute(APIRoute):
    """Commits the request's session (or its ``WriteConnection``) once, after the endpoint
    succeeded; else rolls back.

    Errors raised by the commit itself (a unique violation found at flush time) reach the
    error handlers like any other, so the client gets a problem+json and nothing is written.
    """

    def get_route_handler(self) -> Callable[[Request], Awaitable[Response]]:
        handler = super().get_route_handler()

        async def unit_of_work(request: Request) -> Response:
            try:
                response = await handler(request)
                session: AsyncSession | None = getattr(request.state, "db_session", None)
                write = getattr(request.state, "write_connection", None)
                if write is not None and response.status_code < 400:
                    await write.commit()  # else rolled back when released below
                if session is not None and response.status_code < 400:
                    await session.commit()
                elif session is not None:
                    await session.rollback()
                return response
            except KPPError:
                session = getattr(request.state, "db_session", None)
                if session is not None and session.info.get("keep_on_refusal"):
                    await session.commit()
                elif session is not None:
                    await session.rollback()
                raise
            except BaseException:
                session = getattr(request.state, "db_session", None)
                if session is not None:
                    await session.rollback()
                raise
            finally:
                session = getattr(request.state, "db_session", None)
                if session is not None:
                    request.state.db_session = None
                    await session.close()
                write = getattr(request.state, "write_connection", None)
                if write is not None:
                    request.state.write_connection = None
                    await write.release()
                read_connection = getattr(request.state, "read_connection", None)
                if read_connection is not None:
                    request.state.read_connection = None
                    await read_connection.release()

        return unit_of_work


@asynccontextmanager
async def job_session() -> AsyncIterator[AsyncSession]:
    """The one session of a worker job, committed when the job's body returns."""
    session = sessionmaker()()
    try:
        yield session
        await session.commit()
    except BaseException:
        await session.rollback()
        raise
    finally:
        await session.close()
