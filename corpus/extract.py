"""Article extraction: one fetched page (HTML or plain text) in, one :class:`Article` out.

This is the ``extract`` stage of the pipeline (DESIGN.md, "Data flows one way"): it turns a
body and the URL it came from into the article's title, body text and metadata. Topic
matching only ever sees what this module returns, so its main job is to leave page
boilerplate (navigation, "Latest Stories" lists, comment sections, newsletter boxes…) out
of :attr:`Article.text`: a topic such as ``Komodo dragon`` that only a sidebar mentions must
not match.

HTML goes through trafilatura, with a small amount of pre- and post-processing around it
(see :func:`extract_html`). Plain text (``.txt`` files such as the seeds) goes through a
line-based heuristic of our own (see :func:`extract_text`).
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from collections.abc import Iterable, Iterator
from copy import copy
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urljoin, urlsplit

import charset_normalizer
import tldextract
import trafilatura
from htmldate import find_date
from lxml.html import HtmlElement
from trafilatura.utils import load_html
from trafilatura.xml import xmltotxt
from w3lib.encoding import html_to_unicode, http_content_type_encoding, read_bom, resolve_encoding

from newswatch.corpus.article import Article, ExtractionError
from newswatch.corpus.urls import canonical_url

__all__ = ["Article", "ExtractionError", "extract", "extract_html", "extract_text"]

logger = logging.getLogger(__name__)


# Same ceiling as trafilatura's MAX_FILE_SIZE: past it a page is not an article, and parsing
# it would only tie up a worker.
MAX_PAGE_CHARS = 20_000_000

# ---------------------------------------------------------------------------------------
# Line classification, shared by the plain-text extractor and the HTML post-processing
# ---------------------------------------------------------------------------------------

_WS_RE = re.compile(r"[^\S\n]+")  # any whitespace but newline (NBSP, tabs, thin spaces…)
_ZERO_WIDTH_RE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_TOKEN_RE = re.compile(r"[^\W\d_][\w'’.-]*")  # a word that starts with a letter
# A sentence ends with . ! ? … (or their CJK forms), possibly followed by closing quotes/brackets.
_SENTENCE_END_RE = re.compile(r"[.!?…。！？][\"'”’»)\]]*$")
_SENTENCE_BREAK_RE = re.compile(r"[.!?…][\"'”’»)\]]*\s+(?=[\"'“‘«(\[]?[A-Z0-9])")
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof st sr jr gen gov sen rep col lt sgt capt no vs etc inc co corp ltd "
    "jan feb mar apr jun jul aug sep sept oct nov dec mt ft u.s u.k u.n e.g i.e a.m p.m".split()
)

# Section headings after which a page lists *other* content (other articles, comments). The
# first one after the article body ends it: nothing after it is part of the article, even
# prose (teaser summaries, reader comments). Matched against the whole (short) line, after an
# optional decoration such as "[DEBATE]" or "»", so that prose mentioning "most read" never
# matches. Generic on purpose: these are the phrasings news CMSs use, not any one site's.
_END_HEADING_RE = re.compile(
    r"""^(?:\[[^\]]{1,30}\]\s*|[#>»•|▶■◆*-]+\s*)?
    (?:
        latest(?:\s+(?:stories|news|articles|posts|headlines|videos|updates))?
      | (?:most|more)\s+(?:read|popular|viewed|shared|commented|watched|emailed)
            (?:\s+(?:stories|articles|news|now|today|this\s+week))?
      | popular(?:\s+(?:now|stories|articles|posts|today|this\s+week|on\s+\S+))?
      | trending(?:\s+(?:now|stories|today|topics|articles|news))?
      | (?:you|we\s+think\s+you)\s+(?:may|might|will|could|should)\s+(?:also\s+)?
            (?:like|enjoy|be\s+interested\s+in|have\s+missed)
      | (?:recommended|suggested|featured|similar)(?:\s+(?:for\s+you|stories|articles|reading|posts|content|videos?))?
      | more\s+(?:from|in)\s+.{1,40}
      | more\s+(?:stories|news|articles|headlines|coverage|videos)
      | must[\s-]?reads?
      | (?:weekly|daily|monthly|today'?s|this\s+week'?s)\s+(?:best|top|most)(?:\s+\w+){0,2}
      | editor'?s?'?\s+(?:picks?|choice)
      | top\s+(?:stories|news|headlines|articles|picks)
      | (?:around|from)\s+the\s+web
      | sponsored(?:\s+(?:content|stories|links|posts))?
      | (?:promoted|partner|paid)\s+(?:content|stories|links)
      | (?:show\s+|view\s+|load\s+|read\s+|see\s+)?(?:all\s+)?(?:\d+\s+)?(?:comments?|responses|replies)
      | (?:leave|post|add|write)\s+a\s+(?:comment|reply|response)
      | join\s+the\s+(?:conversation|discussion)
      | (?:reader\s+comments|discussion\s+about\s+this\s+(?:post|article|story))
      | what\s+do\s+you\s+think
    )
    \s*[:?]?\s*[(\[]?\d*[)\]]?\s*$""",
    re.IGNORECASE | re.VERBOSE,
)
# "Tags: a, b" / "Filed under: …" lines: the article is over.
_END_PREFIX_RE = re.compile(r"^(?:tags?|topics?|filed\s+under|categories|related\s+topics)\s*:", re.IGNORECASE)

# Headings of an inline "see also" link list: often sits in the middle of an article, so it
# does not end the body; the heading and the run of short lines after it are dropped.
_LINK_LIST_HEADING_RE = re.compile(
    r"""^(?:\[[^\]]{1,30}\]\s*)?
    (?:related(?:\s+(?:stories|story|articles?|coverage|content|posts?|links|news|reading))?
      | read\s+(?:more|next|also)|also\s+read|see\s+also|more\s+on\s+this(?:\s+(?:story|topic))?
      | further\s+reading|in\s+(?:other|related)\s+news)
    \s*:?\s*$""",
    re.IGNORECASE | re.VERBOSE,
)

# Lines that are page furniture wherever they appear: dropped, never end the body.
_JUNK_LINE_RE = re.compile(
    r"""^(?:
        advertisement|advertising|ad|sponsored|anzeige|publicité
      | (?:story|article|text)\s+continues\s+(?:below|after)(?:\s+(?:this|the))?\s*(?:advertisement|ad)?
      | (?:scroll|continue)\s+(?:down\s+)?(?:to|for)\s+(?:continue|more|next)(?:\s+\w+){0,3}
      | share(?:\s+(?:this|the))?(?:\s+(?:article|story|post|page))?(?:\s+(?:on|via)\s+\S+)?
      | (?:click|tap)\s+(?:here\s+)?to\s+(?:share|comment|subscribe|read|enlarge|expand).*
      | copy\s+link|print(?:\s+this\s+(?:article|story|page))?|e-?mail(?:\s+this\s+(?:article|story))?
      | (?:font|text)\s+size|listen(?:\s+to\s+(?:this\s+)?(?:article|story))?
      | loading(?:…|\.\.\.)?|\d+\s+min(?:ute)?s?\s+read
      | (?:skip|jump)\s+to\s+(?:main\s+)?(?:content|navigation|menu).*
      | (?:follow|like)\s+us\s+on\s+.{1,40}
      | (?:sign\s+up|subscribe)\s+(?:for|to)\s+(?:our|the)\b.{0,80}\bnewsletters?\b.*
      | .{0,60}\bsubscribe\s+(?:for\s+free|now|today)\b.{0,80}
      | .{0,80}\bnewsletter\b.{0,40}\b(?:sign\s+up|subscribe|inbox)\b.{0,60}
      | (?:get|receive)\s+(?:our|the)\b.{0,60}\b(?:by\s+e-?mail|(?:in|to)\s+your\s+inbox|newsletters?)\b.{0,60}
      | (?:we\s+use|this\s+(?:site|website)\s+uses)\s+cookies\b.*
      | (?:photo|image|picture|illustration|video|graphic)(?:\s+(?:credit|by|source))?\s*[:©].{0,80}
      | (?:©|\(c\)|copyright\s+(?:©|\(c\)|\d{4})).{0,120}
      | all\s+rights\s+reserved\.?
      | \d[\d,.]*|[\W_]+
    )$""",
    re.IGNORECASE | re.VERBOSE,
)
# Navigation text flattened into one line: accessibility shortcuts, menus, breadcrumbs.
_NAV_RE = re.compile(
    r"\b(?:quick\s+access|direct\s+access|skip\s+to|jump\s+to|main\s+(?:content|contents|menu|navigation)"
    r"|toggle\s+navigation|open\s+menu|close\s+menu|sign\s+in|log\s*in|my\s+account|search\s+this\s+site)\b",
    re.IGNORECASE,
)
_NAV_SEPARATORS_RE = re.compile(r"\s[|›»>/·•]\s")
# A caption that ends in a photo credit: "… in the school gym. (Ledger photo by Carla Jensen)"
_CREDIT_RE = re.compile(
    r"\((?:[^()]*\b(?:photos?|images?|file\s+photo|credit|getty|afp|reuters|ap|epa|yonhap|xinhua|shutterstock)"
    r"\b[^()]*)\)$",
    re.IGNORECASE,
)
_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL_LINE_RE = re.compile(r"^(?:https?://|www\.)\S+$", re.IGNORECASE)
_DATE_LINE_RE = re.compile(
    r"^(?:(?:published|updated|posted|last\s+updated|modified)(?:\s+on)?\s*:?\s*)?"
    r"(?:(?:mon|tue|wed|thu|fri|sat|sun)\w*\.?,?\s+)?"
    r"(?:\d{1,4}[./-]\d{1,2}[./-]\d{1,4}|\d{1,2}\s+[a-z]{3,9}\.?,?\s+\d{4}|[a-z]{3,9}\.?\s+\d{1,2},?\s+\d{4})"
    r"(?:\s*(?:at\s+|·\s*|,\s*|-\s*)?\d{1,2}[:.h]\d{2}(?:\s*[ap]\.?m\.?)?(?:\s+[A-Z]{2,4})?)?\s*$",
    re.IGNORECASE,
)
_NAME_TOKEN = r"(?:[^\W\d_][^\W\d_'’-]*(?:['’-][^\W\d_]+)*\.?|[^\W\d_]\.)"
_NAME_RE = re.compile(rf"^{_NAME_TOKEN}(?:\s+{_NAME_TOKEN}){{1,3}}$")
_BY_LINE_RE = re.compile(
    r"^(?:by|written\s+by|posted\s+by|words\s+by|reporting\s+by|story\s+by|par|von|por)\s+(.+)$", re.IGNORECASE
)
# Words that turn "Name <word>" into a byline ("Daniel Kim Views", "Jane Doe Reporter") and
# that are never part of an author's name. Also used to drop role suffixes from authors.
_ROLE_WORDS = frozenset(
    "views reporter reporters correspondent correspondents editor editors writer writers columnist "
    "contributor contributors staff journalist analyst intern desk bureau newsroom team".split()
)
_NAME_STOPWORDS = frozenset("the and of for news daily weekly press times post report media group".split())


def _clean_line(line: str) -> str:
    line = _ZERO_WIDTH_RE.sub("", line)
    return _WS_RE.sub(" ", line).strip()


class _lazy:
    """A computed-once attribute (functools.cached_property without its lock, which costs
    more than most of the features it would cache)."""

    def __init__(self, fn):  # type: ignore[no-untyped-def]
        self.fn = fn
        self.name = fn.__name__

    def __get__(self, obj, cls=None):  # type: ignore[no-untyped-def]
        if obj is None:
            return self
        value = obj.__dict__[self.name] = self.fn(obj)
        return value


class _Line:
    """One line (plain text) or block (HTML) with the features the heuristics look at.

    Features are computed on first use; the regex-heavy ones only for short lines
    (headings, furniture and bylines are short), which keeps long paragraphs cheap.
    """

    def __init__(self, text: str) -> None:
        flat = text.replace("\n", " ")
        self.text = text
        self.flat = flat
        n = len(flat.split())
        if " " not in flat and len(flat) >= 12:
            n = max(n, len(flat) // 6)  # scripts without spaces (CJK): one "word" per few characters
        self.n_words = n
        self.short = n <= 25 and len(flat) <= 200

    @_lazy
    def ends_sentence(self) -> bool:
        return bool(_SENTENCE_END_RE.search(self.flat[-8:]))

    @_lazy
    def lower_ratio(self) -> float:
        return _lower_ratio(self.flat[:400])

    @_lazy
    def is_junk(self) -> bool:
        return self.short and _is_junk(self.flat)

    @_lazy
    def is_nav(self) -> bool:
        # A line of navigation is never a sentence; prose that mentions "log in" must survive.
        flat = self.flat
        return self.short and not self.ends_sentence and (
            bool(_NAV_RE.search(flat)) or len(_NAV_SEPARATORS_RE.findall(flat)) >= 2
        )

    @_lazy
    def is_date(self) -> bool:
        return self.short and bool(_DATE_LINE_RE.match(self.flat))

    @_lazy
    def is_byline(self) -> bool:
        return self.short and _byline_author(self.flat) is not None

    @_lazy
    def is_end_heading(self) -> bool:
        return self.n_words <= 8 and bool(_END_HEADING_RE.match(self.flat) or _END_PREFIX_RE.match(self.flat))

    @_lazy
    def is_link_list_heading(self) -> bool:
        return self.n_words <= 6 and bool(_LINK_LIST_HEADING_RE.match(self.flat))

    @_lazy
    def is_prose(self) -> bool:
        """Running text: a full sentence of some length, not a Title Case headline."""
        n = self.n_words
        if n < 8 or self.lower_ratio < 0.3 or self.is_junk:
            return False
        return (self.ends_sentence and n >= 8) or n >= 30 or (n >= 12 and bool(_SENTENCE_BREAK_RE.search(self.flat)))

    @_lazy
    def is_sentence(self) -> bool:
        """A short closing sentence ("He declined to comment.") that may follow the last prose line."""
        return self.n_words >= 3 and self.ends_sentence and self.lower_ratio >= 0.3 and not self.is_junk

    def is_headline(self) -> bool:
        """Could be the article's headline: short, not a sentence, not page furniture."""
        flat = self.flat
        if not 3 <= self.n_words <= 25 or len(flat) > 200:
            return False
        if flat[-1] in ".,;:" or flat[0] in "-•*–—·" or not any(c.isalpha() for c in flat):
            return False
        return not (
            self.is_junk or self.is_nav or self.is_end_heading or self.is_link_list_heading
            or self.is_date or self.is_byline or _EMAIL_RE.search(flat)
        )


