"""Dedup level 4: stories — different articles about the same event, grouped.

Reports of one event use the event's words: its people, places and organisations, its
figures (a 6.4 quake, 14,000 evacuated), and the words of what happened — whatever else
each outlet adds. So an article is a TF-IDF vector over its stemmed content words, its
named entities (capitalised words outside sentence starts) and its figures; title terms
count `TITLE_BOOST` times, entities and figures weigh `PARTICULAR_WEIGHT` more than words.

Rarity (IDF) comes from the corpus itself, kept up to date as articles arrive: document
frequencies live in `term_counts` and grow by one per stored article and term. A young
corpus knows too few documents to tell "court" from "Kagan", so each word's frequency
in general text (wordfreq) stands in for `PRIOR_DOCUMENTS` documents seen before the
first one; the corpus outweighs it as it grows. Names and figures work in any language;
words are stemmed and weighed for English.

An article joins the story it is most similar to among stories with an article within
`WINDOW` of it, if that similarity reaches `THRESHOLD` and the article shares at least
`MIN_PARTICULARS` entities or figures with one of the story's articles. An article whose
cosine to `mine` rests on one term — one shared term carries `MAX_TERM_SHARE` of it or
more — does not count: reports of one event agree on many of its particulars, while two
events told in the same wire template (two rulings "6-3" the same afternoon, with other
cases, justices and parties) agree on the template and one heavy figure or name at most.
The similarity to a story is the better of the cosine to its closest article and the
cosine to the centroid of its articles that the lookup found (a story told from several
angles is nearer as a whole than any one report), each decayed by
e^(-DECAY_PER_DAY * days) past `DECAY_GRACE` of time between them. An article without a
published time is placed at the time it is stored. Thresholds were chosen on the real
labelled set (tests/stories/; figures in bench/stories.py's output).

Vectors live in `story_terms` (term key, time, article, the article's story, weight)
whose primary key serves the lookup "these terms, within this window": a new article
reads the rows of its own rarest terms in the window, then the vectors of the few best
candidate articles by their index, never the corpus.

A transaction reads and writes the index through one `StoryIndex`, which reads each
term's count and each candidate's vector once however many articles the transaction adds.
Two processes adding reports of one event at once must not start two stories: on
PostgreSQL the first lookup takes a transaction-scoped advisory lock, so story assignment
runs one transaction at a time from the lookup to the commit (SQLite's single writer does
the same).
"""
from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.orm import Session

from newswatch.alerts.query import stemmer
from newswatch.corpus.dedup import crc32_key
from newswatch.store import dialects
from newswatch.store.models import StoryTerm, TermCount

WINDOW = timedelta(days=3)
THRESHOLD = 0.15
# Reports of one event cluster within a day or two; the same wording days later is more
# often the next launch, match or ruling. Similarity decays by e^(-DECAY_PER_DAY * days)
# for the time between two articles beyond DECAY_GRACE.
DECAY_GRACE = timedelta(days=1)
DECAY_PER_DAY = 0.8
MIN_PARTICULARS = 2  # entities or figures shared with one of the story's articles
MAX_TERM_SHARE = 0.5  # of a cosine carried by one shared term: then no match
TITLE_BOOST = 2.0  # a title term counts as this many occurrences
PARTICULAR_WEIGHT = 1.5  # entities and figures against words
VECTOR_TERMS = 60  # an article's heaviest terms, stored as its vector
PROPOSERS = 20  # its heaviest terms whose holders in the window are candidates
CANDIDATES = 20  # candidate articles whose vectors are read and scored
# General-text frequency as a prior for the corpus's document frequency: a word of
# frequency f is in a document of PRIOR_DOCUMENT_WORDS words with probability
# 1 - e^(-f * PRIOR_DOCUMENT_WORDS), counted over PRIOR_DOCUMENTS imagined documents.
PRIOR_DOCUMENTS = 1000
PRIOR_DOCUMENT_WORDS = 500
# wordfreq's "small" list: the words of frequency 1e-6 and up, a tenth of the memory of
# its "large" one; a rarer word's prior is under half a document of PRIOR_DOCUMENTS either
# way (bench/stories.py gives the same figures with both).
PRIOR_WORDLIST = "small"
# The row of `term_counts` that counts documents (terms all start with "e:", "n:" or "w:").
_DOCUMENTS = "#documents"

