"""The scoring service's schema: facts it learns from events, and its assessments (R27–R30)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import DateTime, String, func
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import make_base
from shared.events import EventPipeline
from shared.money import MONEY_SQL

Base = make_base("scoring")
pipeline = EventPipeline("scoring", Base.metadata)


class ProjectFact(Base):
    """A project as the registry announced it: what monthly assessment counts per unit."""

    __tablename__ = "project_facts"

    project_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    project_code: Mapped[str] = mapped_column(String(32))
    unit_id: Mapped[str] = mapped_column(String(40), index=True)
    category: Mapped[str] = mapped_column(String(20))
    total_investment: Mapped[Decimal] = mapped_column(MONEY_SQL)
    created_event_id: Mapped[uuid.UUID]
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