def _lower_ratio(text: str) -> float:
    """Share of cased words that start lower-case: high in prose, low in Title Case headlines."""
    lower = upper = 0
    for token in _TOKEN_RE.findall(text):
        first = token[0]
        if first.islower():
            lower += 1
        elif first.isupper():
            upper += 1
    if not lower + upper:
        return 1.0  # uncased script: cannot tell, do not hold it against the line
    return lower / (lower + upper)


def _is_junk(flat: str) -> bool:
    if _JUNK_LINE_RE.match(flat) or _EMAIL_RE.fullmatch(flat) or _URL_LINE_RE.match(flat):
        return True
    # A caption ends in a credit; a genuine paragraph of several sentences that happens to
    # end in parentheses is not one.
    return bool(_CREDIT_RE.search(flat)) and len(_SENTENCE_BREAK_RE.findall(flat)) < 2


def _byline_author(line: str) -> str | None:
    """The author named by a byline: "By Jane Doe", "By Jane Doe and John Roe, Reuters"."""
    match = _BY_LINE_RE.match(line)
    if not match or len(line) > 120:
        return None
    names = [_strip_role(part) for part in re.split(r"\s*(?:,|;|\band\b|&|\|)\s*", match[1])]
    names = [n for n in names if n and _is_name(n)]
    return "; ".join(names) if names else None


