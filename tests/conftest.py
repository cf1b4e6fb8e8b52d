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

from mailservers import smtp_server, wait_for, webhook_server  # noqa: F401  (fixtures)
from newssite import news_site  # noqa: F401  (fixture)

REPO = Path(__file__).resolve().parent.parent


@dataclass
class CLIResult:
    returncode: int
    stdout: str
    stderr: str


class Newswatch:
    """Runs `newswatch` in a working directory of its own, with a config written there."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.config = workdir / "newswatch.yaml"
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.env.pop("NEWSWATCH_CONFIG", None)

    def write_config(self, config: dict | str) -> Path:
        text = config if isinstance(config, str) else yaml.safe_dump(config, sort_keys=False)
        self.config.write_text(text, encoding="utf-8")
        return self.config

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
def newswatch(tmp_path) -> Newswatch:
    return Newswatch(tmp_path)
