"""The proof of each application (approver, CloudTrail event, plan fingerprint) and its progress in steps.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("remediation_applications") as batch:
        batch.add_column(sa.Column("approver_arn", sa.Text))
        batch.add_column(sa.Column("approval_event_id", sa.Text))
        batch.add_column(sa.Column("approval_event_time", WHEN))
        batch.add_column(sa.Column("plan_fingerprint", sa.Text))
        batch.add_column(sa.Column("steps_done", sa.Integer, nullable=False, server_default="0"))
    op.create_index("ix_remediation_applications_plan_id", "remediation_applications", ["plan_id"])


def downgrade() -> None:
    op.drop_index("ix_remediation_applications_plan_id", "remediation_applications")
    with op.batch_alter_table("remediation_applications") as batch:
        for column in ("steps_done", "plan_fingerprint", "approval_event_time", "approval_event_id", "approver_arn"):
            batch.drop_column(column)