def _strip_role(text: str) -> str:
    words = text.split()
    while words and words[-1].lower().strip(".,:") in _ROLE_WORDS:
        words.pop()
    return " ".join(words)


def _is_name(text: str) -> bool:
    if len(text) > 40 or not _NAME_RE.match(text):
        return False
    words = text.split()
    return all(w[0].isupper() for w in words) and not any(w.lower().strip(".") in _NAME_STOPWORDS for w in words)


# ---------------------------------------------------------------------------------------
# Language: a stop-word vote, cheap and good enough to tell the common Latin-script languages
# ---------------------------------------------------------------------------------------

_STOPWORDS: dict[str, frozenset[str]] = {
    "en": frozenset("the and of to in is that for on with was as it by at from has have are be this which said an will not but or its were their been would".split()),
    "fr": frozenset("le la les de des du l d et est une un dans que qui pour pas sur au aux avec ce sont par plus ne se il elle ont à été cette".split()),
    "de": frozenset("der die das und ist nicht den dem des ein eine zu mit auf für von sich im auch es wird sie als bei nach wie aus sind hat werden".split()),
    "es": frozenset("el la los las de del y que en un una por con para es se no al lo como más su sus fue ha pero son".split()),
    "it": frozenset("il la le di che è un una per con non del della dei nel sono si da al alla anche come più ha gli questo".split()),
    "pt": frozenset("o a os as do da dos das e que em um uma para com não por no na se mais foi ao é são pelo pela".split()),
    "nl": frozenset("de het een en van is dat op te in voor met niet zijn die er aan ook als door bij om maar wordt heeft naar werd".split()),
}  # fmt: skip
_LANG_TOKEN_RE = re.compile(r"[^\W\d_]+")


_STOPWORD_LANGUAGES: dict[str, tuple[str, ...]] = {}
for _lang, _words in _STOPWORDS.items():
    for _word in _words:
        _STOPWORD_LANGUAGES[_word] = (*_STOPWORD_LANGUAGES.get(_word, ()), _lang)


def _guess_language(text: str) -> str | None:
    """ISO 639-1 code of the language whose stop words dominate ``text``, or None if unsure."""
    tokens = _LANG_TOKEN_RE.findall(text[:1500].lower())
    if len(tokens) < 20:
        return None
    hits = dict.fromkeys(_STOPWORDS, 0)
    for token in tokens:
        for lang in _STOPWORD_LANGUAGES.get(token, ()):
            hits[lang] += 1
    (first, lang), (second, _) = sorted(((n, lang) for lang, n in hits.items()), reverse=True)[:2]
    # Real text in one of these languages scores 0.25-0.45 of its words; the margin keeps
    # close relatives (es/pt/it) and mixed texts from being guessed.
    return lang if first >= 0.15 * len(tokens) and first - second >= 0.04 * len(tokens) else None


def _normalise_language(code: str | None) -> str | None:
    """"en-US", "en_GB", "EN" -> "en"; anything that is not a two-letter primary tag -> None."""
    if not code:
        return None
    primary = re.split(r"[-_]", code.strip())[0].lower()
    return primary if len(primary) == 2 and primary.isalpha() else None


# ---------------------------------------------------------------------------------------
# Plain text
# ---------------------------------------------------------------------------------------


def _split_units(text: str) -> list[str]:
    """Lines of a plain-text page, as paragraphs.

    Most text dumps of web pages put one paragraph per line. Hard-wrapped text (lines cut at
    ~72 characters, paragraphs separated by blank lines) is recognised and its lines joined.
    """
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    raw_lines = [_clean_line(line) for line in text.split("\n")]
    non_empty = [line for line in raw_lines if line]
    if not non_empty:
        return []
    lengths = [len(line) for line in non_empty]
    wrapped = (
        len(non_empty) >= 5
        and max(lengths) <= 100
        and sum(40 <= n <= 100 for n in lengths) >= 0.6 * len(non_empty)
        and any(not line for line in raw_lines)
    )
    if not wrapped:
        return non_empty
    units: list[str] = []
    current: list[str] = []
    for line in raw_lines + [""]:
        if line:
            current.append(line)
        elif current:
            units.append(" ".join(current))
            current = []
    return units


