"""summons: the summoning leader's name from the unit directory (R28)

Revision ID: 5c8e2a7d9f40
Revises: 1f5881e80701
Create Date: 2026-12-05 21:25:00

"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "5c8e2a7d9f40"
down_revision: Union[str, Sequence[str], None] = "1f5881e80701"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column(
        "summons", sa.Column("summoner_name", sa.String(length=50), nullable=True), schema="scoring"
    )


def downgrade() -> None:
    op.drop_column("summons", "summoner_name", schema="scoring")