# A word or a figure, then what follows it if that ends a sentence: tokens never end with
# their full stop ("U.S." is the token "U.S"), and a line break ends a headline or a list
# item.
_TOKEN = re.compile(r"([^\W\d_][\w'’.&-]*[\w]|[^\W\d_]|\d+(?:[.,:-]\d+)*%?)([.!?:]|[^\S\n]*\n)?")
_YEAR = re.compile(r"(19|20)\d\d")
# Capitalised words that name no particular thing.
_GENERIC = frozenset("""
a an the this that these those it its he she they we i you his her their our my your
but and or so if when while as at on in of to for by with from after before since until
mr mrs ms dr sir president governor minister chair chief prime officials official police
justice judge act
monday tuesday wednesday thursday friday saturday sunday today yesterday tonight
january february march april may june july august september october november december
north south east west eastern western northern southern new old first last
""".split())
_STOPWORDS = frozenset("""
about above after again against all also among and any are around back because been before
being below between both but can could did does doing down during each even every few
first for from further had has have having here how however into its itself just last
least less made make many more most much must near never next not now off once only other
our out over own said same says several should since some still such than that their them
then there these they this those through told under until very was were what when where
which while who whom whose will with within would year years week weeks day days time
people according also another later earlier including like well take took
""".split())


@lru_cache(maxsize=1 << 16)  # a language's common words recur in every article
def _fold(word: str) -> str:
    word = unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode() or word
    return re.sub(r"['’]s$", "", word.casefold()).strip("'’.-&")


@lru_cache(maxsize=1 << 16)
def _prior(word: str) -> float:
    """How likely a document of general English text is to hold `word`."""
    from wordfreq import word_frequency  # loaded where terms are weighed, not where this is imported

    return 1.0 - math.exp(-word_frequency(word, "en", wordlist=PRIOR_WORDLIST) * PRIOR_DOCUMENT_WORDS)


def load_priors() -> None:
    """Load the general-English word frequencies `terms` weighs words against now (else
    the first article loads them): a fork server does it once for all its children."""
    from wordfreq import word_frequency

    word_frequency("the", "en", wordlist=PRIOR_WORDLIST)


Terms = dict[str, tuple[float, float]]


def terms(title: str, text: str) -> Terms:
    """The article's terms — `e:` entities, `n:` figures, `w:` stemmed words — each with
    its weighted count in the article and its prior document probability."""
    counts: Counter[str] = Counter()
    prior: dict[str, float] = {}
    body = _tokens(text)
    proper = {_fold(token) for token, sentence_start in body if token[0].isupper() and not sentence_start}
    for tokens, is_title in ((_tokens(title), True), (body, False)):
        weight = TITLE_BOOST if is_title else 1.0
        # Each distinct (token, sentence start) once, with its number of occurrences: a
        # word recurs in an article, and what it is depends on these two alone (and on
        # `proper`). Counts stay whole numbers, so adding them at once changes no sum.
        for (token, sentence_start), occurrences in Counter(tokens).items():
            count = weight * occurrences
            kind = _kind(token)
            if kind is None:
                continue
            if isinstance(kind, str):  # a figure
                counts[kind] += count
                prior[kind] = 0.0
                continue
            folded, entity, capitalised, name_cased, word, rarity = kind
            # A capitalised word names something; one that starts a sentence (or any word
            # of a title) only if the body capitalises it mid-sentence too, or it is
            # cased like a name (SpaceX, D66).
            if capitalised and (folded in proper or name_cased or not (sentence_start or is_title)):
                counts[entity] += count
                prior[entity] = rarity
            if word is not None:
                counts[word] += count
                # A stem's forms share its rarity: the commonest form's.
                prior[word] = max(prior.get(word, 0.0), rarity)
    return {term: (count, prior[term]) for term, count in counts.items()}


