"""Apprise delivery against real local receivers (SMTP, HTTP), and secret hygiene."""
from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timezone

import pytest

from newswatch.alerts.delivery import (
    ChannelURLError,
    Endpoint,
    build_channel,
    mask_url,
    register_console,
    send,
)
from newswatch.alerts.query import Snippet
from newswatch.alerts.render import AlertItem, Message, render

from support.mailservers import SMTPCatcher, smtp_server, wait_for, webhook_server  # noqa: F401

SECRET = "S3cr3t-Pa55w0rd"
TOPIC = "south-korea-ukraine-arms"
ARTICLE_URL = "https://news.example.com/world/2024/05/01/korea-arms?id=7&ref=rss"
HOSTILE_TITLE = "<script>alert(1)</script> South Korea weighs arms <!channel>"


def items() -> list[AlertItem]:
    text = "Officials in South Korea said arms shipments to Ukraine could begin soon."
    return [
        AlertItem(
            title=HOSTILE_TITLE,
            source="wnam",
            published=datetime(2024, 5, 1, 8, 30, tzinfo=timezone.utc),
            url=ARTICLE_URL,
            snippets=(Snippet(text, ((13, 24), (30, 34), (48, 55))),),
        ),
        AlertItem(
            title="Seoul & Kyiv: arms talks",
            source="viewus",
            published=None,
            url="https://viewus.example.org/a/1",
            snippets=(),
        ),
    ]


@pytest.fixture
def all_logs(caplog):
    """caplog capturing everything, DEBUG included, from every logger."""
    caplog.set_level(logging.DEBUG)
    return caplog


# --------------------------------------------------------------------------- e-mail


def test_html_alert_arrives_as_email(smtp_server):
    channel = build_channel("desk", [smtp_server.apprise_url(to="desk@example.com")])
    (endpoint,) = channel.endpoints
    assert endpoint.format == "html"

    message = render(TOPIC, items(), endpoint.format)
    assert send(endpoint, message) is True

    (mail,) = wait_for(lambda: smtp_server.messages)
    assert mail["Subject"] == message.title
    assert mail["To"] == "desk@example.com"
    assert smtp_server.recipients == [["desk@example.com"]]

    html_part = mail.get_body(preferencelist=("html",)).get_content()
    text_part = mail.get_body(preferencelist=("plain",)).get_content()
    # Every article-derived string is escaped in the HTML part.
    assert "<script>" not in html_part
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html_part
    assert "Seoul &amp; Kyiv" in html_part
    assert "<b>South Korea</b>" in html_part
    assert f'href="{ARTICLE_URL.replace("&", "&amp;")}"' in html_part
    # Apprise derives the plain-text alternative from the HTML.
    assert ARTICLE_URL in text_part
    assert TOPIC in text_part


def test_text_alert_by_email(smtp_server):
    (endpoint,) = build_channel("desk", [smtp_server.apprise_url() + "&format=text"]).endpoints
    assert endpoint.format == "text"
    message = render(TOPIC, items(), "text")
    assert send(endpoint, message)
    (mail,) = wait_for(lambda: smtp_server.messages)
    assert mail.get_content_type() == "text/plain"
    assert ARTICLE_URL in mail.get_content()
    assert "«South Korea»" in mail.get_content()


