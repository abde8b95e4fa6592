"""green channel from the registry (R20 fast-track basis), three zeros facts and utilities (R21)

Revision ID: b7d2c4e91a13
Revises: e4f3b0a33128
Create Date: 2026-12-05 21:10:00

"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "b7d2c4e91a13"
down_revision: Union[str, Sequence[str], None] = "e4f3b0a33128"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# R21: the built-in three-zeros kinds are answered by the utilities, not by bureaus
UTILITIES = (
    ("three_zeros_power", "dept-fgj", "util-power"),
    ("three_zeros_water", "dept-slj", "util-water"),
    ("three_zeros_drainage", "dept-zjj", "util-drainage"),
)


def _move(code: str, old: str, new: str) -> None:
    op.execute(
        sa.text(
            "UPDATE approvals.approval_kind SET steps = jsonb_set(steps, '{0,agency_unit_id}', "
            "to_jsonb(CAST(:new AS text))), version = version + 1 "
            "WHERE code = :code AND builtin AND steps->0->>'agency_unit_id' = :old"
        ).bindparams(code=code, old=old, new=new)
    )


def upgrade() -> None:
    op.add_column(
        "approval_case",
        sa.Column("fast_track_basis", sa.String(length=20), nullable=True),
        schema="approvals",
    )
    op.add_column(
        "approval_case",
        sa.Column("three_zeros", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        schema="approvals",
    )
    # cases flagged before: the flag was the office's (or the window's) decision
    op.execute("UPDATE approvals.approval_case SET fast_track_basis = 'office_decision' WHERE fast_track")
    for code, old, new in UTILITIES:
        _move(code, old, new)


def downgrade() -> None:
    for code, old, new in UTILITIES:
        _move(code, new, old)
    op.drop_column("approval_case", "three_zeros", schema="approvals")
    op.drop_column("approval_case", "fast_track_basis", schema="approvals")
