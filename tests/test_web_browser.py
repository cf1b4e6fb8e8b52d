"""The web app in a real browser: Debian's headless Chromium driven by Playwright, against
`newswatch web` serving a store that `newswatch run --once` filled from the local news
site. Log in with the token, open a topic and see a story's marked snippet, run a query in
the playground, re-send a dead alert and see it leave the dead list.

A screenshot of each page goes to $NEWSWATCH_SCREENSHOTS (docs/screenshots/ holds the
committed ones), else to the test's temporary folder. Without /usr/bin/chromium the test
fails: `.ci/run` installs it (`apt-get install chromium`); Playwright's own browser
download is never used.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from support.mailservers import WebhookCatcher, wait_for
from support.newssite import manifest
from test_web import TOKEN, crawled_config, get

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture
def served(newswatch, news_site, webhook_server):
    """`newswatch web` on a crawled store whose korea-arms alerts to `late` are dead
    (`late` listens once the crawl is over, so a re-send gets through)."""
    late = WebhookCatcher()
    config = crawled_config(news_site, webhook_server, late)
    newswatch.write_config(config)
    crawl = newswatch("run", "--once")
    assert crawl.returncode == 0, crawl.stderr
    late.start()
    base = f"http://127.0.0.1:{config['web']['port']}"
    server = newswatch.start("web")
    try:
        wait_for(lambda: get(f"{base}/healthz")[0] == 200, timeout=30)
        yield base, news_site, late
    finally:
        server.terminate()
        server.communicate(timeout=20)
        late.stop()


def test_a_browser_session(served, tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does it)")
    from playwright.sync_api import expect, sync_playwright

    base, site, late = served
    shots = Path(os.environ.get("NEWSWATCH_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 800})

            def shot(name: str) -> None:
                page.screenshot(path=str(shots / f"{name}.png"), full_page=True)

            page.goto(f"{base}/")
            expect(page).to_have_url(re.compile(r"/login\?next=%2F$"))
            shot("login")
            page.fill("#token", TOKEN)
            page.click("button[type=submit]")
            expect(page.locator("h1")).to_have_text("Topics")
            shot("topics")

            page.click("h2 >> text=korea-arms")
            expect(page.locator("h1")).to_have_text("korea-arms")
            mark = page.locator("blockquote.snippet mark").first
            expect(mark).to_be_visible()
            assert re.match(r"(south|korea|ukrain|arm|seoul|kyiv|kiev)", mark.inner_text().lower())
            korea = [a for a in manifest() if "korea-arms" in a["topics"]]
            for article in korea:
                expect(page.locator(f'a[href="{site.url(article["path"])}"]')).to_have_count(1)
            shot("topic")
            page.set_viewport_size({"width": 390, "height": 844})  # a phone
            shot("topic-phone")
            page.set_viewport_size({"width": 1000, "height": 800})

            page.click("nav >> text=Sources")
            expect(page.locator("td", has_text="localnews")).to_be_visible()
            shot("sources")

            page.click("nav >> text=Playground")
            page.fill("#q", "wildfire California evacuation")
            page.click("button >> text=Try it")
            wildfire = sum("wildfire" in a["topics"] for a in manifest())
            expect(page.locator("#result-count")).to_contain_text(f"{wildfire} articles matched")
            expect(page.locator(".hit mark").first).to_be_visible()
            shot("playground")

            page.click("nav >> text=Alerts")
            dead = page.locator("#dead tr[id^=dead-]")
            expect(dead.first).to_be_visible()
            before = dead.count()
            shot("alerts")
            row = dead.first.get_attribute("id")
            dead.first.locator("button").click()
            expect(page.locator(".flash")).to_contain_text("re-sent: now sent")
            expect(page.locator(f"#{row}")).to_have_count(0)
            expect(dead).to_have_count(before - 1)
            assert len(late.posts) == 1
        finally:
            browser.close()
