"""The `newswatch` command line.

Every command that reads the config validates it first: a bad config prints one message
naming the file, the key and the problem, and exits 2 before anything starts. Output for
people goes to stdout; logs go to stderr.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import urllib.request
from datetime import datetime, timedelta, timezone
from importlib import resources
from pathlib import Path

from sqlalchemy import exists, select

from newswatch.alerts.delivery import register_console, send
from newswatch.alerts.query import Document, QueryError, parse
from newswatch.alerts.render import Message
from newswatch.crawler.extract import ExtractionError, extract
from newswatch.jobs.config import ConfigError, find_config, load_config, parse_duration
from newswatch.jobs.logs import ENV_VAR as LOG_FORMAT_ENV
from newswatch.jobs.logs import FORMATS as LOG_FORMATS
from newswatch.jobs.logs import setup_logging
from newswatch.store.db import open_store
from newswatch.store.models import Article, Match, OutboxRow, SourceState, Story

log = logging.getLogger("newswatch")

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
FETCH_LIMIT = 10 * 1024 * 1024


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(args.verbose, args.log_format)
    try:
        return args.handler(args)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newswatch", description=__doc__.splitlines()[0])
    parser.add_argument("--config", help="config file (default: $NEWSWATCH_CONFIG or ./newswatch.yaml)")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument("--log-format", choices=LOG_FORMATS, default=os.environ.get(LOG_FORMAT_ENV) or "text",
                        help=f"log lines for people, or JSON lines (default: ${LOG_FORMAT_ENV} or text)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name, handler, help):
        sub = commands.add_parser(name, help=help, description=help)
        sub.set_defaults(handler=handler)
        # Accept --config after the command too (`newswatch run --config x.yaml`).
        sub.add_argument("--config", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        sub.add_argument("--log-format", choices=LOG_FORMATS, default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        return sub

    sub = command("init", cmd_init, "write a commented starter newswatch.yaml")
    sub.add_argument("dir", nargs="?", default=".")
    command("check", cmd_check, "validate the config and the channel URLs")
    sub = command("run", cmd_run, "run the daemon (or one pass with --once)")
    sub.add_argument("--once", action="store_true", help="crawl every source once, deliver, exit")
    sub.add_argument("--role", choices=["all", "scheduler", "crawler", "notifier"], default="all",
                     help="all (default): everything in this process; scheduler: put due sources on "
                          "Redis (one only); crawler: crawl them (any number); notifier: deliver alerts")
    sub = command("crawl", cmd_crawl, "crawl the named sources now")
    sub.add_argument("names", nargs="+", metavar="NAME")
    sub = command("extract", cmd_extract, "print the article extracted from files or URLs")
    sub.add_argument("inputs", nargs="+", metavar="PATH_OR_URL")
    sub.add_argument("--jsonl", action="store_true", help="one JSON object per line")
    sub = command("match", cmd_match, "backtest a query on the stored corpus")
    sub.add_argument("query")
    sub.add_argument("--since", default="7d", type=_duration)
    sub.add_argument("--json", action="store_true")
    sub = command("stories", cmd_stories, "list story groups and their articles")
    sub.add_argument("--since", default="7d", type=_duration)
    sub.add_argument("--topic")
    sub.add_argument("--json", action="store_true")
    sub = command("status", cmd_status, "per-source health and the outbox")
    sub.add_argument("--json", action="store_true")
    sub = command("notify-test", cmd_notify_test, "send a test message through a channel")
    sub.add_argument("channel")
    sub = command("db", cmd_db, "database maintenance")
    sub.add_argument("action", choices=["upgrade"])
    return parser


def _duration(value: str) -> timedelta:
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


# --- commands ------------------------------------------------------------------------


def cmd_init(args) -> int:
    target = Path(args.dir) / "newswatch.yaml"
    if target.exists():
        print(f"{target} exists; not overwriting it", file=sys.stderr)
        return EXIT_FAILED
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(resources.files("newswatch.jobs").joinpath("starter.yaml").read_text("utf-8"))
    print(f"wrote {target}; edit it, then: newswatch check --config {target}")
    return EXIT_OK


def cmd_check(args) -> int:
    config = load_config(args.config)
    print(
        f"{config.path}: ok ({len(config.sources)} sources, {len(config.topics)} topics, "
        f"{len(config.channels)} channels)"
    )
    return EXIT_OK


def cmd_run(args) -> int:
    from newswatch.jobs.daemon import App, run_on_reactor

    config = load_config(args.config)
    if args.role in ("scheduler", "crawler") and not config.redis:
        raise ConfigError(config.path, [("redis", f"required for --role {args.role} "
                                                  "(e.g. redis: redis://127.0.0.1:6379/0)")])

    async def main() -> int:
        app = App(config)
        try:
            return await (app.once() if args.once else app.serve(args.role))
        finally:
            app.close()

    return run_on_reactor(main)


def cmd_crawl(args) -> int:
    from newswatch.jobs.daemon import App, run_on_reactor

    config = load_config(args.config)
    unknown = sorted(set(args.names) - {s.name for s in config.sources})
    if unknown:
        print(f"{config.path}: sources: no source named {', '.join(unknown)}", file=sys.stderr)
        return EXIT_USAGE

    async def main() -> int:
        app = App(config)
        try:
            runs = await app.crawl(args.names)
        finally:
            app.close()
        for run in runs:
            print(f"{run.source}: {run.new} new, {run.duplicate} duplicate, {run.failed} failed"
                  + (f" ({run.error})" if run.error else ""))
        return EXIT_FAILED if any(run.error for run in runs) else EXIT_OK

    return run_on_reactor(main)


def cmd_extract(args) -> int:
    status = EXIT_OK
    for item in args.inputs:
        try:
            body, url, content_type = _read(item)
            article = extract(body, url, content_type)
        except (OSError, ValueError, ExtractionError) as exc:
            print(f"{item}: {exc}", file=sys.stderr)
            status = EXIT_FAILED
            continue
        record = {
            "url": article.url,
            "canonical_url": article.canonical_url,
            "title": article.title,
            "text": article.text,
            "published": article.published.isoformat() if article.published else None,
            "language": article.language,
            "author": article.author,
        }
        print(json.dumps(record, ensure_ascii=False, indent=None if args.jsonl else 2))
    return status


def _read(item: str) -> tuple[bytes, str, str | None]:
    if item.startswith(("http://", "https://")):
        request = urllib.request.Request(item, headers={"User-Agent": "newswatch extract"})
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read(FETCH_LIMIT + 1)
            if len(body) > FETCH_LIMIT:
                raise ValueError(f"larger than {FETCH_LIMIT // (1024 * 1024)} MB")
            return body, response.url, response.headers.get("Content-Type")
    path = Path(item)
    return path.read_bytes(), path.resolve().as_uri(), None


def cmd_match(args) -> int:
    try:
        query = parse(args.query)
    except QueryError as exc:
        print(f"query does not parse: {exc}", file=sys.stderr)
        return EXIT_USAGE
    config = load_config(args.config)
    since = datetime.now(timezone.utc) - args.since
    store = open_store(config.database)
    hits = []
    with store.session() as session:
        articles = session.scalars(
            select(Article).where(Article.first_seen >= since, Article.text.is_not(None))
            .order_by(Article.first_seen)
        )
        for article in articles:
            found = query.match(Document(article.title, article.text))
            if found:
                hits.append({
                    "url": article.url, "title": article.title, "source": article.source,
                    "first_seen": article.first_seen.isoformat(), "score": round(found.score, 3),
                    "snippets": [s.text for s in found.snippets],
                })
    store.close()
    if args.json:
        print(json.dumps(hits, ensure_ascii=False, indent=2))
    else:
        for hit in hits:
            print(f"{hit['score']:7.2f}  {hit['title']}\n         {hit['source']}  {hit['url']}")
            for snippet in hit["snippets"]:
                print(f"         … {snippet}")
        print(f"{len(hits)} articles matched")
    return EXIT_OK


def cmd_stories(args) -> int:
    config = load_config(args.config)
    since = datetime.now(timezone.utc) - args.since
    store = open_store(config.database)
    with store.session() as session:
        query = select(Story).where(Story.first_seen >= since).order_by(Story.first_seen.desc())
        if args.topic:
            query = query.where(
                exists().where(Article.story_id == Story.id, Match.article_id == Article.id,
                               Match.topic == args.topic)
            )
        stories = [
            {
                "id": story.id,
                "title": story.title,
                "first_seen": story.first_seen.isoformat(),
                "articles": [
                    {"url": a.url, "title": a.title, "source": a.source,
                     "first_seen": a.first_seen.isoformat(),
                     "published": a.published.isoformat() if a.published else None,
                     "duplicate": a.duplicate_of is not None}
                    for a in story.articles
                ],
            }
            for story in session.scalars(query)
        ]
    store.close()
    if args.json:
        print(json.dumps(stories, ensure_ascii=False, indent=2))
        return EXIT_OK
    for story in stories:
        print(f"#{story['id']}  {story['title']}  ({story['first_seen'][:16]})")
        for a in story["articles"]:
            print(f"    {a['source']:<16} {a['title']}\n    {'':<16} {a['url']}")
    print(f"{len(stories)} stories")
    return EXIT_OK


def cmd_status(args) -> int:
    config = load_config(args.config)
    store = open_store(config.database)
    with store.session() as session:
        states = {s.name: s for s in session.scalars(select(SourceState))}
        rows = session.scalars(select(OutboxRow)).all()
        sources = []
        for source in config.sources:
            state = states.get(source.name)
            sources.append({
                "name": source.name,
                "kind": source.kind,
                "last_run": state.last_run_at.isoformat() if state and state.last_run_at else None,
                "duration_s": round(state.last_duration_s, 2) if state and state.last_duration_s else None,
                "new": state.new_count if state else 0,
                "duplicate": state.duplicate_count if state else 0,
                "failed": state.failed_count if state else 0,
                "last_error": state.last_error if state else None,
            })
        outbox = {
            "pending": sum(r.status == "pending" for r in rows),
            "sent": sum(r.status == "sent" for r in rows),
            "failing": sum(r.status == "pending" and r.attempts > 0 for r in rows),
        }
    store.close()
    if args.json:
        print(json.dumps({"sources": sources, "outbox": outbox}, indent=2))
        return EXIT_OK
    for s in sources:
        print(f"{s['name']:<20} last run {s['last_run'] or 'never':<32} "
              f"{s['new']} new, {s['duplicate']} duplicate, {s['failed']} failed"
              + (f"  error: {s['last_error']}" if s["last_error"] else ""))
    print(f"alerts: {outbox['pending']} pending ({outbox['failing']} failing), {outbox['sent']} sent")
    return EXIT_OK


def cmd_notify_test(args) -> int:
    config = load_config(args.config)
    channel = config.channels.get(args.channel)
    if channel is None:
        print(f"{config.path}: channels: no channel named {args.channel!r}", file=sys.stderr)
        return EXIT_USAGE
    register_console()
    status = EXIT_OK
    for endpoint in channel.endpoints:
        message = Message(
            title="[newswatch] test message",
            body=f"This is a test of the newswatch channel {channel.name!r}.",
            format="text",
        )
        ok = send(endpoint, message)
        print(f"{endpoint.masked}: {'ok' if ok else 'FAILED'}")
        status = status if ok else EXIT_FAILED
    return status


def cmd_db(args) -> int:
    config = load_config(args.config)
    open_store(config.database).close()
    print(f"{config.database}: schema is up to date")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
