"""The configuration file: found, read, interpolated, validated, and built once.

`load_config(path)` returns a `Config` of ready objects (crawler `Source`s with their
schedules, alerts `Topic`s with parsed queries, alerts `Channel`s with loaded Apprise
URLs and their rules, `Digest`s, the retry policy, compiled templates) or raises
`ConfigError`, whose message names the file, the key path and the problem. Nothing
downstream validates again.

A channel is a list of Apprise URLs, or a mapping::

    team:
      urls: [slack://..., mailtos://...]
      tags: [oncall]            # also every URL of the top-level `urls:` tagged oncall
      max_per_hour: 20          # the overflow is folded into one summary message
      quiet: "22:00-07:00"      # held, then sent as one message when quiet hours end
      timezone: Europe/Berlin   # for `quiet` (default UTC)

Tags select from the top-level ``urls:`` list (``- url: ...`` with ``tags: [...]``) with
Apprise's own tag logic: a list is any-of, a nested list all-of (``[[a, b]]``).
"""
from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, field, replace
from datetime import timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, Mapping, Union
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from apscheduler.triggers.cron import CronTrigger
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    ValidationError,
    model_validator,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from newswatch.alerts.durations import INTERVAL, parse_duration
from newswatch.alerts.expansion import expand
from newswatch.alerts.matcher import DEFAULT_UPDATE_EVERY, Topic, UpdateMode
from newswatch.alerts.query import ABOUT, QueryError, parse, tokenize
from newswatch.alerts.render import TemplateError, Templates
from newswatch.alerts.rules import QuietHours, RetryPolicy
from newswatch.alerts.semantic import Meaning, SemanticUnavailable
from newswatch.crawler.sources import KINDS, Source, SourceKind

if TYPE_CHECKING:
    from newswatch.alerts.delivery import Channel

ENV_VAR = "NEWSWATCH_CONFIG"
DEFAULT_FILE = "newswatch.yaml"
DEFAULT_DATABASE = "sqlite:///newswatch.db"


class ConfigError(Exception):
    """A config that cannot run. `str()` is the message for the user, one problem a line,
    each `FILE: KEY: PROBLEM`."""

    def __init__(self, file: Path | str, problems: list[tuple[str, str]]):
        self.file = str(file)
        self.problems = problems
        super().__init__(
            "\n".join(f"{self.file}: {key}: {problem}" if key else f"{self.file}: {problem}"
                      for key, problem in problems)
        )


# --- schedules -----------------------------------------------------------------------

@dataclass(frozen=True)
class Schedule:
    """When a source is crawled: every `seconds`, or on a five-field `cron` expression."""

    seconds: int | None = None
    cron: str | None = None

    def __str__(self) -> str:
        return f"every {self.seconds}s" if self.seconds else f"cron {self.cron!r}"


def parse_schedule(value: Any) -> Schedule:
    if not isinstance(value, str):
        raise ValueError("expected an interval such as 15m, or a cron expression, as a string")
    if INTERVAL.match(value):
        seconds = int(parse_duration(value).total_seconds())
        if seconds < 1:
            raise ValueError("an interval must be at least 1s")
        return Schedule(seconds=seconds)
    try:
        CronTrigger.from_crontab(value)
    except ValueError as exc:
        raise ValueError(
            f"{value!r} is neither an interval (30s, 15m, 2h, 1d) nor a cron expression ({exc})"
        ) from None
    return Schedule(cron=value)


# --- digests and time zones -----------------------------------------------------------

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DIGEST = re.compile(r"^\s*(?:(hourly)|daily\s+(\d{1,2}):(\d{2})|weekly\s+([a-z]{3})\s+(\d{1,2}):(\d{2}))\s*$",
                     re.IGNORECASE)


@dataclass(frozen=True)
class Digest:
    """One digest time (``daily 08:00`` in a time zone) and the topics it collects."""

    when: str
    timezone: tzinfo
    topics: tuple[str, ...]

    def cron(self) -> dict[str, str]:
        """APScheduler CronTrigger fields for `when` (parsed by `parse_digest`)."""
        return parse_digest(self.when)


