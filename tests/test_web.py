"""The web app (web/): its JSON API, Atom feeds, pages, login, CSRF and token rules, on a
store that `newswatch run --once` filled from the local news site; and the seeds demo
served by `newswatch web` as a user runs it."""
from __future__ import annotations

import json
import re
import shutil
import signal
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import feedparser
import pytest
from sqlalchemy import func, select, update
from starlette.testclient import TestClient

from conftest import REPO, Newswatch
from support.databases import backend
from support.mailservers import WebhookCatcher, free_port, wait_for
from support.newssite import NewsSite, manifest
from newswatch.alerts.matcher import Topic
from newswatch.alerts.query import parse
from newswatch.corpus.extract import Article
from newswatch.corpus.ingest import Corpus
from newswatch.jobs.config import ConfigError, load_config
from newswatch.jobs.metrics import Metrics
from newswatch.jobs.schedule import next_runs
from newswatch.store.db import open_store
from newswatch.store.models import Article as StoredArticle
from newswatch.store.models import utcnow
from newswatch.web.app import create_app, ops_app
from newswatch.web.context import WebContext

pytestmark = pytest.mark.database  # each test runs on the selected backend

TOKEN = "web-t0ken-for-tests"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
TOPICS = {
    "korea-arms": "South Korea Ukraine arms",
    "ecb-rates": '"interest rates" ECB',
    "wildfire": "wildfire California evacuation",
}


@dataclass
class Crawled:
    cli: Newswatch
    site: NewsSite
    database: str


def crawled_config(site: NewsSite, hook: WebhookCatcher, late: WebhookCatcher, **extra) -> dict:
    """korea-arms alerts go to `late` too, which is down during the crawl: with one
    attempt allowed, those alerts are dead-lettered at once."""
    return {
        "sources": [{"name": "localnews", "feed": site.feed_url, "every": "1h"}],
        "topics": [{"name": name, "query": query,
                    "notify": ["hook", "late"] if name == "korea-arms" else ["hook"]}
                   for name, query in TOPICS.items()],
        "channels": {"hook": [hook.apprise_url()], "late": [late.apprise_url()]},
        "retry": {"attempts": 1},
        "web": {"port": free_port(), "token": TOKEN},
        **extra,
    }


@pytest.fixture(scope="module")
def crawled(request, tmp_path_factory):
    """The local news site crawled once for the module, on the selected backend, with the
    korea-arms alerts to `late` dead; `late` listens afterwards, so a re-send succeeds."""
    workdir = tmp_path_factory.mktemp("web")
    server = name = None
    if backend(request.config) == "postgres":
        server = request.getfixturevalue("postgres_server")
        name = server.create()
        database = server.url(name)
    else:
        database = f"sqlite:///{workdir / 'newswatch.db'}"
    site, hook, late = NewsSite().start(), WebhookCatcher().start(), WebhookCatcher()
    cli = Newswatch(workdir, database)
    cli.write_config(crawled_config(site, hook, late))
    try:
        done = cli("run", "--once")
        assert done.returncode == 0, done.stderr
        late.start()
        yield Crawled(cli, site, database)
    finally:
        site.stop()
        hook.stop()
        late.stop()
        if server is not None:
            server.drop(name)


@pytest.fixture
def store(crawled):
    store = open_store(crawled.database)
    yield store
    store.close()


def latest_seen(store):
    with store.session() as session:
        return session.scalar(select(func.max(StoredArticle.first_seen)))


@pytest.fixture
def app(crawled, store):
    """The app on the crawled store; its clock an hour after the last article came."""
    now = latest_seen(store) + timedelta(hours=1)
    config = load_config(crawled.cli.config)
    web = WebContext(config, store, Metrics(store).exposition, next_runs(config.schedules),
                     clock=lambda: now)
    return create_app(web)


@pytest.fixture
def client(app):
    with TestClient(app, follow_redirects=False) as client:
        yield client


def expected_hits() -> Counter:
    return Counter(topic for a in manifest() for topic in a["topics"])


def login(client, token: str = TOKEN, next: str = "/"):
    form = client.get(f"/login?next={next}")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    return client.post("/login", data={"token": token, "csrf": csrf, "next": next})


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


# --------------------------------------------------------------------------- the API


