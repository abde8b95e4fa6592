"""The fault tests start from a quiet pipeline: events other tests left undelivered are
delivered first, so a test's failing handler meets only the events it counts."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
async def quiet_pipeline(platform):
    await platform.drain()
    yield