@lru_cache(maxsize=1 << 17)  # a language's common words recur in every article
def _kind(token: str) -> str | tuple[str, str, bool, bool, str | None, float] | None:
    """What a token may be, whatever its place: None (a small figure, a year, a common
    word), a figure's term, or a word's (folded form, entity term, capitalised, cased
    like a name, word term if long enough to be one, prior)."""
    if token[0].isdigit():
        figure = token.rstrip("%").replace(",", "")
        # Years and small counts are in every story; they tell events apart badly.
        if (len(figure) > 1 or "." in figure) and not _YEAR.fullmatch(figure):
            return "n:" + figure
        return None
    folded = _fold(token)
    if folded in _GENERIC or folded in _STOPWORDS or len(folded) < 2:
        return None
    word = "w:" + stemmer().stemWord(folded) if len(folded) > 3 else None
    return folded, "e:" + folded, token[0].isupper(), not token[1:].islower(), word, _prior(folded)


def _tokens(text: str) -> list[tuple[str, bool]]:
    """Each word and figure of `text`, and whether a sentence starts with it."""
    tokens = []
    sentence_start = True
    for token, end in _TOKEN.findall(text):
        tokens.append((token, sentence_start))
        sentence_start = bool(end)
    return tokens


@lru_cache(maxsize=1 << 17)  # an article's terms are mostly terms seen before
def term_key(term: str) -> int:
    return crc32_key(term.encode())


_DOCUMENTS_KEY = term_key(_DOCUMENTS)


@dataclass(frozen=True)
class StoryMatch:
    story_id: int
    article_id: int
    similarity: float


def weight(mine: Terms) -> float:
    """An article's total term count, stored with it (`Article.story_weight`)."""
    return sum(count for count, _prior in mine.values())


Vector = dict[int, float]  # term key -> weight in a unit TF-IDF vector

# The lookup's statements, built once: a lookup runs per stored article, and building a
# statement costs more than SQLite takes to run it.
_KEYS = bindparam("keys", expanding=True)
_COUNTS = select(TermCount.term_key, TermCount.documents).where(TermCount.term_key.in_(_KEYS))
# Each candidate's story and time are the same on all its rows: read here, once per
# article, rather than with each of its terms.
_CANDIDATES = (
    select(StoryTerm.article_id, func.max(StoryTerm.story_id), func.max(StoryTerm.at))
    .where(StoryTerm.term_key.in_(_KEYS), StoryTerm.at.between(bindparam("start"), bindparam("end")))
    .group_by(StoryTerm.article_id)
    .order_by(func.sum(StoryTerm.weight).desc(), StoryTerm.article_id)
    .limit(CANDIDATES)
)
_VECTORS = (
    select(StoryTerm.article_id, StoryTerm.term_key, StoryTerm.weight)
    .where(StoryTerm.article_id.in_(bindparam("articles", expanding=True)))
)
_INDEX = insert(StoryTerm.__table__)


class StoryCache:
    """What one process's successive `StoryIndex`es (one per transaction, one writer
    thread) share, so that storing articles one transaction at a time does not read the
    same rows again and again: document counts and candidates' vectors, as of this
    process's last commit.

    Vectors are fixed once stored: kept whatever other writers do. Document counts are
    kept while no other writer has stored an article since: every article stored adds
    one to the documents row in the transaction that counts its terms, so a documents
    row that differs from the one kept says the counts may have changed, and they are
    dropped. Each part is dropped whole when it outgrows its bound (the ingest process
    is meant to stay small; the terms an article shares with others are common ones,
    read again soon after)."""

    #: At most this many term counts, and vectors, are kept.
    MAX_TERMS = 50_000
    MAX_VECTORS = 1_000

    def __init__(self) -> None:
        self.documents: dict[int, int] = {}  # term key -> stored articles holding it
        self.vectors: dict[int, tuple[int, datetime, Vector]] = {}  # article -> story, at, vector

    def keep(self, documents: dict[int, int], vectors: dict[int, tuple[int, datetime, Vector]]) -> None:
        """Keep these counts and vectors, read or counted by a transaction that has committed."""
        for kept, seen, bound in ((self.documents, documents, self.MAX_TERMS),
                                  (self.vectors, vectors, self.MAX_VECTORS)):
            if len(kept) + len(seen) > bound:
                kept.clear()
            kept.update(seen)


