"""Dedup level 4: stories — different articles about the same event, grouped.

Two reports of one event share its particulars: the people, places and organisations
named, the figures (a 6.4 quake, 14,000 evacuated, a 2-1 score), and a few distinctive
words — whatever their wording. Two events on the same subject share the wording and the
generic names (Supreme Court, SpaceX, Arsenal) but not the particulars. So an article's
*terms* are its named entities (capitalised words outside sentence starts), its figures,
and its title's and body's most frequent content words (stemmed); entities and figures
weigh more than words.

An article joins the story of the most similar stored article published within `WINDOW`
of it, if that similarity, decayed by the time between them, reaches `THRESHOLD` and they
share at least `MIN_PARTICULARS` entities or figures. Similarity is the overlap
coefficient of the two weighted term sets (shared weight ÷ the smaller set's weight: a
short brief and a long feature about one event still match), where a shared term counts
less the more stories in the window carry it (the window's own document frequency:
"Ukraine" during a war says little). An article without a published time is placed at
the time it is stored.

Measured on the hand-labelled clusters in tests/stories/ (bench/stories.py): pairwise
precision 1.0, recall 0.78; sentence embeddings (all-MiniLM-L6-v2, the `embeddings`
extra) at their best threshold on the same pairs reach precision 0.69 at recall 1.0 —
they put different events told in the same words together, which costs an alert, so
they are not used. Words are stemmed for English; names and figures work in any language.

Terms live in `story_terms` (term key, time, article, and the article's story) whose
primary key serves the lookup "these terms, within this window": a new article reads the
rows of its own terms in the window, never the corpus.
"""
from __future__ import annotations

import math
import re
import unicodedata
import zlib
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

import Stemmer
from sqlalchemy import bindparam, case, distinct, func, insert, select
from sqlalchemy.orm import Session

from newswatch.store.models import Article, StoryTerm

WINDOW = timedelta(days=3)
THRESHOLD = 0.25
# Reports of one event cluster within a day or two; the same wording three days apart is
# more often the next launch, match or ruling. Similarity decays by e^(-DECAY * days).
DECAY_PER_DAY = 0.5
MIN_PARTICULARS = 2
CANDIDATES = 8  # best candidates by shared rare terms that are scored in full
PROPOSERS = 16  # an article's rarest terms, whose holders are ranked for candidates
# A term carried by more stories than this in the window does not propose candidates
# (it still counts, at its low rarity, in the score of candidates proposed otherwise).
COMMON_STORIES = 50
# Nor does a term held by more articles than this: it bounds the rows a lookup ranks. Only
# the biggest events reach it (their every report holds their names), and their rarer
# particulars still propose their articles.
COMMON_HOLDERS = 1000
TOP_WORDS = 8  # the body's most frequent content words kept as terms
WEIGHTS = {"e": 2.0, "n": 2.0, "w": 1.0}  # entity, figure (number), word

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


@lru_cache(maxsize=1)
def _stemmer():
    return Stemmer.Stemmer("english")


@lru_cache(maxsize=1 << 16)  # a language's common words recur in every article
def _fold(word: str) -> str:
    word = unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode() or word
    return re.sub(r"['’]s$", "", word.casefold()).strip("'’.-&")


def terms(title: str, text: str) -> dict[str, float]:
    """The article's weighted terms: `e:` entities, `n:` figures, `w:` stemmed words."""
    found: dict[str, float] = {}
    words: Counter[str] = Counter()
    stem = _stemmer().stemWord
    body = _tokens(text)
    proper = {_fold(token) for token, sentence_start in body if token[0].isupper() and not sentence_start}
    for tokens, is_title in ((_tokens(title), True), (body, False)):
        for token, sentence_start in tokens:
            if token[0].isdigit():
                figure = token.rstrip("%").replace(",", "")
                # Years and small counts are in every story; they tell events apart badly.
                if (len(figure) > 1 or "." in figure) and not _YEAR.fullmatch(figure):
                    found["n:" + figure] = WEIGHTS["n"]
                continue
            folded = _fold(token)
            common = folded in _GENERIC or folded in _STOPWORDS or len(folded) < 2
            # A capitalised word names something; one that starts a sentence (or any word
            # of a title) only if the body capitalises it mid-sentence too, or it is
            # cased like a name (SpaceX, D66).
            confirmed = folded in proper or not token[1:].islower()
            if token[0].isupper() and not common and (confirmed or not (sentence_start or is_title)):
                found["e:" + folded] = WEIGHTS["e"]
            if not common and len(folded) > 3:
                key = "w:" + stem(folded)
                if is_title:
                    found.setdefault(key, WEIGHTS["w"])
                else:
                    words[key] += 1
    for key, _count in words.most_common(TOP_WORDS):
        found.setdefault(key, WEIGHTS["w"])
    # Entity words also count as words, so "Ojai" in one title meets "Ojai" in another body.
    for key in [k for k in found if k.startswith("e:")]:
        found.setdefault("w:" + stem(key[2:]), WEIGHTS["w"])
    return found


def _tokens(text: str) -> list[tuple[str, bool]]:
    """Each word and figure of `text`, and whether a sentence starts with it."""
    tokens = []
    sentence_start = True
    for token, end in _TOKEN.findall(text):
        tokens.append((token, sentence_start))
        sentence_start = bool(end)
    return tokens


def term_key(term: str) -> int:
    key = zlib.crc32(term.encode())
    return key - (1 << 32) if key >= 1 << 31 else key


@dataclass(frozen=True)
class StoryMatch:
    story_id: int
    article_id: int
    similarity: float


