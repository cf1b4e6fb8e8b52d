"""Topic query language: parse a query once, match it against an article's title and body.

The language is Google-Alerts-like by default and Lucene-like when needed (see DESIGN.md,
"Topic queries"):

    South Korea Ukraine arms        bare words are ANDed, anywhere in title + body
    "South Korea"                   exact phrase: consecutive words, across line breaks
    Ukraine OR Kyiv                 OR (uppercase keyword only; lowercase `or` is a word)
    -sports  -"op-ed"  NOT sports   negation
    (Kyiv OR Kiev) arms             grouping; precedence NOT > AND (implicit) > OR
    title:arms  title:"arms deal"   restrict a term, phrase or group to the title
    title:(Kyiv OR Kiev)
    source:reuters                  only articles from the configured source named reuters
    Korea NEAR/5 arms               proximity: at most 5 other words between the two, in
                                    either order, within the title or within the body;
                                    each side a word, a phrase or a (group OR of them)

A topic may alert only on what an article is about, not on every article that mentions
its words somewhere (a long op-ed names a dozen countries in passing). With `ABOUT` (see
`Focus`; a topic's `focus: about`) a match also needs the query's terms prominent in the article: one term at least
in the title or the lead (the body's first `Focus.lead_words` words), each other term
there too or mentioned at least `Focus.mentions` times, except that once two terms are in
the title or lead, one more may be mentioned just once. A term here is one part of the
query's AND: a word, a phrase, a NEAR, an OR of such (a name's or an alias's forms count
together: "Seoul" once and "South Korea" three times are four mentions of South Korea);
an OR of ANDs applies the rule to each alternative. NOT and source: are unchanged (a
negated word excludes the article wherever it stands). By default (`focus=None`, a
topic's `focus: anywhere`, as DESIGN.md's "Topic queries" has it) the words may stand
anywhere in the title and body, once.

Words are compared after the same normalisation on both sides (see `tokenize`): NFKD
with combining marks dropped, case-folded, possessive 's dropped, Snowball English stem.
Decisions worth knowing:

* A bare word that splits into several tokens (`Korea-Ukraine`, `10:30`, `1,000th`...)
  is matched as a phrase of those tokens, so `Korea-Ukraine` also matches "Korea Ukraine".
* Dotted abbreviations of single letters (`U.S.`, `U.K.`, `e.g.`) are one token, `u.s`,
  kept distinct from the word `us`: the query `US` does not match "U.S." and the query
  `U.S.` does not match "told us". Write `U.S. OR US` to get both spellings.
* A colon makes a field prefix only after a letters-only word followed directly by a
  term: `title:arms`. Any other such prefix (`foo:bar`, `https://...`) is a QueryError,
  so a typo never silently becomes a word. A colon after digits (`10:30`) or at the end
  of a word (`Update: Korea`) is ordinary punctuation; `title:` alone is an error.
* Punctuation-only words (`&`, a lone `-`) are ignored.
* `source:` only narrows a query: it is not a positive term, so `source:reuters` alone
  (or as an OR alternative) is refused like `-sports` alone. Source names compare
  case-insensitively. `NEAR` (uppercase) needs its distance: `NEAR/5`; `near` is a word.
* Precedence: NOT > NEAR > AND > OR; NEAR chains left to right (`a NEAR/3 b NEAR/3 c`:
  c within 3 words of where a and b met).

The module reads top to bottom: tokenizer, query lexer, parser (into an AST of
Term/Phrase/Near/And/Or/Not/Source), documents, evaluation, focus, scoring, snippets, and the
public `Query`.
"""
from __future__ import annotations

import math
import re
import threading
import unicodedata
from bisect import bisect_left
from dataclasses import dataclass, field
from typing import Iterable, Iterator, NamedTuple, Union

import Stemmer


@dataclass(frozen=True)
class Snippet:
    """A short passage of an article's title or body, with the matched terms located.

    `marks` are (start, end) character offsets into `text`, sorted and non-overlapping.
    """

    text: str
    marks: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class QueryMatch:
    """Why a query matched: a score (higher is a better match) and up to three snippets."""

    score: float
    snippets: tuple[Snippet, ...]


class QueryError(ValueError):
    """A query that does not parse.

    str(err) is a one-line problem statement, then the query on its own line and a caret
    line under the offending position::

        unbalanced parenthesis
          (South Korea
          ^

    Attributes: `query` (the text as given), `position` (0-based character offset into it)
    and `problem` (the first line alone).
    """

    def __init__(self, problem: str, query: str, position: int):
        self.problem = problem
        self.query = query
        self.position = position
        # Tabs and line breaks would break the caret alignment; each is one character,
        # so replacing them with spaces keeps every offset where it was.
        shown = re.sub(r"\s", " ", query)
        super().__init__(f"{problem}\n  {shown}\n  {' ' * position}^")


# --------------------------------------------------------------------------- tokenizer

# Apostrophes joining parts of a word ("Korea’s", "O'Brien", "don't").
_APOSTROPHES = "'\u2019\u02bc\u2018\uff07"
_COMBINING = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
# A word character: letter or digit of any script, or a combining mark (text that arrives
# decomposed, NFD, must not be split at its accents).
_WCHAR = rf"(?:[^\W_]|[{_COMBINING}])"
_LETTER = rf"[^\W\d_][{_COMBINING}]*"

_TOKEN_RE = re.compile(
    # Dotted abbreviation of single letters: U.S., U.K., e.g. (final dot optional).
    rf"(?P<abbr>(?<![\w.]){_LETTER}(?:\.{_LETTER})+\.?(?!\w))"
    # Ordinary word: apostrophes inside it, thousands separators and decimal points
    # between digits; everything else (hyphens, slashes, colons, dots) separates words.
    rf"|{_WCHAR}+(?:(?:[{_APOSTROPHES}]|(?<=\d),(?=\d{{3}}(?!\d))|(?<=\d)\.(?=\d)){_WCHAR}+)*"
)
_APOSTROPHE_MAP = str.maketrans({c: "'" for c in _APOSTROPHES})

# PyStemmer instances keep internal state and "must not be called concurrently".
_local = threading.local()


def stemmer() -> Stemmer.Stemmer:
    """This thread's English stemmer (the one stemming of queries, index terms and story
    terms)."""
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:
        stemmer = _local.stemmer = Stemmer.Stemmer("english")
    return stemmer


