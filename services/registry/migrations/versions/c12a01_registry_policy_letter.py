"""registry to the letter of the policy (issue 12): inclusive R3 bands, R13 approval
level and authority, R10 operation date and milestone records, R7 documents

Revision ID: c12a01
Revises: 83e22429f9fc
Create Date: 2026-12-01

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c12a01"
down_revision: str | Sequence[str] | None = "83e22429f9fc"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # policy R13: 核准/备案, at which level, by which authority
    op.add_column(
        "projects", sa.Column("approval_kind", sa.String(length=10), nullable=True), schema="registry"
    )
    op.add_column(
        "projects", sa.Column("approval_level", sa.String(length=12), nullable=True), schema="registry"
    )
    op.add_column(
        "projects", sa.Column("approval_authority", sa.String(length=200), nullable=True), schema="registry"
    )
    # policy R10: 投运 apart from 达产达效, and each milestone's recorded outcome
    op.add_column("projects", sa.Column("operation_started_on", sa.Date(), nullable=True), schema="registry")
    op.create_table(
        "milestone_records",
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=10), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("reached_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("recorded_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["registry.projects.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("project_id", "key"),
        schema="registry",
    )
    op.create_index(
        "ix_milestone_records_status", "milestone_records", ["status", "project_id"], schema="registry"
    )
    # policy R7: documents in the project's file
    op.create_table(
        "documents",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("doc_type", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("issuer", sa.String(length=200), nullable=True),
        sa.Column("issued_on", sa.Date(), nullable=True),
        sa.Column("doc_number", sa.String(length=100), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=80), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=True),
        sa.Column("uploaded_by", sa.String(length=120), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["registry.projects.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        schema="registry",
    )
    op.create_index("ix_documents_project_id", "documents", ["project_id"], schema="registry")
    # policy R3: 以上/以下 include the number (民法典 art. 1259): exactly 3,000万 is small and
    # exactly 5,000万 is large (the default bounds; the stored band follows them)
    op.execute("UPDATE registry.projects SET scale_band = 'small' WHERE total_investment = 3000")
    op.execute("UPDATE registry.projects SET scale_band = 'large' WHERE total_investment = 5000")


def downgrade() -> None:
    op.drop_index("ix_documents_project_id", table_name="documents", schema="registry")
    op.drop_table("documents", schema="registry")
    op.drop_index("ix_milestone_records_status", table_name="milestone_records", schema="registry")
    op.drop_table("milestone_records", schema="registry")
    for column in ("operation_started_on", "approval_authority", "approval_level", "approval_kind"):
        op.drop_column("projects", column, schema="registry")
    op.execute("UPDATE registry.projects SET scale_band = 'medium' WHERE total_investment IN (3000, 5000)")
