"""Typed event contracts (issue 11): every event type has one versioned contract, producers
build it, consumers parse it, and a payload that breaks it is a dead letter at once."""

from __future__ import annotations

import importlib
import re
import uuid
from pathlib import Path
from typing import get_args

import pytest
from pydantic import ValidationError
from sqlalchemy import func, insert, select

from services.registry.codes import STAGES
from services.registry.models import pipeline as registry_pipeline
from services.scoring.models import ProjectFact
from shared import contracts
from shared.contracts.registry import ProjectCreatedV1, ProjectStage
from shared.db import job_session
from shared.events import SUBSCRIPTIONS
from tests.events.helpers import create_projects

ROOT = Path(__file__).resolve().parents[2]
CONSUMERS = {
    "scoring": "services.scoring.consumers",
    "issues": "services.issues.consumers",
    "gateway": "services.gateway.webhooks",
}


def test_subscriptions_and_handlers_match_both_ways():
    # architecture: a subscribed type without a handler would be a silent loss, a handler
    # nobody subscribed is dead code that suggests an effect which never happens
    for service, module in CONSUMERS.items():
        handlers = set(importlib.import_module(module).HANDLERS)
        subscribed = {t for t, consumers in SUBSCRIPTIONS.items() if service in consumers}
        assert handlers == subscribed, service
    assert set().union(*SUBSCRIPTIONS.values()) == set(CONSUMERS)


def test_every_emitted_event_type_has_a_contract():
    # architecture: each event type has one typed, versioned contract
    emitted = set(SUBSCRIPTIONS)
    for path in (ROOT / "services").rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        emitted |= set(re.findall(r'contracts\.build\(\s*"([a-z_]+\.[a-z_]+)"', source))
        # the types built from a variable: approvals' SQL sweep, the milestone f-string
        if "'approval.' || f.type" in source:
            emitted |= {"approval.warning", "approval.overdue", "approval.missing_items_overdue"}
        if "project.milestone_{" in source:
            emitted |= {"project.milestone_met", "project.milestone_missed"}
    assert emitted - contracts.all_types() == set()
    assert {t for t in contracts.all_types() if not t.startswith("project.milestone_")} <= set(SUBSCRIPTIONS)


def test_contract_stage_names_are_the_registrys():
    # policy R8: consumers match stage names the registry really emits
    assert get_args(ProjectStage) == STAGES


def test_producer_cannot_build_a_payload_that_breaks_the_contract():
    good = contracts.build(
        "project.report_missing",
        {"project_id": uuid.uuid4(), "unit_id": "town-donghe", "month": "2024-05", "deadline": "2024-06-05"},
    )
    assert good.payload()["event_version"] == 1
    with pytest.raises(ValidationError):  # an amount nobody can read is refused at the source
        contracts.build(
            "project.progress_reported",
            {
                "project_id": uuid.uuid4(),
                "project_code": "2024-140000-44-01-000001",
                "unit_id": "town-donghe",
                "month": "2024-05",
                "investment_month": "五百万",
                "cumulative_investment": "500",
                "progress_pct": "10",
                "reported_at": "2024-05-30T08:00:00+08:00",
                "on_time": True,
                "version": 1,
            },
        )
    with pytest.raises(ValidationError):  # a stage the registry has no such name for
        contracts.build("project.stage_changed", {"to_stage": "construction"})


async def _announced(platform, uniq: str) -> dict:
    """A real project.created payload, as the registry committed it."""
    ids = await create_projects(platform, uniq, 1)
    await platform.drain()
    out = registry_pipeline.tables.outbox
    async with job_session() as session:
        payload = (
            await session.execute(
                select(out.c.payload).where(out.c.type == "project.created", out.c.key == str(ids[0]))
            )
        ).scalar_one()
    ProjectCreatedV1.model_validate(payload)  # what the registry sends keeps its contract
    return payload


async def _write_raw(payload: dict) -> uuid.UUID:
    """A producer that skipped its contract: the row goes straight into the outbox."""
    event_id = uuid.uuid4()
    async with job_session() as session:
        await session.execute(
            insert(registry_pipeline.tables.outbox).values(
                id=event_id, type="project.created", key=str(payload["id"]), payload=payload
            )
        )
    return event_id


async def _letters(platform, event_id: uuid.UUID) -> dict[str, dict]:
    async with await platform.as_user("admin") as admin:
        r = await admin.get("/api/v1/admin/dead-letters", params={"type": "project.created"})
        assert r.status_code == 200, r.text
    return {i["consumer"]: i for i in r.json()["items"] if i["event_id"] == str(event_id)}


async def _facts(project_id: str) -> int:
    async with job_session() as session:
        return await session.scalar(
            select(func.count())
            .select_from(ProjectFact)
            .where(ProjectFact.project_id == uuid.UUID(project_id))
        )


async def test_bad_payload_is_a_dead_letter_at_once(platform, uniq):
    # issue 11: an unreadable amount is not turned into 0 万元; it is parked, not retried
    good = await _announced(platform, uniq)
    bad = good | {"id": str(uuid.uuid4()), "total_investment": "约一千万"}
    event_id = await _write_raw(bad)
    await platform.drain(dead_letters=2)  # scoring and the gateway's webhooks both refuse it
    letters = await _letters(platform, event_id)
    assert set(letters) == {"scoring", "gateway"}
    for letter in letters.values():
        assert letter["tries"] == 1 and "ContractViolation" in letter["error"]
        assert "total_investment" in letter["error"]
    assert await _facts(bad["id"]) == 0


async def test_unknown_version_is_a_dead_letter(platform, uniq):
    # issue 11: a version no contract knows is not read as if it were version 1
    good = await _announced(platform, uniq)
    newer = good | {"id": str(uuid.uuid4()), "event_version": 2}
    event_id = await _write_raw(newer)
    await platform.drain(dead_letters=2)
    letters = await _letters(platform, event_id)
    assert set(letters) == {"scoring", "gateway"}
    assert all(x["tries"] == 1 and "版本 2" in x["error"] for x in letters.values())
    assert await _facts(newer["id"]) == 0
