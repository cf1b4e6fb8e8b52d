"""Shared fixtures: real local servers (a news site, SMTP, a webhook endpoint) and a way
to run the `newswatch` CLI as a user does, in a subprocess (Twisted's reactor cannot be
restarted, so every `run` gets a process of its own)."""
from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from support.databases import BACKEND_ENV, database_url, postgres_server, postgres_url, store  # noqa: F401  (fixtures)
from support.mailservers import smtp_server, wait_for, webhook_server  # noqa: F401  (fixtures)
from support.newssite import news_site, sites  # noqa: F401  (fixtures)

REPO = Path(__file__).resolve().parent.parent


def pytest_addoption(parser):
    parser.addoption(
        "--database", choices=["sqlite", "postgres"], default=None,
        help=f"the backend for tests that take `database_url` (default: ${BACKEND_ENV} or sqlite)",
    )


def pytest_collection_modifyitems(items):
    # A test that needs PostgreSQL whatever the backend is selectable with `-m postgres`;
    # one that runs on the selected backend (`database_url`, and so every CLI test) with
    # `-m database`, unless it is marked `one_backend`: its subject (crawling, extraction,
    # config, process start-up) goes through no backend-specific code, so CI's PostgreSQL
    # pass (`-m database`) leaves it to the SQLite pass.
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if "postgres_url" in fixtures:
            item.add_marker(pytest.mark.postgres)
        elif "database_url" in fixtures and not item.get_closest_marker("one_backend"):
            item.add_marker(pytest.mark.database)


@dataclass
class CLIResult:
    returncode: int
    stdout: str
    stderr: str


class Newswatch:
    """Runs `newswatch` in a working directory of its own, with a config written there.
    A config without a `database` key gets the test's `database_url` (when given), so
    every CLI test runs on the backend the run is for. The tests' servers listen on
    127.0.0.1, a private address newswatch refuses by default: a config without
    `crawl.allow_private` opts in (`crawl: {allow_private: true}`), unless the test sets
    `allow_private = False` (the tests of that refusal)."""

    allow_private = True

    def __init__(self, workdir: Path, database_url: str | None = None):
        self.workdir = workdir
        self.database_url = database_url
        self.config = workdir / "newswatch.yaml"
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.env.pop("NEWSWATCH_CONFIG", None)

    def write_config(self, config: dict | str) -> Path:
        config = self._opt_in(config) if self.allow_private else config
        if self.database_url is None:
            text = config if isinstance(config, str) else yaml.safe_dump(config, sort_keys=False)
        elif isinstance(config, dict):
            text = yaml.safe_dump({"database": self.database_url, **config}, sort_keys=False)
        else:
            text = config
            try:
                parsed = yaml.safe_load(text)
            except yaml.YAMLError:
                parsed = None  # a test of broken YAML: written as given
            if isinstance(parsed, dict) and "database" not in parsed:
                text = text.rstrip("\n") + f"\ndatabase: {self.database_url}\n"
        self.config.write_text(text, encoding="utf-8")
        return self.config

    @staticmethod
    def _opt_in(config: dict | str) -> dict | str:
        if isinstance(config, dict):
            crawl = config.get("crawl") or {}
            return {**config, "crawl": {"allow_private": True, **crawl}} if isinstance(crawl, dict) else config
        try:
            parsed = yaml.safe_load(config)
        except yaml.YAMLError:
            return config  # a test of broken YAML: written as given
        if isinstance(parsed, dict) and "crawl" not in parsed:
            return config.rstrip("\n") + "\ncrawl: {allow_private: true}\n"
        return config

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "newswatch.jobs.cli", *args]

    def __call__(self, *args: str, timeout: float = 120) -> CLIResult:
        done = subprocess.run(
            self.command(*args), cwd=self.workdir, env=self.env, capture_output=True,
            text=True, timeout=timeout,
        )
        return CLIResult(done.returncode, done.stdout, done.stderr)

    def start(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen(
            self.command(*args), cwd=self.workdir, env=self.env, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )


@pytest.fixture
def newswatch(tmp_path, database_url) -> Newswatch:
    return Newswatch(tmp_path, database_url)
