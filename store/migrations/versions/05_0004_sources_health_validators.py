"""source health, HTTP validators for conditional GET, outbox notices

Revision ID: 0004
Revises: 0005
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('http_validators',
    sa.Column('url_hash', sa.String(length=64), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('etag', sa.Text(), nullable=True),
    sa.Column('last_modified', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('url_hash')
    )
    with op.batch_alter_table('sources') as batch_op:
        batch_op.add_column(sa.Column('failures_in_row', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('last_new_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('usual_gap_s', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('broken_since', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('outbox') as batch_op:
        batch_op.alter_column('story_id', existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column('notice', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outbox') as batch_op:
        batch_op.drop_column('notice')
        batch_op.alter_column('story_id', existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table('sources') as batch_op:
        batch_op.drop_column('broken_since')
        batch_op.drop_column('usual_gap_s')
        batch_op.drop_column('last_new_at')
        batch_op.drop_column('failures_in_row')
    op.drop_table('http_validators')