def _normalize(surface: str) -> str:
    """Case-, accent- and apostrophe-folded form of one token as found by _TOKEN_RE.

    May return "" (a token of combining marks only); callers drop those.
    """
    word = surface
    if not word.isascii():
        word = unicodedata.normalize("NFKD", word)
        word = "".join(c for c in word if not unicodedata.combining(c))
        word = word.translate(_APOSTROPHE_MAP)
    word = word.casefold()
    if word.endswith("'s"):  # possessive: "Korea's" is about Korea
        word = word[:-2]
    # Other apostrophes are dropped rather than split on, so "don't"/"dont" and
    # "O'Brien"/"OBrien" agree; commas inside a word are thousands separators.
    word = word.replace("'", "").replace(",", "")
    return word.rstrip(".")  # "U.S." and "U.S" are the same abbreviation


def _stems(words: list[str]) -> list[str]:
    """Stems of normalised words; dotted tokens (u.s, 3.5) are kept as they are."""
    if all("." not in w for w in words):
        return stemmer().stemWords(words)
    plain = [w for w in words if "." not in w]
    stemmed = iter(stemmer().stemWords(plain))
    return [w if "." in w else next(stemmed) for w in words]


class Token(NamedTuple):
    """One word of a text: its stem and where its surface form lies in the text."""

    stem: str
    start: int
    end: int


# Surface form (as _TOKEN_RE finds it) -> stem, or None when it normalises to "": an
# article repeats most of its words and shares most with other articles, so each surface
# is normalised and stemmed once, not once per occurrence. Replaced by an empty dict
# (never cleared in place: a thread mid-lookup keeps the dict it holds) past the bound.
_STEM_CACHE_SIZE = 100_000
_stem_cache: dict[str, str | None] = {}


def _scan(text: str) -> tuple[list[str], list[int], list[int]]:
    """`tokenize` as parallel lists: stems, start offsets, end offsets.

    Per token only C-level work (the regex, map, dict lookups): a Document's tokens are
    many, and most of them are never looked at again."""
    global _stem_cache
    found = list(_TOKEN_RE.finditer(text))
    surfaces = list(map(re.Match.group, found))
    cache = _stem_cache
    distinct = set(surfaces)
    new = distinct.difference(cache)
    if new:
        if len(cache) + len(new) > _STEM_CACHE_SIZE:
            cache = _stem_cache = {}
            new = distinct
        surfaces_new = list(new)
        words = [_normalize(s) for s in surfaces_new]
        for surface, word, stem in zip(surfaces_new, words, _stems(words)):
            cache[surface] = stem if word else None
    stems = list(map(cache.__getitem__, surfaces))
    starts = list(map(re.Match.start, found))
    ends = list(map(re.Match.end, found))
    if None in stems:  # tokens of combining marks only are dropped
        kept = [i for i, stem in enumerate(stems) if stem is not None]
        stems, starts, ends = ([a[i] for i in kept] for a in (stems, starts, ends))
    return stems, starts, ends


def tokenize(text: str) -> list[Token]:
    """Split `text` into word tokens, normalised and stemmed exactly as queries are.

    `text[t.start:t.end]` is the surface form (e.g. "Korea’s", "U.S."), which snippets mark.
    """
    return list(map(Token, *_scan(text)))


# --------------------------------------------------------------------------- query lexer

_QUOTES = '"\u201c\u201d'  # straight and curly double quotes delimit phrases
_CHUNK_END = re.compile(rf"[\s(){_QUOTES}]")
_FIELD_RE = re.compile(r"([A-Za-z]+):")
_FIELDS = {"title", "source"}
_NEAR_RE = re.compile(r"NEAR(?:/(.*))?$")
_SOURCE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class _Lex:
    """A query token: kind is WORD, PHRASE, FIELD, SOURCE, NEAR, OR, AND, NOT, NEG,
    LPAREN, RPAREN, END. `distance` is NEAR's."""

    kind: str
    text: str
    pos: int
    stems: tuple[str, ...] = ()
    distance: int = 0


def _lex(query: str) -> list[_Lex]:
    """Cut a query into operator, word and phrase tokens (see the module docstring)."""
    out: list[_Lex] = []
    i, n = 0, len(query)
    while i < n:
        c = query[i]
        if c.isspace():
            i += 1
        elif c in "()":
            out.append(_Lex("LPAREN" if c == "(" else "RPAREN", c, i))
            i += 1
        elif c in _QUOTES:
            close = next((j for j in range(i + 1, n) if query[j] in _QUOTES), -1)
            if close < 0:
                raise QueryError("unbalanced quote", query, i)
            inner = query[i + 1:close]
            stems = tuple(t.stem for t in tokenize(inner))
            if not stems:
                raise QueryError("empty phrase", query, i)
            out.append(_Lex("PHRASE", inner, i, stems))
            i = close + 1
        else:
            m = _CHUNK_END.search(query, i)
            end = m.start() if m else n
            _lex_chunk(query, i, end, out)
            i = end
    out.append(_Lex("END", "", n))
    return out


def _lex_chunk(query: str, start: int, end: int, out: list[_Lex]) -> None:
    """Lex one run of characters without spaces, parentheses or quotes."""
    chunk = query[start:end]
    follows_term = end < len(query) and not query[end].isspace() and query[end] != ")"
    if chunk in ("OR", "AND", "NOT"):
        out.append(_Lex(chunk, chunk, start))
        return
    near = _NEAR_RE.match(chunk)
    if near:
        if not (near.group(1) or "").isdigit():
            raise QueryError("NEAR needs a distance in words, e.g. NEAR/5", query, start)
        out.append(_Lex("NEAR", chunk, start, distance=int(near.group(1))))
        return
    if chunk.startswith("-"):
        rest = chunk[1:]
        # "-" negates what directly follows it: a word, a field, `"phrase"` or `(group)`.
        # A lone "-" or "-&" is punctuation and is ignored like any other.
        if (rest == "" and follows_term) or _FIELD_RE.match(rest) or tokenize(rest):
            out.append(_Lex("NEG", "-", start))
            if rest:
                _lex_chunk(query, start + 1, end, out)
        return
    m = _FIELD_RE.match(chunk)
    if m:
        name, rest = m.group(1), chunk[m.end():]
        if rest or follows_term:
            if name.lower() not in _FIELDS:
                raise QueryError(
                    f"unknown field '{name}:' (only title: and source: are supported)",
                    query, start)
            if name.lower() == "source":
                if not _SOURCE_NAME.match(rest):
                    raise QueryError("source: needs a source name right after it",
                                     query, start)
                out.append(_Lex("SOURCE", rest, start))
                return
            out.append(_Lex("FIELD", name.lower(), start))
            if rest:
                _lex_chunk(query, start + m.end(), end, out)
            return
        if name.lower() == "source":
            raise QueryError("source: needs a source name right after it", query, start)
        if name.lower() in _FIELDS:
            raise QueryError(f"{name}: needs a word, phrase or group right after it",
                             query, start)
        # "Update:" followed by a space: the colon is just punctuation.
    stems = tuple(t.stem for t in tokenize(chunk))
    if stems:
        out.append(_Lex("WORD", chunk, start, stems))


