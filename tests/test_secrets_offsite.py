"""Secrets stay where they belong (issue 15): a source's `headers:` go to its own origin
only, no `Referer` leaves (a feed URL's query may hold a token), and the database URL's
password and a webhook's secret path are masked wherever Apprise's secrets are."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from support.newssite import NewsSite, manifest
from newswatch.alerts.delivery import mask_url

SITE = Path(__file__).resolve().parent / "site"
ARTICLES = manifest()
TOKEN = "S3cretT0ken4567"


def rss(links: list[str]) -> str:
    items = "".join(f"<item><title>t</title><link>{link}</link></item>" for link in links)
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title>{items}</channel></rss>'


def test_source_headers_go_to_its_own_origin_only_and_no_referer_leaves(newswatch):
    own_article, other_article, moved = (a["path"] for a in ARTICLES[:3])
    with NewsSite() as own, NewsSite() as other:
        own.set_response("/moved.html", 302, headers={"Location": other.url(moved)})
        own.add_page("/rss.xml", rss([own.url(own_article), other.url(other_article), own.url("/moved.html")]),
                     "application/rss+xml")
        newswatch.write_config({"database": "sqlite:///nw.db", "sources": [{
            "name": "paywalled", "feed": own.url(f"/rss.xml?token={TOKEN}"),
            "headers": {"Cookie": f"session={TOKEN}", "X-Api-Key": TOKEN}}]})
        done = newswatch("run", "--once")
        assert done.returncode == 0, done.stderr

        mine = {r.path.split("?")[0]: r.headers for r in own.requests}
        theirs = {r.path.split("?")[0]: r.headers for r in other.requests}
    # Every request to its own origin carries them (robots.txt too)...
    assert set(mine) >= {"/robots.txt", "/rss.xml", own_article, "/moved.html"}
    for path, headers in mine.items():
        assert (headers.get("cookie"), headers.get("x-api-key")) == (f"session={TOKEN}", TOKEN), path
    # ...no request elsewhere does, a redirect's included; and no Referer anywhere.
    assert set(theirs) == {"/robots.txt", other_article, moved}
    for path, headers in theirs.items():
        assert TOKEN not in json.dumps(headers), (path, headers)
    for path, headers in [*mine.items(), *theirs.items()]:
        assert "referer" not in headers, (path, headers)


def test_db_upgrade_prints_no_database_password(newswatch, postgres_url):
    from sqlalchemy.engine import make_url

    url = make_url(postgres_url).set(password=TOKEN)  # trust auth: any password is accepted
    newswatch.write_config({"database": url.render_as_string(hide_password=False)})
    done = newswatch("db", "upgrade")
    assert done.returncode == 0, done.stderr
    assert TOKEN not in done.stdout + done.stderr
    assert "***" in done.stdout


@pytest.mark.parametrize("url", [
    f"json://hooks.example.com/{TOKEN}",
    f"jsons://hooks.example.com/services/{TOKEN}/x",
    f"xml://hooks.example.com:8080/in/{TOKEN}",
    f"form://hooks.example.com/{TOKEN}?-token=abc",
])
def test_a_webhooks_secret_path_is_masked(url):
    masked = mask_url(url)
    assert TOKEN not in masked and "hooks.example.com" in masked and "/****" in masked, masked


def test_a_webhooks_secret_path_stays_out_of_logs_and_status(newswatch, webhook_server):
    """A failing webhook: its error, in the log and in `status`, names the URL masked."""
    webhook_server.responses = [(500, {})] * 50
    with NewsSite() as site:
        newswatch.write_config({
            "database": "sqlite:///nw.db",
            "sources": [{"name": "news", "feed": site.feed_url}],
            "topics": [{"name": "korea-arms", "query": "South Korea Ukraine arms", "notify": ["hook"]}],
            "channels": {"hook": [webhook_server.apprise_url(f"/hooks/{TOKEN}")]},
            "retry": {"attempts": 1},
        })
        done = newswatch("run", "--once")
    status = newswatch("status")
    assert webhook_server.posts, done.stderr  # it was tried
    assert "dead" in status.stdout and "/****" in status.stdout, status.stdout
    assert TOKEN not in done.stderr + done.stdout + status.stdout + newswatch("status", "--json").stdout
