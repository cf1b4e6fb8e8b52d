"""Alert messages: one story's matching articles, rendered for one kind of channel.

`render(topic, items, format)` builds the `Message` that DESIGN.md's "What an alert
says" describes: it names the topic verbatim and shows, for every article, its title,
source, published time (UTC), its own URL and the matched snippets with the query's
terms marked. The first item is the story's lead; the others follow under
"Also reported by".

`render_update(story, format)` builds the message for new developments of a story that
already alerted: titled ``Update: <story title>``, the new articles with their snippets,
then the story's "N earlier reports" with their links.

`render_digest(stories, format)` builds one message for many stories (a digest, or
alerts held back by quiet hours or a rate limit), grouped by topic; a story that alerted
before shows only the articles it gained since.

Three body formats, one Jinja2 template file each per kind (``templates/alert.html.j2``,
``templates/digest.text.j2``, ...); a folder named in the config can override any of
them (`Templates`):

``text``
    Plain text; matched terms wrapped in «guillemets».
``markdown``
    CommonMark, which is what Apprise 2.x takes as ``body_format="markdown"``: Apprise
    itself translates it to each service's dialect (for Slack, ``**term**`` becomes
    mrkdwn ``*term*``, ``&`` becomes ``&amp;`` and the backslash-escaped ``\\<`` / ``\\>``
    become ``&lt;`` / ``&gt;``). Pre-escaping to Slack entities here would be escaped a
    second time by Apprise, and Slack-style ``*bold*`` would turn into italics.
``html``
    For e-mail; Jinja2 autoescaping escapes every article-derived string, matched terms
    are ``<b>``, and only http(s) URLs become links.

Article text is hostile input. Every field has ASCII/Unicode control characters
(including terminal escapes and bidi overrides) removed and whitespace collapsed to
single spaces, so a title cannot forge extra lines or headers; chat mentions
(``@everyone``, ``<@U123>``, ``<!channel>``...) are defused in every format; fields are
capped in length; and a body over the channel's limit (`max_chars`; delivery passes the Apprise
plugin's ``body_maxlen``) is cut at an item or story boundary with a note, so the markup
stays well-formed.

`Message.title` is plain text in every format (Apprise sends it as an e-mail subject, a
Slack header, a JSON field); delivery adapts it for services that blend the title into
the body.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2

from newswatch.alerts.query import Snippet

__all__ = [
    "FORMATS",
    "MAX_BODY_CHARS",
    "TITLE_MAX_CHARS",
    "AlertItem",
    "DigestStory",
    "Message",
    "TemplateError",
    "Templates",
    "markdown_escape",
    "render",
    "render_digest",
    "render_update",
]

#: The body formats `render` produces; the same names as Apprise's NotifyFormat values.
FORMATS: tuple[str, ...] = ("text", "markdown", "html")

#: Bodies longer than this are cut (whole items are dropped from the end). Well under
#: what e-mail, Slack (40,000) and most webhooks accept.
MAX_BODY_CHARS = 30_000

#: The headline in `Message.title` is shortened to about this many characters.
TITLE_HEADLINE_CHARS = 120

#: No `Message.title` is longer than this ("[newswatch] ", topic, ": ", headline).
TITLE_MAX_CHARS = 340

UNKNOWN_DATE = "date unknown"
UNTITLED = "(untitled)"


@dataclass(frozen=True)
class AlertItem:
    """One article of a story, as an alert shows it."""

    title: str
    source: str  # source name from config
    published: datetime | None  # naive datetimes are taken as UTC
    url: str  # the article's own URL, as fetched
    snippets: tuple[Snippet, ...]


@dataclass(frozen=True)
class Message:
    """A rendered alert: a plain-text `title` and a `body` in `format`."""

    title: str  # "[newswatch] <topic>: <headline of the first item>"
    body: str
    format: str  # "text" | "markdown" | "html"

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise ValueError(f"unknown message format {self.format!r} (use one of {', '.join(FORMATS)})")


# --------------------------------------------------------------------------- cleaning

# C0/C1 controls (except whitespace, handled below), DEL, and the bidi embedding /
# override / isolate characters that can make a title display as something else.
_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_SPACE_RE = re.compile(r"\s+")


def _one_line(text: Any) -> str:
    """Controls removed, any whitespace run made one space."""
    text = "" if text is None else str(text)
    return _SPACE_RE.sub(" ", _CONTROL_RE.sub("", text))


# Chat mentions: "@everyone", "@here", "@channel", "@name" (Discord, Mattermost, Teams,
# and Apprise's Discord plugin, which turns any "@word" or "<@id>" it finds in a
# Markdown body into a ping) and Slack/Discord's "<@U123>", "<@&role>", "<!channel>",
# "<#C123>". A zero-width space after the "@" and after such a "<" leaves the text as
# it reads and no longer a mention anywhere.
_MENTION_AT_RE = re.compile(r"@(?=\S)")
_MENTION_ANGLE_RE = re.compile(r"<(?=[@!#])")
_ZWSP = "\u200b"


def _clean(text: Any) -> str:
    """One line of display text: controls removed, any whitespace run made one space,
    and mentions defused (article text never pings a channel)."""
    text = _MENTION_ANGLE_RE.sub("<" + _ZWSP, _one_line(text))
    return _MENTION_AT_RE.sub("@" + _ZWSP, text)


def _shorten(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, at a word boundary when one is near."""
    if len(text) <= limit:
        return text
    cut = text[: max(limit - 1, 0)]
    space = cut.rfind(" ")
    if space >= limit * 0.6:
        cut = cut[:space]
    return cut.rstrip() + "…"


