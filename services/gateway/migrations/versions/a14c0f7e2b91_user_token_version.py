"""staff users: token_version (revocation within seconds, issue 14)

Revision ID: a14c0f7e2b91
Revises: e40e7d078b2e
Create Date: 2026-12-01 11:00:00

"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "a14c0f7e2b91"
down_revision: Union[str, Sequence[str], None] = "e40e7d078b2e"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column(
        "users",
        sa.Column("token_version", sa.Integer(), server_default="0", nullable=False),
        schema="gateway",
    )


def downgrade() -> None:
    op.drop_column("users", "token_version", schema="gateway")
