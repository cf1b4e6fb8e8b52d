"""The layout's promises: imports run with the data (the import-linter contracts in
pyproject.toml), every library the code imports is declared, the corpus loads no Scrapy,
Twisted, Apprise or Jinja2, and a process starts only what its role runs."""
from __future__ import annotations

import ast
import re
import select
import signal
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

from support.mailservers import wait_for

pytestmark = pytest.mark.one_backend

REPO = Path(__file__).resolve().parent.parent
HEAVY = ("scrapy", "twisted", "apprise", "jinja2")
CODE = ("crawler", "corpus", "alerts", "web", "jobs", "store")
RUNTIME_EXTRAS = ("postgres", "semantic")  # not `test`: the code never imports its libraries


def test_the_import_contracts_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint)], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def _distributions(requirements: list[str]) -> set[str]:
    return {re.sub(r"[-_.]+", "-", re.match(r"[\w.-]+", r).group()).lower() for r in requirements}


def test_every_library_the_code_imports_is_declared():
    """A library imported only through another's dependencies disappears when that one
    drops it (numpy came with datasketch); each is named in pyproject.toml itself."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = _distributions(project["dependencies"])
    for extra in RUNTIME_EXTRAS:
        declared |= _distributions(project["optional-dependencies"][extra])
    provided_by = packages_distributions()
    undeclared = set()
    for path in (p for folder in CODE for p in (REPO / folder).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for top in (m.split(".")[0] for m in modules):
                if top in sys.stdlib_module_names or top in ("newswatch", "__future__"):
                    continue
                if not _distributions(provided_by.get(top, [top])) & declared:
                    undeclared.add(f"{top} ({path.relative_to(REPO)})")
    assert not undeclared, sorted(undeclared)


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
