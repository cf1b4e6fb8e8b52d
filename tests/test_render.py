"""Alert rendering (DESIGN.md, "What an alert says"), table-driven over the three formats."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser

import pytest
from markupsafe import escape

from newswatch.alerts.query import Snippet
from newswatch.alerts.render import (
    FORMATS,
    MAX_BODY_CHARS,
    AlertItem,
    DigestStory,
    Message,
    markdown_escape,
    render,
    render_digest,
    render_update,
)

TOPIC = "south-korea-ukraine-arms"

SNIPPET_TEXT = "Officials in South Korea said arms shipments to Ukraine could begin soon."


def snippet(text: str = SNIPPET_TEXT, *terms: str) -> Snippet:
    """A Snippet marking every occurrence of each term (default: the topic's words)."""
    terms = terms or ("South Korea", "arms", "Ukraine")
    marks = sorted(
        (m.start(), m.end()) for term in terms for m in re.finditer(re.escape(term), text)
    )
    return Snippet(text, tuple(marks))


def item(n: int = 1, **overrides) -> AlertItem:
    fields = dict(
        title=f"South Korea weighs arms for Ukraine, report {n}",
        source=f"source-{n}",
        published=datetime(2024, 5, n, 8, 30, tzinfo=timezone.utc),
        url=f"https://news{n}.example.com/world/{n}?ref=feed&id={n}",
        snippets=(snippet(),),
    )
    fields.update(overrides)
    return AlertItem(**fields)


# --------------------------------------------------------------------------- per-format expectations


def shown(fmt: str, text: str) -> str:
    """How a plain (article-derived) string appears in a body of `fmt`."""
    if fmt == "html":
        return str(escape(text))
    if fmt == "markdown":
        return markdown_escape(text)
    return text


def marked(fmt: str, term: str) -> str:
    return {"text": f"«{term}»", "markdown": f"**{term}**", "html": f"<b>{term}</b>"}[fmt]


class _TagBalance(HTMLParser):
    VOID = {"br", "hr", "img", "meta", "link", "input", "wbr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}> with open {self.stack}")
        else:
            self.stack.pop()


def assert_well_formed(fmt: str, body: str) -> None:
    if fmt == "html":
        parser = _TagBalance()
        parser.feed(body)
        parser.close()
        assert not parser.errors, parser.errors
        assert not parser.stack, f"unclosed tags {parser.stack}"
        assert set(parser.tags) <= {"div", "p", "b", "i", "a", "h2", "h3", "h4", "blockquote"}
    elif fmt == "markdown":
        for line in body.splitlines():
            # Unescaped "**" pairs up on every line, and every unescaped "<" opens an
            # autolink to an http(s) URL that closes on the same line.
            unescaped = re.sub(r"\\.", "", line)
            assert unescaped.count("**") % 2 == 0, line
            for lt in re.finditer(r"<", unescaped):
                assert re.match(r"<https?://[^\s<>]+>", unescaped[lt.start():]), line
    assert "\x00" not in body


formats = pytest.mark.parametrize("fmt", FORMATS)


# --------------------------------------------------------------------------- content


@formats
def test_body_names_the_topic_verbatim(fmt):
    message = render(TOPIC, [item()], fmt)
    assert isinstance(message, Message)
    assert message.format == fmt
    assert TOPIC in message.body
    assert message.title == f"[newswatch] {TOPIC}: South Korea weighs arms for Ukraine, report 1"


@formats
def test_topic_with_markup_characters_is_shown_literally(fmt):
    topic = "arms & <aid>_2024"
    body = render(topic, [item()], fmt).body
    if fmt == "markdown":
        # A code span shows its content verbatim in CommonMark and in Slack.
        assert f"`{topic}`" in body
    else:
        assert shown(fmt, topic) in body


@formats
def test_every_item_shows_title_source_time_url_and_snippets(fmt):
    items = [item(1), item(2, published=None), item(3, published=datetime(2024, 5, 3, 10, 0))]
    body = render(TOPIC, items, fmt).body
    for it in items:
        assert shown(fmt, it.title) in body
        assert shown(fmt, it.source) in body
        # The article's own URL, as fetched (HTML escapes the "&" of the query).
        assert (str(escape(it.url)) if fmt == "html" else it.url) in body
    assert "2024-05-01 08:30 UTC" in body
    assert "date unknown" in body
    # A naive datetime is UTC.
    assert "2024-05-03 10:00 UTC" in body
    assert_well_formed(fmt, body)


@formats
def test_published_time_is_converted_to_utc(fmt):
    seoul = timezone(timedelta(hours=9))
    body = render(TOPIC, [item(published=datetime(2024, 5, 1, 17, 30, tzinfo=seoul))], fmt).body
    assert "2024-05-01 08:30 UTC" in body


@formats
def test_matched_terms_are_marked(fmt):
    body = render(TOPIC, [item()], fmt).body
    for term in ("South Korea", "arms", "Ukraine"):
        assert marked(fmt, term) in body
    # Unmarked words stay plain.
    assert marked(fmt, "Officials") not in body
    assert_well_formed(fmt, body)


@formats
def test_marks_with_surrounding_spaces_or_bad_offsets_are_tolerated(fmt):
    text = "a  South Korea  b and Ukraine"
    marks = ((2, 16), (50, 60), (3, 5), (22, 29))  # padded, out of range, overlapping, good
    body = render(TOPIC, [item(snippets=(Snippet(text, marks),))], fmt).body
    assert marked(fmt, "South Korea") in body
    assert marked(fmt, "Ukraine") in body
    assert_well_formed(fmt, body)


@formats
def test_single_item_has_no_also_reported_by(fmt):
    body = render(TOPIC, [item()], fmt).body
    assert "Also reported by" not in body


@formats
def test_extra_items_follow_as_also_reported_by(fmt):
    items = [item(1), item(2), item(3)]
    body = render(TOPIC, items, fmt).body
    assert body.count("Also reported by") == 1
    lead = body.index(shown(fmt, items[0].title))
    also = body.index("Also reported by")
    assert lead < also < body.index(shown(fmt, items[1].title)) < body.index(shown(fmt, items[2].title))


@formats
def test_item_without_snippets_or_title(fmt):
    body = render(TOPIC, [item(title="   ", snippets=())], fmt).body
    assert "(untitled)" in body
    assert_well_formed(fmt, body)


# --------------------------------------------------------------------------- hostile input

HOSTILE_TITLES = [
    "<script>alert('x')</script> Seoul",
    "<!channel> <!here> <@U123> ping",
    "<http://evil.example/|click here> for arms",
    "**bold** _it_ `code` [link](http://evil.example) # not a heading",
    "Line one\nFrom: forged@example.com\r\n\x1b[31mred\x1b[0m \u202eevil\u202c",
    "AT&T &amp; friends > <",
]


@formats
@pytest.mark.parametrize("title", HOSTILE_TITLES)
def test_hostile_titles_render_safely(fmt, title):
    hostile = item(title=title, source="<b>src</b>", snippets=(snippet(title + " in South Korea"),))
    message = render(TOPIC, [hostile, item(2)], fmt)
    body = message.body
    assert_well_formed(fmt, body)
    # No control characters or line breaks survive into a title line or the subject.
    for text in (body, message.title):
        assert "\x1b" not in text and "\r" not in text and "\u202e" not in text
    assert "\n" not in message.title
    if fmt == "html":
        assert "<script" not in body
        assert "<b>src</b>" not in body
        assert "&lt;script&gt;" in body or "<script" not in title
    if fmt == "markdown":
        # What is left after dropping backslash escapes is what Markdown interprets.
        live = re.sub(r"\\.", "", body)
        assert "<!" not in live and "<@" not in live
        assert "<http://evil" not in live
        assert "](http://evil" not in live


MENTIONS = ["@everyone", "@here", "@channel", "@desk", "<@U0123ABC>", "<@&456789>", "<@!123>",
            "<!channel>", "<!here|here>", "<!subteam^S123>", "<#C0123>"]
#: What would ping: a mention as Slack, Discord and Apprise's Discord plugin read one.
LIVE_MENTION = re.compile(r"@&?[A-Za-z0-9]|<[@!#]")


@formats
@pytest.mark.parametrize("mention", MENTIONS)
def test_mentions_are_defused_in_every_format(fmt, mention):
    hostile = item(title=f"Arms {mention} now", source=f"wire {mention}",
                   snippets=(snippet(f"South Korea {mention} Ukraine arms"),),
                   url=f"https://news.example/{mention}/a")
    message = render(TOPIC, [hostile], fmt)
    for text in (message.title, message.body, render_digest([DigestStory(TOPIC, (hostile,))], fmt)[0].body):
        live = re.sub(r"\\(.)", r"\1", text)  # Markdown's backslash escapes do not stop a ping
        assert not LIVE_MENTION.search(live), live
    assert "Arms " in message.body  # the words are still there, readable


@formats
def test_huge_headline(fmt):
    headline = "<script>alert(1)</script> Arms " + "x" * 10_240
    message = render(TOPIC, [item(title=headline)], fmt)
    assert len(message.title) <= len("[newswatch] ") + len(TOPIC) + 2 + 121
    assert message.title.endswith("…")
    assert len(message.body) < 5_000
    if fmt != "text":
        assert "<script" not in re.sub(r"\\.", "", message.body)
    assert_well_formed(fmt, message.body)


@formats
def test_javascript_url_is_not_a_link(fmt):
    body = render(TOPIC, [item(url="javascript:alert(1)")], fmt).body
    assert 'href="javascript' not in body
    assert "<javascript:" not in body


@formats
def test_url_with_markup_characters_cannot_break_out(fmt):
    url = 'https://example.com/a b"<x>|y'
    body = render(TOPIC, [item(url=url)], fmt).body
    assert "https://example.com/a%20b%22%3Cx%3E%7Cy" in body
    assert_well_formed(fmt, body)


# --------------------------------------------------------------------------- length


@formats
def test_long_body_is_cut_between_items(fmt):
    long_snippet = snippet(("Ukraine arms talk in South Korea. " * 40).strip())
    items = [item(1 + n % 28, title=f"Story number {n} about arms", snippets=(long_snippet,) * 3)
             for n in range(200)]
    message = render(TOPIC, items, fmt)
    body = message.body
    assert len(body) <= MAX_BODY_CHARS
    assert_well_formed(fmt, body)
    assert shown(fmt, "Story number 0 about arms") in body
    omitted = re.search(r"and (\d+) more articles not shown", body)
    assert omitted, body[-300:]
    shown_count = sum(1 for n in range(200) if shown(fmt, f"Story number {n} about arms") in body)
    assert shown_count + int(omitted.group(1)) == 200
    assert shown_count > 5


@formats
def test_small_limit_still_shows_a_compact_lead(fmt):
    giant = snippet("Ukraine " + "y" * 50_000)
    items = [item(title="T" * 5_000, url="https://example.com/" + "z" * 40_000, snippets=(giant,) * 3),
             item(2)]
    message = render(TOPIC, items, fmt, max_chars=2_500)
    assert len(message.body) <= 2_500
    assert "1 more article not shown" in message.body
    assert_well_formed(fmt, message.body)


# --------------------------------------------------------------------------- errors


def test_unknown_format_is_rejected():
    with pytest.raises(ValueError, match="format"):
        render(TOPIC, [item()], "rtf")
    with pytest.raises(ValueError):
        Message(title="t", body="b", format="pdf")


def test_an_alert_needs_an_item():
    with pytest.raises(ValueError, match="at least one"):
        render(TOPIC, [], "text")


@formats
def test_url_is_shown_as_fetched(fmt):
    url = "https://例え.jp/ニュース/記事?q=한국&x=(1)"
    body = render(TOPIC, [item(url=url)], fmt).body
    assert (str(escape(url)) if fmt == "html" else url) in body


# --------------------------------------------------------------------------- updates


def update_of(new, earlier, title="South Korea weighs arms for Ukraine, report 1"):
    return DigestStory(TOPIC, tuple(new), earlier=tuple(earlier), update_of=title)


@formats
def test_update_lists_new_articles_with_snippets_then_earlier_reports_with_links(fmt):
    message = render_update(update_of([item(3, title="Seoul signs the arms contract")], [item(1), item(2)]), fmt)
    assert message.title == f"[newswatch] {TOPIC}: Update: South Korea weighs arms for Ukraine, report 1"
    body = message.body
    assert_well_formed(fmt, body)
    assert shown(fmt, TOPIC) in body or f"`{TOPIC}`" in body
    new_at = body.index(shown(fmt, "Seoul signs the arms contract"))
    assert marked(fmt, "South Korea") in body[new_at:]  # the new article's snippet
    earlier_at = body.index("2 earlier reports")
    assert new_at < earlier_at
    for n in (1, 2):
        assert item(n).url.replace("&", "&amp;" if fmt == "html" else "&") in body[earlier_at:]
    # Earlier reports are links, not repeated snippets.
    assert body[earlier_at:].count(marked(fmt, "South Korea")) == 0


@formats
@pytest.mark.parametrize("title", HOSTILE_TITLES)
def test_hostile_update_renders_safely(fmt, title):
    hostile = item(title=title, source="<b>src</b>", snippets=(snippet(title + " in South Korea"),))
    message = render_update(update_of([hostile], [hostile], title=title), fmt)
    assert_well_formed(fmt, message.body)
    assert "\n" not in message.title and "\x1b" not in message.title
    if fmt == "html":
        assert "<script" not in message.body and "<b>src</b>" not in message.body
    if fmt == "markdown":
        live = re.sub(r"\\.", "", message.body)
        assert "<!" not in live and "](http://evil" not in live


@formats
def test_long_update_drops_earlier_reports_first(fmt):
    earlier = [item(1 + n % 28, title=f"Earlier report {n}") for n in range(300)]
    message = render_update(update_of([item(2, title="The new development")], earlier), fmt, max_chars=4_000)
    assert len(message.body) <= 4_000
    assert shown(fmt, "The new development") in message.body
    assert "300 earlier reports" in message.body
    assert re.search(r"and \d+ more articles not shown", message.body)
    assert_well_formed(fmt, message.body)


@formats
def test_digest_shows_what_an_alerted_story_gained(fmt):
    message, shown_count = render_digest(
        [DigestStory(TOPIC, (item(5, title="A new story"),)),
         update_of([item(3, title="The contract is signed"), item(4)], [item(1), item(2)])], fmt)
    assert shown_count == 2
    body = message.body
    assert_well_formed(fmt, body)
    assert "Update (2 earlier reports)" in body
    assert body.index("Update (2 earlier reports)") < body.index(shown(fmt, "The contract is signed"))
    assert shown(fmt, "report 1") not in body  # the earlier reports went out before
