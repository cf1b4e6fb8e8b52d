"""Memory: the daemon's process tree, measured as proportional set size (PSS).

PSS counts a page shared by N processes as 1/N in each, so the sum over a process tree
is what the tree costs the machine (pages a fork server shares with its children count
once). Each figure is `Pss:` of /proc/PID/smaps_rollup (Linux), in MB.

Workloads, each `newswatch run` in a temporary directory with a SQLite file of its own:
- `seeds`: the seeds config (seeds/newswatch.yaml, one folder source, one topic), idle
  after its first run (every source has run and the outbox is empty);
- `feeds20`: 20 local sites (bench/sitegen.py, 10 generated article pages each, served by
  tests/support/newssite.py) as 20 feed sources, with 1,000 generated topics, idle after
  its first run;
- `seeds_workers0`: the same with `workers: 0` (extraction in the ingest process);
- `notifier`: `--role notifier` on the seeds config, once it is running;
- `crawler`: `--role crawler` on the seeds config with Redis at 127.0.0.1:6379 (a source
  name of its own, so the shared server's other keys are not touched), once it is running
  and its extraction and ingest processes are up.

Each process's USS (its private pages: what ending it would free) is printed beside.
Each process is named by what it is: `main`, `forkserver`, `resource_tracker`, `ingest`
(the fork server's child with the SQLite file open) or `extraction` (its other children).
An idle `run --role all` has neither of the last two: between runs the daemon lets them
go, and forks them again from the fork server for the next run.
Targets (issue 22): seeds total <= 250 MB, feeds20 total <= 350 MB, notifier <= 80 MB.
`python -m bench.memory`; the last line is one JSON object of the figures.
"""
from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import redis
import yaml

from bench.sitegen import PLACES, WORDS, build_site

ROOT = Path(__file__).resolve().parent.parent
FEEDS = 20
PAGES_PER_FEED = 10
TOPICS = 1000
REDIS = "redis://127.0.0.1:6379/0"
DEADLINE_S = 60


def queries(count: int, seed: int = 22) -> list[str]:
    """Topic queries in the shapes people write (words, phrases, a place, an OR, a NOT, a
    title: field) over the generated sites' vocabulary, each narrow enough that an article
    matches a few topics, not hundreds (the sites' prose is drawn from a small vocabulary)."""
    rng = random.Random(seed)
    w, p = (lambda: rng.choice(WORDS)), (lambda: rng.choice(PLACES))
    shapes = [
        lambda: f'title:"{w()} {w()}"',
        lambda: f'"{w()} {w()}" "{w()} {w()}" title:{p()}',
        lambda: f"title:{p()} title:{w()} title:{w()}",
        lambda: f'({w()} OR {w()}) title:"{w()} {w()}"',
        lambda: f'title:{w()} title:{w()} "{w()} {w()}" -{p()}',
    ]
    return [rng.choice(shapes)() for _ in range(count)]


def rollup_kb(pid: int) -> dict[str, int]:
    """/proc/PID/smaps_rollup's sizes, in kB, by field."""
    out = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3 and parts[2] == "kB":
                out[parts[0].rstrip(":")] = int(parts[1])
    return out


