"""Delivery settings in the config (channel rules, tags, digests, retries, templates) and
the delivery commands of the CLI (`notify-test`, `status`, `alerts retry`)."""
from __future__ import annotations

import json
import textwrap
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger

from support.mailservers import WebhookCatcher
from newswatch.alerts.render import AlertItem, DigestStory, render, render_digest
from newswatch.jobs.config import ConfigError, load_config, parse_digest

BASE = """
topics:
  - name: sk-arms
    query: South Korea Ukraine arms
    notify: [team]
"""


def write(tmp_path, text):
    path = tmp_path / "newswatch.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_channel_mapping_form_with_rules(tmp_path):
    config = load_config(write(tmp_path, BASE + """
channels:
  team:
    urls: [console://, "json://127.0.0.1:9/hook"]
    max_per_hour: 20
    quiet: "22:00-07:00"
    timezone: Europe/Berlin
  plain: [console://]
"""))
    team = config.channels["team"]
    assert [e.url for e in team.endpoints] == ["console://", "json://127.0.0.1:9/hook"]
    assert team.max_per_hour == 20
    assert (team.quiet.start, team.quiet.end) == (time(22), time(7))
    assert team.timezone == ZoneInfo("Europe/Berlin")
    # 21:30 UTC is 22:30 in Berlin in November.
    assert team.is_quiet(datetime(2026, 11, 23, 21, 30, tzinfo=timezone.utc))
    assert not team.is_quiet(datetime(2026, 11, 23, 20, 30, tzinfo=timezone.utc))
    plain = config.channels["plain"]
    assert plain.max_per_hour is None and plain.quiet is None


def test_tags_select_a_subset_of_urls(tmp_path):
    config = load_config(write(tmp_path, BASE + """
urls:
  - url: "json://127.0.0.1:9/a"
    tags: [team, urgent]
  - url: "json://127.0.0.1:9/b"
    tags: [team]
  - url: "json://127.0.0.1:9/c"
    tags: [night]
channels:
  team: {tags: [team]}
  urgent: {tags: [urgent, night]}
  both: {tags: [[team, urgent]], urls: [console://]}
"""))
    paths = {name: [e.url.rsplit("/", 1)[-1] or e.url for e in c.endpoints]
             for name, c in config.channels.items()}
    assert paths == {"team": ["a", "b"], "urgent": ["a", "c"], "both": ["console://", "a"]}


@pytest.mark.parametrize(("channel", "expected"), [
    ('{urls: [console://], quiet: "22-07"}', "channels.team.quiet: '22-07' is not a span"),
    ('{urls: [console://], quiet: "22:00-22:00"}', "channels.team.quiet: '22:00-22:00': start and end"),
    ("{urls: [console://], max_per_hour: 0}", "channels.team.max_per_hour"),
    ("{urls: [console://], timezone: Mars/Olympus}", "channels.team.timezone: unknown time zone 'Mars/Olympus'"),
    ("{urls: [console://], colour: red}", "channels.team.colour: unknown key"),
    ("{tags: [nobody]}", "channels.team.tags: no URL in `urls:` has these tags"),
    ("{}", "channels.team: a channel needs at least one Apprise URL"),
])
def test_bad_channel_rules(tmp_path, channel, expected):
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, BASE + f"channels:\n  team: {channel}\n"))
    assert expected in str(err.value)


def test_digests_are_grouped_by_time_and_zone(tmp_path):
    config = load_config(write(tmp_path, """
topics:
  - {name: a, query: arms, notify: [c], digest: daily 08:00, timezone: Europe/Berlin}
  - {name: b, query: arms, notify: [c], digest: "daily  08:00", timezone: Europe/Berlin}
  - {name: c, query: arms, notify: [c], digest: weekly mon 07:30}
  - {name: d, query: arms, notify: [c], digest: hourly}
  - {name: e, query: arms, notify: [c]}
channels:
  c: [console://]
"""))
    digests = {(d.when, str(d.timezone)): d.topics for d in config.digests}
    assert digests == {("daily 08:00", "Europe/Berlin"): ("a", "b"), ("weekly mon 07:30", "UTC"): ("c",),
                       ("hourly", "UTC"): ("d",)}
    assert config.digest_topics == {"a", "b", "c", "d"}
    daily = next(d for d in config.digests if d.when == "daily 08:00")
    trigger = CronTrigger(**daily.cron(), timezone=daily.timezone)
    fire = trigger.get_next_fire_time(None, datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc))
    assert fire == datetime(2026, 11, 24, 7, 0, tzinfo=timezone.utc)  # 08:00 in Berlin


