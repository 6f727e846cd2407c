"""coach side at scale: the caseload's two aggregates read from an index alone

The caseload counts each employee's open signals (with their top urgency) and
this week's applications. Without these indexes the first reads every signal
ever raised (resolved ones are kept, so the table grows with history) and the
second looks up every application of the week in the table. With them both
come from the index alone: ``ix_signals_open`` holds only what the aggregate
needs, and ``ix_applications_week`` (applied_on, employee_id) replaces the
single-column ``ix_applications_applied_on``, whose every use it also serves.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("signals", schema=None) as batch_op:
        batch_op.create_index("ix_signals_open", ["resolved_at", "employee_id", "urgency"], unique=False)
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.create_index("ix_applications_week", ["applied_on", "employee_id"], unique=False)
        batch_op.drop_index("ix_applications_applied_on")


def downgrade() -> None:
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.create_index("ix_applications_applied_on", ["applied_on"], unique=False)
        batch_op.drop_index("ix_applications_week")
    with op.batch_alter_table("signals", schema=None) as batch_op:
        batch_op.drop_index("ix_signals_open")
