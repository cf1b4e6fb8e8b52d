"""Adding sources to the config file without rewriting it.

The file is edited round-trip (ruamel.yaml): its comments, key order, quoting and
indentation stay as the user wrote them, and the new sources are appended to `sources:`.
The edited text is validated as a whole (`load_config`) before it replaces the file, so an
edit either yields a config that `check` accepts or leaves the file untouched.
"""
from __future__ import annotations

import io
import os
import re
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import urlsplit

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.util import load_yaml_guess_indent

from newswatch.jobs.config import Config, ConfigError, load_config

_NOT_SLUG = re.compile(r"[^a-z0-9]+")
SLUG_MAX = 60


def slug(title: str | None, url: str) -> str:
    """A source name from a title ("The Meridian — World" -> ``the-meridian-world``), else
    from the URL's host; always a valid `Slug`."""
    for text in (title or "", urlsplit(url).hostname or "", "source"):
        name = _NOT_SLUG.sub("-", text.lower()).strip("-")[:SLUG_MAX].strip("-")
        if name:
            return name
    raise AssertionError("unreachable")


def unique_name(wanted: str, taken: set[str]) -> str:
    """`wanted`, or `wanted-2`, `wanted-3`… whichever is not in `taken` (which it joins)."""
    name, n = wanted, 1
    while name in taken:
        n += 1
        name = f"{wanted}-{n}"
    taken.add(name)
    return name


def add_sources(path: Path, sources: Iterable[dict[str, Any]]) -> Config:
    """Append `sources` (mappings as in the file: ``{"name": ..., "feed": ...}``) to the
    config at `path`, keep everything else as written, and return the validated result.
    Raises `ConfigError` (the file unchanged) if the result would not validate."""
    text = path.read_text(encoding="utf-8")
    yaml = YAML()  # round-trip
    yaml.preserve_quotes = True
    yaml.width = 4096  # never fold a long URL
    try:
        # The file's own indentation: `- name:` flush with its key, or indented under it.
        _, sequence, offset = load_yaml_guess_indent(text) if text.strip() else (None, 2, 0)
        data = yaml.load(text)
    except YAMLError as exc:
        raise ConfigError(path, [("", f"not valid YAML: {exc}")]) from None
    sequence, offset = sequence or 2, offset or 0
    yaml.indent(mapping=max(sequence - offset, 2), sequence=sequence, offset=offset)
    if data is None:
        data = CommentedMap()
    if not isinstance(data, CommentedMap):
        raise ConfigError(path, [("", "the top level must be a mapping of keys")])
    if data.get("sources") is None:
        data["sources"] = CommentedSeq()
    for source in sources:
        data["sources"].append(CommentedMap(source))
    out = io.StringIO()
    yaml.dump(data, out)
    return _replace(path, out.getvalue())


def _replace(path: Path, text: str) -> Config:
    """Write `text` beside `path`, validate it there (relative paths resolve the same), then
    move it over `path` in one step."""
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
        os.chmod(temp, path.stat().st_mode & 0o7777)
        try:
            config = load_config(temp)
        except ConfigError as exc:
            raise ConfigError(path, exc.problems) from None
        os.replace(temp, path)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)
    return replace(config, path=path)
