"""Generated news sites for the benchmarks: article pages that weigh what news pages weigh
(55-105 KB: inline styles, analytics and preloaded-state scripts, ad slots, a mega-menu,
sidebars of other headlines with pictures, a fat footer, inline SVG icons) around a body
of 300-1,500 words composed from word lists (wordfreq's commonest English words at
their frequencies, and a few news words); half of them carry metadata markup
(canonical, OpenGraph, JSON-LD), half only a <title>. Deterministic for a seed. Served
by tests/support/newssite.py."""
from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone
from html import escape
from itertools import accumulate
from pathlib import Path

from wordfreq import top_n_list

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


# Prose draws most words from English's 20,000 commonest, at their Zipf frequencies (so
# articles share function words, not their subjects, as real ones do), and the rest from
# the article's subject: a few news words and a place.
VOCABULARY = [w for w in top_n_list("en", 20_000) if w.isalpha()]
_CUM_WEIGHTS = list(accumulate(1 / rank for rank in range(1, len(VOCABULARY) + 1)))
SUBJECT_SHARE = 0.12


def subject(rng: random.Random) -> list[str]:
    return [*rng.sample(WORDS, 5), rng.choice(PLACES)]


def sentence(rng: random.Random, about: list[str] | None = None) -> str:
    about = about or subject(rng)
    words = rng.choices(VOCABULARY, cum_weights=_CUM_WEIGHTS, k=rng.randint(10, 24))
    words = [rng.choice(about) if rng.random() < SUBJECT_SHARE else w for w in words]
    text = " ".join(words)
    return text[0].upper() + text[1:] + rng.choice([".", ".", ".", ", officials said.", "."])


def paragraph(rng: random.Random, about: list[str] | None = None) -> str:
    about = about or subject(rng)
    return " ".join(sentence(rng, about) for _ in range(rng.randint(3, 6)))


def headline(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(5, 9))]
    words.insert(rng.randint(0, len(words)), rng.choice(PLACES))
    return " ".join(words).capitalize()


def _words(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high)))


def _slug(rng: random.Random) -> str:
    return "-".join(rng.choice(WORDS) for _ in range(rng.randint(3, 6)))


def _image(rng: random.Random, alt: str, width: int = 640) -> str:
    # Responsive images: a news page's <img> carries half a dozen renditions.
    name = f"{rng.getrandbits(64):016x}"
    srcset = ", ".join(f"https://i.meridian.example/{w}/{name}.jpg {w}w"
                       for w in (160, 320, 480, 640, 800, 1024, 1280))
    return (f'<picture><source type="image/webp" srcset="{srcset.replace(".jpg", ".webp")}">'
            f'<img src="https://i.meridian.example/{width}/{name}.jpg" srcset="{srcset}" '
            f'sizes="(min-width: 1024px) {width}px, 100vw" alt="{escape(alt)}" loading="lazy" '
            f'width="{width}" height="{width * 9 // 16}"></picture>')


def _icon(rng: random.Random) -> str:
    # Inline SVG icons: path data is most of a real page's icon weight.
    points = " ".join(f"{rng.uniform(0, 24):.3f},{rng.uniform(0, 24):.3f}" for _ in range(60))
    return f'<svg viewBox="0 0 24 24" aria-hidden="true" class="icon"><path d="M{points}Z"/></svg>'


def _card(rng: random.Random, path: str, title: str, picture: bool) -> str:
    figure = f'<div class="card__media">{_image(rng, title, 320)}</div>' if picture else ""
    return (f'<div class="card" data-component="story-card" data-track-label="{escape(_slug(rng))}">'
            f'{figure}<div class="card__body"><span class="card__kicker">{escape(rng.choice(SECTIONS))}'
            f'</span><a class="card__link" href="{escape(path)}" data-link-name="card"><h3 '
            f'class="card__headline">{escape(title)}</h3></a><p class="card__standfirst">'
            f'{escape(sentence(rng))}</p><time class="card__time">{rng.randint(2, 59)} min ago</time>'
            f'</div></div>')


def _ad(rng: random.Random, slot: str) -> str:
    unit = f"/2114/meridian/{rng.choice(SECTIONS)}/{slot}"
    return (f'<div class="ad-slot ad-slot--{slot}" data-ad-unit="{unit}" data-sizes="[[300,250],'
            f'[300,600],[728,90],[970,250]]" aria-hidden="true"><div class="ad-slot__label">'
            f'Advertisement</div><div id="dfp-{slot}-{rng.getrandbits(32):08x}" class="ad-slot__'
            f'inner"></div><script>googletag.cmd.push(function(){{googletag.defineSlot("{unit}",'
            f'[[300,250],[728,90]],"dfp-{slot}").setTargeting("pos","{slot}").setTargeting("kw",'
            f'{json.dumps(rng.sample(WORDS, 8))}).addService(googletag.pubads());}});</script></div>')


