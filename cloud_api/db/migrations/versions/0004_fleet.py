# ruff: noqa: E501
"""fleet: gateway_presence keeps when the current state began and the newest status body
(outbox depth, devices with battery, software, applied config version) for the fleet page.

Revision ID: 0004_fleet
Revises: 0003_alerts
Create Date: 2026-11-25 22:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cloud_api.db.types

revision = '0004_fleet'
down_revision = '0003_alerts'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('gateway_presence', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state_since', cloud_api.db.types.UtcDateTime(), nullable=True, comment='received_at of the status that entered the current state'))
        batch_op.add_column(sa.Column('last_status', sa.JSON(), nullable=True, comment='newest status by gateway time, as on the wire (outbox, devices, software)'))
    # Rows from before: the state began at the latest when its last status arrived.
    op.execute("UPDATE gateway_presence SET state_since = received_at")


def downgrade() -> None:
    with op.batch_alter_table('gateway_presence', schema=None) as batch_op:
        batch_op.drop_column('last_status')
        batch_op.drop_column('state_since')
