"""story terms carry their weight in the article's TF-IDF vector, and term_counts keeps
the corpus's document frequencies

Rows stored before this revision have no weight and weigh nothing: articles stored
before it are not joined by later reports (a story grouping window, three days, later
nothing is lost). Document frequencies start from the prior (corpus/stories.py).

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('story_terms', sa.Column('weight', sa.Float(), nullable=True))
    op.create_table(
        'term_counts',
        sa.Column('term_key', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('documents', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('term_key'),
    )


def downgrade() -> None:
    op.drop_table('term_counts')
    with op.batch_alter_table('story_terms', schema=None) as batch_op:
        batch_op.drop_column('weight')