def _published(value: datetime | None) -> str:
    if value is None:
        return UNKNOWN_DATE
    if value.tzinfo is None:
        # The store keeps UTC; a naive value is UTC without its label.
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


# ASCII characters that cannot appear in a URL as such and could close the markup around
# it (quotes, angle brackets, "|" for Slack links, backticks, spaces...). They are
# percent-encoded; everything else, non-ASCII included, is shown as fetched.
_URL_UNSAFE_RE = re.compile(r'[\s"<>\\^`{|}]')


def _safe_url(url: str) -> str:
    # "@" too: "https://x/@everyone" would be a ping in a chat body (see _clean).
    url = _URL_UNSAFE_RE.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode()), url)
    return url.replace("@", "%40")


def _is_web_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unbalanced "[" in the host
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


@dataclass(frozen=True)
class _Segment:
    text: str
    marked: bool


@dataclass(frozen=True)
class _ItemView:
    """An AlertItem made safe to show: cleaned, capped, snippets split into segments."""

    title: str
    source: str
    published: str
    url: str  # percent-encoded where needed, possibly shortened
    linkable: bool  # an http(s) URL shown whole, so it may become a link
    snippets: tuple[tuple[_Segment, ...], ...]


@dataclass(frozen=True)
class _Limits:
    topic: int = 200
    title: int = 500
    source: int = 200
    url: int = 2048
    snippet: int = 600
    snippets: int = 3


_NORMAL = _Limits()
# Used for the lead item only when even the lead alone does not fit the body limit.
_COMPACT = _Limits(topic=120, title=200, source=80, url=300, snippet=200, snippets=1)


