"""outbox delivery: dead letters, folded rows, channel sends

Revision ID: 0007
Revises: 0001
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fold', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('queued_at', sa.DateTime(timezone=True), nullable=True))

    op.create_table('channel_sends',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=200), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('alerts', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('channel_sends', schema=None) as batch_op:
        batch_op.create_index('ix_channel_sends_channel_at', ['channel', 'sent_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('channel_sends', schema=None) as batch_op:
        batch_op.drop_index('ix_channel_sends_channel_at')

    op.drop_table('channel_sends')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('queued_at')
        batch_op.drop_column('fold')