def parse_digest(value: Any) -> dict[str, str]:
    """``hourly``, ``daily HH:MM`` or ``weekly DAY HH:MM`` as CronTrigger fields."""
    match = _DIGEST.match(value) if isinstance(value, str) else None
    if not match:
        raise ValueError(f"{value!r} is not a digest time (hourly, daily 08:00, weekly mon 08:00)")
    hourly, dh, dm, day, wh, wm = match.groups()
    if hourly:
        return {"minute": "0"}
    hour, minute = (int(dh), int(dm)) if dh else (int(wh), int(wm))
    if hour > 23 or minute > 59:
        raise ValueError(f"{value!r}: hours are 00-23, minutes 00-59")
    fields = {"hour": str(hour), "minute": str(minute)}
    if day:
        if day.lower() not in _DAYS:
            raise ValueError(f"{value!r}: the day is one of {', '.join(_DAYS)}")
        fields["day_of_week"] = day.lower()
    return fields


def parse_timezone(value: Any) -> tzinfo:
    if not isinstance(value, str):
        raise ValueError("expected a time zone name such as Europe/Berlin")
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r} (use a name such as Europe/Berlin or UTC)") from None


def _digest(value: str) -> str:
    parse_digest(value)
    return value


def _quiet(value: Any) -> QuietHours:
    if not isinstance(value, str):
        raise ValueError("expected a span such as \"22:00-07:00\" (quoted)")
    return QuietHours.parse(value)


def _duration(value: Any) -> timedelta:
    if not isinstance(value, str):
        raise ValueError("expected a duration such as 30s, 15m, 2h or 7d")
    return parse_duration(value)


Duration = Annotated[timedelta, BeforeValidator(_duration)]
TimeZone = Annotated[Any, BeforeValidator(parse_timezone)]


# --- the file's shape ----------------------------------------------------------------

Slug = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=100)]


def _css_selector(value: str) -> str:
    from cssselect import SelectorError
    from parsel.csstranslator import HTMLTranslator

    try:
        HTMLTranslator().css_to_xpath(value)
    except SelectorError as exc:
        raise ValueError(f"not a CSS selector: {exc}") from None
    return value


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


