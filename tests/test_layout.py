"""The layout's promises: imports run with the data (the import-linter contracts in
pyproject.toml), the corpus loads no Scrapy, Twisted, Apprise or Jinja2, and a process
starts only what its role runs."""
from __future__ import annotations

import select
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from support.mailservers import wait_for

pytestmark = pytest.mark.one_backend

REPO = Path(__file__).resolve().parent.parent
HEAVY = ("scrapy", "twisted", "apprise", "jinja2")


def test_the_import_contracts_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint)], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def test_the_extraction_and_ingest_processes_load_no_scrapy_apprise_or_jinja2():
    probe = ("import newswatch.corpus.processes, sys; "
             f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def test_a_notifier_starts_no_extraction_or_ingest_process(newswatch):
    newswatch.write_config({
        "sources": [{"name": "inbox", "path": "drop"}],
        "topics": [{"name": "t", "query": "arms", "notify": ["local"]}],
        "channels": {"local": ["console://"]},
    })
    (newswatch.workdir / "drop").mkdir()
    process = newswatch.start("run", "--role", "notifier")
    try:
        def started() -> bool:
            ready, _, _ = select.select([process.stderr], [], [], 0.5)
            return bool(ready) and "newswatch running (notifier)" in process.stderr.readline()

        wait_for(started, timeout=60)
        assert _children(process.pid) == []
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
    assert process.returncode == 0