def extract_text(text: str, url: str) -> Article:
    """Extract an article from a plain-text page (a ``.txt`` file such as a seed article).

    The body runs from the first prose line (a long line of running text) to the end of the
    last prose block before the first section heading that introduces other content ("Latest
    Stories", "Popular Now", "You May Also Like", "Comments 3", …). Short lines between prose
    paragraphs (subheadings, list items) are kept; page furniture lines (advertisement, share
    buttons, photo credits, bare counters, e-mail addresses) are dropped wherever they are;
    an inline "Read more" list is dropped with its heading.

    The title is the first headline-like line before the body (short, not a sentence, not
    navigation or a byline); failing that, the body's first sentence cut to about 100
    characters. The author comes from a "By …" line, a footer of a name line followed by an
    e-mail line, or a byline such as "Jane Doe Reporter". ``published`` is None (a text file
    carries no date); ``language`` is guessed from stop words (None when unsure).

    Raises:
        ExtractionError: no prose found (empty text, or nothing that reads as an article).
        ValueError: ``url`` is not a valid URL.
    """
    canon = canonical_url(url)
    lines = [_Line(u) for u in _split_units(text)]
    start = next((i for i, line in enumerate(lines) if line.is_prose), None)
    if start is None:
        raise ExtractionError(f"no article text in plain-text page {url}")

    end_heading = next((i for i in range(start + 1, len(lines)) if lines[i].is_end_heading), len(lines))
    last = max(i for i in range(start, end_heading) if lines[i].is_prose)
    # A short closing sentence after the last long paragraph still belongs to the article.
    while last + 1 < end_heading and lines[last + 1].is_sentence:
        last += 1

    body = _keep_body_lines(lines[start : last + 1])
    title = _text_title(lines[:start], body)
    author = _text_author(lines, start, last, end_heading)
    article_text = "\n\n".join(body)
    logger.debug("text extraction %s: lines %d-%d of %d, title %r", url, start, last, len(lines), title)
    return Article(
        url=url,
        canonical_url=canon,
        title=title,
        text=article_text,
        published=None,
        language=_guess_language(article_text),
        author=author,
    )


def _keep_body_lines(lines: list[_Line], *, strict: bool = True) -> list[str]:
    """The body's lines minus furniture, inline link lists and repeated lines; with ``strict``
    (plain text, where nothing has been cleaned yet) also navigation, bylines and datelines."""
    kept: list[str] = []
    skipping_list = False
    for line in lines:
        if line.is_link_list_heading:
            skipping_list = True
            continue
        if skipping_list and not line.is_prose:
            continue
        skipping_list = False
        if line.is_junk or (strict and (line.is_nav or line.is_byline or line.is_date)):
            continue
        if kept and line.text == kept[-1]:  # caption or credit printed twice
            continue
        kept.append(line.text)
    return kept


_DATELINE_RE = re.compile(r"^[A-Z][A-Z0-9 .,&'’/-]{1,40}(?:\s*\([^)]{1,30}\))?\s*(?::|[-–—]{1,2}|\|)\s+(?=\S)")


def _text_title(head: list[_Line], body: list[str]) -> str:
    for line in head:
        if line.is_headline():
            return line.flat
    return _title_from_sentence(body[0] if body else "")


def _title_from_sentence(paragraph: str, limit: int = 100) -> str:
    """The first sentence of ``paragraph`` without its dateline ("WASHINGTON —", "WNAM REPORT:"),
    cut at a word boundary to at most ``limit`` characters (plus "…")."""
    text = _DATELINE_RE.sub("", paragraph, count=1) or paragraph
    sentence = text
    for match in _SENTENCE_BREAK_RE.finditer(text):
        before = text[: match.start() + 1].split()[-1].rstrip(".!?…\"'”’»)]").lower()
        if before in _ABBREVIATIONS or len(before) == 1 or "." in before:
            continue  # "U.S. President", "Dr. Park": not a sentence end
        sentence = text[: match.end()].strip()
        break
    if len(sentence) <= limit:
        return sentence
    cut = sentence[: limit + 1].rsplit(" ", 1)[0] if " " in sentence[:limit] else sentence[:limit]
    return cut.rstrip(" ,;:-–—") + "…"


def _text_author(lines: list[_Line], start: int, last: int, end_heading: int) -> str | None:
    # 1. an explicit "By …" line above or at the top of the body
    for line in lines[: min(start + 3, len(lines))]:
        author = _byline_author(line.flat)
        if author:
            return author
    # 2. an author footer after the body: a name line followed by an e-mail line, or both on one line
    for i in range(last + 1, min(end_heading, len(lines))):
        flat = lines[i].flat
        email = _EMAIL_RE.search(flat)
        if email and flat.strip() != email[0]:
            name = flat.replace(email[0], "").strip(" /|,·-–—<>()")
            if _is_name(name):
                return name
        if _is_name(flat) and i + 1 < len(lines) and _EMAIL_RE.fullmatch(lines[i + 1].flat):
            return flat
    # 3. a byline of a name and a role word above the body ("Daniel Kim Views", "Jane Doe Reporter")
    for line in lines[:start]:
        words = line.flat.split()
        if 3 <= len(words) <= 6 and words[-1].lower().strip(".,:") in _ROLE_WORDS:
            name = _strip_role(line.flat).rstrip(" ,|-–—")
            if _is_name(name):
                return name
    return None


# ---------------------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------------------

# Trafilatura settings, chosen by comparing against the default ``trafilatura.extract`` on the
# fixtures in tests/pages/ (word-level precision/recall of the expected body, see
# test_fixture_body_at_least_as_good_as_default_trafilatura):
# - include_comments=False: reader comments are not the article (the default keeps them);
# - favor_precision=True: prunes more sidebars and teasers. Recall on article bodies was
#   unchanged on the fixtures; the known cost is that a subheading made only of a link
#   (<h2><a href="#section">…</a></h2>) is dropped, which matters little for matching;
# - include_tables=True: election results, schedules and the like are article content
#   (layout tables are unwrapped before, see _unwrap_layout_tables);
# - deduplicate=False: trafilatura's dedup keeps a module-level cache across calls, so the
#   result would depend on the pages extracted before (the 4th extraction of the same page
#   returns nothing, and paragraphs shared by syndicated copies vanish, which would defeat
#   dedup levels 2 and 3). A fresh LRUCache per page avoids that but only drops segments
#   repeated 4+ times within the page, which precision mode and our own clean-up already
#   catch; it was not worth its cost;
# - fast: first a fast run (trafilatura's own extractor only); its body is kept when it is
#   confident (see _confident: at least CONFIDENT_BODY_CHARS characters, trafilatura's
#   structure test passed), else the full run with the readability/justext comparison that
#   rescues odd layouts (empty or short bodies, pages broken so that the article sits inside
#   a <nav> or <noscript>). Measured reason: the comparison (a pruning XPath over a copy of
#   the whole page, then readability) was half of our extraction time. On the 320 pages of
#   bench/sitegen.py extract_html went from 2.3x to 1.1-1.2x the time of default
#   trafilatura.extract, with the same output on all of them, on tests/pages and tests/site.
#   On 990 real pages (trafilatura's evaluation corpus, scored by its with/without snippets)
#   84% take the fast run, the time is 0.75-0.85x, and 10 outputs change: 3 better, 2 worse,
#   5 neutral (the comparison seldom replaces a long body, and then as often wrongly as
#   rightly). A page whose body stays under the threshold pays for both runs (the latin1_fr
#   fixture: 1.2x -> 1.8x default trafilatura). trafilatura's own recall-bypass threshold,
#   2500, changed 6 outputs (1 better, 1 worse) but sent 40% of the pages through both runs,
#   for no gain in time. Sentence-based criteria (share of prose paragraphs) changed no
#   output: the comparison never rejects a long body for being teasers, so they only sent
#   more pages through both runs. Known difference: when trafilatura's main pass finds under
#   250 characters, its fall-back search keeps teaser-class blocks in fast mode, so such a
#   page's result can end with teasers that the full run drops;
# - metadata: trafilatura's extract_metadata, but run separately on the page without its
#   navigation, sidebars and site footer (see _strip_chrome) instead of with_metadata=True
#   on the whole page, and with htmldate's extensive (full-text) date search off (see
#   _headline_date for the fallback).
_TRAFILATURA_OPTIONS = {
    "include_comments": False,
    "favor_precision": True,
    "include_tables": True,
    "include_images": False,
    "include_links": False,
    "deduplicate": False,
    "with_metadata": False,
}
# A body at least this long (4x trafilatura's min_extracted_size) that passes its structure
# test is taken from the fast run (see _confident).
CONFIDENT_BODY_CHARS = 1000
_BLANK_RE = re.compile(r"^\s*$")