def test_api_topics_lists_hits_per_topic_and_day(client):
    topics = client.get("/api/topics", headers=BEARER)
    assert topics.status_code == 200
    listed = {t["name"]: t for t in topics.json()}
    assert list(listed) == list(TOPICS)  # config order
    for name, count in expected_hits().items():
        assert listed[name]["hits"] == count
        assert listed[name]["query"] == TOPICS[name]
        assert len(listed[name]["per_day"]) == 14
        # The clock is an hour after the crawl: every hit is on the last day or the one before.
        assert sum(d["hits"] for d in listed[name]["per_day"][-2:]) == count
        assert listed[name]["last_alert"] is not None  # `hook` took every alert


def test_per_day_window_follows_the_clock(crawled, store):
    later = latest_seen(store) + timedelta(days=20)
    config = load_config(crawled.cli.config)
    app = create_app(WebContext(config, store, Metrics(store).exposition, next_runs(config.schedules),
                                clock=lambda: later))
    with TestClient(app) as client:
        listed = {t["name"]: t for t in client.get("/api/topics", headers=BEARER).json()}
    assert listed["korea-arms"]["hits"] == expected_hits()["korea-arms"]
    assert sum(d["hits"] for d in listed["korea-arms"]["per_day"]) == 0


def test_api_topic_stories_and_one_story(client, crawled):
    stories = client.get("/api/topics/korea-arms/stories?since=7d", headers=BEARER)
    assert stories.status_code == 200
    korea = {crawled.site.url(a["path"]) for a in manifest() if "korea-arms" in a["topics"]}
    matched = {a["url"] for s in stories.json() for a in s["articles"] if a["matches"]}
    assert matched == korea
    updated = [s["updated"] for s in stories.json()]
    assert updated == sorted(updated, reverse=True)
    for article in (a for s in stories.json() for a in s["articles"] if a["matches"]):
        (match,) = article["matches"]
        assert match["topic"] == "korea-arms" and match["snippets"]
        for snippet in match["snippets"]:
            words = [snippet["text"][s:e].lower() for s, e in snippet["marks"]]
            assert words and any(w.startswith(("korea", "ukrain", "arm", "south")) for w in words)

    first = stories.json()[0]
    one = client.get(f"/api/stories/{first['id']}", headers=BEARER)
    assert one.status_code == 200
    assert [a["url"] for a in one.json()["articles"]] == [a["url"] for a in first["articles"]]

    assert client.get("/api/stories/999999", headers=BEARER).json() == {"message": "no story 999999"}
    missing = client.get("/api/topics/nope/stories", headers=BEARER)
    assert (missing.status_code, missing.json()) == (404, {"message": "no topic named 'nope'"})
    bad = client.get("/api/topics/korea-arms/stories?since=soon", headers=BEARER)
    assert bad.status_code == 400 and "'soon' is not a duration" in bad.json()["message"]


def test_api_sources_is_the_status_of_each_source(client):
    (source,) = client.get("/api/sources", headers=BEARER).json()
    assert (source["name"], source["kind"], source["new"], source["failed"]) == ("localnews", "feed", 12, 0)
    assert source["last_run"] and source["next_run"] and source["broken_since"] is None


def test_api_match_backtests_a_query_and_explains_a_bad_one(client, crawled):
    found = client.get("/api/match", params={"q": "wildfire California evacuation", "since": "7d"},
                       headers=BEARER)
    assert found.status_code == 200
    wildfire = {crawled.site.url(a["path"]) for a in manifest() if "wildfire" in a["topics"]}
    assert {h["url"] for h in found.json()} == wildfire
    assert all(h["snippets"][0]["marks"] for h in found.json())

    bad = client.get("/api/match", params={"q": "(South Korea"}, headers=BEARER)
    assert bad.status_code == 400
    assert bad.json()["message"].splitlines() == ["unbalanced parenthesis", "  (South Korea", "  ^"]
    empty = client.get("/api/match", headers=BEARER)
    assert empty.status_code == 422 and "q" in empty.json()["message"]


def test_api_alerts_and_retry_of_a_dead_one(client):
    dead = client.get("/api/alerts?status=dead", headers=BEARER).json()
    assert dead and {(a["topic"], a["channel"]) for a in dead} == {("korea-arms", "late")}
    sent = client.get("/api/alerts?status=sent", headers=BEARER).json()
    assert {a["channel"] for a in sent} == {"hook"}
    assert client.get("/api/alerts?status=lost", headers=BEARER).status_code == 422

    alert = dead[0]["id"]
    retried = client.post(f"/api/alerts/{alert}/retry", headers=BEARER)
    assert retried.status_code == 200
    assert retried.json() == {"id": alert, "status": "sent", "sent": True}
    assert alert not in {a["id"] for a in client.get("/api/alerts?status=dead", headers=BEARER).json()}
    again = client.post(f"/api/alerts/{alert}/retry", headers=BEARER)
    assert (again.status_code, again.json()) == (
        409, {"message": f"alert {alert} is sent, not dead: nothing to re-send"})
    assert client.post("/api/alerts/999999/retry", headers=BEARER).status_code == 404


