"""Registry test helpers: unique valid codes and a project factory through the gateway."""

from __future__ import annotations

import contextlib
import hashlib
import random
import socket

import pytest

from services.registry.codes import org_code_check_char, uscc_check_char
from shared.settings import get_settings


def new_code(uniq: str) -> str:
    """A fresh GB/T 40058-2021 code of 沁水县 (140521), 2023 (its department, random digits and
    check character from the test's unique hex; the check character is not validated)."""
    n = int(hashlib.sha256(uniq.encode()).hexdigest()[:12], 16)
    dept, rest = 1 + n % 99, n // 99
    check = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[rest % 36]
    return f"2023-140521-{dept:02d}-01-{rest // 36 % 100_000:05d}{check}"


def credit_code(seed: str) -> str:
    """A fresh credit code of the 沁水 register: GB 11714 and GB 32100 check characters."""
    rnd = random.Random(seed)
    chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    org = "MA" + "".join(rnd.choice(chars) for _ in range(6))
    body = "91140521" + org + org_code_check_char(org)
    return body + uscc_check_char(body)


def body(uniq: str, **over) -> dict:
    data = {
        "project_code": new_code(uniq),
        "name": f"测试项目{uniq}",
        "unit_id": "town-chengguan",
        "category": "industrial",
        "total_investment": "4200.5",
        # policy R14 四个一, required of key projects (harmless elsewhere)
        "contact_leader": "韩振东",
        "carrying_unit_name": "晋城关建设有限公司",
        "team": "项目工作专班",
        "work_plan": "挂图作战，按月调度",
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
