"""Start-up: each CLI command's wall time against importing SQLAlchemy alone.

Workload: the seeds demo (seeds/newswatch.yaml: one folder source of two articles, one
topic, a console:// channel), copied into a temporary folder with its SQLite store
migrated beforehand. Each command runs as a user runs it, `python -m newswatch.jobs.cli`
in a fresh process, `REPEAT` times (`run --once`: `REPEAT_RUN`); the figure is the median
wall time, and the spread (slowest - fastest) is printed beside it:

- `check`, `status`, `stories`, `match "South Korea arms"` on the store after one run;
- `run --once` on a store put back, before each repetition, to its migrated, empty state,
  so every repetition extracts, stores and alerts the same two articles.

Baseline, same run and same way: `python -c "import sqlalchemy"` (`baseline_ms`), the
least any command that opens the store pays. Each command reports `NAME_ms` and
`NAME_x` (÷ baseline). `python -m bench.startup`; the last line is one JSON object.
"""
from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
REPEAT, REPEAT_RUN = 5, 3
CLI = [sys.executable, "-m", "newswatch.jobs.cli", "--config", "newswatch.yaml"]
COMMANDS = {
    "check": ["check"],
    "status": ["status"],
    "stories": ["stories"],
    "match": ["match", "South Korea arms"],
}


def wall_ms(argv: list[str], cwd: Path, before=None, repeat: int = REPEAT) -> tuple[float, float]:
    """Median and spread (max - min) of `argv`'s wall time in ms over `repeat` runs."""
    times = []
    for _ in range(repeat):
        if before:
            before()
        started = time.perf_counter()
        subprocess.run(argv, cwd=cwd, check=True, capture_output=True)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times) - min(times)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        shutil.copytree(REPO / "seeds", work / "seeds")
        shutil.copy(REPO / "seeds" / "newswatch.yaml", work / "newswatch.yaml")
        subprocess.run([*CLI, "db", "upgrade"], cwd=work, check=True, capture_output=True)
        empty = work / "empty.db"
        shutil.copy(work / "newswatch.db", empty)

        def fresh_store() -> None:
            for suffix in ("-wal", "-shm"):
                (work / f"newswatch.db{suffix}").unlink(missing_ok=True)
            shutil.copy(empty, work / "newswatch.db")

        figures: dict[str, float] = {}
        baseline, spread = wall_ms([sys.executable, "-c", "import sqlalchemy"], work)
        figures["baseline_ms"], figures["baseline_spread_ms"] = baseline, spread
        print(f"python -c 'import sqlalchemy': {baseline:.0f} ms (spread {spread:.0f})")
        runs = {"run_once": (["run", "--once"], fresh_store, REPEAT_RUN)}
        runs.update({name: (argv, None, REPEAT) for name, argv in COMMANDS.items()})
        for name, (argv, before, repeat) in runs.items():
            median, spread = wall_ms([*CLI, *argv], work, before, repeat)
            figures[f"{name}_ms"], figures[f"{name}_spread_ms"] = median, spread
            figures[f"{name}_x"] = median / baseline
            print(f"{' '.join(argv):<28} {median:6.0f} ms (spread {spread:.0f}), "
                  f"{median / baseline:.1f}x the baseline")
    print(json.dumps({"repeat": REPEAT, "repeat_run": REPEAT_RUN, **{k: round(v, 2) for k, v in figures.items()}}))


if __name__ == "__main__":
    main()