@pytest.mark.parametrize("bad", ["daily", "daily 25:00", "weekly xyz 08:00", "every monday", "twice hourly"])
def test_bad_digest(tmp_path, bad):
    with pytest.raises(ConfigError, match=r"topics\[0\]\.digest"):
        load_config(write(tmp_path, BASE.replace("notify: [team]", f"notify: [team]\n    digest: {bad}")
                          + "channels:\n  team: [console://]\n"))
    with pytest.raises(ValueError):
        parse_digest(bad)


def test_retry_settings(tmp_path):
    config = load_config(write(tmp_path, BASE + "channels:\n  team: [console://]\n"
                               "retry: {base: 10s, max: 30m, attempts: 5, max_age: 1d}\n"))
    assert (config.retry.base, config.retry.max, config.retry.max_attempts, config.retry.max_age) == (
        timedelta(seconds=10), timedelta(minutes=30), 5, timedelta(days=1))
    with pytest.raises(ConfigError, match="retry.attempts"):
        load_config(write(tmp_path, BASE + "channels:\n  team: [console://]\nretry: {attempts: 0}\n"))


# --------------------------------------------------------------------------- templates


ITEM = AlertItem(title="<script>x</script> Seoul & arms", source="wnam", published=None,
                 url="https://e.com/a?b=1&c=2", snippets=())


def test_templates_override_from_a_folder(tmp_path):
    folder = tmp_path / "tpl"
    folder.mkdir()
    (folder / "alert.text.j2").write_text("CUSTOM {{ topic }}: {% for it in items %}{{ it.title }}{% endfor %}")
    (folder / "alert.markdown.j2").write_text("MD {{ items[0].title }}")
    (folder / "alert.html.j2").write_text("<p>{{ items[0].title }}</p>")
    config = load_config(write(tmp_path, BASE + "channels:\n  team: [console://]\n"
                               f"templates: {folder}\n"))
    t = config.templates
    assert render("sk", [ITEM], "text", templates=t).body == "CUSTOM sk: <script>x</script> Seoul & arms"
    # The escaping guarantees hold for user templates too.
    assert render("sk", [ITEM], "markdown", templates=t).body == "MD \\<script\\>x\\</script\\> Seoul & arms"
    assert render("sk", [ITEM], "html", templates=t).body == "<p>&lt;script&gt;x&lt;/script&gt; Seoul &amp; arms</p>"
    # Files the folder does not have stay built in.
    message, _ = render_digest([DigestStory("sk", (ITEM,))], "html", templates=t)
    assert "newswatch digest" in message.body


@pytest.mark.parametrize(("name", "text", "expected"), [
    ("alert.text.j2", "{% for %}", "alert.text.j2, line 1"),
    (None, None, "not a folder"),
])
def test_bad_templates_are_a_config_error(tmp_path, name, text, expected):
    folder = tmp_path / "tpl"
    if name:
        folder.mkdir()
        (folder / name).write_text(text)
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, BASE + f"channels:\n  team: [console://]\ntemplates: {folder}\n"))
    assert "templates: " in str(err.value) and expected in str(err.value)


@pytest.mark.parametrize("fmt", ["text", "markdown", "html"])
def test_hostile_titles_in_a_digest(fmt):
    hostile = AlertItem(title="<script>alert(1)</script> <!channel> **x** " + "y" * 10_240, source="<b>s</b>",
                        published=None, url="javascript:alert(1)", snippets=())
    stories = [DigestStory("<t>", (hostile, ITEM)), DigestStory("plain", (ITEM,))]
    message, shown = render_digest(stories, fmt)
    assert shown == 2
    assert "\n" not in message.title and len(message.title) <= 250
    if fmt == "html":
        assert "<script" not in message.body
        assert "<b>s</b>" not in message.body
        assert 'href="javascript' not in message.body
    if fmt == "markdown":
        import re

        live = re.sub(r"\\.", "", message.body)
        assert "<!" not in live and "<script" not in live
    assert len(message.body) < 5_000