def _segments(snippet: Snippet, limit: int) -> tuple[_Segment, ...]:
    """`snippet` split at its marks, cleaned, and cut to about `limit` characters.

    Marks are offsets into the raw text; they are applied before cleaning so that
    removing characters cannot shift them. Bad marks (out of range, overlapping) are
    skipped rather than trusted; marks that touch or are one space apart are merged.
    """
    text = str(snippet.text or "")
    spans: list[list[int]] = []
    for mark in snippet.marks or ():
        try:
            start, end = int(mark[0]), int(mark[1])
        except (TypeError, ValueError, IndexError):
            continue
        start, end = max(start, 0), min(end, len(text))
        if start >= end or (spans and start < spans[-1][1]):
            continue
        if spans and text[spans[-1][1]:start] in ("", " "):
            # "«South Korea»" reads better than "«South» «Korea»".
            spans[-1][1] = end
        else:
            spans.append([start, end])

    raw: list[tuple[str, bool]] = []
    pos = 0
    for start, end in spans:
        if start > pos:
            raw.append((text[pos:start], False))
        term = text[start:end]
        # Keep whitespace outside the mark: "** term**" is not emphasis in CommonMark.
        lead = len(term) - len(term.lstrip())
        trail = len(term) - len(term.rstrip())
        if lead:
            raw.append((term[:lead], False))
        if term.strip():
            raw.append((term.strip(), True))
        if trail:
            raw.append((term[len(term) - trail:], False))
        pos = end
    if pos < len(text):
        raw.append((text[pos:], False))

    # Clean each piece, then merge neighbouring plain pieces (whitespace split off a
    # mark) so that no double spaces appear at the joins.
    pieces: list[list[Any]] = []
    for piece, marked in raw:
        piece = _clean(piece)
        if not piece:
            continue
        if pieces and not marked and not pieces[-1][1]:
            pieces[-1][0] = _SPACE_RE.sub(" ", pieces[-1][0] + piece)
        else:
            pieces.append([piece, marked])
    if pieces:
        pieces[0][0] = pieces[0][0].lstrip()
        pieces[-1][0] = pieces[-1][0].rstrip()

    out: list[_Segment] = []
    room = limit
    for piece, marked in pieces:
        if not piece:
            continue
        if len(piece) > room:
            # A cut term would no longer be the matched term: drop it, keep the ellipsis.
            if room > 1 and not marked:
                out.append(_Segment(_shorten(piece, room), False))
            else:
                out.append(_Segment("…", False))
            break
        out.append(_Segment(piece, marked))
        room -= len(piece)
    return tuple(out)


def _item_view(item: AlertItem, limits: _Limits) -> _ItemView:
    url = _safe_url(_one_line(item.url).strip())
    linkable = _is_web_url(url)
    if len(url) > limits.url:
        # A cut URL is a wrong link: show it shortened, as text only.
        url, linkable = _shorten(url, limits.url), False
    snippets = tuple(
        segs
        for segs in (_segments(s, limits.snippet) for s in tuple(item.snippets or ())[: limits.snippets])
        if segs
    )
    return _ItemView(
        title=_shorten(_clean(item.title).strip(), limits.title) or UNTITLED,
        source=_shorten(_clean(item.source).strip(), limits.source) or "unknown source",
        published=_published(item.published),
        url=url,
        linkable=linkable,
        snippets=snippets,
    )


# --------------------------------------------------------------------------- markdown

# Backslash-escaped in Markdown output: what could open emphasis, code, a link or an
# HTML/Slack "<...>" sequence. `&` is left alone: Apprise's Slack translation
# entity-escapes it, while `\&` would reach Slack unescaped. `_` and `~` are left alone
# too: at worst they italicise or strike a word, and Slack would show the backslash of
# `\_` / `\~` literally.
_MD_SPECIAL_RE = re.compile(r"([\\`*\[\]<>])")


class _MarkdownSafe(str):
    """A string already in Markdown form; the Markdown environment passes it through."""


def markdown_escape(text: Any) -> str:
    """`text` as literal CommonMark inline text (the markup characters backslash-escaped).

    A leading ``#``, ``-``, ``+``, ``=`` or ``1.`` could start a block, so those are
    escaped too when they open the string.
    """
    if isinstance(text, _MarkdownSafe):
        return text
    text = _MD_SPECIAL_RE.sub(r"\\\1", "" if text is None else str(text))
    text = re.sub(r"^([#+=-])", r"\\\1", text)
    return re.sub(r"^(\d+)([.)])", r"\1\\\2", text)


def _md_code(text: str) -> str:
    """`text` as a code span (shown verbatim everywhere), or escaped text if it has backticks."""
    if "`" in text or not text.strip():
        return markdown_escape(text)
    return _MarkdownSafe(f"`{text}`")


def _md_finalize(value: Any) -> Any:
    # Every {{ expression }} in a Markdown template is escaped unless it is marked safe,
    # the same guarantee autoescaping gives the HTML template.
    if isinstance(value, _MarkdownSafe):
        return value
    return markdown_escape("" if value is None else value)


# --------------------------------------------------------------------------- templates

