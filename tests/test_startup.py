"""What each CLI command loads at start-up: the read-only ones (`status`, `stories`,
`match`) import neither Scrapy, Twisted, trafilatura nor Apprise; `check` loads Apprise
only, to check the channels' URLs with Apprise's own parsers, and still rejects a URL
Apprise cannot load.

Each case runs the command's code path in a fresh interpreter (`main(argv)`, as the
`newswatch` script does) and reads `sys.modules` after it returned."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.one_backend

HEAVY = ("scrapy", "twisted", "trafilatura", "apprise")

# Runs the CLI in this process, then prints which of HEAVY it loaded, as the last line.
PROBE = """
import json, sys
from newswatch.jobs.cli import main
code = main(sys.argv[1:])
loaded = sorted({name.split(".")[0] for name in sys.modules} & set(%r))
print(json.dumps({"code": code, "loaded": loaded}))
""" % (HEAVY,)

CONFIG = {
    "sources": [{"name": "wire", "feed": "http://127.0.0.1:9/feed.xml"}],
    "topics": [{"name": "arms", "query": "South Korea Ukraine arms", "notify": ["local"]}],
    "channels": {"local": ["console://", "json://127.0.0.1:9/hook"]},
}

CASES = [
    # (argv, what of HEAVY it may load)
    (["status"], []),
    (["status", "--json"], []),
    (["stories"], []),
    (["stories", "--json", "--topic", "arms"], []),
    (["match", "South Korea arms"], []),
    (["match", "--topic", "arms", "--json"], []),
    (["match", "--topic", "arms", "--backfill"], []),
    (["check"], ["apprise"]),
]


def probe(newswatch, *args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, "--config", str(newswatch.config), *args],
        cwd=newswatch.workdir, env=newswatch.env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


@pytest.mark.parametrize("argv, allowed", CASES, ids=[" ".join(argv) for argv, _ in CASES])
def test_command_loads_only_what_it_uses(newswatch, argv, allowed):
    newswatch.write_config(CONFIG)
    result = probe(newswatch, *argv)
    assert result == {"code": 0, "loaded": allowed}


def test_check_still_rejects_a_channel_url_apprise_cannot_load(newswatch):
    newswatch.write_config({**CONFIG, "channels": {"local": ["nosuchscheme://x"]}})
    result = newswatch("check")
    assert result.returncode == 2
    assert "channels.local" in result.stderr and "unknown scheme 'nosuchscheme'" in result.stderr


def test_read_only_commands_leave_channel_urls_to_check(newswatch):
    # `status` sends nothing: a channel URL only Apprise could judge does not stop it.
    newswatch.write_config({**CONFIG, "channels": {"local": ["nosuchscheme://x"]}})
    assert newswatch("status").returncode == 0
