"""every approval case names its project's responsible unit (the overdue contract needs it)

Revision ID: 0c4e7a2b9d15
Revises: b7d2c4e91a13
Create Date: 2026-12-06 02:40:00

Cases opened through the API always carry the project's unit (read from the registry when
the case opens); only rows written before that could lack it, and a late event on such a
row broke the ``approval.overdue`` contract. They are filled from the registry's own record
when that table is in this database; a case whose project cannot be found stops the
migration with the case ids, rather than be given an invented unit.
"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0c4e7a2b9d15"
down_revision: Union[str, Sequence[str], None] = "b7d2c4e91a13"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT to_regclass('registry.projects')")).scalar() is not None:
        op.execute(
            "UPDATE approvals.approval_case c SET unit_id = p.unit_id "
            "FROM registry.projects p WHERE c.unit_id IS NULL AND p.id = c.project_id"
        )
    orphans = bind.execute(
        sa.text("SELECT id FROM approvals.approval_case WHERE unit_id IS NULL ORDER BY id LIMIT 20")
    ).scalars()
    ids = [str(i) for i in orphans]
    if ids:
        raise RuntimeError(
            "approval cases without a responsible unit whose project the registry does not know; "
            f"set approvals.approval_case.unit_id for them and migrate again: {', '.join(ids)}"
        )
    op.alter_column("approval_case", "unit_id", nullable=False, schema="approvals")


def downgrade() -> None:
    op.alter_column("approval_case", "unit_id", nullable=True, schema="approvals")