# --------------------------------------------------------------------------- parser / AST

# A leaf's `not_within`: longer word sequences that contain it, each with the leaf's
# offset inside; an occurrence inside one of them does not count ("Republic of Korea"
# inside "Democratic People's Republic of Korea").
NotWithin = tuple[tuple[tuple[str, ...], int], ...]


@dataclass(frozen=True)
class Term:
    """One word; `in_title` restricts it to the title. Equal terms compare equal wherever
    they stand in the query (pos is not compared), so repeated words count once.

    `quoted`: written in quotes (never expanded). `stands_for`: the query's word or name
    this form stands in for, when an expansion added it (shown beside its marks)."""

    stem: str
    text: str
    in_title: bool = False
    pos: int = field(default=0, compare=False)
    quoted: bool = field(default=False, compare=False)
    stands_for: str = ""
    not_within: NotWithin = ()


@dataclass(frozen=True)
class Phrase:
    """Consecutive words (compared by stem), e.g. "South Korea" or Korea-Ukraine."""

    stems: tuple[str, ...]
    text: str
    in_title: bool = False
    pos: int = field(default=0, compare=False)
    quoted: bool = field(default=False, compare=False)
    stands_for: str = ""
    not_within: NotWithin = ()


@dataclass(frozen=True)
class Near:
    """Both children occur with at most `distance` other words between them, in either
    order, in the same field. Children are Terms, Phrases, Ors of them, or a Near."""

    children: tuple["Node", "Node"]
    distance: int
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Source:
    """The article comes from the configured source `name` (compared case-insensitively)."""

    name: str
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class And:
    children: tuple["Node", ...]
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Or:
    children: tuple["Node", ...]
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Group(Or):
    """An OR of the forms that stand for one word or name of the query (see
    alerts/expansion.py): the first child is the query's own words, `label` them as
    written, `kind` "name" or "alias"."""

    label: str = ""
    kind: str = ""


@dataclass(frozen=True)
class Beside(Near):
    """The first child counts only within `distance` words of the second (its context),
    and only the first child's hits are kept ("Washington" beside another country)."""


@dataclass(frozen=True)
class Not:
    child: "Node"
    pos: int = field(default=0, compare=False)


Node = Union[Term, Phrase, Near, And, Or, Not, Source]
Leaf = Union[Term, Phrase]


class _Parser:
    """Recursive descent over the lexer's tokens.

        query    := or_expr END
        or_expr  := and_expr ("OR" and_expr)*
        and_expr := near (["AND"] near)*
        near     := unary ("NEAR/n" unary)*
        unary    := ("NOT" | "-") unary | primary
        primary  := "title:" unary | "source:" NAME | WORD | PHRASE | "(" or_expr ")"
    """

    _STOP = ("OR", "AND", "NEAR", "RPAREN", "END")
    #: Nesting (parentheses, NOT, -, title:) deeper than this is refused: no topic needs
    #: it, and each level costs a Python stack frame in every walk of the query.
    MAX_DEPTH = 50

    def __init__(self, query: str):
        self.query = query
        self.tokens = _lex(query)
        self.i = 0
        self.depth = 0

    def deeper(self, pos: int) -> None:
        self.depth += 1
        if self.depth > self.MAX_DEPTH:
            raise self.error(f"the query is nested too deeply (more than {self.MAX_DEPTH} levels)", pos)

    def error(self, problem: str, pos: int) -> QueryError:
        return QueryError(problem, self.query, pos)

    @property
    def tok(self) -> _Lex:
        return self.tokens[self.i]

    def take(self) -> _Lex:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def parse(self) -> Node:
        if self.tok.kind == "END":
            raise self.error("empty query" if not self.query.strip()
                             else "the query has no words to search for", 0)
        node = self.or_expr(in_title=False)
        if self.tok.kind == "RPAREN":
            raise self.error("unbalanced parenthesis", self.tok.pos)
        assert self.tok.kind == "END", self.tok
        return node

    def or_expr(self, in_title: bool) -> Node:
        alternatives = [self.and_expr(in_title)]
        while self.tok.kind == "OR":
            op = self.take()
            if self.tok.kind in self._STOP:
                raise self.error("OR needs a term on both sides", op.pos)
            alternatives.append(self.and_expr(in_title))
        if len(alternatives) == 1:
            return alternatives[0]
        return Or(tuple(alternatives), alternatives[0].pos)

    def and_expr(self, in_title: bool) -> Node:
        if self.tok.kind in ("OR", "AND", "NEAR"):
            raise self.error(f"{self.tok.kind} needs a term on both sides", self.tok.pos)
        parts = [self.near(in_title)]
        while self.tok.kind not in ("OR", "RPAREN", "END"):
            if self.tok.kind == "AND":
                op = self.take()
                if self.tok.kind in self._STOP:
                    raise self.error("AND needs a term on both sides", op.pos)
            parts.append(self.near(in_title))
        if len(parts) == 1:
            return parts[0]
        return And(tuple(parts), parts[0].pos)

    def near(self, in_title: bool) -> Node:
        node = self.unary(in_title)
        while self.tok.kind == "NEAR":
            op = self.take()
            if self.tok.kind in self._STOP:
                raise self.error("NEAR needs a term on both sides", op.pos)
            right = self.unary(in_title)
            for side in (node, right):
                if not _proximate(side):
                    raise self.error("NEAR needs a word, a phrase or a group of them "
                                     "joined by OR on each side", side.pos)
            node = Near((node, right), op.distance, node.pos)
        return node

    def unary(self, in_title: bool) -> Node:
        if self.tok.kind in ("NOT", "NEG"):
            op = self.take()
            if self.tok.kind in self._STOP:
                name = "NOT" if op.kind == "NOT" else "-"
                raise self.error(f"{name} needs a term right after it", op.pos)
            self.deeper(op.pos)
            child = self.unary(in_title)
            self.depth -= 1
            # NOT NOT x is x; keeping it would make a positive query look negative-only.
            return child.child if isinstance(child, Not) else Not(child, op.pos)
        return self.primary(in_title)

    def primary(self, in_title: bool) -> Node:
        tok = self.take()
        if tok.kind == "FIELD":
            if self.tok.kind in self._STOP:
                raise self.error(f"{tok.text}: needs a word, phrase or group right after it",
                                 tok.pos)
            self.deeper(tok.pos)
            node = self.unary(in_title=True)
            self.depth -= 1
            return node
        if tok.kind == "SOURCE":
            return Source(tok.text.casefold(), tok.pos)
        if tok.kind in ("WORD", "PHRASE"):
            quoted = tok.kind == "PHRASE"
            if len(tok.stems) == 1:
                return Term(tok.stems[0], tok.text, in_title, tok.pos, quoted)
            return Phrase(tok.stems, tok.text, in_title, tok.pos, quoted)
        if tok.kind == "LPAREN":
            if self.tok.kind == "RPAREN":
                raise self.error("empty parentheses", tok.pos)
            self.deeper(tok.pos)
            node = self.or_expr(in_title)
            self.depth -= 1
            if self.tok.kind != "RPAREN":
                raise self.error("unbalanced parenthesis", tok.pos)
            self.take()
            return node
        raise AssertionError(tok)  # callers check for the other kinds first


