"""Generated news sites for the benchmarks: realistic article pages (head metadata,
JSON-LD, cookie banner, mega-menu navigation, related and most-read lists, footer) with
a body of varied prose, deterministic for a seed. Served by tests/newssite.py."""
from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone
from html import escape
from pathlib import Path

from tests.support.newssite import SECTIONS, NewsSite  # noqa: F401  (NewsSite: for the benchmarks)

WORDS = """government minister officials said week ministry budget talks parliament vote
economy inflation interest rates bank markets shares investors growth forecast quarter
company chief executive workers union strike factory exports trade tariffs deal partners
police court judge trial evidence lawyers appeal ruling climate storm flood wildfire
evacuation residents firefighters drought heat energy power grid prices households
hospital patients doctors health vaccine study researchers university scientists data
school teachers students election campaign candidate polls voters coalition opposition
city council housing rents transport railway airport flights tourists football match
coach season league title players fans stadium music festival film director novel""".split()
PLACES = ["Seoul", "Kyiv", "Brussels", "Berlin", "Paris", "Madrid", "Lisbon", "Warsaw",
          "Tokyo", "Nairobi", "Lagos", "Lima", "Ottawa", "Sydney", "Mumbai", "Cairo",
          "California", "Texas", "Bavaria", "Ontario"]
NAMES = ["Claire Dubois", "Min-jun Park", "Olena Kovalenko", "James Whitaker",
         "Amara Okafor", "Lucía Fernández", "Tomasz Nowak", "Priya Raman"]


def sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(10, 24))]
    if rng.random() < 0.5:
        words.insert(rng.randint(0, len(words)), rng.choice(PLACES))
    text = " ".join(words)
    return text[0].upper() + text[1:] + rng.choice([".", ".", ".", ", officials said.", "."])


def paragraph(rng: random.Random) -> str:
    return " ".join(sentence(rng) for _ in range(rng.randint(3, 6)))


def headline(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(5, 9))]
    words.insert(rng.randint(0, len(words)), rng.choice(PLACES))
    return " ".join(words).capitalize()


def article_html(rng: random.Random, path: str, title: str, published: datetime,
                 section: str, others: list[tuple[str, str]]) -> str:
    author = rng.choice(NAMES)
    body = "\n".join(f"<p>{escape(paragraph(rng))}</p>" for _ in range(rng.randint(8, 14)))
    nav = "\n".join(f'<li><a href="/{s}/">{s.capitalize()}</a><ul>'
                    + "".join(f'<li><a href="/{s}/{t}/">{t.capitalize()}</a></li>'
                              for t in rng.sample(WORDS, 6)) + "</ul></li>" for s in SECTIONS)
    related = "\n".join(f'<li><a href="{escape(p)}">{escape(t)}</a></li>' for p, t in rng.sample(others, 6))
    most_read = "\n".join(f'<li><span class="rank">{i}</span><a href="{escape(p)}">{escape(t)}</a></li>'
                          for i, (p, t) in enumerate(rng.sample(others, 10), 1))
    footer = "\n".join(f'<li><a href="/{w}">{w.capitalize()}</a></li>' for w in rng.sample(WORDS, 40))
    ld = json.dumps({"@context": "https://schema.org", "@type": "NewsArticle", "headline": title,
                     "datePublished": published.isoformat(), "author": {"@type": "Person", "name": author},
                     "articleSection": section.capitalize()})
    return f"""<!DOCTYPE html>
<html lang="en-GB"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} | {section.capitalize()} | The Meridian</title>
<meta name="description" content="{escape(sentence(rng))}">
<link rel="canonical" href="{path}">
<meta property="og:title" content="{escape(title)}"><meta property="og:url" content="{path}">
<meta property="article:published_time" content="{published.isoformat()}">
<script type="application/ld+json">{ld}</script>
<style>body{{font-family:Georgia,serif;margin:0}}.cookie-banner{{position:fixed;bottom:0}}</style>
<script>window.dataLayer=window.dataLayer||[];dataLayer.push({{"pageType":"article"}});</script>
</head><body class="article-page">
<div class="cookie-banner" role="dialog"><p>We use cookies to improve your experience and
to show you personalised advertising. <a href="/privacy">Manage preferences</a></p>
<button>Accept all</button><button>Reject</button></div>
<header class="masthead"><a href="/" class="logo">The Meridian</a>
<nav class="mega-menu"><ul>{nav}</ul></nav>
<form class="search" action="/search"><input name="q" placeholder="Search"></form></header>
<div class="ad ad--leaderboard">Advertisement</div>
<main id="maincontent"><article class="story">
<header><p class="kicker"><a href="/{section}/">{section.capitalize()}</a></p>
<h1>{escape(title)}</h1>
<p class="byline">By <a rel="author" href="/profile/x">{author}</a> ·
<time datetime="{published.isoformat()}">{published:%d %B %Y}</time></p></header>
<div class="story__body">
{body}
</div>
<aside class="share">Share this story: <a href="#">Facebook</a> <a href="#">X</a> <a href="#">Email</a></aside>
</article>
<aside class="related"><h2>Related stories</h2><ul>{related}</ul></aside>
<aside class="most-read"><h2>Most read</h2><ol>{most_read}</ol></aside>
<section class="comments"><h2>Comments (0)</h2><p>Comments are closed for this article.</p></section>
</main>
<footer><ul>{footer}</ul><p>© 2026 The Meridian. All rights reserved.</p></footer>
</body></html>
"""


def build_site(root: Path, count: int, seed: int = 7) -> tuple[NewsSite, dict[str, bytes]]:
    """`count` article pages under `root`, listed newest first in the site's RSS feed.
    Returns the (unstarted) site and each page's bytes by path."""
    rng = random.Random(seed)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    specs = []
    for i in range(count):
        section = rng.choice(SECTIONS[:12])
        title = headline(rng)
        slug = "-".join(title.lower().split()[:7])
        specs.append((f"/{section}/2026/11/{slug}-{i}.html", title, now - timedelta(minutes=7 * i), section))
    links = [(p, t) for p, t, _, _ in specs]
    pages = {}
    for path, title, published, section in specs:
        html = article_html(rng, path, title, published, section, links).encode("utf-8")
        file = root / path.lstrip("/")
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(html)
        pages[path] = html
    articles = [{"path": p, "title": t, "published": d.isoformat()} for p, t, d, _ in specs]
    return NewsSite(root=root, articles=articles), pages