def test_openapi_describes_the_api(client):
    assert client.get("/api/openapi.json").status_code == 401
    spec = client.get("/api/openapi.json", headers=BEARER).json()
    assert {"/api/topics", "/api/topics/{name}/stories", "/api/stories/{story_id}", "/api/sources",
            "/api/alerts", "/api/alerts/{alert_id}/retry", "/api/match",
            "/feeds/{topic}.atom"} <= set(spec["paths"])


# --------------------------------------------------------------------------- feeds


def parse_feed(body: bytes):
    feed = feedparser.parse(body)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert feed.feed.id and feed.feed.title and feed.feed.updated
    for entry in feed.entries:
        assert entry.id and entry.title and entry.updated and entry.link
    return feed


def test_feed_has_an_entry_per_story_with_article_links(client, crawled):
    answer = client.get(f"/feeds/korea-arms.atom?token={TOKEN}")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/atom+xml"
    feed = parse_feed(answer.content)
    stories = client.get("/api/topics/korea-arms/stories?since=3650d", headers=BEARER).json()
    assert [e.id for e in feed.entries] == [f"urn:newswatch:topic:korea-arms:story:{s['id']}" for s in stories]
    content = " ".join(e.content[0].value for e in feed.entries)
    for article in manifest():
        if "korea-arms" in article["topics"]:
            assert f'href="{crawled.site.url(article["path"])}"' in content
    assert "&lt;mark&gt;" in answer.text  # (feedparser sanitises <mark> away)


@pytest.mark.parametrize("ask, status", [
    ({"url": "/feeds/korea-arms.atom"}, 401),
    ({"url": "/feeds/korea-arms.atom?token=wrong"}, 401),
    ({"url": "/feeds/korea-arms.atom?token=" + TOKEN}, 200),
    ({"url": "/feeds/korea-arms.atom", "headers": BEARER}, 200),
    ({"url": "/feeds/nope.atom?token=" + TOKEN}, 404),
    ({"url": "/api/topics"}, 401),
    ({"url": "/api/topics?token=" + TOKEN}, 401),  # ?token= is for feeds only
    ({"url": "/api/topics", "headers": {"Authorization": "Bearer wrong"}}, 401),
    ({"url": "/api/topics", "headers": {"Authorization": f"Basic {TOKEN}"}}, 401),
    ({"url": "/api/topics", "headers": BEARER}, 200),
    ({"url": "/healthz"}, 200),
    ({"url": "/metrics"}, 200),
])
def test_who_gets_in(client, ask, status):
    answer = client.get(ask["url"], headers=ask.get("headers"))
    assert answer.status_code == status
    if status == 401:
        assert answer.headers["www-authenticate"] == "Bearer"
        assert answer.json()["message"].startswith("authentication required")


def test_feed_entry_is_updated_when_its_story_gains_an_article(tmp_path):
    """A copy of an article from another outlet joins its story: the story's entry is
    updated to when the copy came, and stays one entry."""
    store = open_store(f"sqlite:///{tmp_path / 'feed.db'}")
    topic = Topic("korea", parse("South Korea Ukraine arms"), ("team",))
    corpus = Corpus(store, (topic,))
    text = "South Korea approved its first package of arms for Ukraine on Monday, officials said."
    first = corpus.add(Article("https://a.example/1", "https://a.example/1", "Seoul sends arms", text,
                               None, "en", None), "a")
    with store.session() as session:
        session.execute(update(StoredArticle).where(StoredArticle.id == first.article_id)
                        .values(first_seen=utcnow() - timedelta(days=2)))
    config = load_config(_write(tmp_path, "topics: [{name: korea, query: South Korea Ukraine arms}]\n"))
    app = create_app(WebContext(config, store, lambda: b"", next_runs(config.schedules)))
    with TestClient(app) as client:
        before = parse_feed(client.get("/feeds/korea.atom").content)
        copy = corpus.add(Article("https://b.example/1", "https://b.example/1", "Copy", text,
                                  None, "en", None), "b")
        assert (copy.outcome, copy.story_id) == ("duplicate", first.story_id)
        after = parse_feed(client.get("/feeds/korea.atom").content)
    store.close()
    assert len(before.entries) == len(after.entries) == 1
    assert after.entries[0].updated_parsed > before.entries[0].updated_parsed
    assert "https://b.example/1" in after.entries[0].content[0].value


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "newswatch.yaml"
    path.write_text(text)
    return path


