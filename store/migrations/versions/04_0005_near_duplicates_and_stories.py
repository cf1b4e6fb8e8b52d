"""near-duplicates and stories: the MinHash-LSH index, story terms, the duplicate kind, and
outbox rows per article for topics that ask for every article

Revision ID: 0005
Revises: 0006
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('neardup_bands',
    sa.Column('band_key', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('article_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('band_key', 'article_id'),
    sqlite_with_rowid=False
    )
    op.create_table('neardup_signatures',
    sa.Column('article_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('signature', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('article_id')
    )
    op.create_table('story_terms',
    sa.Column('term_key', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('article_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('term_key', 'at', 'article_id'),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('duplicate_kind', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('story_weight', sa.Float(), nullable=True))

    # (topic, story, channel) stays unique for story alerts (article_id NULL); a topic with
    # every_article gets one row per (topic, article, channel).
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('article_id', sa.Integer(), nullable=True))
        batch_op.drop_constraint('uq_outbox_topic_story_channel', type_='unique')
        batch_op.create_index('uq_outbox_topic_story_channel', ['topic', 'story_id', 'channel'], unique=True, sqlite_where=sa.text('article_id IS NULL'), postgresql_where=sa.text('article_id IS NULL'))
        batch_op.create_index('uq_outbox_topic_article_channel', ['topic', 'article_id', 'channel'], unique=True, sqlite_where=sa.text('article_id IS NOT NULL'), postgresql_where=sa.text('article_id IS NOT NULL'))
        batch_op.create_foreign_key('fk_outbox_article_id', 'articles', ['article_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_constraint('fk_outbox_article_id', type_='foreignkey')
        batch_op.drop_index('uq_outbox_topic_article_channel')
        batch_op.drop_index('uq_outbox_topic_story_channel')
        batch_op.create_unique_constraint('uq_outbox_topic_story_channel', ['topic', 'story_id', 'channel'])
        batch_op.drop_column('article_id')

    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.drop_column('story_weight')
        batch_op.drop_column('duplicate_kind')

    op.drop_table('story_terms')
    op.drop_table('neardup_signatures')
    op.drop_table('neardup_bands')
