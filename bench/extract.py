"""Extraction quality and cost (corpus/extract.py) against default trafilatura.

Workload: the HTML fixtures in tests/pages/ (8 news pages of different shapes, each with a
hand-made sidecar of its body paragraphs) and the 12 article pages of the test news site
in tests/site/ (no sidecar: timed only). Each page's raw bytes go to our `extract_html`
and to `trafilatura.extract` with default settings (the baseline, same run), 15 rounds
interleaved; a page's time is its median round.

Quality: word-level (bag of words) precision, recall and F1 of the body text against the
sidecar, per page and averaged. Cost: total median time of ours over total of default
(`time_ratio`, target <= 1.3), also for each set of pages. The last line printed is one
JSON object of the figures.
"""
from __future__ import annotations

import json
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import trafilatura

from newswatch.corpus.extract import extract_html

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = 15
_WORD = re.compile(r"\w+(?:['’]\w+)*")


def words(text: str | None) -> Counter[str]:
    return Counter(w.lower() for w in _WORD.findall(text or ""))


def prf(got_text: str | None, want_text: str) -> tuple[float, float, float]:
    got, want = words(got_text), words(want_text)
    common = sum((got & want).values())
    p, r = common / max(1, sum(got.values())), common / max(1, sum(want.values()))
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def pages() -> list[tuple[str, str, bytes, str | None]]:
    """(set, name, raw bytes, expected body or None)."""
    found = []
    for html in sorted((ROOT / "tests" / "pages").glob("*.html")):
        expected = json.loads(html.with_suffix(".json").read_text(encoding="utf-8"))
        found.append(("pages", html.stem, html.read_bytes(), "\n\n".join(expected["paragraphs"]),
                      expected["url"]))
    for html in sorted((ROOT / "tests" / "site").rglob("*.html")):
        path = "/" + html.relative_to(ROOT / "tests" / "site").as_posix()
        found.append(("site", html.stem, html.read_bytes(), None, "https://news.example" + path))
    return found


def timed(fn, *args) -> float:
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def main() -> int:
    rows = []
    for group, name, raw, body, url in pages():
        ours_article = extract_html(raw, url)
        default_text = trafilatura.extract(raw)
        ours_t, default_t = [], []
        for _ in range(ROUNDS):
            ours_t.append(timed(extract_html, raw, url))
            default_t.append(timed(trafilatura.extract, raw))
        row = {"set": group, "page": name, "ours_ms": statistics.median(ours_t) * 1000,
               "default_ms": statistics.median(default_t) * 1000}
        if body is not None:
            row["ours"] = prf(ours_article.text, body)
            row["default"] = prf(default_text, body)
        rows.append(row)
        quality = ""
        if body is not None:
            quality = (f"  F1 ours {row['ours'][2]:.3f} default {row['default'][2]:.3f}")
        print(f"{group:>5} {name:<48} {row['ours_ms']:6.1f} ms vs {row['default_ms']:6.1f} ms "
              f"(x{row['ours_ms'] / row['default_ms']:.2f}){quality}")

    scored = [r for r in rows if "ours" in r]

    def mean(key: str, index: int) -> float:
        return round(statistics.fmean(r[key][index] for r in scored), 4)

    def ratio(group: str | None) -> float:
        chosen = [r for r in rows if group is None or r["set"] == group]
        return round(sum(r["ours_ms"] for r in chosen) / sum(r["default_ms"] for r in chosen), 3)

    figures = {
        "pages_scored": len(scored),
        "pages_timed": len(rows),
        "precision": mean("ours", 0), "recall": mean("ours", 1), "f1": mean("ours", 2),
        "default_precision": mean("default", 0), "default_recall": mean("default", 1),
        "default_f1": mean("default", 2),
        "time_ratio": ratio(None),
        "time_ratio_pages": ratio("pages"),
        "time_ratio_site": ratio("site"),
        "worst_page_ratio": round(max(r["ours_ms"] / r["default_ms"] for r in rows), 3),
    }
    for key, value in figures.items():
        print(f"{key:>18}: {value}")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