# Elements inside a table cell that only a page layout puts there, never a data table.
_LAYOUT_CELL_XPATH = (
    "./descendant::*[self::h1 or self::h2 or self::h3 or self::form or self::table or self::article or self::nav][1]"
)

_ARTICLE_TYPES = frozenset(
    {
        "article", "newsarticle", "blogposting", "reportagenewsarticle", "analysisnewsarticle",
        "opinionnewsarticle", "reviewnewsarticle", "backgroundnewsarticle", "liveblogposting",
        "techarticle", "scholarlyarticle", "report", "socialmediaposting", "webpage", "posting",
    }
)  # fmt: skip
_PUBLISHED_META = (
    "article:published_time", "og:article:published_time", "og:published_time", "article:published",
    "datepublished", "parsely-pub-date", "sailthru.date", "dcterms.issued", "dc.date.issued",
    "dcterms.created", "dc.date.created", "pubdate", "publishdate", "publish-date", "publish_date",
    "date", "dc.date",
)  # fmt: skip
_HOMEPAGE_PATH_RE = re.compile(r"^/?(?:index\.\w{2,5}|default\.aspx?|home/?)?$", re.IGNORECASE)


_WESTERN_ENCODINGS = ("cp1252", "latin_1", "iso8859_15")


def _detect_encoding(data: bytes) -> str | None:
    """The encoding of undeclared bytes: UTF-8 if they decode as such, else charset_normalizer's
    guess, with ties going to Windows-1252.

    On short texts several single-byte code pages fit equally well ("Grève" is valid
    cp1250 too) and charset_normalizer's order among them is arbitrary; Windows-1252 is by
    far the most common legacy encoding of the pages and files we read.
    """
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    results = charset_normalizer.from_bytes(data[:200_000])
    best = results.best()
    if best is None:
        return None
    for match in results:
        if (
            match.encoding in _WESTERN_ENCODINGS
            and match.chaos <= best.chaos + 0.01
            and match.coherence >= best.coherence - 0.01
        ):
            return match.encoding
    return best.encoding


def _decode_html(body: bytes, content_type: str | None = None) -> str:
    """Decode an HTML body: BOM, then the HTTP charset, then ``<meta charset>``, then detection."""
    encoding, text = html_to_unicode(content_type, body, auto_detect_fun=_detect_encoding)
    if "\ufffd" in text and "\ufffd".encode() not in body:
        # The declared charset is wrong for these bytes (commonly "utf-8" on a Latin-1 page):
        # trust what the bytes say instead.
        guessed = _detect_encoding(body)
        if guessed and resolve_encoding(guessed) != resolve_encoding(encoding):
            logger.debug("declared charset %s does not fit, decoding as %s", encoding, guessed)
            text = body.decode(guessed, errors="replace")
    return text


# Control characters (C0 but whitespace, DEL, C1) and U+FFFD: rare in any text, common in
# decoded binary data.
_NON_TEXT_RE = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f\ufffd]")


def _looks_binary(text: str) -> bool:
    """True for decoded bytes that are no text at all (images, archives, PDF streams)."""
    sample = text[:4096]
    if not sample:
        return False
    return "\x00" in sample or len(_NON_TEXT_RE.findall(sample)) > 0.05 * len(sample)


def _unwrap_layout_tables(tree: HtmlElement) -> None:
    """Turn tables used for page layout into divs.

    Old CMSs put the whole page (menu column, article column, sidebar) in one <table>; to
    trafilatura that is a data table, so with include_tables=True it returns the menus and
    sidebars along with the article, and with include_tables=False nothing at all. A table
    whose cells hold headings, forms, nested tables or several paragraphs is layout; its rows
    and cells become divs so that the usual boilerplate detection applies to each column.
    """
    for table in list(tree.iter("table")):
        if table.tag != "table":
            continue
        rows = table.xpath("./tr | ./thead/tr | ./tbody/tr | ./tfoot/tr")
        cells = [cell for row in rows for cell in row if cell.tag in ("td", "th")]
        if table.get("role") not in ("presentation", "none") and not any(_is_layout_cell(c) for c in cells):
            continue
        for el in [table, *table.xpath("./thead | ./tbody | ./tfoot"), *rows, *cells]:
            el.tag = "div"


def _is_layout_cell(cell: HtmlElement) -> bool:
    if cell.xpath(_LAYOUT_CELL_XPATH):
        return True
    return len(cell.findall(".//p")) >= 2 or len(cell.findall(".//div")) >= 3


def _body_blocks(document: trafilatura.metadata.Document) -> list[str]:
    """Trafilatura's body as paragraphs, one per element of its output tree.

    A list or table stays one block (items and rows on their own lines), and so does a
    paragraph with explicit line breaks (<br>) unless its lines are paragraph-long; other
    newlines inside a paragraph are left-over source formatting (text after inline
    <code>) and become spaces.
    """
    blocks: list[str] = []
    for element in document.body:
        tag = element.tag
        if len(element) == 0 and tag not in ("list", "table", "code"):
            # no inline markup: the text is all there is (the common case, and 10x cheaper)
            block = _clean_line((element.text or "").replace("\n", " ") if tag == "p" else element.text or "")
            if "\n" not in block:
                if block:
                    blocks.append(block)
                continue
        rendered = xmltotxt(element, False)
        if tag == "p":
            if element.find(".//lb") is None:
                rendered = rendered.replace("\n", " ")
            else:
                lines = [line for line in map(_clean_line, rendered.split("\n")) if line]
                # <br><br> between paragraphs (old CMSs) gives long lines; an address or a
                # poem gives short ones and stays one block
                if sum(map(len, lines)) >= 80 * len(lines):
                    blocks.extend(lines)
                    continue
        parts = [rendered] if tag in ("p", "list", "table", "code") else rendered.split("\n")
        for part in parts:
            block = "\n".join(line for line in map(_clean_line, part.split("\n")) if line)
            if block:
                blocks.append(block)
    return blocks


