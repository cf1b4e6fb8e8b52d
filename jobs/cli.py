"""The `newswatch` command line.

Every command that reads the config validates it first: a bad config prints one message
naming the file, the key and the problem, and exits 2 before anything starts. Output for
people goes to stdout; logs go to stderr.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import shutil
import signal
import sys
from datetime import datetime, timedelta, timezone
from importlib import resources
from pathlib import Path

from newswatch.jobs import service, sources_cli
from newswatch.jobs.config import ConfigError, load_config, parse_duration
from newswatch.jobs.logs import ENV_VAR as LOG_FORMAT_ENV
from newswatch.jobs.logs import FORMATS as LOG_FORMATS
from newswatch.jobs.logs import setup_logging
from newswatch.jobs.roles import ROLES

# Each command imports what it uses, in its own body: the read-only ones (`status`,
# `stories`, `match`) load neither Scrapy, Twisted, trafilatura nor Apprise.

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
    except Exception as exc:
        if not _is_listen_error(exc):
            raise
        print(exc, file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130


def _is_listen_error(exc: Exception) -> bool:
    # Only the commands that listen import the web server, and only they raise its error.
    server = sys.modules.get("newswatch.web.server")
    return server is not None and isinstance(exc, server.ListenError)


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
    sub.add_argument("--systemd", action="store_true",
                     help="also write newswatch.service, a systemd unit that runs this config")
    command("check", cmd_check, "validate the config and the channel URLs")
    command("reload", service.cmd_reload, "make the running daemon re-read its config (SIGHUP)")
    sub = command("run", cmd_run, "run the daemon (or one pass with --once)")
    sub.add_argument("--once", action="store_true", help="crawl every source once, deliver, exit")
    sub.add_argument("--role", choices=list(ROLES), default="all",
                     help="all (default): everything in this process; scheduler: put due sources on "
                          "Redis (one only); crawler: crawl them (any number); notifier: deliver alerts")
    sub = command("crawl", cmd_crawl, "crawl the named sources now")
    sub.add_argument("names", nargs="+", metavar="NAME")
    sub = command("extract", cmd_extract, "print the article extracted from files or URLs")
    sub.add_argument("inputs", nargs="+", metavar="PATH_OR_URL")
    sub.add_argument("--jsonl", action="store_true", help="one JSON object per line")
    sub.add_argument("--allow-private", action="store_true",
                     help="fetch a URL whose host is a private address (refused by default, as in a crawl)")
    sub = command("match", cmd_match, "backtest a query on the stored corpus")
    sub.add_argument("query", nargs="?", help="a topic query (or use --topic)")
    sub.add_argument("--topic", metavar="NAME", help="the query and filters of a configured topic")
    sub.add_argument("--backfill", action="store_true",
                     help="with --topic: queue alerts for what it matches")
    sub.add_argument("--since", default="7d", type=_duration)
    sub.add_argument("--source", metavar="NAME", help="only articles from this source")
    sub.add_argument("--limit", type=int, default=50, metavar="N",
                     help="show the N best matches (default 50; 0: all)")
    sub.add_argument("--json", action="store_true")
    sub.add_argument("--explain", action="store_true",
                     help="list what names' forms and aliases added over the literal query")
    sub = command("stories", cmd_stories, "list story groups and their articles")
    sub.add_argument("--since", default="7d", type=_duration)
    sub.add_argument("--topic")
    sub.add_argument("--json", action="store_true")
    sub = command("status", cmd_status, "per-source health and the outbox")
    sub.add_argument("--json", action="store_true")
    sub = command("notify-test", cmd_notify_test, "send a test message through a channel")
    sub.add_argument("channel")
    sub = command("alerts", cmd_alerts, "dead-lettered alerts: send them again")
    sub.add_argument("action", choices=["retry"])
    sub.add_argument("ids", nargs="*", type=int, metavar="ID", help="alert ids (see `newswatch status`)")
    sub.add_argument("--all-failed", action="store_true", help="every dead-lettered alert")
    command("web", cmd_web, "serve the web app (pages, JSON API, Atom feeds) alone")
    sub = command("db", cmd_db, "database maintenance")
    sub.add_argument("action", choices=["upgrade"])
    sources_cli.register(command)
    return parser


def _duration(value: str) -> timedelta:
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


# --- commands ------------------------------------------------------------------------


def cmd_init(args) -> int:
    target = Path(args.dir) / "newswatch.yaml"
    if target.exists() and args.systemd:
        return service.cmd_init_systemd(args, target)
    if target.exists():
        print(f"{target} exists; not overwriting it", file=sys.stderr)
        return EXIT_FAILED
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(resources.files("newswatch.jobs").joinpath("starter.yaml").read_text("utf-8"))
    print(f"wrote {target}; edit it, then: newswatch check --config {target}")
    return service.cmd_init_systemd(args, target) if args.systemd else EXIT_OK


def cmd_check(args) -> int:
    config = load_config(args.config)
    print(
        f"{config.path}: ok ({len(config.sources)} sources, {len(config.topics)} topics, "
        f"{len(config.channels)} channels)"
    )
    return EXIT_OK


def cmd_run(args) -> int:
    from newswatch.jobs.daemon import App, run_on_reactor, wait_for_servers
    from newswatch.store.availability import Unavailable

    config = load_config(args.config)
    if ROLES[args.role].needs_redis and not config.redis:
        raise ConfigError(config.path, [("redis", f"required for --role {args.role} "
                                                  "(e.g. redis: redis://127.0.0.1:6379/0)")])

    async def main() -> int:
        try:  # the database and Redis may be starting too: wait for them (`startup_wait`)
            store = await asyncio.to_thread(wait_for_servers, config)
        except Unavailable as exc:
            log.error("%s after waiting %ds (startup_wait); exiting", exc,
                      config.startup_wait.total_seconds())
            return EXIT_FAILED
        app = App(config, store=store, role=ROLES[args.role])
        try:
            return await (app.once() if args.once else app.serve())
        finally:
            app.close()

    # Only a role that crawls needs Scrapy's reactor; the others run on a bare event loop.
    return run_on_reactor(main) if ROLES[args.role].crawls else asyncio.run(main())


def cmd_crawl(args) -> int:
    from newswatch.jobs.daemon import App, run_on_reactor

    config = load_config(args.config)
    unknown = sorted(set(args.names) - {s.name for s in config.sources})
    if unknown:
        print(f"{config.path}: sources: no source named {', '.join(unknown)}", file=sys.stderr)
        return EXIT_USAGE

    async def main() -> int:
        app = App(config)
        progress = None
        if sys.stderr.isatty() and not args.verbose:
            # The live counts stand for the line per article.
            logging.getLogger("newswatch.crawler.pipelines").setLevel(logging.WARNING)
            progress = asyncio.create_task(_show_progress(app))
        try:
            runs = await app.crawl(args.names)
        finally:
            if progress is not None:
                progress.cancel()
                print("\r\033[K", end="", file=sys.stderr)
            app.close()
        for run in runs:
            print(f"{run.source}: {run.new} new, {run.duplicate} duplicate, {run.failed} failed"
                  f" in {run.duration_s:.1f}s" + (f" ({run.error})" if run.error else ""))
        return EXIT_FAILED if any(run.error for run in runs) else EXIT_OK

    return run_on_reactor(main)


async def _show_progress(app) -> None:
    """Live counts of the runs under way, redrawn on one terminal line."""
    while True:
        parts = []
        for name, stats in app.crawler.live().items():
            parts.append(
                f"{name}: {stats.get('newswatch/article_requests', 0)} requested, "
                f"{stats.get('newswatch/new', 0)} new, {stats.get('newswatch/duplicate', 0)} dup, "
                f"{stats.get('newswatch/failed', 0)} failed"
            )
        line = " | ".join(parts) or "starting…"
        print(f"\r\033[K{line[:shutil.get_terminal_size().columns - 1]}", end="", file=sys.stderr, flush=True)
        await asyncio.sleep(0.5)


def cmd_extract(args) -> int:
    from newswatch.corpus.extract import ExtractionError, extract

    from newswatch.jobs.discover import FetchError, Fetcher, Limits

    fetcher = Fetcher(Limits(max_bytes=FETCH_LIMIT, allow_private=args.allow_private))
    status = EXIT_OK
    for item in args.inputs:
        try:
            if item.startswith(("http://", "https://")):
                # The user names the page: robots.txt is not asked; every redirect hop is
                # checked against private addresses, as in a crawl.
                body, url, content_type = fetcher.get(item, obey_robots=False)
            else:
                body, url, content_type = _read(Path(item))
            article = extract(body, url, content_type)
        except FetchError as exc:
            print(exc, file=sys.stderr)
            status = EXIT_FAILED
            continue
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


def _read(path: Path) -> tuple[bytes, str, None]:
    with path.open("rb") as file:  # not read_bytes: /dev/zero, a FIFO, a huge file
        body = file.read(FETCH_LIMIT + 1)
    if len(body) > FETCH_LIMIT:
        raise ValueError(f"larger than {FETCH_LIMIT // (1024 * 1024)} MB")
    return body, path.resolve().as_uri(), None


def cmd_match(args) -> int:
    from newswatch.alerts.backtest import backfill, search, search_topic, show_topic
    from newswatch.alerts.expansion import added, expand
    from newswatch.alerts.matcher import Topic
    from newswatch.alerts.query import QueryError, parse
    from newswatch.store.db import open_store

    if (args.query is None) == (args.topic is None):
        print("match: give a QUERY or --topic NAME (one of them)", file=sys.stderr)
        return EXIT_USAGE
    if args.backfill and args.topic is None:
        print("match: --backfill needs --topic NAME", file=sys.stderr)
        return EXIT_USAGE
    topic = None
    if args.query is not None:
        try:
            query = parse(args.query)
        except QueryError as exc:
            print(f"query does not parse: {exc}", file=sys.stderr)
            return EXIT_USAGE
    config = load_config(args.config, channels=False)
    if args.topic is not None:
        topic = next((t for t in config.topics if t.name == args.topic), None)
        if topic is None:
            print(f"{config.path}: topics: no topic named {args.topic!r}", file=sys.stderr)
            return EXIT_USAGE
        query = topic.query
    else:
        query = expand(query, config.aliases)
    since = datetime.now(timezone.utc) - args.since
    store = open_store(config.database)
    try:
        if args.backfill:
            done = backfill(store, topic, since)
            print(f"{topic.name}: {done.matched} articles matched, {done.queued} alerts queued")
            return EXIT_OK
        with store.session() as session:
            subject = topic or Topic(query.source, query)  # a bare query: no filters
            hits = search_topic(session, subject, since, args.source)
            if args.explain:
                literal = {h.article_id for h in search(
                    session, parse(query.source, query.focus), since, args.source)}
                hits = [h for h in hits if h.article_id not in literal]
            shown = [
                {"url": a.url, "title": a.title, "source": a.source,
                 "first_seen": a.first_seen.isoformat(), "score": round(m.score, 3),
                 "snippets": [{"text": s.text, "marks": [list(k) for k in s.marks]}
                              for s in m.snippets]}
                for a, m in show_topic(session, subject, hits[:args.limit] if args.limit else hits)
            ]
    finally:
        store.close()
    if args.json:
        print(json.dumps(shown, ensure_ascii=False, indent=2))
        return EXIT_OK
    if args.explain:
        for group in added(query):
            print(f"{group.label} ({group.kind}): also {', '.join(group.forms)}")
        print(f"{len(hits)} articles matched beyond the literal query {query.source!r}:")
    for hit in shown:
        print(f"{hit['score']:7.2f}  {hit['title']}\n         {hit['source']}  {hit['url']}")
        for snippet in hit["snippets"]:
            print(f"         > {_marked(snippet)}")
    more = f" (the best {len(shown)} shown; --limit 0 shows all)" if len(shown) < len(hits) else ""
    print(f"{len(hits)} articles matched{more}")
    return EXIT_OK


def _marked(snippet: dict) -> str:
    """The snippet's text with its matched terms in «guillemets», as alerts mark them."""
    text, out, at = snippet["text"], [], 0
    for start, end in snippet["marks"]:
        out += [text[at:start], "«", text[start:end], "»"]
        at = end
    return "".join(out) + text[at:]


