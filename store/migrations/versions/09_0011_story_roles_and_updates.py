"""story roles and update alerts: each article's role in its story (first, also,
update); outbox rows of kind "update", and the articles each sent row carried

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('story_role', sa.String(length=8), nullable=True))
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=8), server_default='alert', nullable=False))
        batch_op.add_column(sa.Column('articles', sa.JSON(), nullable=True))
        batch_op.create_index('ix_outbox_story_channel', ['story_id', 'channel'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_story_channel')
        batch_op.drop_column('articles')
        batch_op.drop_column('kind')
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.drop_column('story_role')