def _same_text(a: str, b: str) -> bool:
    def norm(s: str) -> str:
        return " ".join(_LANG_TOKEN_RE.findall(s.casefold()))

    return bool(a) and bool(b) and norm(a) == norm(b)


def _clean_html_blocks(blocks: list[str], titles: Iterable[str]) -> list[str]:
    """Remove what trafilatura leaves around the article body.

    - blocks that are page furniture (advertisement labels, share prompts, credits);
    - at the top: the headline (kept in Article.title instead), kicker, byline, dateline;
    - an inline "Read more" link list with its heading;
    - from the first "other content" section heading ("Recommended for you", "Around the
      Web", "Comments") to the end.
    If the rules would leave nothing, trafilatura's blocks are returned unchanged.
    """
    titles = [t for t in titles if t]
    lines = [_Line(b) for b in blocks]
    first_prose = next((i for i, line in enumerate(lines) if line.is_prose), None)
    if first_prose is None:
        return blocks

    start = 0
    while start < first_prose:
        line = lines[start]
        if not (
            any(_same_text(line.flat, t) for t in titles)
            or line.is_byline or line.is_date or line.is_junk or line.is_nav
            or (line.n_words <= 3 and not line.ends_sentence)  # kicker / section label
        ):
            break
        start += 1

    end = next((i for i in range(first_prose + 1, len(lines)) if lines[i].is_end_heading), len(lines))
    kept = _keep_body_lines(lines[start:end], strict=False)
    return kept or blocks


@dataclass
class _Markup:
    """The page markup that metadata comes from, collected in one pass over the tree."""

    metas: list[tuple[str, str]]  # (lower-cased property/name/itemprop/http-equiv, content)
    canonical_hrefs: list[str]  # <link rel=canonical href>
    base_href: str | None
    title: str  # the first <title>
    h1s: list[str]
    json_ld: list[str]
    published_times: list[str]  # <time itemprop=datePublished|pubdate datetime>
    lang: str | None  # <html lang>

    def meta(self, *keys: str) -> list[str]:
        return [content for key, content in self.metas if key in keys]


def _scan_markup(tree: HtmlElement) -> _Markup:
    lang = tree.get("lang") or tree.get("{http://www.w3.org/XML/1998/namespace}lang")
    markup = _Markup(metas=[], canonical_hrefs=[], base_href=None, title="", h1s=[], json_ld=[], published_times=[], lang=lang)
    for el in tree.iter("meta", "link", "title", "base", "script", "h1", "time"):
        tag = el.tag
        if tag == "meta":
            content = el.get("content")
            if content is not None:
                for attr in ("property", "name", "itemprop", "http-equiv"):
                    key = el.get(attr)
                    if key:
                        markup.metas.append((key.strip().lower(), content.strip()))
        elif tag == "link":
            if "canonical" in (el.get("rel") or "").lower().split() and el.get("href"):
                markup.canonical_hrefs.append(el.get("href", ""))
        elif tag == "title":
            if not markup.title:
                markup.title = _element_text(el)
        elif tag == "base":
            if markup.base_href is None and el.get("href"):
                markup.base_href = el.get("href")
        elif tag == "script":
            if (el.get("type") or "").strip().lower() == "application/ld+json" and el.text:
                markup.json_ld.append(el.text)
        elif tag == "h1":
            text = _element_text(el)
            if text:
                markup.h1s.append(text)
        elif tag == "time" and (el.get("itemprop") == "datePublished" or el.get("pubdate") is not None):
            if el.get("datetime"):
                markup.published_times.append(el.get("datetime", ""))
    return markup


def _json_ld_objects(scripts: Iterable[str]) -> Iterator[dict]:
    for script in scripts:
        try:
            data = json.loads(script, strict=False)
        except ValueError:
            continue
        stack = [data]
        while stack:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(reversed(item))
            elif isinstance(item, dict):
                yield item
                graph = item.get("@graph")
                if isinstance(graph, list):
                    stack.extend(reversed(graph))