#: The built-in templates: ``alert.<format>.j2`` and ``digest.<format>.j2``.
TEMPLATE_DIR = Path(__file__).parent / "templates"
KINDS: tuple[str, ...] = ("alert", "update", "digest")


def _md_link(it: _ItemView) -> str:
    # An autolink is a clean link in CommonMark and becomes <url> in Slack; the URL is
    # already percent-encoded, so it cannot contain "<", ">" or spaces.
    if it.linkable:
        return _MarkdownSafe(f"<{it.url}>")
    return markdown_escape(it.url)


def _md_title_link(it: _ItemView) -> str:
    # "[title](url)": Apprise turns it into Slack's <url|title>. The parentheses of the
    # destination are percent-encoded so that an unbalanced ")" cannot end it early.
    title = markdown_escape(it.title)
    if not it.linkable:
        return _MarkdownSafe(title)
    return _MarkdownSafe(f"[{title}]({it.url.replace('(', '%28').replace(')', '%29')})")


class TemplateError(ValueError):
    """A template that cannot be loaded or compiled; says which file and why."""


class Templates:
    """The compiled templates, one per (kind, format): ``alert`` / ``update`` / ``digest`` ×
    ``text`` / ``markdown`` / ``html``.

    A file ``<kind>.<format>.j2`` in `override` (a folder named in the config) replaces
    the built-in one; the others stay built in. Every template is compiled here, so a
    broken override is a `TemplateError` at config load, not at the first alert.

    The guarantees hold for overrides too: the HTML environment autoescapes, and in the
    Markdown environment every ``{{ expression }}`` is backslash-escaped unless it comes
    from the `link` (the item's URL), `title_link` (its title linked to it), `code` or
    `br` helpers. An alert template gets `topic` (str),
    `items` (lead first; each with title, source, published, url, linkable, snippets of
    segments with text and marked) and `omitted`; an update template gets `topic`,
    `story_title`, `items` (the new articles), `earlier` (the earlier reports, as items)
    and `omitted`; a digest template gets `topics` (each with `topic` and `stories`, a
    story with `lead`, `others` (the other sources), `update` (it alerted before: these
    are the articles it gained) and `earlier` (how many reports it had)), `total` and
    `omitted`. No macros: in the Markdown environment a macro's output would
    pass through the escaping again.
    """

    def __init__(self, override: Path | str | None = None) -> None:
        self.override = Path(override) if override is not None else None
        folders = [str(TEMPLATE_DIR)]
        if self.override is not None:
            if not self.override.is_dir():
                raise TemplateError(f"{self.override}: not a folder")
            folders.insert(0, str(self.override))
        loader = jinja2.FileSystemLoader(folders)
        common = dict(loader=loader, trim_blocks=True, lstrip_blocks=True,
                      keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
        md_env = jinja2.Environment(autoescape=False, finalize=_md_finalize, **common)
        # `br` is a CommonMark hard line break (two trailing spaces), written as a
        # variable so editors cannot strip it; Slack shows the newline either way.
        md_env.globals.update(link=_md_link, title_link=_md_title_link, code=_md_code,
                              br=_MarkdownSafe("  "))
        envs = {
            "text": jinja2.Environment(autoescape=False, **common),
            "markdown": md_env,
            "html": jinja2.Environment(autoescape=True, **common),
        }
        self._compiled: dict[tuple[str, str], jinja2.Template] = {}
        for kind in KINDS:
            for fmt in FORMATS:
                name = f"{kind}.{fmt}.j2"
                try:
                    self._compiled[kind, fmt] = envs[fmt].get_template(name)
                except jinja2.TemplateSyntaxError as exc:
                    raise TemplateError(f"{exc.filename or name}, line {exc.lineno}: {exc.message}") from None
                except jinja2.TemplateError as exc:
                    raise TemplateError(f"{name}: {exc}") from None

    def render(self, kind: str, fmt: str, **context: Any) -> str:
        try:
            body = self._compiled[kind, fmt].render(**context)
        except jinja2.TemplateError as exc:
            # Only an override can fail here (say, an unknown variable); name it.
            raise TemplateError(f"{kind}.{fmt}.j2: {exc}") from None
        # Templates are written for readability; the output gets at most one blank
        # line between blocks.
        return _BLANK_LINES_RE.sub("\n\n", body).strip()


_BLANK_LINES_RE = re.compile(r"\n{3,}")

_DEFAULT_TEMPLATES: Templates | None = None


def default_templates() -> Templates:
    """The built-in templates, compiled once."""
    global _DEFAULT_TEMPLATES
    if _DEFAULT_TEMPLATES is None:
        _DEFAULT_TEMPLATES = Templates()
    return _DEFAULT_TEMPLATES


def _fit(build: Callable[[int], str], count: int, max_chars: int) -> tuple[str, int] | None:
    """`build(n)` and n, for the largest n in 1..count whose output fits `max_chars`;
    None when not even `build(1)` fits. More items never make a shorter body, so this
    is a binary search."""
    body = build(count)
    if len(body) <= max_chars:
        return body, count
    low, high, best = 1, count - 1, None
    while low <= high:
        mid = (low + high) // 2
        candidate = build(mid)
        if len(candidate) <= max_chars:
            best, low = (candidate, mid), mid + 1
        else:
            high = mid - 1
    return best


# --------------------------------------------------------------------------- render


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"unknown message format {fmt!r} (use one of {', '.join(FORMATS)})")


