"""The search index of the stored corpus: every word of an article as the query language
normalises it, and the full-text condition that narrows a query's candidates.

The index holds `index_terms`: every word of the title and body, folded and stemmed as
the query language does it, one index token per stem, so that the database's full-text
prefilter can never miss a match for lack of stemming or accent folding on its side. It is
written with the article (ingest computes it in the extraction worker) and kept in sync by
triggers (SQLite) or an expression index (PostgreSQL); `index_missing` fills it for
articles stored before. The backtest (`newswatch.alerts.backtest`) reads it.
"""
from __future__ import annotations

import logging
import re
from functools import lru_cache

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newswatch.alerts.query import And, Document, Near, Node, Or, Phrase, Query, Term, tokenize
from newswatch.store import dialects
from newswatch.store.db import insert_or_ignore
from newswatch.store.models import Article, ArticleTerms

log = logging.getLogger(__name__)

BATCH = 500

_PLAIN = re.compile(r"[a-wyz0-9][a-z0-9]*")
SEPARATOR = "x"  # between the title's tokens and the body's; no stem's token is "x"


@lru_cache(maxsize=1 << 16)  # a language's common words recur in every article
def _index_token(stem: str) -> str:
    """One token that every full-text tokenizer keeps whole: the stem itself when it is
    plain ASCII letters and digits, else "x" and its UTF-8 in hex (`u.s`, `3.5`, `киев`,
    and stems that begin with x, so that the encoding can be read back)."""
    return stem if _PLAIN.fullmatch(stem) else "x" + stem.encode("utf-8").hex()


def index_tokens(text: str | None) -> list[str]:
    """The index tokens of one text, in order."""
    return [_index_token(t.stem) for t in tokenize(text or "")]


def index_terms(title: str | None, body: str | None) -> str:
    """The article's words for the full-text index: title, SEPARATOR, body."""
    return " ".join([*index_tokens(title), SEPARATOR, *index_tokens(body)])


def index_terms_of(document: Document) -> str:
    """`index_terms` of a tokenised article (a `Document` built from its text)."""
    title, body = (field.stems for field in document.fields)
    return " ".join([*map(_index_token, title), SEPARATOR, *map(_index_token, body)])


def stored_document(terms: str, source: str | None, query: Query) -> Document:
    """The Document (without text) that stored terms describe, as far as `query` looks."""
    tokens = terms.split()
    cut = tokens.index(SEPARATOR)
    title, body = tokens[:cut], tokens[cut + 1:]
    encoded = {t: s for s in query.vocabulary if (t := _index_token(s)) != s}
    if encoded:  # else every word of the query is its own token: nothing to translate
        title = [encoded.get(t, t) for t in title]
        body = [encoded.get(t, t) for t in body]
    return Document.from_stems(title, body, source, query.vocabulary)


def index_missing(session: Session) -> int:
    """Index the articles that have no terms yet (stored before the index existed, or by
    code that bypassed ingest); returns how many."""
    # Deleting an article deletes its terms, so equal counts mean nothing is missing.
    missing = (session.scalar(select(func.count()).select_from(Article))
               - session.scalar(select(func.count()).select_from(ArticleTerms)))
    if missing <= 0:
        return 0
    log.info("indexing %d stored articles for search (once)", missing)
    done = 0
    while True:
        rows = session.execute(
            select(Article.id, Article.title, Article.text)
            .outerjoin(ArticleTerms, ArticleTerms.article_id == Article.id)
            .where(ArticleTerms.article_id.is_(None))
            .limit(BATCH)
        ).all()
        if not rows:
            return done
        insert_or_ignore(session, ArticleTerms.__table__, [
            {"article_id": id_, "terms": index_terms(title, body)} for id_, title, body in rows])
        done += len(rows)


def _prefilter(node: Node) -> dialects.FullText | None:
    """A condition on index tokens that every article matching `node` meets; None when
    `node` says nothing about words (NOT, source:). Positions within a field, title:,
    NEAR distances and negations are left to the matcher."""
    if isinstance(node, Term):
        return ("word", _index_token(node.stem))
    if isinstance(node, Phrase):
        return ("phrase", tuple(_index_token(s) for s in node.stems))
    if isinstance(node, (And, Near)):
        parts = [p for p in map(_prefilter, node.children) if p is not None]
        return ("all", tuple(parts)) if parts else None
    if isinstance(node, Or):
        parts = [_prefilter(c) for c in node.children]
        return None if any(p is None for p in parts) else ("any", tuple(parts))
    return None


def candidates(session: Session, query: Query):
    """A subquery of the ids of articles that may match `query`, or None for all."""
    condition = _prefilter(query.root)
    if condition is None:
        return None
    return dialects.of(session.get_bind()).full_text_candidates(condition)
