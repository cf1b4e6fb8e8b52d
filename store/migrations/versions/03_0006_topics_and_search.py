"""topics first seen, and the full-text prefilter for backtests

Revision ID: 0006
Revises: 0007
Create Date: 2026-11-23

`article_terms` holds each article's normalised words (written with the article). On
SQLite an FTS5 table indexes it as external content, kept in sync by triggers; on
PostgreSQL a GIN expression index over `to_tsvector('simple', terms)` does the same job
(the expression must be the one alerts.backtest queries with).
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0007'
branch_labels = None
depends_on = None

SQLITE_FTS = [
    "CREATE VIRTUAL TABLE article_terms_fts USING fts5("
    "terms, content='article_terms', content_rowid='article_id', tokenize='unicode61')",
    "CREATE TRIGGER article_terms_ai AFTER INSERT ON article_terms BEGIN "
    "INSERT INTO article_terms_fts(rowid, terms) VALUES (new.article_id, new.terms); END",
    "CREATE TRIGGER article_terms_ad AFTER DELETE ON article_terms BEGIN "
    "INSERT INTO article_terms_fts(article_terms_fts, rowid, terms) "
    "VALUES ('delete', old.article_id, old.terms); END",
    "CREATE TRIGGER article_terms_au AFTER UPDATE ON article_terms BEGIN "
    "INSERT INTO article_terms_fts(article_terms_fts, rowid, terms) "
    "VALUES ('delete', old.article_id, old.terms); "
    "INSERT INTO article_terms_fts(rowid, terms) VALUES (new.article_id, new.terms); END",
]


def upgrade() -> None:
    op.create_table('topics',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('added', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('article_terms',
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('terms', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('article_id')
    )
    dialect = op.get_bind().dialect.name
    if dialect == 'sqlite':
        for statement in SQLITE_FTS:
            op.execute(statement)
    elif dialect == 'postgresql':
        op.execute("CREATE INDEX ix_article_terms_fts ON article_terms "
                   "USING GIN (to_tsvector('simple', terms))")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        for name in ('article_terms_ai', 'article_terms_ad', 'article_terms_au'):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS article_terms_fts")
    op.drop_table('article_terms')
    op.drop_table('topics')