def weight(mine: dict[str, float]) -> float:
    """An article's total term weight, stored with it (`Article.story_weight`)."""
    return sum(mine.values())


# The lookup's statements, built once: a lookup runs per stored article, and building a
# statement costs more than SQLite takes to run it. Term keys travel as expanding
# parameters; `_SHARED_WEIGHT` has one branch per term weight, each with its keys.
_KEYS = bindparam("keys", expanding=True)
_WINDOW = StoryTerm.at.between(bindparam("start"), bindparam("end"))
_TERM_SPREAD = (
    select(StoryTerm.term_key, func.count(distinct(StoryTerm.story_id)), func.count())
    .where(StoryTerm.term_key.in_(_KEYS), _WINDOW)
    .group_by(StoryTerm.term_key)
)
_WEIGHT_CLASSES = sorted(set(WEIGHTS.values()))
_SHARED_WEIGHT = func.sum(case(
    *((StoryTerm.term_key.in_(bindparam(f"weight_{i}", expanding=True)), w)
      for i, w in enumerate(_WEIGHT_CLASSES)),
    else_=0.0))
_CANDIDATES = (
    select(StoryTerm.article_id)
    .where(StoryTerm.term_key.in_(_KEYS), _WINDOW)
    .group_by(StoryTerm.article_id)
    .order_by(_SHARED_WEIGHT.desc(), StoryTerm.article_id)
    .limit(CANDIDATES)
)
_SHARED_TERMS = (
    select(StoryTerm.term_key, StoryTerm.article_id)
    .where(StoryTerm.article_id.in_(bindparam("articles", expanding=True)),
           StoryTerm.term_key.in_(_KEYS), _WINDOW)
)
_CANDIDATE_DETAILS = (
    select(Article.id, Article.story_id, func.coalesce(Article.published, Article.first_seen),
           Article.story_weight)
    .where(Article.id.in_(bindparam("articles", expanding=True)))
)


def find(session: Session, mine: dict[str, float], at: datetime) -> StoryMatch | None:
    """The story of the most similar article within `WINDOW` of `at`, if similar enough.

    Reads the term index only, in three bounded steps, so the cost does not grow with
    the number of articles in the window:
    1. per term of `mine`, how many stories of the window carry it (aggregated by the
       database) — this gives each term's rarity;
    2. the articles sharing `mine`'s rarest terms (at most `PROPOSERS` of them, each
       held by at most `COMMON_STORIES` stories and `COMMON_HOLDERS` articles: a term
       that common names the subject, not the event), ranked by shared weight (by the
       database);
    3. for the best `CANDIDATES` of them, every term they share with `mine`, their
       time and their stored total weight (`Article.story_weight`).
    """
    if not mine:
        return None
    by_key = {term_key(t): t for t in mine}
    # Core rows, not ORM: these are plain tuples, many per lookup.
    db = session.connection()
    window = {"start": at - WINDOW, "end": at + WINDOW}
    stories_per_term: dict[str, int] = {}
    rare: list[int] = []
    for key, stories, holders in db.execute(_TERM_SPREAD, {"keys": list(by_key), **window}):
        stories_per_term[by_key[key]] = stories
        if stories <= COMMON_STORIES and holders <= COMMON_HOLDERS:
            rare.append(key)
    if not rare:
        return None
    # The rarest propose: they are the event's particulars.
    rare.sort(key=lambda k: (stories_per_term[by_key[k]], -mine[by_key[k]], k))
    del rare[PROPOSERS:]
    # A term found in k stories of the window counts 1 / (1 + ln k): it names the
    # subject rather than the event.
    rarity = {t: 1.0 / (1.0 + math.log(k)) for t, k in stories_per_term.items()}
    by_weight = {f"weight_{i}": [k for k in rare if mine[by_key[k]] == w]
                 for i, w in enumerate(_WEIGHT_CLASSES)}
    candidates = list(db.scalars(_CANDIDATES, {"keys": rare, **by_weight, **window}))
    if not candidates:
        return None

    shared: dict[int, set[str]] = defaultdict(set)
    for key, article_id in db.execute(_SHARED_TERMS, {"articles": candidates, "keys": list(by_key), **window}):
        shared[article_id].add(by_key[key])
    # Per candidate (not per shared term: each row would convert its time again).
    details = {
        article_id: (story_id, their_at, their_weight)
        for article_id, story_id, their_at, their_weight
        in db.execute(_CANDIDATE_DETAILS, {"articles": candidates})
    }

    best: StoryMatch | None = None
    mine_weight = weight(mine)
    for article_id in candidates:
        common = shared[article_id]
        if sum(1 for t in common if t[0] in "en") < MIN_PARTICULARS:
            continue
        story_id, their_at, their_weight = details[article_id]
        days = abs((at - their_at).total_seconds()) / 86400
        overlap = sum(mine[t] * rarity[t] for t in common)
        score = overlap / min(mine_weight, their_weight or mine_weight)
        score *= math.exp(-DECAY_PER_DAY * days)
        if score >= THRESHOLD and (best is None or score > best.similarity):
            best = StoryMatch(story_id, article_id, score)
    return best


def remember(session: Session, article_id: int, story_id: int, mine: dict[str, float],
             at: datetime) -> None:
    """Index a newly stored article's terms so later reports of its event find it."""
    keys = {term_key(t) for t in mine}  # one row per key: two terms may share one
    if keys:
        session.execute(insert(StoryTerm.__table__), [
            {"term_key": key, "at": at, "article_id": article_id, "story_id": story_id}
            for key in keys])
