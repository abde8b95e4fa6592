"""unit leaders kept by the key office: principal leader and deputy county heads (R28)

Revision ID: d3a9e6f1c274
Revises: a14c0f7e2b91
Create Date: 2026-12-05 21:20:00

"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "d3a9e6f1c274"
down_revision: Union[str, Sequence[str], None] = "a14c0f7e2b91"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column(
        "units", sa.Column("principal_leader", sa.String(length=50), nullable=True), schema="gateway"
    )
    op.add_column(
        "units",
        sa.Column(
            "deputy_heads", postgresql.ARRAY(sa.String(length=50)), server_default="{}", nullable=False
        ),
        schema="gateway",
    )
    # the one deputy head each unit had becomes the first (and only) of its list
    op.execute("UPDATE gateway.units SET deputy_heads = ARRAY[deputy_head] WHERE deputy_head IS NOT NULL")
    op.drop_column("units", "deputy_head", schema="gateway")


def downgrade() -> None:
    op.add_column("units", sa.Column("deputy_head", sa.String(length=50), nullable=True), schema="gateway")
    op.execute("UPDATE gateway.units SET deputy_head = deputy_heads[1]")
    op.drop_column("units", "deputy_heads", schema="gateway")
    op.drop_column("units", "principal_leader", schema="gateway")
