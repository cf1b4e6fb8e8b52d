"""A large generated news site for the multi-process tests and `bench/scale.py`: N
distinct articles behind one RSS feed, every `KOREA_EVERY`-th of them about South Korean
arms for Ukraine (the others about weather, markets, sport, …), each page served after a
small delay like a real server's. Built on `NewsSite` (tests/newssite.py)."""
from __future__ import annotations

from .newssite import NewsSite

KOREA_EVERY = 10
KOREA_QUERY = "South Korea Ukraine arms"

SUBJECTS = ["rainfall in the northern valleys", "the regional bus network", "a bond auction",
            "the city marathon", "a new public library", "grain harvest estimates",
            "the harbour dredging plan", "a museum's winter exhibition", "school meal prices"]

PAGE = """<!doctype html><html lang="en"><head><title>{title}</title>
<link rel="canonical" href="{path}"></head><body>
<nav><a href="/">Home</a> <a href="/world/">World</a> <a href="/business/">Business</a></nav>
<article><h1>{title}</h1>
<p>{lead}</p>
<p>Officials who spoke on condition of anonymity said report {n} was the {n}th update this
season, and that figures for {subject} would be revised again before the end of the month.</p>
<p>Local residents interviewed about {subject} said the news had been expected for weeks,
though several asked why item number {n} had taken so long to be published.</p>
</article><aside><h2>Latest Stories</h2><ul><li>Markets close higher</li></ul></aside>
<footer>© Big News {n}</footer></body></html>"""


def article(n: int) -> tuple[str, str, str, bool]:
    """(path, title, html, about Korea) of article `n`."""
    path = f"/news/2026/11/story-{n:05d}.html"
    if n % KOREA_EVERY == 0:
        title = f"South Korea weighs arms shipment {n} for Ukraine"
        lead = (f"South Korea is weighing a further shipment of arms to Ukraine, package {n}, "
                "officials in Seoul said on Monday after talks with allies.")
        subject = "the arms package"
    else:
        subject = SUBJECTS[n % len(SUBJECTS)]
        title = f"Update {n} on {subject}"
        lead = f"The council published update {n} on {subject} on Monday, officials said."
    html = PAGE.format(title=title, path=path, lead=lead, n=n, subject=subject)
    return path, title, html, n % KOREA_EVERY == 0


def big_site(articles: int, delay: float = 0.0) -> tuple[NewsSite, list[str]]:
    """A started site with `articles` pages in its feed; returns it and the paths of the
    pages about Korea (the ones a `KOREA_QUERY` topic must alert on)."""
    site = NewsSite(articles=[]).start()
    korea = []
    for n in range(1, articles + 1):
        path, title, html, about_korea = article(n)
        if delay:
            site.set_response(path, 200, html.encode(), delay=delay)
        else:
            site.add_page(path, html)
        site.add_feed_item(path, title)
        if about_korea:
            korea.append(path)
    return site, korea