def _proximate(node: Node) -> bool:
    """Whether `node` has word positions, so that NEAR can measure distances from it."""
    if isinstance(node, (Term, Phrase, Near)):
        return True
    return isinstance(node, Or) and all(_proximate(c) for c in node.children)


def _check_positive(node: Node, query: str) -> None:
    """Refuse queries that could match an article by what it lacks alone.

    Such a query would alert on nearly every article. An AND needs one positive part;
    an OR needs every alternative positive (`a OR -b` matches anything without b).
    """
    def positive(n: Node) -> bool:
        if isinstance(n, (Term, Phrase, Near)):
            return True
        if isinstance(n, And):
            return any(positive(c) for c in n.children)
        if isinstance(n, Or):
            for c in n.children:
                if not positive(c):
                    raise QueryError("every OR alternative needs a positive term", query, c.pos)
            return True
        return False

    if not positive(node):
        raise QueryError("a query needs at least one positive term", query, node.pos)


def _leaves(node: Node, negated: bool = False) -> Iterator[tuple[Leaf, bool]]:
    """Every Term and Phrase of the tree in query order, with whether it is negated."""
    if isinstance(node, (Term, Phrase)):
        yield node, negated
    elif isinstance(node, Not):
        yield from _leaves(node.child, not negated)
    elif not isinstance(node, Source):
        for child in node.children:
            yield from _leaves(child, negated)


def _required_any(node: Node) -> list[frozenset[str]]:
    """Sets of stems of each of which every matching article contains at least one: a
    term's stem, each word of a phrase, an OR's (or a names' group's) anchors. The
    pre-filter for queries whose terms are OR-groups, where `_required` says little."""
    if isinstance(node, Term):
        return [frozenset((node.stem,))]
    if isinstance(node, Phrase):
        return [frozenset((s,)) for s in node.stems]
    if isinstance(node, (And, Near)):
        return [s for c in node.children for s in _required_any(c)]
    if isinstance(node, Or):
        anchors = _anchors(node)
        return [anchors] if anchors else []
    return []


def _leading(node: Node) -> frozenset[str]:
    """The first stems of the positive words and phrases (a capital's context left out):
    a term that leads has one of them in the title or the lead."""
    if isinstance(node, Term):
        return frozenset((node.stem,))
    if isinstance(node, Phrase):
        return frozenset(node.stems[:1])
    if isinstance(node, Beside):
        return _leading(node.children[0])
    if isinstance(node, (And, Or, Near)):
        return frozenset().union(*map(_leading, node.children))
    return frozenset()  # NOT, source:


def _required(node: Node) -> frozenset[str]:
    """Stems every matching article must contain: the cheap pre-filter for match()."""
    if isinstance(node, Term):
        return frozenset((node.stem,))
    if isinstance(node, Phrase):
        return frozenset(node.stems)
    if isinstance(node, (And, Near)):
        return frozenset().union(*(_required(c) for c in node.children))
    if isinstance(node, Or):
        return frozenset.intersection(*(_required(c) for c in node.children))
    return frozenset()


# Words so frequent that indexing a topic under them would make it a candidate for
# nearly every article (as stems).
_COMMON = frozenset(_stems(
    "the of and to a in is it that for on was with as be by at from this are have has an"
    " not but or they his her he she we you their will said would new one all more its"
    " been were which who up out about into over after year also can than time".split()))


def _anchors(node: Node) -> frozenset[str] | None:
    """Stems of which every article matching `node` contains at least one, chosen to be
    few and rare (the key under which an inverted index of topics files the query).
    None when `node` alone gives no such set (NOT, source:)."""
    if isinstance(node, Term):
        return frozenset((node.stem,))
    if isinstance(node, Phrase):
        return frozenset((min(node.stems, key=_commonness),))
    if isinstance(node, Or):
        sets = [_anchors(c) for c in node.children if not isinstance(c, Phrase)]
        if any(s is None for s in sets):
            return None
        found = set().union(*sets)
        # A phrase with a word already among them needs no anchor of its own: "Republic
        # of Yemen" beside "Yemen", "coup attempt" beside "coup".
        for phrase in sorted((c for c in node.children if isinstance(c, Phrase)),
                             key=lambda c: len(c.stems)):
            if found.isdisjoint(phrase.stems):
                found.add(min(phrase.stems, key=_commonness))
        return frozenset(found)
    if isinstance(node, (And, Near)):
        sets = [s for s in map(_anchors, node.children) if s is not None]
        return min(sets, key=lambda s: sum(map(_commonness, s)), default=None)
    return None


def _commonness(stem: str) -> float:
    """Lower is rarer: longer words are rarer, the very common ones are last resorts."""
    return (100.0 if stem in _COMMON else 0.0) + 1.0 / (1 + len(stem))


