"""A daemon that fits a small server: each process imports only what it runs (Alembic only
to migrate, Apprise's plugins only for the URLs used), the extraction pool's size is the
config's `workers:` (0: extraction in the ingest process), and between runs the
extraction and ingest processes are let go."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import urllib.request

import pytest

from support.newssite import manifest

from newswatch.corpus.processes import DEFAULT_MAX_WORKERS, default_workers
from newswatch.jobs.config import ConfigError, load_config
from newswatch.store.db import open_store

pytestmark = pytest.mark.one_backend

# What a process loads only if it runs it: aiohttp (Scrapy's remote-control extension)
# and SciPy (datasketch's package import) are run by none, wordfreq (story terms' priors)
# only by the extraction and ingest processes.
HEAVY = ("scrapy", "twisted", "trafilatura", "aiohttp", "scipy", "wordfreq")


def loaded_after(script: str, cwd) -> dict[str, bool]:
    """Which of `HEAVY` a fresh interpreter has imported after running `script` (whose
    last act is to leave its result in `loaded`)."""
    probe = textwrap.dedent(script) + textwrap.dedent(f"""
        import json, sys
        print(json.dumps({{m: m in sys.modules for m in {HEAVY!r}}}))
    """)
    done = subprocess.run([sys.executable, "-c", probe], cwd=cwd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_a_notifier_loads_no_scrapy_twisted_or_trafilatura(newswatch):
    newswatch.write_config({"topics": [{"name": "t", "query": "arms", "notify": ["local"]}],
                            "channels": {"local": ["console://"]}})
    loaded = loaded_after(f"""
        import asyncio
        from newswatch.jobs.cli import main  # the CLI, as `newswatch run --role notifier` loads it
        from newswatch.jobs.config import load_config
        from newswatch.jobs.daemon import App
        from newswatch.jobs.roles import ROLES

        async def drain_once():
            app = App(load_config({str(newswatch.config)!r}), role=ROLES["notifier"])
            try:
                await app.deliver()
            finally:
                app.close()

        asyncio.run(drain_once())
    """, newswatch.workdir)
    assert loaded == dict.fromkeys(HEAVY, False)


def test_the_crawling_process_loads_no_trafilatura(newswatch, news_site):
    """The main process crawls and takes the articles back from the extraction workers
    (unpickling them) without importing the extraction code; the fork server has it."""
    newswatch.write_config({"sources": [{"name": "local", "feed": news_site.feed_url}],
                            "topics": [{"name": "t", "query": "arms", "notify": ["local"]}],
                            "channels": {"local": ["console://"]}})
    loaded = loaded_after(f"""
        from newswatch.jobs.config import load_config
        from newswatch.jobs.daemon import App, run_on_reactor

        async def crawl():
            app = App(load_config({str(newswatch.config)!r}))
            try:
                [run] = await app.crawl()
                assert run.new == {len(manifest())}, run
            finally:
                app.close()
            return 0

        run_on_reactor(crawl)
    """, newswatch.workdir)
    assert loaded == {"scrapy": True, "twisted": True, "trafilatura": False, "aiohttp": False, "scipy": False,
                      "wordfreq": False}


def test_between_runs_the_daemon_lets_its_extraction_and_ingest_processes_go(newswatch, news_site):
    """After a run the fork server has no children left; the next run forks them again
    and its page is extracted and stored."""
    newswatch.write_config({"workers": 1, "sources": [{"name": "local", "feed": news_site.feed_url}],
                            "topics": [{"name": "t", "query": "arms", "notify": ["local"]}],
                            "channels": {"local": ["console://"]}})
    script = textwrap.dedent(f"""
        import asyncio, json, os, sys, time
        from multiprocessing import forkserver
        from newswatch.jobs.config import load_config
        from newswatch.jobs.daemon import App, run_on_reactor

        def children(pid):
            return [c for t in os.listdir(f"/proc/{{pid}}/task")
                    for c in open(f"/proc/{{pid}}/task/{{t}}/children").read().split()]

        def gone(pid):
            deadline = time.monotonic() + 30
            while children(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            return not children(pid)

        async def runs():
            app = App(load_config({str(newswatch.config)!r}))
            try:
                await asyncio.wrap_future(app.executor.started)
                await asyncio.wrap_future(app.writer.started)
                server = forkserver._forkserver._forkserver_pid
                up = len(children(server))  # the ingest process and the worker
                [first] = await app.crawl()
                after_first = gone(server)
                print("first run over", flush=True)
                await asyncio.to_thread(sys.stdin.readline)  # the site has a new page now
                [second] = await app.crawl()
                print(json.dumps({{"up": up, "gone": [after_first, gone(server)],
                                  "stored": [first.new + first.duplicate, second.new + second.duplicate],
                                  "errors": [first.error, second.error]}}))
            finally:
                app.close()
            return 0

        run_on_reactor(runs)
    """)
    daemon = subprocess.Popen([sys.executable, "-c", script], cwd=newswatch.workdir, text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert daemon.stdout.readline().strip() == "first run over", daemon.stderr.read()
        # A page of the site published again under a new address.
        page = manifest()[0]
        with urllib.request.urlopen(news_site.url(page["path"])) as response:
            news_site.add_page("/world/republished.html", response.read())
        news_site.add_feed_item("/world/republished.html", page["title"])
        out, err = daemon.communicate("\n", timeout=180)
    finally:
        daemon.kill()
    assert daemon.returncode == 0, err
    assert json.loads(out.splitlines()[-1]) == {"up": 2, "gone": [True, True], "stored": [len(manifest()), 1],
                                                "errors": [None, None]}


def test_opening_a_database_at_the_newest_migration_loads_no_alembic(tmp_path):
    url = f"sqlite:///{tmp_path / 'newswatch.db'}"
    open_store(url).close()  # migrated (Alembic loaded) in this process
    probe = f"import sys; from newswatch.store.db import open_store; open_store({url!r}).close(); print('alembic' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False"]


@pytest.mark.parametrize("workers", [0, 1])
def test_workers_sizes_the_extraction_pool_and_0_extracts_in_the_ingest_process(newswatch, news_site, workers):
    newswatch.write_config({"workers": workers,
                            "sources": [{"name": "local", "feed": news_site.feed_url}],
                            "topics": [{"name": "korea", "query": "South Korea Ukraine arms",
                                        "notify": ["local"]}],
                            "channels": {"local": ["console://"]}})
    result = newswatch("run", "--once")
    assert result.returncode == 0, result.stderr
    status = json.loads(newswatch("status", "--json").stdout)
    assert status["sources"][0]["new"] == len(manifest())
    assert status["sources"][0]["failed"] == 0
    alerted = [a for a in manifest() if "korea-arms" in a["topics"]]
    assert alerted and status["outbox"]["sent"] == len(alerted)


@pytest.mark.parametrize("text, problem", [
    ("workers: -1", "workers: Input should be greater than or equal to 0"),
    ("workers: many", "workers: Input should be a valid integer"),
])
def test_bad_workers_is_a_config_error(tmp_path, text, problem):
    path = tmp_path / "newswatch.yaml"
    path.write_text(text + "\n")
    with pytest.raises(ConfigError, match=problem):
        load_config(path)


def test_workers_default_to_the_cores_at_most_two(tmp_path):
    path = tmp_path / "newswatch.yaml"
    path.write_text("topics: []\n")
    assert load_config(path).workers is None  # the pool's default
    assert 1 <= default_workers() <= DEFAULT_MAX_WORKERS == 2


# Builds a channel in a fresh interpreter, then prints the Apprise schemes it has loaded and
# whether Apprise's Discord plugin module was imported.
PLUGINS_PROBE = """
import json, sys
from newswatch.alerts.delivery import _PLUGINS, build_channel
channel = build_channel("c", sys.argv[1:])
print(json.dumps({"masked": [e.masked.split("/")[0] for e in channel.endpoints],
                  "schemes": sorted(_PLUGINS.schemas()),
                  "discord": "apprise.plugins.discord" in sys.modules}))
"""


def plugins_after(*urls: str) -> dict:
    done = subprocess.run([sys.executable, "-c", PLUGINS_PROBE, *urls], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_delivery_loads_only_the_apprise_plugins_of_its_urls():
    loaded = plugins_after("console://", "json://127.0.0.1:9/hook", "mailto://user:secret@example.com")
    assert loaded == {"masked": ["console:", "json:", "mailto:"],
                      "schemes": ["console", "json", "jsons", "mailto", "mailtos"], "discord": False}


def test_a_services_own_https_address_still_finds_its_plugin():
    # No scheme names it: Apprise asks every plugin, so all of them are loaded.
    loaded = plugins_after("console://", "https://discord.com/api/webhooks/123456/abcdef")
    assert loaded["masked"] == ["console:", "discord:"]
    assert loaded["discord"] and len(loaded["schemes"]) > 100