def _css(rng: random.Random) -> str:
    rules = []
    for _ in range(rng.randint(60, 140)):
        name = f".{rng.choice(WORDS)}-{rng.choice(WORDS)}__{rng.choice(WORDS)}"
        rules.append(f"{name}{{margin:{rng.randint(0, 32)}px {rng.randint(0, 32)}px;"
                     f"color:#{rng.getrandbits(24):06x};font-size:{rng.uniform(0.7, 2.4):.3f}rem}}")
    return "".join(rules)


def _some(rng: random.Random, others: list, count: int) -> list:
    """`count` of `others` (all of them on a site with fewer pages)."""
    return rng.sample(others, min(count, len(others)))


def _state(rng: random.Random, others: list[tuple[str, str]]) -> str:
    # The client-side app's preloaded state: every card's data again, as JSON.
    cards = [{"id": f"{rng.getrandbits(48):012x}", "url": p, "headline": t,
              "standfirst": sentence(rng), "section": rng.choice(SECTIONS),
              "tags": rng.sample(WORDS, 5), "image": f"{rng.getrandbits(64):016x}"}
             for p, t in _some(rng, others, rng.randint(10, 30))]
    return json.dumps({"page": {"type": "article", "edition": "uk"}, "cards": cards,
                       "config": {"abTests": {w: rng.random() < 0.5 for w in rng.sample(WORDS, 30)}}})


