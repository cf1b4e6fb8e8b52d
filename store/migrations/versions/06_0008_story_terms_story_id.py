"""story terms carry their article's story, so a term's story count reads the term index
alone; and are indexed by article, so a candidate's terms are read without the window

Revision ID: 0008
Revises: 0004
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # An article's story never changes once stored, so the copy never goes stale.
    op.add_column('story_terms', sa.Column('story_id', sa.Integer(), nullable=True))
    op.execute(
        "UPDATE story_terms SET story_id = "
        "(SELECT articles.story_id FROM articles WHERE articles.id = story_terms.article_id)"
    )
    op.create_index('ix_story_terms_article_term', 'story_terms', ['article_id', 'term_key'])


def downgrade() -> None:
    op.drop_index('ix_story_terms_article_term', table_name='story_terms')
    with op.batch_alter_table('story_terms', schema=None) as batch_op:
        batch_op.drop_column('story_id')