# --------------------------------------------------------------------------- documents

_TITLE, _BODY = 0, 1
_TITLE_WEIGHT = 3.0

# "Mr. Smith", "J. Smith": a dot after these does not end a sentence.
_NO_BREAK_WORDS = frozenset(
    "mr mrs ms dr prof st jr sr gen gov sen rep lt col capt sgt no vs inc corp ltd co"
    " jan feb mar apr jun jul aug sep sept oct nov dec".split())
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’»)\]]*(?=\s)|\n")


class _Field:
    """One tokenised text (title or body): stems by position, their spans (`starts`,
    `ends`: character offsets of each token's surface form), an index.

    Built from `stems` alone (no text, no spans), it can be matched and scored but gives
    no snippets."""

    __slots__ = ("text", "stems", "starts", "ends", "index", "_sentences")

    def __init__(self, text: str, stems: list[str | None] | None = None,
                 vocabulary: Iterable[str] | None = None):
        self.text = text
        self._sentences: list[tuple[int, int]] | None = None
        self.index: dict[str, list[int]] = {}
        if stems is None:
            self.stems, self.starts, self.ends = _scan(text)
        else:
            self.stems, self.starts, self.ends = stems, [], []
        if vocabulary is None:
            for pos, stem in enumerate(self.stems):
                self.index.setdefault(stem, []).append(pos)
            return
        # Only the words a query asks about: a scan in C per word beats a Python loop.
        for stem in vocabulary:
            positions, pos = [], -1
            try:
                while True:
                    pos = self.stems.index(stem, pos + 1)
                    positions.append(pos)
            except ValueError:
                if positions:
                    self.index[stem] = positions

    def sentences(self) -> list[tuple[int, int]]:
        """(start, end) of each sentence or line, whitespace-trimmed; computed once."""
        if self._sentences is None:
            self._sentences = self._split_sentences()
        return self._sentences

    def _split_sentences(self) -> list[tuple[int, int]]:
        text = self.text
        # Dots that belong to an abbreviation ("U.S.", "Mr.", "J.") are not sentence ends.
        abbrev_dots = set()
        for stem, start, end in zip(self.stems, self.starts, self.ends):
            surface = text[start:end]
            if surface.endswith("."):
                abbrev_dots.add(end - 1)
            elif end < len(text) and text[end] == "." and (
                    stem in _NO_BREAK_WORDS or (len(surface) == 1 and surface.isupper())):
                abbrev_dots.add(end)
        cuts = [0]
        for m in _SENTENCE_END.finditer(text):
            if m.group(0)[0] == "." and m.start() in abbrev_dots and m.end() - m.start() == 1:
                continue
            cuts.append(m.end())
        cuts.append(len(text))
        out = []
        for start, end in zip(cuts, cuts[1:]):
            while start < end and text[start].isspace():
                start += 1
            while end > start and text[end - 1].isspace():
                end -= 1
            if start < end:
                out.append((start, end))
        return out


class Document:
    """An article's title and body tokenised once, to be matched by many queries.

    Tokens are normalised and stemmed exactly as query words are (see `tokenize`), with
    their positions (for phrases) and character spans (for snippets).
    """

    __slots__ = ("title", "text", "source", "fields", "stems", "_leading")

    def __init__(self, title: str, text: str, source: str | None = None):
        self.title = title or ""
        self.text = text or ""
        self.source = (source or "").casefold()  # for source:
        self.fields = (_Field(self.title), _Field(self.text))
        # Every stem anywhere: Query.match's first, set-membership-only check.
        self.stems = frozenset(self.fields[_TITLE].index) | frozenset(self.fields[_BODY].index)
        self._leading: dict[int, frozenset[str]] = {}

    def leading_stems(self, words: int) -> frozenset[str]:
        """The stems of the title and of the body's first `words` words (see `Focus`),
        computed once per length."""
        found = self._leading.get(words)
        if found is None:
            found = self._leading[words] = frozenset(
                s for s in (*self.fields[_TITLE].stems, *self.fields[_BODY].stems[:words]) if s)
        return found

    @classmethod
    def from_stems(cls, title: list[str | None], body: list[str | None],
                   source: str | None = None, vocabulary: Iterable[str] | None = None
                   ) -> Document:
        """A Document of already tokenised words (as `tokenize` stems them), without
        their text: matching and scoring it costs no tokenising; its matches have no
        snippets. With `vocabulary` (a query's `vocabulary`), only those words are
        indexed, which is all that query needs; other words may then be given as None."""
        doc = cls.__new__(cls)
        doc.title = doc.text = ""
        doc.source = (source or "").casefold()
        doc.fields = (_Field("", title, vocabulary), _Field("", body, vocabulary))
        doc.stems = frozenset(doc.fields[_TITLE].index) | frozenset(doc.fields[_BODY].index)
        doc._leading = {}
        return doc

    def __repr__(self) -> str:
        return f"Document(title={self.title[:40]!r}, {len(self.text)} chars)"


# --------------------------------------------------------------------------- evaluation

# A hit: the leaf that matched, in which field, at which token position, over how many.
_Hit = tuple[Leaf, int, int, int]


def _leaf_hits(leaf: Leaf, doc: Document) -> list[_Hit]:
    fields = (_TITLE,) if leaf.in_title else (_TITLE, _BODY)
    hits: list[_Hit] = []
    if isinstance(leaf, Term):
        for f in fields:
            hits.extend((leaf, f, p, 1) for p in doc.fields[f].index.get(leaf.stem, ()))
    else:
        first, size = leaf.stems[0], len(leaf.stems)
        for f in fields:
            stems = doc.fields[f].stems
            for p in doc.fields[f].index.get(first, ()):
                if tuple(stems[p:p + size]) == leaf.stems:
                    hits.append((leaf, f, p, size))
    if leaf.not_within and hits:
        hits = [h for h in hits if not _inside(h, leaf.not_within, doc)]
    return hits


def _inside(hit: _Hit, within: NotWithin, doc: Document) -> bool:
    """Whether the hit lies inside one of the longer sequences `within`."""
    stems = doc.fields[hit[1]].stems
    for longer, offset in within:
        start = hit[2] - offset
        if start >= 0 and tuple(stems[start:start + len(longer)]) == longer:
            return True
    return False