def _parse_datetime(value: object) -> datetime | None:
    """An ISO 8601 date or timestamp as an aware UTC datetime (UTC assumed without a zone)."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not re.match(r"^\d{4}-?\d{2}-?\d{2}", value):
        return None
    value = re.sub(r"(\.\d{6})\d+", r"\1", value)  # nanoseconds: Python stops at microseconds
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        try:
            parsed = datetime.fromisoformat(value[:10])
        except ValueError:
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _now() -> datetime:
    """The clock that publication times are checked against (tests set it)."""
    return datetime.now(UTC)


def _in_future(published: datetime) -> bool:
    return published > _now() + timedelta(days=1)


def _plausible(published: datetime | None) -> bool:
    # placeholder dates (1970-01-01, 0001-01-01) are as good as none
    return published is not None and datetime(1990, 1, 1, tzinfo=UTC) <= published and not _in_future(published)


def _structured_published(markup: _Markup, tree: HtmlElement) -> datetime | None:
    """The publication time the page states in machine-readable markup, to the second."""
    for obj in _json_ld_objects(markup.json_ld):
        types = obj.get("@type")
        types = [types] if isinstance(types, str) else types if isinstance(types, list) else []
        if any(isinstance(t, str) and t.lower() in _ARTICLE_TYPES for t in types):
            parsed = _parse_datetime(obj.get("datePublished") or obj.get("dateCreated"))
            if parsed:
                return parsed
    for key in _PUBLISHED_META:
        for value in markup.meta(key):
            parsed = _parse_datetime(value)
            if parsed:
                return parsed
    for value in markup.published_times:
        parsed = _parse_datetime(value)
        if parsed:
            return parsed
    # microdata on some other element (<span itemprop="datePublished" content="…">): rare,
    # and the only case that needs a search of every element
    for el in tree.xpath('//*[@itemprop="datePublished"][@content or @datetime]'):
        parsed = _parse_datetime(el.get("content") or el.get("datetime"))
        if parsed:
            return parsed
    return None


def _published(markup: _Markup, tree: HtmlElement, trafilatura_date: str | None, title: str) -> datetime | None:
    # trafilatura (htmldate) gives the day only; the page's own markup usually has the time
    # and zone too, so it is preferred when present.
    stated = _structured_published(markup, tree)
    if stated is not None and _in_future(stated):
        # the page's own date is wrong, and htmldate would only cut the same value down to its
        # month ("2026-12-31" read on 2026-12-01 became 2026-12-01): undated is the truth
        return None
    if _plausible(stated):
        return stated
    for found in (trafilatura_date, _headline_date(tree, title)):
        parsed = _parse_datetime(found)
        if _plausible(parsed):
            return parsed
    return None


_MAX_DATE_REGION_CHARS = 5000


def _headline_date(tree: HtmlElement, title: str) -> str | None:
    """A date written in plain text next to the headline ("Nov. 15, 2024" under the <h1>).

    htmldate's extensive search over the headline's container only: a visible dateline sits
    beside the headline, and searching the whole page text is slow and picks up the dates of
    sidebar teasers and comments.
    """
    h1s = list(tree.iter("h1"))
    headline = next((h for h in h1s if _same_text(_element_text(h), title)), h1s[0] if h1s else None)
    if headline is None:
        return None
    region = None
    ancestor = headline.getparent()
    for _ in range(3):
        if ancestor is None or ancestor.tag in ("body", "html"):
            break
        if len(ancestor.text_content()) > _MAX_DATE_REGION_CHARS:
            break
        region = ancestor
        if len(ancestor.text_content()) >= 300:  # holds more than the headline: byline and date too
            break
        ancestor = ancestor.getparent()
    if region is None:
        return None
    region = copy(region)
    # icons' path data and scripts are long runs of digits that htmldate's patterns crawl through
    for junk in list(region.iter("svg", "script", "style", "noscript", "template")):
        junk.drop_tree()
    found = find_date(region, **_date_params(True))
    logger.debug("date next to the headline: %s", found)
    return found


def _language(markup: _Markup, text: str) -> str | None:
    declared = None
    for code in [markup.lang, *markup.meta("content-language", "og:locale", "language", "dc.language")]:
        declared = _normalise_language(code)
        if declared:
            break
    if declared and declared not in _STOPWORDS:
        return declared  # a language the stop-word vote cannot judge
    guessed = _guess_language(text)
    if declared and guessed and declared != guessed:
        # Templates often hard-code lang="en"; the text is the better witness.
        logger.debug("declared language %s, text reads as %s", declared, guessed)
        return guessed
    return declared or guessed


def _is_homepage(url: str) -> bool:
    parts = urlsplit(url)
    return not parts.query and bool(_HOMEPAGE_PATH_RE.match(parts.path))


# The Public Suffix List as the package ships it (never fetched at run time), with its
# private part: victim.github.io and attacker.github.io are two sites.
_SUFFIXES = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True)


def _site(url: str) -> str:
    """The registrable domain of `url`'s host (amp.example.co.uk -> example.co.uk); for a
    name under no known suffix (news.example, intranet.test) its last two labels; an IP
    address or a one-label name (localhost) as it is."""
    host = (urlsplit(url).hostname or "").lower()
    found = _SUFFIXES(host)
    if found.top_domain_under_public_suffix:
        return found.top_domain_under_public_suffix
    if found.ipv4 or found.ipv6:
        return host
    return ".".join(host.split(".")[-2:])


def _page_canonical(markup: _Markup, url: str) -> str:
    """The page's own canonical URL (``<link rel=canonical>``, else ``og:url``), canonicalised,
    or ``canonical_url(url)`` when the page has none or only a broken one: not http(s),
    pointing to a homepage (a common CMS misconfiguration that would merge every article of
    a site into one), or on another site (a page must not mark another site's article as
    known: its URL would never be fetched)."""
    fallback = canonical_url(url)  # also validates ``url`` (ValueError)
    base = urljoin(url, markup.base_href.strip()) if markup.base_href else url
    for href in [*markup.canonical_hrefs, *markup.meta("og:url")]:
        href = href.strip()
        if not href:
            continue
        try:
            canon = canonical_url(urljoin(base, href))
        except ValueError:
            logger.debug("ignoring malformed canonical %r on %s", href, url)
            continue
        if urlsplit(canon).scheme not in ("http", "https"):
            logger.debug("ignoring non-http canonical %r on %s", href, url)
            continue
        if _is_homepage(canon) and not _is_homepage(fallback):
            logger.debug("ignoring homepage canonical %r on %s", href, url)
            continue
        if _site(canon) != _site(url):
            logger.debug("ignoring cross-site canonical %r on %s", href, url)
            continue
        return canon
    return fallback


def _element_text(el: HtmlElement) -> str:
    return _clean_line(" ".join(el.itertext()))


def _pick_title(trafilatura_title: str | None, markup: _Markup) -> str:
    """The headline: trafilatura's title (JSON-LD/og/meta), checked against the page.

    A site-wide og:title ("The Daily Bugle – news since 1902") is a common misconfiguration;
    the per-page ``<title>`` is rendered by every CMS, so a candidate it contains is
    preferred, in the order trafilatura title, og:title, ``<h1>``.
    """
    page_title = markup.title
    candidates = [_clean_line(c) for c in [trafilatura_title or "", *markup.meta("og:title"), *markup.h1s]]
    candidates = [c for c in candidates if c]
    if page_title:
        folded = page_title.casefold()
        for candidate in candidates:
            # the share of the <title> keeps a site name (a logo <h1>) from being taken
            long_enough = len(candidate.split()) >= 3 and len(candidate) >= 0.4 * len(page_title)
            if long_enough and candidate.casefold() in folded:
                return candidate
    return candidates[0] if candidates else page_title


def _clean_author(author: str | None) -> str | None:
    """trafilatura's author string without role parts ("Jane Doe; Staff Writer" -> "Jane Doe")."""
    if not author:
        return None
    parts = [_clean_line(p) for p in author.split(";")]
    parts = [p for p in parts if p and _strip_role(p) == p and not _EMAIL_RE.search(p)]
    return "; ".join(parts) or None


def _date_params(extensive: bool) -> dict[str, object]:
    return {"original_date": True, "extensive_search": extensive, "max_date": _now().strftime("%Y-%m-%d")}


def _run_trafilatura(
    tree: HtmlElement, url: str, precision: bool, fast: bool = False
) -> trafilatura.metadata.Document | None:
    options = dict(_TRAFILATURA_OPTIONS, favor_precision=precision, fast=fast)
    return trafilatura.bare_extraction(tree, url=url, **options)


def _confident(document: trafilatura.metadata.Document | None) -> bool:
    """True when trafilatura's own extractor (a ``fast`` run) has clearly found an article body,
    so that the readability/justext comparison would keep it anyway.

    The comparison only replaces a result that is short (justext below min_extracted_size,
    250 characters), less than half as long as readability's, or structurally deficient
    (no paragraph text, more tables than paragraphs). A body of CONFIDENT_BODY_CHARS or more
    that passes trafilatura's own structure test is kept, the others take the full run.
    """
    if document is None or len(document.text or "") < CONFIDENT_BODY_CHARS:
        return False
    body = document.body
    paragraphs = body.findall(".//p")
    if len(body.findall(".//table")) > len(paragraphs):
        return False
    return any(not _BLANK_RE.match("".join(p.itertext())) for p in paragraphs)