def render(
    topic: str,
    items: Sequence[AlertItem],
    format: str,  # noqa: A002
    *,
    max_chars: int = MAX_BODY_CHARS,
    templates: Templates | None = None,
) -> Message:
    """The alert for one story of `topic`, in body `format` ("text", "markdown", "html").

    `items` are the story's matching articles, lead first; at least one is required.
    The title is ``[newswatch] <topic>: <lead headline>`` (headline shortened to about
    120 characters), plain text whatever the format. The body names `topic` verbatim
    and shows every item; when it would exceed `max_chars`, trailing items are dropped
    (never cut mid-markup) and a closing line says how many. The lead is always shown,
    compacted if it alone would not fit.
    """
    _check_format(format)
    templates = templates or default_templates()
    items = list(items)
    if not items:
        raise ValueError("an alert needs at least one article")

    topic_text = _clean(topic).strip()
    views = [_item_view(item, _NORMAL) for item in items]

    def body_with(count: int) -> str:
        return templates.render("alert", format, topic=_shorten(topic_text, _NORMAL.topic),
                                items=views[:count], omitted=len(views) - count)

    fitted = _fit(body_with, len(views), max_chars)
    if fitted is not None:
        body = fitted[0]
    else:
        # Even the lead alone is too long (huge snippets or URL): show it compacted.
        body = templates.render("alert", format, topic=_shorten(topic_text, _COMPACT.topic),
                                items=[_item_view(items[0], _COMPACT)], omitted=len(views) - 1)

    headline = _shorten(_clean(items[0].title).strip(), TITLE_HEADLINE_CHARS) or UNTITLED
    title = f"[newswatch] {_shorten(topic_text, _NORMAL.topic)}: {headline}"
    return Message(title=title, body=body, format=format)


@dataclass(frozen=True)
class DigestStory:
    """One story in a digest: its topic and its matching articles, lead first. For a
    story that alerted before, `update_of` is its title, `items` are the articles it
    gained and `earlier` the reports it had."""

    topic: str
    items: tuple[AlertItem, ...]
    earlier: tuple[AlertItem, ...] = ()
    update_of: str | None = None


