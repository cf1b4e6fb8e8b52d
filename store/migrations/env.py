"""Alembic environment: runs on the connection `store.db.upgrade` hands over."""
from alembic import context

from newswatch.store.models import Base

connection = context.config.attributes["connection"]


def include_name(name, type_, parent_names):
    # The FTS5 table of migration 0006 and its shadow tables have no model: autogenerate
    # must not propose dropping them.
    return not (type_ == "table" and name.startswith("article_terms_fts"))


context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    include_name=include_name,
)
with context.begin_transaction():
    context.run_migrations()