def _evaluate(node: Node, doc: Document) -> list[_Hit] | None:
    """None if `node` does not match `doc`; else the positive hits that make it match.

    Hits of every matching OR alternative are kept (all of them deserve a mark); a NOT
    matches with no hits of its own, so negated terms are never marked.
    """
    if isinstance(node, (Term, Phrase)):
        return _leaf_hits(node, doc) or None
    if isinstance(node, Not):
        return [] if _evaluate(node.child, doc) is None else None
    if isinstance(node, Source):
        return [] if doc.source == node.name else None
    if isinstance(node, Beside):
        return _beside_hits(node, doc)
    if isinstance(node, Near):
        return _near_hits(node, doc)
    if isinstance(node, And):
        hits: list[_Hit] = []
        for child in node.children:
            found = _evaluate(child, doc)
            if found is None:
                return None
            hits.extend(found)
        return hits
    matched = False
    hits = []
    stems = doc.stems
    for child in node.children:
        # A word the article lacks: skipped without a lookup per field (a group of a
        # name's forms has dozens of alternatives, most of them absent).
        if isinstance(child, Term):
            if child.stem not in stems:
                continue
        elif isinstance(child, Phrase) and child.stems[0] not in stems:
            continue
        found = _evaluate(child, doc)
        if found is not None:
            matched = True
            hits.extend(found)
    return hits if matched else None


# Beside's context (an OR of many words and phrases) by first stem, and its longest
# phrase, built once per node: id -> (node, index, longest); the node is kept so that
# its id is never reused.
_CONTEXTS: dict[int, tuple[Node, dict[str, list[Leaf]], int]] = {}


def _context_index(node: Node) -> tuple[dict[str, list[Leaf]], int]:
    found = _CONTEXTS.get(id(node))
    if found is None:
        index: dict[str, list[Leaf]] = {}
        longest = 1
        for leaf, _ in _leaves(node):
            stems = (leaf.stem,) if isinstance(leaf, Term) else leaf.stems
            index.setdefault(stems[0], []).append(leaf)
            longest = max(longest, len(stems))
        found = _CONTEXTS[id(node)] = (node, index, longest)
    return found[1], found[2]


def _beside_hits(node: Beside, doc: Document) -> list[_Hit] | None:
    """The first child's hits that have a context hit within `distance` words, looked for
    in the words around each hit only (the context is large, its hits few)."""
    own = _evaluate(node.children[0], doc)
    if not own:
        return None
    index, longest = _context_index(node.children[1])
    kept = []
    for hit in own:
        field_stems = doc.fields[hit[1]].stems
        lo = max(0, hit[2] - node.distance - longest)
        hi = min(len(field_stems), hit[2] + hit[3] + node.distance + 1)
        if any(_context_at(leaf, hit, q, node.distance, doc)
               for q in range(lo, hi) for leaf in index.get(field_stems[q], ())):
            kept.append(hit)
    return kept or None


def _context_at(leaf: Leaf, hit: _Hit, q: int, distance: int, doc: Document) -> bool:
    """Whether `leaf` occurs at position q of the hit's field, apart from the hit and at
    most `distance` words from it."""
    size = 1 if isinstance(leaf, Term) else len(leaf.stems)
    stems = doc.fields[hit[1]].stems
    if size > 1 and tuple(stems[q:q + size]) != leaf.stems:
        return False
    start, end = hit[2], hit[2] + hit[3]
    if q < end and q + size > start:
        return False  # the same words
    gap = q - end if q >= end else start - (q + size)
    if gap > distance:
        return False
    return not (leaf.not_within and _inside((leaf, hit[1], q, size), leaf.not_within, doc))


def _near_hits(node: Near, doc: Document) -> list[_Hit] | None:
    """The hits of both sides that lie within `distance` words of each other."""
    left, right = (_evaluate(c, doc) for c in node.children)
    if not left or not right:
        return None
    near: dict[_Hit, None] = {}
    for a in left:
        for b in right:
            if a[1] != b[1]:
                continue
            first, second = (a, b) if a[2] <= b[2] else (b, a)
            if second[2] - (first[2] + first[3]) <= node.distance:
                near[a] = near[b] = None
    return list(near) or None


# --------------------------------------------------------------------------- focus

@dataclass(frozen=True)
class Focus:
    """When a matching article is about the query's terms (see the module docstring).

    One term at least *leads*: it is in the title or in the body's first `lead_words`
    words. Each other term leads too, or is mentioned at least `mentions` times (title and
    body together). Once two terms lead, the story is set: up to `once` further terms may
    then be mentioned fewer times, once anywhere ("South Korea" and "Ukraine" in the
    headline, "arms" further down). The figures follow the news databases' "headline and
    lead paragraphs" and "at least n mentions" conventions (the lead: about the first two
    paragraphs of a news story)."""

    lead_words: int = 80
    mentions: int = 4
    once: int = 1


ABOUT = Focus()

# How prominent a term is (see `_prominence`).
_LEADS, _OFTEN, _WEAK = 2, 1, 0


def _term_like(node: Node) -> bool:
    """Whether `node` is one term for `Focus`: a word, a phrase, a NEAR, or an OR of
    such (a group of a name's or an alias's forms)."""
    if isinstance(node, (Term, Phrase, Near, Group)):  # a group's forms are such terms
        return True
    return isinstance(node, Or) and all(_term_like(c) for c in node.children)


def _focused(node: Node, doc: Document, focus: Focus) -> int | None:
    """Whether `node` matches `doc` under `focus`: _LEADS, _OFTEN (prominent but not in
    the title or lead) or None; a lone term never needs more than its own prominence,
    an AND holds only if one of its parts leads. Decides without gathering hits (see
    `_focused_hits`), so the many candidates that miss are ruled out cheaply."""
    if _term_like(node):
        state = _prominence(node, doc, focus)
        return None if state == _WEAK else state
    if isinstance(node, And):
        leading = weak = 0
        for child in node.children:
            if isinstance(child, (Not, Source)):
                if _evaluate(child, doc) is None:
                    return None
                continue
            state = _focused_part(child, doc, focus)
            if state is None:
                return None
            leading += state == _LEADS
            weak += state == _WEAK
        if not leading or (weak and (weak > focus.once or leading < 2)):
            return None
        return _LEADS
    if isinstance(node, Or):
        states = [s for s in (_focused(c, doc, focus) for c in node.children) if s is not None]
        return max(states, default=None)
    return None if _evaluate(node, doc) is None else _OFTEN  # NOT, source: refused alone