def cmd_stories(args) -> int:
    from sqlalchemy import exists, func, select

    from newswatch.store.db import open_store
    from newswatch.store.models import Article, Match, Story

    config = load_config(args.config, channels=False)
    since = datetime.now(timezone.utc) - args.since
    store = open_store(config.database)
    with store.session() as session:
        # A story shows while it gains articles, newest activity first.
        latest = (
            select(Article.story_id, func.max(Article.first_seen).label("latest"))
            .group_by(Article.story_id).subquery()
        )
        query = (
            select(Story).join(latest, latest.c.story_id == Story.id)
            .where(latest.c.latest >= since).order_by(latest.c.latest.desc(), Story.id.desc())
        )
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
                     "duplicate": a.duplicate_of is not None,
                     "duplicate_kind": a.duplicate_kind,
                     # Stored since roles were kept; before, the first article was "first".
                     "role": a.story_role or ("first" if n == 0 else "also")}
                    for n, a in enumerate(story.articles)
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
        for n, a in enumerate(story["articles"]):
            copy = f" ({a['duplicate_kind']} copy)" if a["duplicate_kind"] else ""
            if n == 1:
                print("  also reported by")
            update = "update: " if a["role"] == "update" else ""
            print(f"    {a['source']:<16} {update}{a['title']}{copy}\n    {'':<16} {a['url']}")
    print(f"{len(stories)} stories")
    return EXIT_OK


