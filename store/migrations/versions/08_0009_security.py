"""security review (issue 15): each source's last run counts its refused requests; outbox
rows are claimed by one drain on SQLite

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('sources', sa.Column('refused_private_count', sa.Integer(), nullable=False, server_default='0'))
    op.add_column('sources', sa.Column('refused_file_count', sa.Integer(), nullable=False, server_default='0'))
    op.add_column('outbox', sa.Column('claimed_by', sa.String(length=200), nullable=True))
    op.add_column('outbox', sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('claimed_until')
        batch_op.drop_column('claimed_by')
    with op.batch_alter_table('sources', schema=None) as batch_op:
        batch_op.drop_column('refused_file_count')
        batch_op.drop_column('refused_private_count')