def _focused_part(node: Node, doc: Document, focus: Focus) -> int | None:
    """A part of an AND under `focus`: a term's prominence (_WEAK too: the AND decides),
    a nested AND's or OR's `_focused`."""
    if _term_like(node):
        return _prominence(node, doc, focus)
    return _focused(node, doc, focus)


def _focused_hits(node: Node, doc: Document, focus: Focus) -> list[_Hit]:
    """The hits of a node that `_focused` accepts: those of every part of an AND, of each
    OR alternative that holds on its own."""
    if _term_like(node):
        return _evaluate(node, doc) or []
    if isinstance(node, And):
        return [h for c in node.children if not isinstance(c, (Not, Source))
                for h in _focused_hits(c, doc, focus)]
    if isinstance(node, Or):
        return [h for c in node.children if _focused(c, doc, focus) is not None
                for h in _focused_hits(c, doc, focus)]
    return []


def _prominence(node: Node, doc: Document, focus: Focus) -> int | None:
    """For a term (`_term_like`): _LEADS, _OFTEN, _WEAK (mentioned, but fewer times) or
    None if it is absent. Decided from the document's positions, looking no further than
    it needs: the lead first, then mentions until there are enough."""
    stems = doc.stems
    body = doc.fields[_BODY]
    lead = focus.lead_words
    leading = doc.leading_stems(lead)
    present: list = []
    for child in (node.children if isinstance(node, Or) else (node,)):
        if isinstance(child, (Term, Phrase)):
            first = child.stem if isinstance(child, Term) else child.stems[0]
            if first not in stems:
                continue
            if first in leading:  # it may lead: look
                if next(_positions(child, doc, _TITLE), None) is not None:
                    return _LEADS
                if not child.in_title:
                    for p in _positions(child, doc, _BODY):
                        if p < lead:
                            return _LEADS
                        break  # in order: the rest lie further on
            if child.in_title:
                continue
            if isinstance(child, Term) and not child.not_within:  # every position counts
                present.append(body.index.get(first, ()))
            else:
                present.append(_positions(child, doc, _BODY))
        else:  # NEAR, a capital beside a country
            hits = _evaluate(child, doc) or []
            if any(f == _TITLE or p < lead for _, f, p, _ in hits):
                return _LEADS
            present.append([p for _, _, p, _ in hits])
    if not present:
        return None
    seen: set[int] = set()  # body positions past the lead, each counted once
    for positions in present:
        for p in positions:
            seen.add(p)
            if len(seen) >= focus.mentions:
                return _OFTEN
    return _WEAK if seen else None


def _positions(leaf: Leaf, doc: Document, f: int) -> Iterator[int]:
    """The positions in field `f` where `leaf` occurs (as `_leaf_hits` finds them), in
    order, found one at a time."""
    stems = doc.fields[f].stems
    if isinstance(leaf, Term):
        first, size = leaf.stem, 1
    else:
        first, size = leaf.stems[0], len(leaf.stems)
    for p in doc.fields[f].index.get(first, ()):
        if size > 1 and tuple(stems[p:p + size]) != leaf.stems:
            continue
        if leaf.not_within and _inside((leaf, f, p, size), leaf.not_within, doc):
            continue
        yield p


# --------------------------------------------------------------------------- scoring

def _weight(leaf: Leaf) -> float:
    """Longer words look rarer ("ukraine" tells more than "war"); a phrase adds its words."""
    stems = (leaf.stem,) if isinstance(leaf, Term) else leaf.stems
    return sum(math.log2(2 + min(len(s), 14)) for s in stems)


def _score(hits: list[_Hit]) -> float:
    """Sum over matched terms of weight * (1 + ln(weighted hits)); a title hit counts 3.

    Logarithmic in the hit count so that one word repeated twenty times does not outweigh
    all the others. Deterministic: depends only on the hits, in a fixed order. Equal
    leaves (a word written twice in the query) are one term.
    """
    # Leaves are hashed once per object, not once per hit (a dataclass hashes all its
    # fields each time, and a name's forms have many hits).
    term_of: dict[int, Leaf] = {}
    first: dict[Leaf, Leaf] = {}
    places: dict[int, set[tuple[int, int, int]]] = {}
    for leaf, f, p, size in hits:
        term = term_of.get(id(leaf))
        if term is None:
            term = term_of[id(leaf)] = first.setdefault(leaf, leaf)
        places.setdefault(id(term), set()).add((f, p, size))
    total = 0.0
    for term in first.values():
        n = sum(_TITLE_WEIGHT if f == _TITLE else 1.0 for f, _, _ in places[id(term)])
        total += _weight(term) * (1 + math.log(n))
    return round(total, 6)


# --------------------------------------------------------------------------- snippets

_MAX_SNIPPETS = 3
_MAX_SENTENCE = 240  # a sentence up to this long is shown whole...
_WINDOW = 200        # ...a longer one as a window of about this many characters
_ELLIPSIS = "…"


@dataclass(frozen=True)
class _Mark:
    start: int
    end: int
    leaf: Leaf = field(compare=False)
    note: str = field(default="", compare=False)  # shown after the mark: " (South Korea)"


def _marks_by_field(hits: list[_Hit], doc: Document) -> tuple[list[_Mark], list[_Mark]]:
    """Character spans of matched tokens per field, sorted and de-duplicated.

    Each token of a phrase is marked on its own, so a mark never swallows the line break
    or punctuation between two words.
    """
    spans: tuple[dict, dict] = ({}, {})
    notes: tuple[dict, dict] = ({}, {})
    for leaf, f, pos, size in hits:
        starts, ends = doc.fields[f].starts, doc.fields[f].ends
        for start, end in zip(starts[pos:pos + size], ends[pos:pos + size]):
            spans[f].setdefault((start, end), leaf)
        if leaf.stands_for and starts[pos:pos + size]:
            last = pos + size - 1
            notes[f][(starts[last], ends[last])] = f" ({leaf.stands_for})"
    return tuple(  # type: ignore[return-value]
        [_Mark(s, e, leaf, note.get((s, e), "")) for (s, e), leaf in sorted(d.items())]
        for d, note in zip(spans, notes))