# --------------------------------------------------------------------------- CLI


def test_notify_test_reports_per_url(newswatch, webhook_server):
    with WebhookCatcher() as down:
        down_url, down_port = down.apprise_url("/down"), down.port
    newswatch.write_config({"channels": {"team": [webhook_server.apprise_url("/up"), down_url]}})
    result = newswatch("notify-test", "team")
    assert result.returncode == 1
    up_line, down_line = result.stdout.strip().splitlines()
    # each URL named by its host and port; a webhook's path may hold a token: masked
    assert f":{webhook_server.port}/****?" in up_line and up_line.endswith(": ok")
    assert f":{down_port}/****?" in down_line and ": FAILED: " in down_line
    assert [p[0] for p in webhook_server.posts] == ["/up"]


def test_status_lists_dead_letters_and_alerts_retry_sends_them(newswatch, webhook_server, tmp_path):
    drop = newswatch.workdir / "drop"
    drop.mkdir()
    (drop / "a.txt").write_text("Seoul weighs arms for Ukraine\n\nSouth Korea may send arms to Ukraine, "
                                "officials in Seoul said on Monday after weeks of talks.\n")
    secret_url = webhook_server.apprise_url("/hook").replace("json://", "json://bot:S3cr3tPw@")
    newswatch.write_config({
        "sources": [{"name": "drop", "path": "drop/"}],
        "topics": [{"name": "korea", "query": "South Korea Ukraine arms", "notify": ["hook"]}],
        "channels": {"hook": [secret_url]},
        "retry": {"attempts": 1},
    })
    webhook_server.responses[:] = [(500, {})]
    assert newswatch("run", "--once").returncode == 0
    status = newswatch("status")
    assert "1 dead" in status.stdout and "dead #1: korea -> hook after 1 attempts" in status.stdout
    assert "S3cr3tPw" not in status.stdout + status.stderr
    as_json = json.loads(newswatch("status", "--json").stdout)
    assert as_json["outbox"]["dead"] == 1 and as_json["dead"][0]["id"] == 1

    assert newswatch("alerts", "retry").returncode == 2  # an id or --all-failed
    again = newswatch("alerts", "retry", "1")
    assert again.returncode == 0, again.stderr
    assert "1 sent" in again.stdout
    assert webhook_server.statuses == [500, 200]
    assert json.loads(newswatch("status", "--json").stdout)["outbox"] == {
        "pending": 0, "sent": 1, "failing": 0, "dead": 0}
    assert newswatch("alerts", "retry", "--all-failed").stdout.startswith("no dead-lettered alerts")


@pytest.mark.slow
def test_daemon_holds_digest_topics_until_their_time(newswatch, webhook_server):
    import signal

    from support.mailservers import wait_for

    drop = newswatch.workdir / "drop"
    drop.mkdir()
    (drop / "a.txt").write_text("Seoul weighs arms for Ukraine\n\nSouth Korea may send arms to Ukraine, "
                                "officials in Seoul said on Monday after weeks of talks.\n")
    newswatch.write_config({
        "sources": [{"name": "drop", "path": "drop/"}],
        "topics": [
            {"name": "now", "query": "Seoul arms", "notify": ["hook"]},
            {"name": "later", "query": "Ukraine arms", "notify": ["hook"], "digest": "weekly sun 03:00",
             "timezone": "Asia/Seoul"},
        ],
        "channels": {"hook": [webhook_server.apprise_url("/hook")]},
    })
    daemon = newswatch.start("run")
    try:
        wait_for(lambda: webhook_server.posts, timeout=60)
        daemon.send_signal(signal.SIGTERM)
        _, stderr = daemon.communicate(timeout=30)
        assert daemon.returncode == 0, stderr
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.communicate()
    assert [p[2]["title"].split(":")[0] for p in webhook_server.posts] == ["[newswatch] now"]
    assert json.loads(newswatch("status", "--json").stdout)["outbox"]["pending"] == 1
