"""A topic's Atom feed (feedgen): one entry per story, newest first, whose `updated` is
when the story last gained an article matching the topic, so a feed reader shows it
again when the story grows. The entry's content lists the story's articles with their
links and the topic's marked snippets (as HTML, escaped by feedgen)."""
from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import quote

from feedgen.feed import FeedGenerator
from markupsafe import Markup, escape

from newswatch.web.read import SnippetView, StoryView

ENTRIES = 50
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def marked_html(snippet: SnippetView) -> Markup:
    """The snippet's text, escaped, with its matched words in <mark>."""
    out, at = [], 0
    for start, end in snippet.marks:
        out += [escape(snippet.text[at:start]), Markup("<mark>"), escape(snippet.text[start:end]),
                Markup("</mark>")]
        at = end
    out.append(escape(snippet.text[at:]))
    return Markup("").join(out)


def _content(story: StoryView) -> str:
    parts = []
    for article in story.articles:
        snippets = [s for m in article.matches for s in m.snippets]
        parts.append(Markup("<p><a href=\"{}\">{}</a> ({}{})</p>").format(
            article.url, article.title, article.source,
            f", {article.role}" if article.role else ""))
        parts += [Markup("<blockquote>{}</blockquote>").format(marked_html(s)) for s in snippets]
    return str(Markup("").join(parts))


def topic_feed(topic: str, stories: list[StoryView], base_url: str) -> bytes:
    """The Atom document of `topic`, from its stories newest first (`topic_stories`)."""
    feed = FeedGenerator()
    feed_url = f"{base_url}/feeds/{quote(topic, safe='')}.atom"
    feed.id(f"urn:newswatch:topic:{quote(topic, safe='')}")
    feed.title(f"newswatch: {topic}")
    feed.subtitle(f"Stories matching the topic {topic}")
    feed.link(href=feed_url, rel="self", type="application/atom+xml")
    feed.link(href=f"{base_url}/topics/{quote(topic, safe='')}", rel="alternate", type="text/html")
    feed.generator("newswatch")
    # An empty feed has no newest entry: the epoch, so the document stays the same.
    feed.updated(max((s.updated for s in stories), default=EPOCH))
    for story in reversed(stories[:ENTRIES]):  # feedgen puts each added entry first
        entry = feed.add_entry()
        entry.id(f"urn:newswatch:topic:{quote(topic, safe='')}:story:{story.id}")
        entry.title(story.title)
        entry.published(story.first_seen)
        entry.updated(story.updated)
        entry.author(name=", ".join(dict.fromkeys(a.source for a in story.articles)))
        # One link, the first report: feedgen 1.0 writes an entry link's href only (no rel,
        # so each would count as rel=alternate, and Atom allows one). The content links all.
        entry.link(href=story.articles[0].url)
        entry.content(_content(story), type="html")
    return feed.atom_str(pretty=True)
