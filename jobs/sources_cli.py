"""`newswatch sources discover | import | export`: adding sources the way users have them.

Each command that writes the config appends to it round-trip (jobs/configfile.py): the
file keeps its comments and layout, and is only replaced by a config that validates.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from newswatch.jobs.config import Config, ConfigError, find_config, load_config

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def register(command) -> None:
    """Add `sources` to the CLI; `command(name, handler, help)` makes a subcommand."""
    sub = command("sources", lambda args: args.action(args), "find, import and export sources (OPML)")
    actions = sub.add_subparsers(dest="sources_command", required=True, metavar="ACTION")

    def action(name, handler, help):
        parser = actions.add_parser(name, help=help, description=help)
        parser.set_defaults(action=handler)
        parser.add_argument("--config", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        return parser

    parser = action("discover", cmd_discover, "list the feeds and news sitemaps a site offers")
    parser.add_argument("urls", nargs="+", metavar="URL")
    parser.add_argument("--add", metavar="NAME", help="add the best one to the config as source NAME")
    parser.add_argument("--json", action="store_true")
    parser = action("import", cmd_import, "add every feed of an OPML file to the config")
    parser.add_argument("file", metavar="FILE.opml")
    parser = action("export", cmd_export, "print the configured feeds as OPML")
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")


def _locations(config: Config) -> set[str]:
    return {s.location for s in config.sources}


def cmd_import(args) -> int:
    from newswatch.jobs.opml import OPMLError, read_opml

    config = load_config(args.config)
    try:
        subscriptions = read_opml(Path(args.file).read_bytes())
    except OSError as exc:
        print(f"{args.file}: cannot read: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    except OPMLError as exc:
        print(f"{args.file}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    from newswatch.jobs.configfile import add_sources, slug, unique_name  # ruamel.yaml: only here

    known, taken = _locations(config), {s.name for s in config.sources}
    added, skipped = [], []
    for feed in subscriptions:
        if feed.url in known:
            skipped.append(feed)
            continue
        known.add(feed.url)
        added.append({"name": unique_name(slug(feed.title, feed.url), taken), "feed": feed.url})
    if added:
        add_sources(config.path, added)
    for source in added:
        print(f"added {source['name']}: {source['feed']}")
    for feed in skipped:
        print(f"skipped (already a source): {feed.title or feed.url}: {feed.url}")
    print(f"{config.path}: {len(added)} added, {len(skipped)} skipped")
    return EXIT_OK


def cmd_export(args) -> int:
    from newswatch.jobs.opml import write_opml

    config = load_config(args.config)
    document = write_opml(list(config.sources))
    if args.output:
        Path(args.output).write_bytes(document)
    else:
        sys.stdout.write(document.decode("utf-8"))
    return EXIT_OK


def cmd_discover(args) -> int:
    from newswatch.jobs.discover import Fetcher, FetchError, Limits, best, discover

    file = find_config(args.config)
    # The config's crawl limits apply when there is one; --add needs one.
    config = load_config(file) if file.exists() or args.add else None
    fetcher = Fetcher(Limits.from_settings(config.crawl_settings) if config else Limits())
    status, report, chosen = EXIT_OK, [], []
    for url in args.urls:
        try:
            found = discover(url, fetcher)
        except FetchError as exc:
            print(exc, file=sys.stderr)
            status = EXIT_FAILED
            continue
        report.append({"url": url, "found": [f.as_json() for f in found]})
        top = best(found)
        if top is not None:
            chosen.append(top)
        elif args.add:
            print(f"{url}: no feed or sitemap with entries found; nothing to add", file=sys.stderr)
            status = EXIT_FAILED
        if not args.json:
            print(f"{url}: {len(found)} found" + (":" if found else ""))
            for f in found:
                newest = f.newest.isoformat(timespec="minutes") if f.newest else "undated"
                print(f"  {f.label:<12} {f.entries:>5} entries  newest {newest:<22} {f.url}"
                      + (f"  ({f.title})" if f.title else "") + f"  [{f.via}]")
    if args.json:
        print(json.dumps(report, indent=2))
    if args.add and chosen:
        from newswatch.jobs.configfile import add_sources, unique_name  # ruamel.yaml: only here

        known, taken = _locations(config), {s.name for s in config.sources}
        if args.add in taken:
            print(f"{config.path}: sources: a source named {args.add!r} exists", file=sys.stderr)
            return EXIT_USAGE
        added = []
        for found in chosen:
            if found.url in known:
                print(f"{found.url}: already a source; not added", file=sys.stderr)
                status = EXIT_FAILED
                continue
            known.add(found.url)
            added.append({"name": unique_name(args.add, taken), found.kind: found.url})
        try:
            if added:
                add_sources(config.path, added)
        except ConfigError as exc:  # e.g. NAME is not a valid source name
            print(exc, file=sys.stderr)
            return EXIT_USAGE
        for source in added:
            print(f"added {source['name']} to {config.path}")
    return status