class StoryIndex:
    """The story term index as one transaction sees it: the articles a transaction adds
    one after another (`Corpus.add_many`) are each looked up (`vector`, `find`) and
    indexed (`remember`) through one `StoryIndex`.

    What it reads, it reads once per transaction (and, given a `StoryCache`, once for
    as long as the cache keeps it): each term's document count (then kept up to date with
    the counts the transaction adds itself) and each candidate article's vector (fixed
    once stored). That is exact, not an approximation: its first read takes the
    story-assignment lock (on PostgreSQL a transaction-scoped advisory lock; SQLite has
    one writer), and no other writer changes the counts until this transaction ends.
    Use it within its session's transaction only; once that has committed, call
    `committed`."""

    def __init__(self, session: Session, cache: StoryCache | None = None):
        self._session = session
        self._db = None
        self._cache = cache or StoryCache()
        self._documents: dict[int, int] = {}  # term key -> stored articles holding it
        self._candidates: dict[int, tuple[int, datetime, Vector]] = {}  # article -> story, at, vector

    def _connection(self):
        if self._db is None:
            db = self._session.connection()
            dialects.of(db).lock_story_assignment(db)
            kept = self._cache.documents
            if kept:
                documents = db.execute(_COUNTS, {"keys": [_DOCUMENTS_KEY]}).all()
                if (documents[0][1] if documents else 0) != kept.get(_DOCUMENTS_KEY):
                    kept.clear()  # another writer has counted terms since
            self._db = db
        return self._db

    def committed(self) -> None:
        """The transaction has committed: what it read and counted goes to the cache."""
        self._cache.keep(self._documents, self._candidates)

    def vector(self, mine: Terms) -> Vector:
        """`mine` as a unit TF-IDF vector over its `VECTOR_TERMS` heaviest terms, by term
        key, weighed by the corpus's document frequencies as they are now."""
        keys = {term: term_key(term) for term in mine}
        db = self._connection()
        # Each count as this transaction knows it (its own, else what the cache kept),
        # else as stored.
        local, kept = self._documents, self._cache.documents
        counts: dict[int, int] = {}
        unread = []
        for key in {*keys.values(), _DOCUMENTS_KEY}:
            count = local.get(key)
            if count is None:
                count = kept.get(key)
                if count is None:
                    unread.append(key)
                    continue
            counts[key] = count
        if unread:
            read = dict(db.execute(_COUNTS, {"keys": unread}).all())
            for key in unread:
                counts[key] = local[key] = read.get(key, 0)
        documents = counts[_DOCUMENTS_KEY] + PRIOR_DOCUMENTS + 1
        weights: dict[int, float] = {}
        for term, (count, prior) in mine.items():
            key = keys[term]
            # A term whose key is the documents row's counts as never seen (the row is not its).
            seen = (counts[key] if key != _DOCUMENTS_KEY else 0) + PRIOR_DOCUMENTS * prior
            w = (1.0 + math.log(count)) * math.log(documents / (seen + 0.5))
            if term[0] != "w":
                w *= PARTICULAR_WEIGHT
            # Two terms may share a key; the heavier stands for both.
            weights[key] = max(w, weights.get(key, 0.0))
        top = sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))[:VECTOR_TERMS]
        norm = math.sqrt(sum(w * w for _k, w in top)) or 1.0
        return {k: w / norm for k, w in top if w > 0}

    def find(self, mine: Terms, mine_vector: Vector, at: datetime) -> StoryMatch | None:
        """The story most similar to the article with terms `mine` (and `vector(mine)`,
        `mine_vector`) among those with an article within `WINDOW` of `at`, if similar
        enough (see the module's docstring).

        Reads the term index only, in bounded steps, so the cost does not grow with the
        number of articles in the window: the `CANDIDATES` articles of the window with
        the most weight on `mine`'s `PROPOSERS` heaviest terms (aggregated by the
        database), then the vectors of those not read before (by article). Holds the
        story-assignment lock from then on: the caller stores the article and commits
        without delay.
        """
        db = self._connection()
        if not mine:
            return None
        particulars = {term_key(t) for t in mine if t[0] in "en"}
        proposers = sorted(mine_vector, key=lambda k: (-mine_vector[k], k))[:PROPOSERS]
        found = db.execute(_CANDIDATES, {"keys": proposers, "start": at - WINDOW, "end": at + WINDOW}).all()
        if not found:
            return None
        kept = self._cache.vectors
        for article_id, _story, _at in found:
            if article_id not in self._candidates and article_id in kept:
                self._candidates[article_id] = kept[article_id]
        unread = [article_id for article_id, _story, _at in found if article_id not in self._candidates]
        if unread:
            theirs: dict[int, Vector] = defaultdict(dict)
            for article_id, key, w in db.execute(_VECTORS, {"articles": unread}).all():
                theirs[article_id][key] = w or 0.0
            for article_id, story_id, their_at in found:
                if article_id in theirs:
                    self._candidates[article_id] = (story_id, their_at, theirs[article_id])

        # Per story: its best article, and the centroid of its candidate articles, each
        # article's vector scaled by its time decay.
        best_article: dict[int, tuple[float, int]] = {}
        centroid: dict[int, Counter[int]] = defaultdict(Counter)
        decays: dict[int, list[float]] = defaultdict(list)
        for article_id, _story, _at in found:
            story_id, their_at, their = self._candidates.get(article_id, (_story, _at, {}))
            if len(particulars & their.keys()) < MIN_PARTICULARS:
                continue
            shared = [w * their[k] for k, w in mine_vector.items() if k in their]
            if shared and max(shared) >= MAX_TERM_SHARE * sum(shared):
                continue
            days = max(0.0, abs((at - their_at).total_seconds()) - DECAY_GRACE.total_seconds()) / 86400
            decay = math.exp(-DECAY_PER_DAY * days)
            score = decay * sum(shared)
            if score > best_article.get(story_id, (-1.0, 0))[0]:
                best_article[story_id] = (score, article_id)
            centroid[story_id].update({k: w * decay for k, w in their.items()})
            decays[story_id].append(decay)

        best: StoryMatch | None = None
        for story_id, (score, article_id) in best_article.items():
            middle = centroid[story_id]
            length = math.sqrt(sum(w * w for w in middle.values()))
            if length and len(decays[story_id]) > 1:
                # The centroid's direction, at its members' mean decay.
                near_all = sum(w * middle.get(k, 0.0) for k, w in mine_vector.items()) / length
                score = max(score, near_all * sum(decays[story_id]) / len(decays[story_id]))
            if score >= THRESHOLD and (best is None or score > best.similarity):
                best = StoryMatch(story_id, article_id, score)
        return best

    def remember(self, article_id: int, story_id: int, mine: Terms, mine_vector: Vector,
                 at: datetime) -> None:
        """Index a newly stored article's vector (`vector(mine)`, `mine_vector`) so later
        reports of its event find it, and count its terms into the corpus's document
        frequencies."""
        db = self._connection()
        if mine_vector:
            db.execute(_INDEX, [
                {"term_key": key, "at": at, "article_id": article_id, "story_id": story_id, "weight": w}
                for key, w in mine_vector.items()])
        keys = sorted({term_key(t) for t in mine} | {_DOCUMENTS_KEY})
        dialects.of(db).count_up(db, TermCount.term_key, TermCount.documents, keys)
        local, kept = self._documents, self._cache.documents
        for key in keys:
            count = local.get(key)
            if count is None:
                count = kept.get(key)
            if count is not None:
                local[key] = count + 1