# --------------------------------------------------------------------------- pages, login


def test_pages_redirect_to_login_and_the_login_sets_a_strict_cookie(client):
    for path in ("/", "/topics/korea-arms", "/sources", "/alerts", "/match?q=x"):
        answer = client.get(path)
        assert answer.status_code == 303, path
        assert answer.headers["location"].startswith("/login?next=%2F")

    wrong = login(client, token="not-it")
    assert wrong.status_code == 401 and "not the token" in wrong.text
    done = login(client, next="/alerts")
    assert (done.status_code, done.headers["location"]) == (303, "/alerts")
    cookie = done.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert TOKEN.lower() not in cookie

    for path in ("/", "/topics/korea-arms", "/sources", "/alerts", "/match"):
        assert client.get(path).status_code == 200, path
    # The session works for the API too (reads; a change needs the CSRF token).
    assert client.get("/api/topics").status_code == 200

    page = client.get("/alerts").text
    client.post("/logout", data={"csrf": csrf_of(page)})
    assert client.get("/").status_code == 303


def test_forms_need_their_csrf_token(client):
    form = client.get("/login")
    no_csrf = client.post("/login", data={"token": TOKEN, "next": "/"})
    assert no_csrf.status_code == 403
    assert client.get("/").status_code == 303  # not logged in
    assert login(client).status_code == 303
    assert "csrf" in form.text

    dead = client.get("/api/alerts?status=dead").json()
    alert = dead[-1]["id"]
    assert client.post(f"/alerts/{alert}/retry", data={"csrf": "forged"}).status_code == 403
    assert client.post(f"/api/alerts/{alert}/retry").status_code == 403  # cookie, no X-CSRF-Token
    assert alert in {a["id"] for a in client.get("/api/alerts?status=dead").json()}

    page = client.get("/alerts").text
    assert f'id="dead-{alert}"' in page
    resent = client.post(f"/alerts/{alert}/retry", data={"csrf": csrf_of(page)})
    assert (resent.status_code, resent.headers["location"]) == (303, f"/alerts?retried={alert}")
    after = client.get(resent.headers["location"]).text
    assert f'id="dead-{alert}"' not in after and f"Alert #{alert} re-sent: now sent" in after


@pytest.mark.parametrize("target, lands", [
    ("/sources", "/sources"),
    ("//evil.example/", "/"),
    ("https://evil.example/", "/"),
    ("/\\evil.example", "/"),
])
def test_login_goes_back_to_this_site_only(client, target, lands):
    answer = login(client, next=target)
    assert answer.headers["location"] == lands


def test_topic_page_marks_the_matched_words(client, crawled):
    login(client)
    page = client.get("/topics/korea-arms").text
    korea = [a for a in manifest() if "korea-arms" in a["topics"]]
    for article in korea:
        assert crawled.site.url(article["path"]) in page
    assert re.search(r'<blockquote class="snippet">[^<]*(?:[^<]*<mark>[^<]+</mark>)+', page)
    assert 'href="/feeds/korea-arms.atom"' in client.get("/").text


def test_playground_page_shows_hits_and_the_caret(client):
    login(client)
    found = client.get("/match", params={"q": "wildfire California", "since": "7d"})
    count = sum("wildfire" in a["topics"] for a in manifest())
    assert found.status_code == 200 and f"{count} articles matched" in found.text
    bad = client.get("/match", params={"q": "(South Korea"})
    assert bad.status_code == 400
    assert "unbalanced parenthesis\n  (South Korea\n  ^" in bad.text


def test_ops_app_serves_metrics_and_health_only(store):
    with TestClient(ops_app(Metrics(store).exposition, store)) as client:
        assert (client.get("/healthz").status_code, client.get("/healthz").text) == (200, "ok\n")
        assert "newswatch_outbox_rows" in client.get("/metrics").text
        assert client.get("/api/topics").status_code == 404


# --------------------------------------------------------------------------- config