def test_smtp_down_then_back_on_the_same_port(smtp_server, all_logs):
    url = smtp_server.apprise_url().replace("mailto://", f"mailto://newswatch:{SECRET}@")
    (endpoint,) = build_channel("desk", [url]).endpoints
    message = render(TOPIC, items(), endpoint.format)

    smtp_server.stop()
    assert send(endpoint, message) is False  # no exception either

    warnings = [r for r in all_logs.records
                if r.name == "newswatch.alerts.delivery" and r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert endpoint.masked in warnings[0].getMessage()
    assert "****" in endpoint.masked
    assert SECRET not in all_logs.text
    assert SECRET not in endpoint.masked and SECRET not in repr(endpoint)

    # The same URL, on a server that is back, without credentials (aiosmtpd does not
    # offer AUTH without TLS), delivers.
    smtp_server.start()
    (plain,) = build_channel("desk", [smtp_server.apprise_url()]).endpoints
    assert send(plain, message) is True
    assert wait_for(lambda: len(smtp_server.messages) == 1)


def test_smtp_catcher_restarts_on_its_port():
    catcher = SMTPCatcher()
    port = catcher.port
    for _ in range(2):
        catcher.start()
        assert catcher.port == port and catcher.running
        catcher.stop()
        assert not catcher.running


# --------------------------------------------------------------------------- webhooks


def test_json_webhook_receives_title_and_body(webhook_server):
    (endpoint,) = build_channel("hook", [webhook_server.apprise_url("/hook")]).endpoints
    assert endpoint.format == "text"
    message = render(TOPIC, items(), endpoint.format)
    assert send(endpoint, message) is True

    ((path, headers, payload),) = wait_for(lambda: webhook_server.posts)
    assert path == "/hook"
    assert headers["Content-Type"].startswith("application/json")
    assert payload["title"] == message.title
    assert payload["message"] == message.body
    assert ARTICLE_URL in payload["message"]


def test_webhook_errors_are_reported_then_recovered(webhook_server, all_logs):
    webhook_server.responses[:] = [(500, {}), (429, {"Retry-After": "1"})]
    url = webhook_server.apprise_url("/hook").replace("json://", f"json://bot:{SECRET}@") + "?+X-Api-Key=K3y-" + SECRET
    (endpoint,) = build_channel("hook", [url]).endpoints
    message = Message(title="t", body="b", format="text")

    assert send(endpoint, message) is False
    assert send(endpoint, message) is False
    assert send(endpoint, message) is True
    assert webhook_server.statuses == [500, 429, 200]
    # The credentials did reach the server (basic auth and the custom header) ...
    assert webhook_server.posts[0][1]["X-Api-Key"] == "K3y-" + SECRET
    # ... but never the logs, at any level.
    assert SECRET not in all_logs.text
    assert "500" in all_logs.text


def test_webhook_down_returns_false(webhook_server, all_logs):
    url = webhook_server.apprise_url("/hook").replace("json://", f"json://bot:{SECRET}@")
    (endpoint,) = build_channel("hook", [url]).endpoints
    webhook_server.stop()
    assert send(endpoint, Message(title="t", body="b", format="text")) is False
    assert SECRET not in all_logs.text
    assert "delivery to json://bot:****@127.0.0.1" in all_logs.text


def test_slack_markdown_is_escaped_end_to_end(webhook_server, monkeypatch, all_logs):
    # Apprise's Slack plugin posts to hooks.slack.com; point it at the local receiver.
    from apprise.plugins.slack import NotifySlack

    monkeypatch.setattr(NotifySlack, "webhook_url", f"http://127.0.0.1:{webhook_server.port}/services")
    webhook_server.reply_body = b"ok"  # what Slack's webhook API answers
    token_c = "TIiajkdnlazkcOXrIdevi7FQ"
    (endpoint,) = build_channel("team", [f"slack://T1JJ3T3L2/A1BRTD4JD/{token_c}/"]).endpoints
    assert endpoint.format == "markdown"
    assert token_c not in endpoint.masked

    message = render(TOPIC, items(), endpoint.format)
    assert send(endpoint, message) is True

    ((path, _, payload),) = wait_for(lambda: webhook_server.posts)
    assert path == f"/services/T1JJ3T3L2/A1BRTD4JD/{token_c}"
    (attachment,) = payload["attachments"]
    text = attachment["text"]
    # Slack control sequences from the article arrive as entities, not as markup.
    assert "<!channel>" not in text and "<script>" not in text
    assert "&lt;\u200b!channel&gt;" in text and "&lt;script&gt;" in text
    assert "Seoul &amp; Kyiv" in text
    # Matched terms are Slack mrkdwn bold; the article URL is a Slack link.
    assert "*South Korea*" in text
    assert f"<{ARTICLE_URL.replace('&', '&amp;')}>" in text
    assert "<!channel>" not in attachment["title"]
    assert token_c not in all_logs.text


# --------------------------------------------------------------------------- console://


def test_console_prints_to_stdout(capsys):
    register_console()
    register_console()  # idempotent
    (endpoint,) = build_channel("local", ["console://"]).endpoints
    assert endpoint.masked == "console://"
    assert endpoint.format == "text"
    message = render(TOPIC, items(), endpoint.format)
    assert send(endpoint, message) is True
    out = capsys.readouterr().out
    assert message.title in out
    assert ARTICLE_URL in out
    assert "«South Korea»" in out


def test_console_converts_html_to_text(capsys):
    (endpoint,) = build_channel("local", ["console://"]).endpoints
    assert send(endpoint, Message(title="T", body="<p>a &amp; <b>b</b></p>", format="html"))
    assert "a & b" in capsys.readouterr().out


# --------------------------------------------------------------------------- channels and URLs


@pytest.mark.parametrize(
    "bad",
    [
        f"not a url {SECRET}",
        f"nosuchscheme://user:{SECRET}@host/path",
        f"mailto://user:{SECRET}@",
        f"slack://{SECRET}",
        "json://",
    ],
)
def test_build_channel_rejects_unloadable_urls_without_leaking(bad, all_logs):
    with pytest.raises(ChannelURLError) as caught:
        build_channel("team", ["console://", bad])
    error = caught.value
    assert isinstance(error, ValueError)
    assert error.index == 1
    assert "[1]" in str(error) and "team" in str(error)
    assert error.masked in str(error)
    assert SECRET not in str(error)
    assert SECRET not in all_logs.text


def test_build_channel_endpoints():
    urls = [
        "console://",
        "json://127.0.0.1:9/hook?format=markdown",
        "mailtos://user:pw@smtp.example.com?to=desk@example.com",
        "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/",
        "console://",  # the same URL twice is used once
    ]
    channel = build_channel("all", urls)
    assert channel.name == "all"
    assert [e.format for e in channel.endpoints] == ["text", "markdown", "html", "markdown"]
    for url, endpoint in zip(urls, channel.endpoints):
        assert endpoint.url == url
        assert endpoint.key == hashlib.sha256(url.encode()).hexdigest()[:16]
    with pytest.raises(ChannelURLError):
        build_channel("empty", [])


def test_mask_url():
    assert mask_url(f"mailtos://user:{SECRET}@smtp.example.com") .startswith("mailtos://user:****@smtp.example.com")
    assert mask_url(f"nosuchscheme://{SECRET}") == "nosuchscheme://****"
    assert mask_url(f"garbage {SECRET}") == "****"
    masked = mask_url(f"json://127.0.0.1/hook?+Authorization=Bearer%20{SECRET}")
    assert SECRET not in masked and "Authorization" in masked


def test_redaction_leaves_ordinary_words_alone(smtp_server, all_logs):
    # "mode=insecure" is an option, not a secret: Apprise's own log lines keep their words.
    (endpoint,) = build_channel("desk", [smtp_server.apprise_url()]).endpoints
    assert send(endpoint, Message(title="t", body="b", format="text"))
    assert "Threaded notification mode" in all_logs.text
    assert "Sent Email to desk@example.com" in all_logs.text


@pytest.mark.parametrize(("fmt", "expected"), [
    ("text", "[newswatch] t: <b> & co"),
    ("html", "[newswatch] t: &lt;b&gt; &amp; co"),
    ("markdown", "\\[newswatch\\] t: \\<b\\> & co"),
])
def test_title_is_escaped_for_services_that_blend_it_into_the_body(fmt, expected):
    from types import SimpleNamespace

    from newswatch.alerts.delivery import _title_for

    message = Message(title="[newswatch] t: <b> & co", body="b", format=fmt)
    assert _title_for(SimpleNamespace(title_maxlen=0), message) == expected
    assert _title_for(SimpleNamespace(title_maxlen=250), message) == message.title


def test_send_never_raises_for_an_endpoint_apprise_cannot_load(all_logs):
    endpoint = Endpoint(key="0" * 16, url=f"nosuchscheme://{SECRET}", masked="nosuchscheme://****", format="text")
    assert send(endpoint, Message(title="t", body="b", format="text")) is False
    assert "delivery to nosuchscheme://**** failed" in all_logs.text
    assert SECRET not in all_logs.text