class SourceModel(_Model):
    name: Slug
    feed: str | None = None
    sitemap: str | None = None
    page: str | None = None
    path: str | None = None
    links: Annotated[str, AfterValidator(_css_selector)] | None = None
    every: Annotated[Schedule, BeforeValidator(parse_schedule)] = Schedule(seconds=15 * 60)
    enabled: bool = True
    allow_private: bool = False  # its own URL's host and port may be a private address
    max_age: Duration | None = None
    headers: dict[Annotated[str, StringConstraints(pattern=r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")], str] = Field(
        default_factory=dict
    )

    @model_validator(mode="after")
    def _one_kind(self) -> SourceModel:
        kinds = [k for k in KINDS if getattr(self, k)]
        if len(kinds) != 1:
            raise ValueError(f"a source needs exactly one of {', '.join(KINDS)}")
        kind = KINDS[kinds[0]]
        if kind.remote and not re.match(r"^https?://[^/\s]+", getattr(self, kind.key)):
            raise ValueError(f"{kind.key}: expected an http:// or https:// URL")
        if self.links and not kind.takes_links:
            raise ValueError("links: only a page source has a links selector")
        return self

    @property
    def kind(self) -> SourceKind:
        return next(KINDS[k] for k in KINDS if getattr(self, k))


def _alias_words(value: str) -> str:
    if not tokenize(value):
        raise ValueError("an alias needs a word")
    return value


AliasWords = Annotated[str, AfterValidator(_alias_words)]
# `aliases: {arms: [weapons, munitions, "artillery shells"]}`: the key's words in a query
# also match each alias (see alerts/expansion.py).
AliasMap = dict[AliasWords, list[AliasWords]]


class TopicModel(_Model):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    query: str  # parsed in _build, where an error can name the topic
    aliases: AliasMap = Field(default_factory=dict)  # added to the top level's
    expand: bool = True  # names have their forms; false: the query's names are literal
    # anywhere: the words anywhere, once; about: the query's terms must be prominent
    # (alerts/query.py Focus).
    focus: Literal["about", "anywhere"] = "anywhere"
    like: Annotated[str, StringConstraints(min_length=1, max_length=1000)] | None = None
    min_similarity: float = Field(default=0.5, ge=-1, le=1)
    match: Literal["any", "all"] = "any"  # query OR like, or query AND like
    notify: list[str] = Field(default_factory=list)
    # What an alerted story sends when it gains articles (alerts/matcher.py Topic).
    updates: UpdateMode | None = None  # default: developments
    update_every: Duration = DEFAULT_UPDATE_EVERY
    every_article: bool = False  # the older spelling of `updates: every_article`
    min_score: float = Field(default=0.0, ge=0)
    sources: list[str] = Field(default_factory=list)
    languages: list[Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2,3}$")]] = Field(
        default_factory=list)
    digest: Annotated[str, AfterValidator(_digest)] | None = None
    timezone: TimeZone = None

    @model_validator(mode="after")
    def _one_update_mode(self) -> TopicModel:
        if self.every_article and self.updates not in (None, "every_article"):
            raise ValueError(f"every_article: true contradicts updates: {self.updates}")
        return self


Tag = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$", max_length=100)]


class TaggedURLModel(_Model):
    url: str
    tags: list[Tag] = Field(default_factory=list)


class ChannelModel(_Model):
    urls: list[str] = Field(default_factory=list)
    tags: list[Union[Tag, list[Tag]]] = Field(default_factory=list)
    max_per_hour: Annotated[int, Field(ge=1)] | None = None
    quiet: Annotated[QuietHours, BeforeValidator(_quiet)] | None = None
    timezone: TimeZone = None


def _channel_form(value: Any) -> Any:
    # The short form, a plain list of URLs, is the mapping form with only `urls`.
    return {"urls": value} if isinstance(value, list) else value


class RetryModel(_Model):
    base: Duration = RetryPolicy.base
    max: Duration = RetryPolicy.max
    attempts: Annotated[int, Field(ge=1)] = RetryPolicy.max_attempts
    max_age: Duration = RetryPolicy.max_age


class CrawlModel(_Model):
    """Limits every fetch obeys (politeness and cost settings are fixed in the crawler)."""

    timeout: Duration = timedelta(seconds=30)
    max_size_mb: Annotated[int, Field(ge=1, le=1024)] = 10
    retry_after_max: Duration = timedelta(minutes=2)
    allow_private: bool = False  # every source may reach private addresses
    extract_timeout: Duration = timedelta(seconds=20)  # per page, then it is counted failed
    max_entries: Annotated[int, Field(ge=1)] = 10_000  # per feed, sitemap or listing page

    def scrapy_settings(self) -> dict[str, Any]:
        return {
            "NEWSWATCH_EXTRACT_TIMEOUT": self.extract_timeout.total_seconds(),
            "NEWSWATCH_MAX_ENTRIES": self.max_entries,
            "NEWSWATCH_ALLOW_PRIVATE": self.allow_private,
            "DOWNLOAD_TIMEOUT": self.timeout.total_seconds(),
            "DOWNLOAD_MAXSIZE": self.max_size_mb * 1024 * 1024,
            "RETRY_AFTER_MAX": self.retry_after_max.total_seconds(),
        }


def _retention(value: Any) -> timedelta:
    if not isinstance(value, str):
        raise ValueError("expected a duration such as 90d, as a string")
    age = parse_duration(value)
    if age < timedelta(days=1):
        raise ValueError("retention must be at least 1d")
    return age


class MetricsModel(_Model):
    port: Annotated[int, Field(ge=1, le=65535)]
    host: str = "127.0.0.1"  # 0.0.0.0 in a container


class WebModel(_Model):
    """`web: {host, port, token}`: the web app (pages, API, feeds, /metrics, /healthz)."""

    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 8080
    # Every page, API call and feed needs it; None (or empty) only on a loopback address.
    token: SecretStr | None = None

    @model_validator(mode="after")
    def _token_off_loopback(self) -> WebModel:
        if not (self.token and self.token.get_secret_value()) and not _is_loopback(self.host):
            raise ValueError(f"a token is required to serve on {self.host!r} "
                             "(only a loopback address such as 127.0.0.1 may go without one)")
        return self


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def _database(value: str) -> str:
    try:
        url = make_url(value)
    except ArgumentError:
        raise ValueError("not a database URL (sqlite:///FILE or postgresql+psycopg://...)") from None
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        # The ingest process and the daemon's other processes must open the same database.
        raise ValueError("an in-memory SQLite database cannot be shared by newswatch's processes; name a file")
    return value


class ConfigModel(_Model):
    database: Annotated[str, AfterValidator(_database)] = DEFAULT_DATABASE
    redis: str | None = None  # redis://host:6379/0, for `run --role scheduler|crawler`
    # How long `run` waits at start for the database and Redis to answer, then exits 1.
    startup_wait: Duration = timedelta(minutes=5)
    metrics: MetricsModel | None = None
    web: WebModel | None = None
    retention: Annotated[timedelta | None, BeforeValidator(_retention)] = None
    sources: list[SourceModel] = Field(default_factory=list)
    topics: list[TopicModel] = Field(default_factory=list)
    aliases: AliasMap = Field(default_factory=dict)
    urls: list[TaggedURLModel] = Field(default_factory=list)
    channels: dict[Slug, Annotated[ChannelModel, BeforeValidator(_channel_form)]] = Field(default_factory=dict)
    retry: RetryModel = RetryModel()
    templates: str | None = None
    health: list[str] = Field(default_factory=list)  # channels told when a source breaks
    crawl: CrawlModel = CrawlModel()
    # Extraction processes; 0 extracts in the ingest process. None: one per core, at most 2.
    workers: Annotated[int, Field(ge=0, le=64)] | None = None


# --- the built config ----------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    path: Path
    database: str
    sources: tuple[Source, ...]
    schedules: Mapping[str, Schedule]  # source name -> schedule
    topics: tuple[Topic, ...]
    channels: Mapping[str, Channel]
    aliases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # top level
    redis: str | None = None  # the crawl queue shared by crawler workers
    metrics: MetricsModel | None = None  # where /metrics and /healthz listen; None: off
    web: WebModel | None = None  # where the web app listens, and its token; None: off
    retention: timedelta | None = None  # article bodies older than this are deleted
    digests: tuple[Digest, ...] = ()
    retry: RetryPolicy = RetryPolicy()
    templates: Templates | None = None  # None: the built-in templates
    health: tuple[str, ...] = ()  # channel names for "source broken" / "recovered" alerts
    crawl_settings: Mapping[str, Any] = field(default_factory=dict)  # Scrapy settings
    startup_wait: timedelta = timedelta(minutes=5)  # for the database and Redis, at start
    workers: int | None = None  # extraction processes (0: in the ingest process; None: default)

    @property
    def digest_topics(self) -> frozenset[str]:
        return frozenset(t for d in self.digests for t in d.topics)

    @property
    def update_every(self) -> dict[str, timedelta]:
        """Per topic, the least time between two messages about one story to a channel."""
        return {t.name: t.update_every for t in self.topics}


def merge_aliases(*tables: Mapping[str, list[str] | tuple[str, ...]]
                  ) -> dict[str, tuple[str, ...]]:
    """Alias tables merged in order: a key's aliases in a later table add to its earlier
    ones (a topic's own to the top level's)."""
    merged: dict[str, tuple[str, ...]] = {}
    for table in tables:
        for key, values in table.items():
            merged[key] = tuple(dict.fromkeys((*merged.get(key, ()), *values)))
    return merged


def find_config(path: str | Path | None) -> Path:
    """`--config`, else `$NEWSWATCH_CONFIG`, else `./newswatch.yaml`."""
    return Path(path or os.environ.get(ENV_VAR) or DEFAULT_FILE)


def load_config(path: str | Path | None = None, *, channels: bool = True) -> Config:
    """The config at `path` (see `find_config`), validated and built, or ConfigError.

    `channels=False` leaves the channels unbuilt, and Apprise unimported: their Apprise URLs
    go unchecked and `Config.channels` is empty (the names that topics and `health` give
    are still checked). For the commands that send nothing (`status`, `stories`, `match`).
    """
    file = find_config(path)
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(file, [("", "no such file (try `newswatch init`)")]) from None
    except OSError as exc:
        raise ConfigError(file, [("", f"cannot read: {exc.strerror}")]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(file, [(where, f"not valid YAML: {problem}")]) from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(file, [("", "the top level must be a mapping of keys")])

    problems: list[tuple[str, str]] = []
    raw = _interpolate(raw, "", problems)
    if problems:
        raise ConfigError(file, problems)
    try:
        model = ConfigModel.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(
            file, [(_key_path(err["loc"]), _problem(err)) for err in exc.errors()]
        ) from None
    return _build(file, model, channels)


def _build(file: Path, model: ConfigModel, build_channels: bool) -> Config:
    problems: list[tuple[str, str]] = []

    def unique(items, what):
        seen = set()
        for i, item in enumerate(items):
            if item.name in seen:
                problems.append((f"{what}[{i}].name", f"duplicate name {item.name!r}"))
            seen.add(item.name)

    unique(model.sources, "sources")
    unique(model.topics, "topics")

    channels = _channels(model, problems) if build_channels else {}

    source_names = {source.name for source in model.sources}
    topics = []
    for i, topic in enumerate(model.topics):
        for j, channel in enumerate(topic.notify):
            if channel not in model.channels:
                known = ", ".join(sorted(model.channels)) or "none defined"
                problems.append(
                    (f"topics[{i}].notify[{j}]", f"unknown channel {channel!r} (channels: {known})")
                )
        for j, source in enumerate(topic.sources):
            if source not in source_names:
                problems.append((f"topics[{i}].sources[{j}]", f"unknown source {source!r}"))
        try:
            query = expand(parse(topic.query, ABOUT if topic.focus == "about" else None),
                           merge_aliases(model.aliases, topic.aliases),
                           names=topic.expand)
        except QueryError as exc:
            problems.append((f"topics[{i}].query",
                             f"topic {topic.name!r}: the query does not parse: {exc}"))
            continue
        meaning = None
        if topic.like is not None:
            try:
                meaning = Meaning(topic.like, topic.min_similarity, require=topic.match == "all")
            except SemanticUnavailable as exc:
                problems.append((f"topics[{i}].like", f"topic {topic.name!r}: {exc}"))
                continue
        topics.append(Topic(
            name=topic.name, query=query, meaning=meaning, channels=tuple(topic.notify),
            min_score=topic.min_score, sources=frozenset(topic.sources),
            languages=frozenset(code.lower() for code in topic.languages),
            every_article=topic.every_article, updates=topic.updates or "developments",
            update_every=topic.update_every, digest=topic.digest is not None,
        ))

    by_time: dict[tuple[str, str], list[str]] = {}
    zones: dict[str, tzinfo] = {}
    for topic in model.topics:
        if topic.digest:
            zone = topic.timezone or ZoneInfo("UTC")
            zones[str(zone)] = zone
            when = " ".join(topic.digest.lower().split())
            by_time.setdefault((when, str(zone)), []).append(topic.name)
    digests = tuple(Digest(when, zones[zone], tuple(names)) for (when, zone), names in by_time.items())

    templates = None
    if model.templates:
        try:
            templates = Templates(Path(model.templates))
        except TemplateError as exc:
            problems.append(("templates", str(exc)))

    for j, channel in enumerate(model.health):
        if channel not in model.channels:
            known = ", ".join(sorted(model.channels)) or "none defined"
            problems.append((f"health[{j}]", f"unknown channel {channel!r} (channels: {known})"))

    sources = []
    for source in model.sources:
        location = getattr(source, source.kind.key)
        sources.append(Source(
            name=source.name,
            kind=source.kind.key,
            location=location if source.kind.remote else str(Path(location).resolve()),
            links=source.links,
            max_age=source.max_age,
            headers=tuple(source.headers.items()),
            enabled=source.enabled,
            allow_private=source.allow_private,
        ))

    if problems:
        raise ConfigError(file, problems)
    return Config(
        path=file,
        database=model.database,
        sources=tuple(sources),
        schedules={s.name: s.every for s in model.sources},
        topics=tuple(topics),
        channels=channels,
        aliases={k: tuple(v) for k, v in model.aliases.items()},
        redis=model.redis,
        metrics=model.metrics,
        web=model.web,
        retention=model.retention,
        digests=digests,
        retry=RetryPolicy(base=model.retry.base, max=model.retry.max,
                          max_attempts=model.retry.attempts, max_age=model.retry.max_age),
        templates=templates,
        health=tuple(model.health),
        crawl_settings=model.crawl.scrapy_settings(),
        startup_wait=model.startup_wait,
        workers=model.workers,
    )


def _channels(model: ConfigModel, problems: list[tuple[str, str]]) -> dict[str, Channel]:
    """Each channel with its Apprise URLs loaded; a URL Apprise cannot load is a problem."""
    from newswatch.alerts.delivery import ChannelURLError, build_channel, tagged_urls

    channels: dict[str, Channel] = {}
    for name, rules in model.channels.items():
        urls = list(rules.urls)
        if rules.tags:
            pool = [(u.url, u.tags) for u in model.urls]
            try:
                selected = tagged_urls(pool, rules.tags)
            except ChannelURLError as exc:
                problem = (f"urls[{exc.index}]", str(exc))
                if problem not in problems:  # once, however many channels use tags
                    problems.append(problem)
                continue
            if not selected:
                problems.append((f"channels.{name}.tags", "no URL in `urls:` has these tags"))
                continue
            urls += [u for u in selected if u not in urls]
        if not urls:
            problems.append((f"channels.{name}", "a channel needs at least one Apprise URL"))
            continue
        try:
            channel = build_channel(name, urls)
        except ChannelURLError as exc:
            problems.append((f"channels.{name}", str(exc)))
            continue
        channels[name] = replace(channel, max_per_hour=rules.max_per_hour, quiet=rules.quiet,
                                 timezone=rules.timezone or channel.timezone)
    return channels


# --- helpers -------------------------------------------------------------------------

_VAR = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _interpolate(value: Any, key: str, problems: list[tuple[str, str]]) -> Any:
    """Replace `${VAR}` in every string from the environment (`$$` is a literal `$`)."""
    if isinstance(value, dict):
        return {k: _interpolate(v, _join(key, k), problems) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate(v, f"{key}[{i}]", problems) for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value

    def substitute(m: re.Match) -> str:
        if m.group(0) == "$$":
            return "$"
        name = m.group(1)
        if name not in os.environ:
            problems.append((key, f"environment variable ${{{name}}} is not set"))
            return ""
        return os.environ[name]

    return _VAR.sub(substitute, value)


def _join(prefix: str, key: Any) -> str:
    return f"{prefix}.{key}" if prefix else str(key)


def _key_path(loc: tuple) -> str:
    path = ""
    for part in loc:
        path = f"{path}[{part}]" if isinstance(part, int) else _join(path, part)
    return path


def _problem(err: dict) -> str:
    if err["type"] == "extra_forbidden":
        return "unknown key"
    if err["type"] == "missing":
        return "required key is missing"
    message = err["msg"]
    return message.removeprefix("Value error, ")