def _window(text: str, start: int, end: int, marks: list[_Mark]) -> tuple[int, int]:
    """A whole-word range of about _WINDOW characters inside [start, end) around the
    cluster of marks with the most distinct terms (then the most marks, then the first)."""
    best_key, best = None, (0, 0)
    for i in range(len(marks)):
        leaves, j = set(), i
        for k in range(i, len(marks)):
            if marks[k].end - marks[i].start > _WINDOW:
                break
            leaves.add(marks[k].leaf)
            j = k
        key = (len(leaves), j - i + 1)
        if best_key is None or key > best_key:
            best_key, best = key, (i, j)
    lo, hi = marks[best[0]].start, marks[best[1]].end
    slack = max(0, _WINDOW - (hi - lo))
    left = max(start, lo - slack // 2)
    right = min(end, hi + slack - (lo - left))
    left = max(start, min(left, right - _WINDOW))
    # Whole words only: move cut points outwards-in to the nearest space, never past a mark.
    if left > start and not text[left - 1].isspace():
        space = text.find(" ", left, lo)
        left = space + 1 if space >= 0 else lo
    if right < end and not text[right].isspace():
        space = text.rfind(" ", hi, right)
        right = space if space >= 0 else hi
    while left < lo and text[left].isspace():
        left += 1
    while right > hi and text[right - 1].isspace():
        right -= 1
    return left, right


def _snippets(hits: list[_Hit], doc: Document) -> tuple[Snippet, ...]:
    """Up to _MAX_SNIPPETS passages, best first: most distinct matched terms, then most
    marks, then title before body and earlier before later."""
    candidates = []
    for f, marks in enumerate(_marks_by_field(hits, doc)):
        if not marks:
            continue
        sentences = doc.fields[f].sentences()
        starts = [s for s, _ in sentences]
        grouped: dict[int, list[_Mark]] = {}
        for mark in marks:
            grouped.setdefault(bisect_left(starts, mark.start + 1) - 1, []).append(mark)
        for idx, in_sentence in grouped.items():
            start, end = sentences[idx]
            distinct = len({m.leaf for m in in_sentence})
            candidates.append(((-distinct, -len(in_sentence), f, start), f, start, end,
                               in_sentence))
    candidates.sort(key=lambda c: c[0])
    out = []
    for _, f, start, end, marks in candidates[:_MAX_SNIPPETS]:
        text = doc.fields[f].text
        left, right = (start, end) if end - start <= _MAX_SENTENCE else _window(
            text, start, end, marks)
        prefix = _ELLIPSIS if left > start else ""
        suffix = _ELLIPSIS if right < end else ""
        parts, spans, at = [prefix], [], left
        length = len(prefix)
        for m in marks:
            if not (left <= m.start and m.end <= right):
                continue
            parts.append(text[at:m.end])
            length += m.end - at
            spans.append((length - (m.end - m.start), length))
            if m.note and not text.startswith(m.note, m.end):
                parts.append(m.note)  # the form that stood in, with what it stands for
                length += len(m.note)
            at = m.end
        parts += [text[at:right], suffix]
        out.append(Snippet("".join(parts), tuple(spans)))
    return tuple(out)


# --------------------------------------------------------------------------- public API

@dataclass(frozen=True)
class Query:
    """A parsed topic query; build it with `parse`, then `match` it against Documents.

    `focus`: how prominent its terms must be in a matching article (see `Focus`); None:
    anywhere, once."""

    source: str
    root: Node = field(repr=False)
    focus: Focus | None = None
    # Stems every match contains: a subset test against Document.stems rules most
    # articles out before positions are looked at.
    required: frozenset[str] = field(init=False, repr=False, compare=False)
    # Stems of which every match contains at least one (never empty for a parsed query):
    # the keys under which an inverted index files this query (see matcher.TopicIndex).
    anchors: frozenset[str] = field(init=False, repr=False, compare=False)
    # Every stem the query mentions, negated or not.
    vocabulary: frozenset[str] = field(init=False, repr=False, compare=False)
    # Sets of stems that each meet every match (see _required_any), beyond `required`.
    required_any: tuple[frozenset[str], ...] = field(init=False, repr=False, compare=False)
    # Stems of which a match under `focus` has one in its title or lead (see _leading).
    leading: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "required", _required(self.root))
        object.__setattr__(self, "anchors", _anchors(self.root) or frozenset())
        object.__setattr__(self, "required_any", tuple(
            s for s in dict.fromkeys(_required_any(self.root)) if len(s) > 1))
        object.__setattr__(self, "leading", _leading(self.root))
        object.__setattr__(self, "vocabulary", frozenset(
            s for leaf, _ in _leaves(self.root)
            for s in ((leaf.stem,) if isinstance(leaf, Term) else leaf.stems)))

    def match(self, doc: Document) -> QueryMatch | None:
        """A QueryMatch (score, up to three snippets) if `doc` matches, else None."""
        hits = self._hits(doc)
        return None if hits is None else QueryMatch(_score(hits), _snippets(hits, doc))

    def score(self, doc: Document) -> float | None:
        """The score `match` would give, without snippets (cheaper); None if no match."""
        hits = self._hits(doc)
        return None if hits is None else _score(hits)

    def _hits(self, doc: Document) -> list[_Hit] | None:
        if not self.required <= doc.stems:
            return None
        for stems in self.required_any:
            if stems.isdisjoint(doc.stems):
                return None
        if self.focus is None:
            return _evaluate(self.root, doc)
        # A term leads in every match: one of them in the title or the lead.
        if self.leading.isdisjoint(doc.leading_stems(self.focus.lead_words)):
            return None
        # Most candidates miss: decide first, gather the hits of the few that match.
        if _focused(self.root, doc, self.focus) != _LEADS:
            return None
        return _focused_hits(self.root, doc, self.focus)

    def terms(self) -> tuple[Leaf, ...]:
        """The positive (not negated) Terms and Phrases, in query order, without repeats."""
        return tuple(dict.fromkeys(leaf for leaf, negated in _leaves(self.root)
                                   if not negated))


def parse(query: str, focus: Focus | None = None) -> Query:
    """Parse a topic query; raises QueryError (with a caret under the problem) if invalid.

    `focus`: None (the default): the words may stand anywhere in the article; see `Focus`
    (`ABOUT`: the article is about the terms)."""
    try:
        root = _Parser(query).parse()
    except RecursionError:  # the lexer's, on thousands of nested prefixes ("-----a")
        raise QueryError(f"the query is nested too deeply (more than {_Parser.MAX_DEPTH} levels)",
                         query, 0) from None
    _check_positive(root, query)
    return Query(query, root, focus)