def cmd_status(args) -> int:
    from newswatch.alerts.status import as_json, dead_alerts, outbox_counts, sources_status
    from newswatch.jobs.schedule import next_runs
    from newswatch.store.db import open_store

    config = load_config(args.config, channels=False)
    store = open_store(config.database)
    with store.session() as session:
        sources = [as_json(s) for s in sources_status(session, config.sources, next_runs(config.schedules))]
        outbox = as_json(outbox_counts(session))
        dead = [as_json(d) for d in dead_alerts(session)]
    store.close()
    if args.json:
        print(json.dumps({"sources": sources, "outbox": outbox, "dead": dead}, indent=2))
        return EXIT_OK
    for s in sources:
        when = "disabled" if not s["enabled"] else f"next {s['next_run'][:19]}"
        took = f" in {s['duration_s']}s" if s["duration_s"] is not None else ""
        print(f"{s['name']:<20} last run {(s['last_run'] or 'never')[:19]:<19}{took}, {when}: "
              f"{s['new']} new, {s['duplicate']} duplicate, {s['failed']} failed"
              + (f", {s['refused_private']} refused (private address)" if s["refused_private"] else "")
              + (f", {s['refused_file']} refused (local file)" if s["refused_file"] else "")
              + (f"  BROKEN since {s['broken_since'][:19]}" if s["broken_since"] else "")
              + (f"  error: {s['last_error']}" if s["last_error"] else ""))
    print(f"alerts: {outbox['pending']} pending ({outbox['failing']} failing), {outbox['sent']} sent, "
          f"{outbox['dead']} dead")
    for d in dead:
        print(f"  dead #{d['id']}: {d['topic']} -> {d['channel']} after {d['attempts']} attempts: "
              f"{d['last_error']}")
    if dead:
        print("  send again with: newswatch alerts retry ID... | --all-failed")
    return EXIT_OK