def children(pid: int) -> list[int]:
    out = []
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            out += [int(c) for c in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
        except FileNotFoundError:
            pass
    return out


def tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        todo += children(p)
    return pids


def role_of(pid: int, root: int, database: Path | None) -> str:
    if pid == root:
        return "main"
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    if "resource_tracker" in cmdline:
        return "resource_tracker"
    if "forkserver" in cmdline and "main" in cmdline and _parent(pid) == root:
        return "forkserver"
    if database is not None:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == str(database):
                    return "ingest"
            except OSError:
                pass
    return "extraction"


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def measure(pid: int, database: Path | None) -> dict:
    processes = []
    for p in tree(pid):
        sizes = rollup_kb(p)
        processes.append({"pid": p, "role": role_of(p, pid, database), "pss_mb": round(sizes["Pss"] / 1024, 1),
                          # USS: the pages only this process holds (what ending it would free)
                          "uss_mb": round((sizes["Private_Clean"] + sizes["Private_Dirty"]) / 1024, 1)})
    return {"processes": processes, "total_mb": round(sum(p["pss_mb"] for p in processes), 1)}


def wait_for(what: str, ready, daemon: subprocess.Popen, log: Path) -> None:
    """Poll `ready()` until it is true (a daemon that exits, or the deadline, fails the run)."""
    deadline = time.monotonic() + DEADLINE_S
    while not ready():
        if daemon.poll() is not None:
            sys.exit(f"the daemon exited ({daemon.returncode}) before {what}:\n{log.read_text()[-3000:]}")
        if time.monotonic() > deadline:
            sys.exit(f"no {what} after {DEADLINE_S}s:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)


def cli(config: Path) -> list[str]:
    return [sys.executable, "-m", "newswatch.jobs.cli", "--config", str(config)]


def first_run_over(config: Path, workdir: Path) -> bool:
    """Every enabled source has run once and no alert is pending."""
    done = subprocess.run([*cli(config), "status", "--json"], capture_output=True, text=True, cwd=workdir)
    if done.returncode != 0:
        return False
    status = json.loads(done.stdout)
    return all(s["last_run"] for s in status["sources"]) and status["outbox"]["pending"] == 0


def daemon(config: Path, workdir: Path, role: str, ready, name: str, database: Path | None) -> dict:
    log = workdir / f"{name}.log"
    with open(log, "w") as err:
        proc = subprocess.Popen([*cli(config), "run", "--role", role], cwd=workdir,
                                stdout=subprocess.DEVNULL, stderr=err)
    try:
        wait_for(f"{name} ready", lambda: "newswatch running" in log.read_text() and ready(proc), proc, log)
        return measure(proc.pid, database)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def pool_up(workers: int, database: Path):
    """The crawling role's processes are all up: the fork server has its extraction
    workers and the ingest process, which has opened the database."""
    def ready(proc: subprocess.Popen) -> bool:
        roles = [role_of(p, proc.pid, database) for p in tree(proc.pid)]
        return roles.count("ingest") == 1 and roles.count("extraction") >= workers
    return ready


def seeds_dir(tmp: Path, name: str) -> tuple[Path, Path]:
    workdir = tmp / name
    workdir.mkdir()
    shutil.copytree(ROOT / "seeds", workdir / "seeds")
    return workdir, workdir / "seeds" / "newswatch.yaml"


def main() -> None:
    started = time.perf_counter()
    workers = min(len(os.sched_getaffinity(0)), 2)
    results: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)

        workdir, config = seeds_dir(tmp, "seeds")
        results["seeds"] = daemon(config, workdir, "all", lambda _: first_run_over(config, workdir),
                                  "seeds", workdir / "newswatch.db")

        workdir0, config0 = seeds_dir(tmp, "seeds_workers0")
        config0.write_text(config0.read_text() + "workers: 0\n")
        results["seeds_workers0"] = daemon(config0, workdir0, "all", lambda _: first_run_over(config0, workdir0),
                                           "seeds_workers0", workdir0 / "newswatch.db")

        results["notifier"] = daemon(config, workdir, "notifier", lambda _: True, "notifier", None)

        workdir, config = seeds_dir(tmp, "crawler")
        settings = yaml.safe_load(config.read_text())
        source = f"seeds-memory-{uuid.uuid4().hex[:8]}"  # Redis keys of its own
        settings["sources"][0]["name"] = source
        settings["redis"] = REDIS
        config.write_text(yaml.safe_dump(settings))
        try:
            results["crawler"] = daemon(config, workdir, "crawler", pool_up(workers, workdir / "newswatch.db"),
                                        "crawler", workdir / "newswatch.db")
        finally:
            server = redis.Redis.from_url(REDIS)
            keys = list(server.scan_iter(match=f"*{source}*"))
            if keys:
                server.delete(*keys)

        workdir = tmp / "feeds20"
        workdir.mkdir()
        sites = [build_site(workdir / f"site{i}", PAGES_PER_FEED, seed=i)[0] for i in range(FEEDS)]
        for site in sites:
            site.start()
        try:
            config = workdir / "newswatch.yaml"
            config.write_text(yaml.safe_dump({
                "database": f"sqlite:///{workdir / 'newswatch.db'}",
                "sources": [{"name": f"feed-{i}", "feed": s.feed_url} for i, s in enumerate(sites)],
                "topics": [{"name": f"topic-{i}", "query": q, "notify": ["local"]}
                           for i, q in enumerate(queries(TOPICS))],
                "channels": {"local": ["console://"]},
                "crawl": {"allow_private": True},  # the sites are on 127.0.0.1
            }))
            results["feeds20"] = daemon(config, workdir, "all", lambda _: first_run_over(config, workdir),
                                        "feeds20", workdir / "newswatch.db")
        finally:
            for site in sites:
                site.stop()

    for name, result in results.items():
        print(f"{name}: total {result['total_mb']} MB")
        for p in result["processes"]:
            print(f"  {p['role']:<17} pid {p['pid']:<8} PSS {p['pss_mb']:>7.1f} MB  USS {p['uss_mb']:>7.1f} MB")
    figures = {f"{name}_total_mb": r["total_mb"] for name, r in results.items()}
    for name, r in results.items():
        figures[f"{name}_processes"] = [(p["role"], p["pss_mb"]) for p in r["processes"]]
    figures["feeds"], figures["topics"] = FEEDS, TOPICS
    figures["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