def render_update(
    story: DigestStory,
    format: str,  # noqa: A002
    *,
    max_chars: int = MAX_BODY_CHARS,
    templates: Templates | None = None,
) -> Message:
    """The update for `story` (its `update_of` set): titled ``[newswatch] <topic>:
    Update: <story title>``; the body names the topic, shows each new article as an alert
    does, then "N earlier reports" with their titles, sources and links. Over `max_chars`,
    earlier reports are dropped first, then trailing new articles (the first is always
    shown, compacted if need be), and a closing line says how many."""
    _check_format(format)
    templates = templates or default_templates()
    if not story.items:
        raise ValueError("an update needs at least one new article")
    topic_text = _shorten(_clean(story.topic).strip(), _NORMAL.topic)
    story_title = _shorten(_clean(story.update_of).strip(), TITLE_HEADLINE_CHARS) or UNTITLED
    new = [_item_view(item, _NORMAL) for item in story.items]
    earlier = [_item_view(item, _NORMAL) for item in story.earlier]

    def body_with(count: int) -> str:
        # The first `count` of the new articles then the earlier reports, in that order.
        shown_new = new[:count]
        shown_earlier = earlier[:max(count - len(new), 0)]
        return templates.render("update", format, topic=topic_text, story_title=story_title,
                                items=shown_new, earlier=shown_earlier, earlier_total=len(earlier),
                                omitted=len(new) + len(earlier) - len(shown_new) - len(shown_earlier))

    fitted = _fit(body_with, len(new) + len(earlier), max_chars)
    if fitted is not None:
        body = fitted[0]
    else:
        body = templates.render("update", format, topic=_shorten(topic_text, _COMPACT.topic),
                                story_title=story_title, items=[_item_view(story.items[0], _COMPACT)],
                                earlier=[], earlier_total=len(earlier),
                                omitted=len(new) + len(earlier) - 1)
    return Message(title=f"[newswatch] {topic_text}: Update: {story_title}", body=body, format=format)


@dataclass(frozen=True)
class _StoryView:
    lead: _ItemView
    others: tuple[str, ...]  # sources of the story's other articles
    update: bool = False  # the story alerted before: these are the articles it gained
    earlier: int = 0  # how many reports it had before


@dataclass(frozen=True)
class _TopicGroup:
    topic: str
    stories: tuple[_StoryView, ...]


def render_digest(
    stories: Sequence[DigestStory],
    format: str,  # noqa: A002
    *,
    max_chars: int = MAX_BODY_CHARS,
    templates: Templates | None = None,
) -> tuple[Message, int]:
    """One message for many stories (a digest, or alerts held by quiet hours or a rate
    limit), grouped by topic in order of first appearance.

    Each story shows its lead article as an alert does, and the sources of its other
    articles. The title is ``[newswatch] digest: N stories (topic, topic...)``. When the
    body would exceed `max_chars`, trailing stories are dropped and a closing line says
    how many; the first story is always shown, compacted if needed. Returns the message
    and how many of `stories` (from the first, after grouping) it shows, so the caller
    can send the rest later.
    """
    _check_format(format)
    templates = templates or default_templates()
    stories = [s for s in stories if s.items]
    if not stories:
        raise ValueError("a digest needs at least one story")

    order: dict[str, int] = {}
    for story in stories:
        order.setdefault(story.topic, len(order))
    stories.sort(key=lambda s: order[s.topic])  # stable: keeps each topic's own order

    def views(limits: _Limits) -> list[tuple[str, _StoryView]]:
        return [
            (_shorten(_clean(s.topic).strip(), limits.topic),
             _StoryView(_item_view(s.items[0], limits),
                        tuple(dict.fromkeys(_shorten(_clean(i.source).strip(), limits.source)
                                            for i in s.items[1:])),
                        update=s.update_of is not None, earlier=len(s.earlier)))
            for s in stories
        ]

    def body_with(shown: list[tuple[str, _StoryView]], total: int) -> str:
        groups: dict[str, list[_StoryView]] = {}
        for topic, view in shown:
            groups.setdefault(topic, []).append(view)
        return templates.render(
            "digest", format, total=total, omitted=total - len(shown),
            topics=[_TopicGroup(t, tuple(v)) for t, v in groups.items()],
        )

    normal = views(_NORMAL)
    fitted = _fit(lambda n: body_with(normal[:n], len(normal)), len(normal), max_chars)
    body, shown = fitted if fitted is not None else (body_with(views(_COMPACT)[:1], len(normal)), 1)

    count = len(stories)
    names = ", ".join(_shorten(_clean(t).strip(), 60) for t in order)
    title = _shorten(f"[newswatch] digest: {count} stor{'ies' if count != 1 else 'y'} ({names})", 250)
    return Message(title=title, body=body, format=format), shown