@pytest.mark.parametrize("web, problem", [
    ("{port: 8080}", None),
    ("{host: 127.0.0.1}", None),
    ("{host: '::1'}", None),
    ("{host: localhost}", None),
    ("{host: 0.0.0.0, token: abc}", None),
    ("{host: 0.0.0.0}", "web: a token is required to serve on '0.0.0.0'"),
    ("{host: 0.0.0.0, token: ''}", "web: a token is required to serve on '0.0.0.0'"),
    ("{host: news.example.com}", "web: a token is required to serve on 'news.example.com'"),
    ("{port: 0}", "web.port: Input should be greater than or equal to 1"),
    ("{token: '${NEWSWATCH_TEST_UNSET_TOKEN}'}", "web.token: environment variable ${NEWSWATCH_TEST_UNSET_TOKEN} is not set"),
    ("{colour: blue}", "web.colour: unknown key"),
])
def test_web_config(tmp_path, monkeypatch, web, problem):
    monkeypatch.delenv("NEWSWATCH_TEST_UNSET_TOKEN", raising=False)
    path = _write(tmp_path, f"web: {web}\n")
    if problem is None:
        loaded = load_config(path)
        assert loaded.web.port == 8080 and "abc" not in repr(loaded.web)  # the token stays hidden
    else:
        with pytest.raises(ConfigError, match=re.escape(problem)):
            load_config(path)


def test_newswatch_web_refuses_a_public_address_without_token(newswatch):
    newswatch.write_config({"web": {"host": "0.0.0.0", "port": free_port()}})
    refused = newswatch("web", timeout=30)
    assert refused.returncode == 2
    assert "web: a token is required to serve on '0.0.0.0'" in refused.stderr


# --------------------------------------------------------------------------- the seeds demo


def get(url: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=10) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()
    except OSError:
        return 0, {}, b""


def test_seeds_demo_served_by_newswatch_web(newswatch):
    """DESIGN's seeds demo with a `web:` block, then `newswatch web`: the topic with its
    hits, its feed naming both seed articles, 401 without the token, login for pages."""
    shutil.copytree(REPO / "seeds", newswatch.workdir / "seeds")
    port = free_port()
    config = newswatch.workdir / "seeds" / "newswatch.yaml"
    config.write_text(config.read_text() + f"web: {{host: 127.0.0.1, port: {port}, "
                                           "token: \"${NEWSWATCH_WEB_TOKEN}\"}\n")
    newswatch.env["NEWSWATCH_WEB_TOKEN"] = TOKEN
    run = newswatch("run", "--once", "--config", "seeds/newswatch.yaml")
    assert run.returncode == 0, run.stderr

    base = f"http://127.0.0.1:{port}"
    server = newswatch.start("web", "--config", "seeds/newswatch.yaml")
    try:
        wait_for(lambda: get(f"{base}/healthz")[0] == 200, timeout=30)
        status, _, body = get(f"{base}/api/topics", BEARER)
        assert status == 200
        (topic,) = json.loads(body)
        assert (topic["name"], topic["hits"]) == ("south-korea-ukraine-arms", 2)

        status, _, body = get(f"{base}/feeds/south-korea-ukraine-arms.atom?token={TOKEN}")
        assert status == 200
        feed = parse_feed(body)
        assert any("000_5867867d4832e80a.txt" in e.content[0].value
                   and "004_9b88c3d1e34566fc.txt" in e.content[0].value for e in feed.entries)

        assert get(f"{base}/api/topics")[0] == 401
        assert get(f"{base}/feeds/south-korea-ukraine-arms.atom")[0] == 401
        status, headers, _ = get(f"{base}/")
        assert (status, headers["location"]) == (303, "/login?next=%2F")
    finally:
        server.send_signal(signal.SIGTERM)
        _, stderr = server.communicate(timeout=20)
    assert server.returncode == 0, stderr
    assert TOKEN not in stderr and TOKEN not in run.stderr


@pytest.mark.slow
def test_the_daemon_serves_the_web_app_on_its_loop(newswatch, news_site, webhook_server):
    """`newswatch run` with `web:`: the app answers while the daemon crawls and delivers
    on the same event loop, and SIGTERM closes its port."""
    config = crawled_config(news_site, webhook_server, WebhookCatcher())
    newswatch.write_config(config)
    base = f"http://127.0.0.1:{config['web']['port']}"
    daemon = newswatch.start("run")
    try:
        wait_for(lambda: get(f"{base}/healthz")[0] == 200, timeout=60)
        hits = sum(expected_hits().values())

        def counted() -> int:
            status, _, body = get(f"{base}/api/topics", BEARER)
            return sum(t["hits"] for t in json.loads(body)) if status == 200 else -1

        wait_for(lambda: counted() == hits, timeout=60)
        assert get(f"{base}/api/topics")[0] == 401
        assert b"newswatch_matches_total" in get(f"{base}/metrics")[2]
        daemon.send_signal(signal.SIGTERM)
        _, stderr = daemon.communicate(timeout=30)
        assert daemon.returncode == 0, stderr
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.communicate()
    assert get(f"{base}/healthz")[0] == 0  # the port is closed
    assert TOKEN not in stderr
