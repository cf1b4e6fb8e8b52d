"""The configuration file: found, read, interpolated, validated, and built once.

`load_config(path)` returns a `Config` of ready objects (crawler `Source`s with their
schedules, alerts `Topic`s with parsed queries, alerts `Channel`s with loaded Apprise
URLs) or raises `ConfigError`, whose message names the file, the key path and the problem.
Nothing downstream validates again.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Mapping

import yaml
from apscheduler.triggers.cron import CronTrigger
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from newswatch.alerts.delivery import Channel, ChannelURLError, build_channel
from newswatch.alerts.matcher import Topic
from newswatch.alerts.query import QueryError, parse
from newswatch.crawler.sources import Source

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

_INTERVAL = re.compile(r"^\s*(\d+)\s*(s|m|h|d)\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Schedule:
    """When a source is crawled: every `seconds`, or on a five-field `cron` expression."""

    seconds: int | None = None
    cron: str | None = None

    def __str__(self) -> str:
        return f"every {self.seconds}s" if self.seconds else f"cron {self.cron!r}"


def parse_duration(value: str) -> timedelta:
    """`30s`, `15m`, `2h`, `7d` as a timedelta; ValueError otherwise."""
    interval = _INTERVAL.match(value)
    if not interval:
        raise ValueError(f"{value!r} is not a duration such as 30s, 15m, 2h or 7d")
    return timedelta(seconds=int(interval.group(1)) * _UNIT_SECONDS[interval.group(2)])


def parse_schedule(value: Any) -> Schedule:
    if not isinstance(value, str):
        raise ValueError("expected an interval such as 15m, or a cron expression, as a string")
    if _INTERVAL.match(value):
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


# --- the file's shape ----------------------------------------------------------------

Slug = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=100)]


def _query(value: str) -> str:
    try:
        parse(value)
    except QueryError as exc:
        raise ValueError(f"query does not parse: {exc}") from None
    return value


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


class SourceModel(_Model):
    name: Slug
    feed: str | None = None
    sitemap: str | None = None
    page: str | None = None
    path: str | None = None
    links: str | None = None
    every: Annotated[Schedule, BeforeValidator(parse_schedule)] = Schedule(seconds=15 * 60)

    @model_validator(mode="after")
    def _one_kind(self) -> SourceModel:
        kinds = [k for k in ("feed", "sitemap", "page", "path") if getattr(self, k)]
        if len(kinds) != 1:
            raise ValueError("a source needs exactly one of feed, sitemap, page, path")
        if kinds[0] in ("sitemap", "page"):
            raise ValueError(f"{kinds[0]} sources are not supported yet (use feed or path)")
        return self


class TopicModel(_Model):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    query: Annotated[str, AfterValidator(_query)]
    notify: list[str] = Field(default_factory=list)


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


class ConfigModel(_Model):
    database: str = DEFAULT_DATABASE
    redis: str | None = None  # redis://host:6379/0, for `run --role scheduler|crawler`
    metrics: MetricsModel | None = None
    retention: Annotated[timedelta | None, BeforeValidator(_retention)] = None
    sources: list[SourceModel] = Field(default_factory=list)
    topics: list[TopicModel] = Field(default_factory=list)
    channels: dict[Slug, list[str]] = Field(default_factory=dict)


# --- the built config ----------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    path: Path
    database: str
    sources: tuple[Source, ...]
    schedules: Mapping[str, Schedule]  # source name -> schedule
    topics: tuple[Topic, ...]
    channels: Mapping[str, Channel]
    redis: str | None = None  # the crawl queue shared by crawler workers
    metrics: MetricsModel | None = None  # where /metrics and /healthz listen; None: off
    retention: timedelta | None = None  # article bodies older than this are deleted


def find_config(path: str | Path | None) -> Path:
    """`--config`, else `$NEWSWATCH_CONFIG`, else `./newswatch.yaml`."""
    return Path(path or os.environ.get(ENV_VAR) or DEFAULT_FILE)


def load_config(path: str | Path | None = None) -> Config:
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
    return _build(file, model)


def _build(file: Path, model: ConfigModel) -> Config:
    problems: list[tuple[str, str]] = []

    def unique(items, what):
        seen = set()
        for i, item in enumerate(items):
            if item.name in seen:
                problems.append((f"{what}[{i}].name", f"duplicate name {item.name!r}"))
            seen.add(item.name)

    unique(model.sources, "sources")
    unique(model.topics, "topics")

    channels: dict[str, Channel] = {}
    for name, urls in model.channels.items():
        if not urls:
            problems.append((f"channels.{name}", "a channel needs at least one Apprise URL"))
            continue
        try:
            channels[name] = build_channel(name, urls)
        except ChannelURLError as exc:
            problems.append((f"channels.{name}", str(exc)))

    topics = []
    for i, topic in enumerate(model.topics):
        for j, channel in enumerate(topic.notify):
            if channel not in model.channels:
                known = ", ".join(sorted(model.channels)) or "none defined"
                problems.append(
                    (f"topics[{i}].notify[{j}]", f"unknown channel {channel!r} (channels: {known})")
                )
        topics.append(Topic(name=topic.name, query=parse(topic.query), channels=tuple(topic.notify)))

    sources = []
    for source in model.sources:
        if source.feed:
            sources.append(Source(name=source.name, kind="feed", location=source.feed))
        else:
            sources.append(
                Source(name=source.name, kind="path", location=str(Path(source.path).resolve()))
            )

    if problems:
        raise ConfigError(file, problems)
    return Config(
        path=file,
        database=model.database,
        sources=tuple(sources),
        schedules={s.name: s.every for s in model.sources},
        topics=tuple(topics),
        channels=channels,
        redis=model.redis,
        metrics=model.metrics,
        retention=model.retention,
    )


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