def cmd_alerts(args) -> int:
    from newswatch.alerts.notifier import drain
    from newswatch.alerts.outbox import requeue
    from newswatch.store.db import open_store

    if bool(args.ids) == args.all_failed:
        print("alerts retry: give alert IDs or --all-failed", file=sys.stderr)
        return EXIT_USAGE
    config = load_config(args.config)
    store = open_store(config.database)
    try:
        ids = requeue(store, None if args.all_failed else args.ids)
        missing = sorted(set(args.ids) - set(ids))
        for alert_id in missing:
            print(f"alert {alert_id}: not dead-lettered (or no such alert); left alone", file=sys.stderr)
        if not ids:
            print("no dead-lettered alerts to retry")
            return EXIT_FAILED if missing else EXIT_OK
        result = drain(store, config.channels, digest_topics=(), retry=config.retry,
                       templates=config.templates, ignore_backoff=True, only=ids,
                       update_every=config.update_every)
    finally:
        store.close()
    print(f"retried {len(ids)} alert(s): {result.sent} sent, {result.failed} failed again "
          f"(retried later), {result.dead} dead, {result.held} held")
    return EXIT_OK if result.sent + result.held == len(ids) and not missing else EXIT_FAILED


def cmd_notify_test(args) -> int:
    from newswatch.alerts.delivery import deliver, register_console
    from newswatch.alerts.render import Message

    config = load_config(args.config)
    channel = config.channels.get(args.channel)
    if channel is None:
        print(f"{config.path}: channels: no channel named {args.channel!r}", file=sys.stderr)
        return EXIT_USAGE
    register_console()
    status = EXIT_OK
    message = Message(
        title="[newswatch] test message",
        body=f"This is a test of the newswatch channel {channel.name!r}.",
        format="text",
    )
    for endpoint in channel.endpoints:
        outcome = deliver(endpoint, message)
        print(f"{endpoint.masked}: " + ("ok" if outcome else f"FAILED: {outcome.reason}"))
        status = status if outcome else EXIT_FAILED
    return status


def cmd_web(args) -> int:
    from newswatch.alerts.delivery import register_console
    from newswatch.jobs.config import WebModel
    from newswatch.jobs.metrics import Metrics
    from newswatch.jobs.schedule import next_runs
    from newswatch.store.db import open_store
    from newswatch.web.app import create_app
    from newswatch.web.context import WebContext
    from newswatch.web.server import Listener

    config = load_config(args.config)
    web = config.web or WebModel()  # 127.0.0.1:8080, no token: loopback only
    register_console()  # a re-sent alert may go to console://
    store = open_store(config.database)

    async def serve() -> int:
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
        app = create_app(WebContext(config, store, Metrics(store).exposition, next_runs(config.schedules)))
        listener = await Listener(app, web.host, web.port).start()
        await stop.wait()
        await listener.stop()
        return EXIT_OK

    try:
        return asyncio.run(serve())
    finally:
        store.close()


def cmd_db(args) -> int:
    from sqlalchemy.engine import make_url

    from newswatch.store.db import open_store

    config = load_config(args.config)
    open_store(config.database).close()
    shown = make_url(config.database).render_as_string(hide_password=True)
    print(f"{shown}: schema is up to date")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
