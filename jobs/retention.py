"""Retention: article bodies older than the config's `retention` (e.g. 90d) are deleted,
nightly.

Only the text goes, and what was derived from it word by word: its search index terms
(`article_terms`, and the full-text index rows they feed) and its story terms. The
article row stays with its URL, title, source, content hash and story, and so do its
`article_urls` and near-duplicate signature, so an old article is still known: its URLs
are not fetched again and a republication still deduplicates against it. `newswatch
match` skips articles without text.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, select, update

from newswatch.store.db import Store
from newswatch.store.models import Article, ArticleTerms, StoryTerm

log = logging.getLogger(__name__)


def forget_bodies(store: Store, older_than: timedelta, now: datetime | None = None) -> int:
    """Delete the text of articles first seen before `now - older_than`; returns how many."""
    cutoff = (now or datetime.now(timezone.utc)) - older_than
    with store.session() as session:
        old = select(Article.id).where(Article.first_seen < cutoff).scalar_subquery()
        # On SQLite a trigger removes each row's full-text index entry with it.
        session.execute(delete(ArticleTerms).where(ArticleTerms.article_id.in_(old)))
        session.execute(delete(StoryTerm).where(StoryTerm.article_id.in_(old)))
        result = session.execute(
            update(Article)
            .where(Article.first_seen < cutoff, Article.text.is_not(None))
            .values(text=None)
            .execution_options(synchronize_session=False)
        )
    log.info("retention: deleted the text of %d articles first seen before %s",
             result.rowcount, cutoff.isoformat(timespec="seconds"))
    return result.rowcount
