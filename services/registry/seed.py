"""Demo data, loaded on first `make up` (idempotent): the seed's 2023 plan and a living county."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.codes import org_code_check_char, uscc_check_char
from services.registry.models import Plan, ProgressReport, pipeline
from services.registry.progress import report_payload
from services.registry.schemas import ProjectIn
from services.registry.seed_data import (
    KEY_PROJECTS,
    PLAN_2023,
    RESERVE_KINDS,
    RESERVE_PLACES,
    UNITS,
)
from services.registry.service import build_project, record_created
from shared import contracts
from shared.identity import Principal, Role

SEED = Principal(subject="seed", role=Role.system, name="演示数据")
MONTHS = ["2023-03", "2023-04", "2023-05", "2023-06", "2023-07", "2023-08"]
ZIKE = ("枝柯新材料有限公司", "91140000MA0C1XY858")
COMPANY_SUFFIX = ["能源", "新材料", "建设", "实业", "发展", "科技"]


def credit(rnd: random.Random) -> str:
    chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    org = "MA" + "".join(rnd.choice(chars) for _ in range(6))
    body = "91140521" + org + org_code_check_char(org)  # GB 11714 check, then GB 32100
    return body + uscc_check_char(body)


def _key_inputs(rnd: random.Random) -> list[tuple[ProjectIn, str | None]]:
    out = []
    for i, (name, cat, amount, level, kind, unit, start, tags) in enumerate(KEY_PROJECTS, 1):
        since = date(2022, 1, 10) if kind == "continued" else date(2023, 1, 10)
        company = ZIKE if i == 2 else (f"晋{name[:2]}{rnd.choice(COMPANY_SUFFIX)}有限公司", credit(rnd))
        data = {
            # GB/T 40058-2021 form; 140521 沁水县 (the check character is not validated)
            "project_code": f"{2022 if kind == 'continued' else 2023}-140521-44-"
            f"{'01' if cat == 'industrial' else '02'}-{i:05d}{i % 10}",
            "name": name,
            "unit_id": unit,
            "category": cat,
            "total_investment": str(amount),
            "carrying_unit_name": company[0],
            "carrying_unit_credit_code": company[1],
            "contact_leader": ["韩振东", "赵国庆", "孙丽萍"][i % 3],
            "team": f"{name}工作专班",
            "work_plan": "挂图作战，按月调度，问题清单化推进",
            "follow_owner": f"专班负责人{i:02d}",
            "government_investment": cat != "industrial",
            "tags": tags,
            "major_industrial": level == "provincial",
            "libraries": [
                {"library": "annual", "kind": kind, "since": since.isoformat()},
                {"library": "key", "level": level, "since": since.isoformat()},
            ],
            "planned_start": start or "2023-07-01",
            "planned_finish": "2024-12-31",
        }
        if start:
            data.update(
                stage="under_construction" if start < "2023-06-01" else "started",
                stage_on=start,
                actual_start=start,
            )
        else:
            data.update(stage="landed", stage_on="2023-03-01")
            if i in (13, 31):  # start conditions met in April, still not started: policy R13
                data.update(
                    start_conditions_met_on="2023-04-10",
                    approval_kind="filing",
                    approval_level="county",
                    approval_authority="县行政审批服务管理局",
                )
        if i == 1:  # policy R11, as the seed names it: 年内完成50%以上建设任务
            data["targets"] = [
                {
                    "name": "年内完成建设任务50%以上",
                    "kind": "progress",
                    "due_on": "2023-12-31",
                    "threshold_pct": "50",
                }
            ]
        if i == 2:  # policy R11: 6月中旬实质性开工 — 中旬 ends on the 20th
            data["targets"] = [{"name": "6月中旬实质性开工", "kind": "start", "due_on": "2023-06-20"}]
        out.append((ProjectIn.model_validate(data), start))
    return out


def _reserve_inputs(rnd: random.Random, annual_total: Decimal) -> list[ProjectIn]:
    amounts = [Decimal(int(rnd.lognormvariate(11.5, 1.0)) + 5000) for _ in range(45)]
    scale = annual_total * Decimal("5.2") / sum(amounts)
    out = []
    for i, raw in enumerate(amounts, 1):
        place, (kind, cat) = RESERVE_PLACES[i % len(RESERVE_PLACES)], RESERVE_KINDS[i % len(RESERVE_KINDS)]
        amount = (raw * scale).quantize(Decimal(1))
        out.append(
            ProjectIn.model_validate(
                {
                    "project_code": f"2022-140521-44-03-{90000 + i:05d}{i % 10}",
                    "name": f"{place}{kind}（储备）",
                    "unit_id": UNITS[i % len(UNITS)],
                    "category": cat,
                    "total_investment": str(amount),
                    "government_investment": cat != "industrial",
                    "libraries": [{"library": "reserve", "since": f"2022-{1 + i % 12:02d}-15"}],
                    "tags": ["储备", "谋划"],
                    "stage": "signed",
                    "stage_on": "2022-12-20",
                }
            )
        )
    return out


async def _progress(session: AsyncSession, project, start: str, rnd: random.Random) -> None:
    """Several months of consistent reports: cumulative never falls and adds up."""
    total = project.total_investment
    continued = start < "2023-01-01"
    cumulative = (
        (total * Decimal(rnd.randint(25, 45)) / 100).quantize(Decimal(1)) if continued else Decimal(0)
    )
    pct = Decimal(rnd.randint(25, 45)) if continued else Decimal(0)
    for month in MONTHS:
        if month < start[:7]:
            continue
        amount = (total * Decimal(rnd.randint(2, 6)) / 100).quantize(Decimal(1))
        cumulative += amount
        pct = min(Decimal(100), pct + Decimal(rnd.randint(3, 8)))
        r = ProgressReport(
            id=uuid.uuid4(),
            project_id=project.id,
            month=month,
            version=1,
            current=True,
            investment_month=amount,
            cumulative_investment=cumulative,
            exceeds_total=False,
            progress_pct=pct,
            milestone=f"{month} 按计划推进",
            problems=None,
            reporter="seed",
            reporter_name="演示数据",
            on_time=True,
            reported_at=datetime(int(month[:4]), int(month[5:]), 28, 2, tzinfo=UTC),
        )
        session.add(r)
        project.last_report_month, project.last_progress_pct = month, pct
        project.last_cumulative_investment = cumulative
        await pipeline.emit(
            session,
            contracts.build("project.progress_reported", report_payload(project, r)),
            key=str(project.id),
        )


async def seed_demo(session: AsyncSession) -> bool:
    """Load the demo county if the 2023 plan is not there yet; True if it did."""
    if await session.scalar(select(Plan.year).where(Plan.year == 2023)) is not None:
        return False
    rnd = random.Random(2023)
    on = date(2023, 9, 5)
    keys = _key_inputs(rnd)
    annual_total = sum((d.total_investment for d, _ in keys), Decimal(0))
    for data, start in keys:
        project, change = build_project(data, SEED, on)
        session.add(project)
        await session.flush()
        session.add(change)
        await record_created(session, SEED, project)
        if start:
            await _progress(session, project, start, rnd)
    for data in _reserve_inputs(rnd, annual_total):
        project, change = build_project(data, SEED, on)
        session.add(project)
        await session.flush()
        session.add(change)
        await record_created(session, SEED, project)
    session.add(Plan(year=2023, declared=PLAN_2023, version=1))
    await session.flush()
    await pipeline.audit(
        session, SEED, entity="plan", entity_id=2023, action="declare", after=PLAN_2023, reason="演示数据"
    )
    return True
