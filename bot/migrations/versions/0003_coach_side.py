"""coach side: TOTP replay guard, inactivity threshold, coach messages, caseload index

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("coaches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("totp_last_step", sa.Integer(), nullable=True))
    with op.batch_alter_table("employees", schema=None) as batch_op:
        batch_op.add_column(sa.Column("inactivity_days", sa.Integer(), server_default="7", nullable=False))
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.create_index("ix_applications_employee_applied", ["employee_id", "applied_on"], unique=False)
    op.create_table(
        "coach_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("coach_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("telegram_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["coach_id"], ["coaches.id"]),
        sa.ForeignKeyConstraint(["employee_id"], ["employees.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("coach_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_coach_messages_employee_id"), ["employee_id"], unique=False)


def downgrade() -> None:
    op.drop_table("coach_messages")
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_index("ix_applications_employee_applied")
    with op.batch_alter_table("employees", schema=None) as batch_op:
        batch_op.drop_column("inactivity_days")
    with op.batch_alter_table("coaches", schema=None) as batch_op:
        batch_op.drop_column("totp_last_step")