def article_html(rng: random.Random, path: str, title: str, published: datetime,
                 section: str, others: list[tuple[str, str]], metadata: bool = True) -> str:
    """A page as news sites make them (about 55-105 KB): head with styles, analytics and
    the app's preloaded state, a mega-menu, ad slots, a body of 300-1,500 words with a
    picture and inline links, sidebars of other headlines, a fat footer. With `metadata`
    the head has canonical, OpenGraph and JSON-LD markup; without, only a <title>."""
    author = rng.choice(NAMES)
    about = [*title.split()[:4], *subject(rng)]
    paragraphs, words = [], rng.randint(300, 1500)
    while words > 0:
        text = paragraph(rng, about)
        words -= len(text.split())
        paragraphs.append(f"<p>{escape(text)}</p>")
        if len(paragraphs) % 4 == 0:
            p, t = rng.choice(others)
            paragraphs.append(f'<p class="inline-link"><strong>Read more:</strong> '
                              f'<a href="{escape(p)}">{escape(t)}</a></p>')
        if len(paragraphs) == 6:
            paragraphs.append(_ad(rng, "inbody"))
    subs = rng.randint(5, 10)  # sites differ in how much chrome they carry
    nav = "\n".join(
        f'<li class="menu__item" data-section="{s}"><a class="menu__link" href="/{s}/">{s.capitalize()}'
        f'</a><div class="menu__panel"><ul class="menu__sub">'
        + "".join(f'<li><a class="menu__sublink" href="/{s}/{_slug(rng)}/" data-link-name="nav:'
                  f'{s}">{_words(rng, 1, 3).capitalize()}</a></li>' for _ in range(subs))
        + "</ul></div></li>" for s in SECTIONS)
    latest = "".join(_card(rng, p, t, picture=False) for p, t in _some(rng, others, rng.randint(8, 15)))
    most_read = "\n".join(f'<li class="most-read__item"><span class="rank">{i}</span>'
                          f'<a href="{escape(p)}">{escape(t)}</a></li>'
                          for i, (p, t) in enumerate(_some(rng, others, 10), 1))
    more = "".join(_card(rng, p, t, picture=True) for p, t in _some(rng, others, rng.randint(4, 8)))
    footer = "".join(f'<div class="footer__col"><h4>{_words(rng, 1, 2).capitalize()}</h4><ul>'
                     + "".join(f'<li><a href="/{_slug(rng)}">{_words(rng, 1, 3).capitalize()}</a></li>'
                               for _ in range(12)) + "</ul></div>" for _ in range(5))
    icons = "".join(f'<a class="social" href="https://{w}.example/meridian">{_icon(rng)}</a>'
                    for w in ("facebook", "x", "instagram", "youtube", "linkedin"))
    head_meta = f"<title>{escape(title)} | {section.capitalize()} | The Meridian</title>"
    if metadata:
        ld = json.dumps({"@context": "https://schema.org", "@type": "NewsArticle", "headline": title,
                         "datePublished": published.isoformat(), "dateModified": published.isoformat(),
                         "author": {"@type": "Person", "name": author},
                         "publisher": {"@type": "Organization", "name": "The Meridian"},
                         "articleSection": section.capitalize(), "keywords": rng.sample(WORDS, 6)})
        head_meta += f"""
<meta name="description" content="{escape(sentence(rng))}">
<link rel="canonical" href="{path}">
<meta property="og:type" content="article"><meta property="og:title" content="{escape(title)}">
<meta property="og:url" content="{path}"><meta name="author" content="{author}">
<meta property="article:published_time" content="{published.isoformat()}">
<meta property="article:section" content="{section.capitalize()}">
<script type="application/ld+json">{ld}</script>"""
        byline = (f'<p class="byline">By <a rel="author" href="/profile/x">{author}</a> · '
                  f'<time datetime="{published.isoformat()}">{published:%d %B %Y}</time></p>')
    else:
        byline = f'<p class="byline">{author}, {published:%d %B %Y}</p>'
    preload = "".join(f'<link rel="preload" href="/assets/{_slug(rng)}.{kind}" as="{kind}">'
                      for kind in ("script", "style", "font") for _ in range(5))
    return f"""<!DOCTYPE html>
<html lang="en-GB"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
{head_meta}
{preload}
<style>{_css(rng)}</style>
<script>window.dataLayer=window.dataLayer||[];dataLayer.push({{"pageType":"article","section":"{section}",
"tags":{json.dumps(rng.sample(WORDS, 10))}}});(function(w,d,s){{var f=d.getElementsByTagName(s)[0],j=d.createElement(s);
j.async=true;j.src="https://tags.example/gtm.js?id=GTM-{rng.getrandbits(24):06X}";f.parentNode.insertBefore(j,f);}})
(window,document,"script");</script>
<script>window.__PRELOADED_STATE__={_state(rng, others)};</script>
</head><body class="article-page section-{section}">
<div class="cookie-banner" role="dialog"><p>We use cookies to improve your experience and
to show you personalised advertising. <a href="/privacy">Manage preferences</a></p>
<button>Accept all</button><button>Reject</button></div>
{_ad(rng, "top")}
<header class="masthead"><a href="/" class="logo">{_icon(rng)}The Meridian</a>
<nav class="mega-menu" aria-label="Sections"><ul class="menu">{nav}</ul></nav>
<form class="search" action="/search"><input name="q" placeholder="Search"></form></header>
<div class="page"><main id="maincontent" class="page__main"><article class="story">
<header><p class="kicker"><a href="/{section}/">{section.capitalize()}</a></p>
<h1>{escape(title)}</h1>
<p class="standfirst">{escape(sentence(rng, about))}</p>
{byline}</header>
<figure class="story__lead">{_image(rng, title, 1024)}<figcaption>{escape(sentence(rng))}
Photograph: {rng.choice(NAMES)}/Agency</figcaption></figure>
<div class="story__body">
{"".join(paragraphs)}
</div>
<aside class="share">Share this story: {icons}</aside>
</article>
<section class="more-from"><h2>More from {section.capitalize()}</h2><div class="cards">{more}</div></section>
<section class="comments"><h2>Comments (0)</h2><p>Comments are closed for this article.</p></section>
</main>
<aside class="page__rail">{_ad(rng, "mpu")}
<section class="most-read"><h2>Most read</h2><ol>{most_read}</ol></section>
<section class="latest"><h2>Latest</h2>{latest}</section>{_ad(rng, "halfpage")}</aside></div>
<footer class="footer"><div class="footer__cols">{footer}</div><div class="footer__social">{icons}</div>
<p class="footer__legal">{escape(paragraph(rng))}</p><p>© 2026 The Meridian. All rights reserved.</p></footer>
<script src="/assets/app.{rng.getrandbits(32):08x}.js" defer></script>
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
        html = article_html(rng, path, title, published, section, links,
                            metadata=rng.random() < 0.5).encode("utf-8")
        file = root / path.lstrip("/")
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(html)
        pages[path] = html
    articles = [{"path": p, "title": t, "published": d.isoformat()} for p, t, d, _ in specs]
    return NewsSite(root=root, articles=articles), pages
