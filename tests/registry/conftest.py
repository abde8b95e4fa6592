"""Registry test helpers: unique valid codes and a project factory through the gateway."""

from __future__ import annotations

import contextlib
import hashlib
import random
import socket

import pytest

from services.registry.codes import make_project_code, uscc_check_char
from shared.settings import get_settings


def new_code(uniq: str) -> str:
    """A fresh valid GB/T 40058-2021 code (serial from the test's unique hex)."""
    serial = hashlib.sha256(uniq.encode()).hexdigest()[:7].upper()
    return make_project_code(2023, 3, "140521", "44", "01", serial)


def credit_code(seed: str) -> str:
    rnd = random.Random(seed)
    chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    body = "91140521" + "".join(rnd.choice(chars) for _ in range(9))
    return body + uscc_check_char(body)


def body(uniq: str, **over) -> dict:
    data = {
        "project_code": new_code(uniq), "name": f"测试项目{uniq}", "unit_id": "town-chengguan",
        "category": "industrial", "total_investment": "4200.5",
    }
    data.update(over)
    return data


@pytest.fixture
def make_project(platform):
    async def make(uniq: str, user: str = "zdb", **over) -> dict:
        async with await platform.as_user(user) as c:
            r = await c.post("/api/v1/projects", json=body(uniq, **over))
            assert r.status_code == 201, r.text
            return r.json()
    return make


@contextlib.contextmanager
def approvals_unreachable():
    """Point the registry's calls to the approvals service at a port nobody listens on."""
    settings = get_settings()
    saved = settings.approvals_url
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        settings.approvals_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        try:
            yield
        finally:
            settings.approvals_url = saved