# Page chrome that carries no metadata of the article: the sidebars' teasers have their own
# bylines and dates, and menus of hundreds of links only slow down the metadata XPaths.
_CHROME_TAGS = ("nav", "aside", "footer", "svg", "style", "noscript", "iframe", "template", "select", "button")


def _strip_chrome(tree: HtmlElement) -> None:
    """Remove the page chrome before trafilatura's metadata extraction (in place: the body
    has been extracted from trafilatura's own copy by then).

    The <head> is untouched; in the body, navigation, sidebars and the site footer (not an
    article's own <aside> or <footer>, where bylines live), icons, embeds and scripts other
    than JSON-LD are removed (not forms: ASP.NET pages wrap the whole page in one). On
    metadata-poor pages (author and date found by XPath searches over the whole body) this
    halves the cost of metadata extraction, and a sidebar teaser's "By …" can no longer be
    taken for the article's author.
    """
    body = tree.find("body")
    if body is None:
        return
    for el in list(body.iter(*_CHROME_TAGS, "script")):
        if el.tag == "script" and (el.get("type") or "").strip().lower() == "application/ld+json":
            continue
        if el.tag in ("footer", "aside") and any(a.tag in ("article", "main") for a in el.iterancestors()):
            continue
        if el.getparent() is not None:
            el.drop_tree()


def _metadata(tree: HtmlElement, url: str) -> trafilatura.metadata.Document:
    # htmldate's extensive search (date patterns anywhere in the page text) is most of the
    # metadata cost on pages without date markup (more than the whole default extraction,
    # bench/extract.py); it runs on the headline's surroundings only, if needed.
    return trafilatura.extract_metadata(tree, default_url=url, date_config=_date_params(False))


def extract_html(html: str | bytes, url: str) -> Article:
    """Extract the article from an HTML page fetched from ``url``.

    Bytes are decoded from their BOM or ``<meta charset>``, else by detection. The page is
    parsed once; tables used for layout are turned into divs; trafilatura extracts the body
    (settings in ``_TRAFILATURA_OPTIONS``: a fast run, kept if confident, else the full run
    with trafilatura's readability/justext comparison; if the precision-oriented run finds
    nothing, a default balanced run is tried) and, from the page without its chrome, the metadata;
    then the headline, kicker, byline and any trailing "Recommended"/"Comments" section are
    cut from the body (:func:`_clean_html_blocks`).

    - ``title``: trafilatura's metadata title, checked against ``<title>``, else og:title/<h1>;
    - ``canonical_url``: ``<link rel=canonical>`` or ``og:url`` made absolute and passed
      through :func:`canonical_url`, ignored when broken (see :func:`_page_canonical`);
    - ``published``: JSON-LD ``datePublished`` / ``article:published_time`` / ``itemprop``
      markup to the second, else trafilatura's (day-precision) date, else a date written
      next to the headline; aware, in UTC;
    - ``language``: ``<html lang>`` or equivalent meta, checked against a stop-word guess;
    - ``author``: trafilatura's metadata author without role suffixes.

    Raises:
        ExtractionError: empty, binary or oversized input, not HTML, or no article text.
        ValueError: ``url`` is not a valid URL.
    """
    if isinstance(html, bytes):
        html = _decode_html(html)
    if not html.strip():
        raise ExtractionError(f"empty page {url}")
    if len(html) > MAX_PAGE_CHARS:
        raise ExtractionError(f"page too large ({len(html)} characters) {url}")
    if _looks_binary(html):
        raise ExtractionError(f"binary content, not HTML {url}")
    try:
        tree = load_html(html)
    except (TypeError, ValueError) as err:
        raise ExtractionError(f"unparsable HTML {url}: {err}") from err
    if tree is None:
        raise ExtractionError(f"not HTML {url}")

    _unwrap_layout_tables(tree)
    document = _run_trafilatura(tree, url, precision=True, fast=True)
    if not _confident(document):
        document = _run_trafilatura(tree, url, precision=True)
    if document is None or not (document.text or "").strip():
        logger.debug("precision extraction empty, retrying balanced: %s", url)
        document = _run_trafilatura(tree, url, precision=False)
    if document is None or not (document.text or "").strip():
        raise ExtractionError(f"no article text in {url}")

    markup = _scan_markup(tree)
    _strip_chrome(tree)
    metadata = _metadata(tree, url)
    title = unicodedata.normalize("NFC", _pick_title(metadata.title, markup))
    blocks = _clean_html_blocks(_body_blocks(document), [title, metadata.title or ""])
    text = unicodedata.normalize("NFC", "\n\n".join(blocks).strip())
    if not text:
        raise ExtractionError(f"no article text in {url}")
    return Article(
        url=url,
        canonical_url=_page_canonical(markup, url),
        title=title or _title_from_sentence(blocks[0]),
        text=text,
        published=_published(markup, tree, metadata.date, title),
        language=_language(markup, text),
        author=_clean_author(metadata.author),
    )


# ---------------------------------------------------------------------------------------
# Dispatch
# ---------------------------------------------------------------------------------------

_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml", "application/xml", "text/xml"})


def _decode_text(body: bytes, content_type: str | None, url: str) -> str:
    """Decode a plain-text body: BOM, then the HTTP charset, then UTF-8, then detection."""
    bom_encoding, bom = read_bom(body)
    if bom_encoding:
        return body[len(bom) :].decode(bom_encoding, errors="replace")
    if b"\x00" in body[:8192]:
        raise ExtractionError(f"binary content, not text {url}")
    declared = http_content_type_encoding(content_type) if content_type else None
    if declared:
        try:
            return body.decode(declared)
        except (LookupError, UnicodeDecodeError):
            logger.debug("declared charset %s does not fit the body, detecting", declared)
    encoding = _detect_encoding(body)
    if encoding is None:
        raise ExtractionError(f"undecodable text {url}")
    return body.decode(encoding, errors="replace")


def extract(body: bytes, url: str, content_type: str | None = None) -> Article:
    """Extract the article from a fetched body, choosing the extractor by type.

    A ``text/plain`` content type, or a URL path ending in ``.txt`` with no content type or
    one that is not HTML (a server's ``application/octet-stream``), selects
    :func:`extract_text`; everything else :func:`extract_html`. The content type's charset,
    when given, takes precedence over detection (after a BOM).

    Raises:
        ExtractionError: empty, binary, undecodable, or no article text.
        ValueError: ``url`` is not a valid URL.
    """
    if not body or not body.strip():
        raise ExtractionError(f"empty body {url}")
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    is_text = mime == "text/plain" or (mime not in _HTML_TYPES and urlsplit(url).path.lower().endswith(".txt"))
    if is_text:
        text = _decode_text(body, content_type, url)
        if _looks_binary(text):
            raise ExtractionError(f"binary content, not text {url}")
        return extract_text(text, url)
    return extract_html(_decode_html(body, content_type), url)
