"""canonical_url(): the dedup-level-1 URL key (DESIGN.md, "Dedup")."""

from __future__ import annotations

import pytest

from newswatch.corpus.urls import TRACKING_PARAMS, canonical_url

CASES = [
    # (input, expected, why)
    ("HTTP://WWW.Example.COM/Path", "http://www.example.com/Path", "scheme and host lower-cased, path case kept"),
    ("https://www.example.com/a", "https://www.example.com/a", "www. is kept"),
    ("http://example.com/a", "http://example.com/a", "http is not upgraded to https"),
    ("http://example.com:80/a", "http://example.com/a", "default http port dropped"),
    ("https://example.com:443/a", "https://example.com/a", "default https port dropped"),
    ("https://example.com:80/a", "https://example.com:80/a", "a non-default port for the scheme is kept"),
    ("http://example.com:8080/a", "http://example.com:8080/a", "other ports kept"),
    ("http://example.com:/a", "http://example.com/a", "empty port dropped"),
    ("http://[::1]:80/a", "http://[::1]/a", "default port dropped after an IPv6 host"),
    ("https://example.com", "https://example.com/", "empty path becomes /"),
    ("https://example.com:443", "https://example.com/", "empty path after a dropped port"),
    ("https://example.com/a#section-2", "https://example.com/a", "fragment dropped"),
    ("https://example.com/a?#", "https://example.com/a", "empty query and fragment dropped"),
    ("https://example.com/a?b=2&a=1&c=0", "https://example.com/a?a=1&b=2&c=0", "query sorted"),
    ("https://example.com/a?a=2&a=1", "https://example.com/a?a=1&a=2", "repeated keys sorted by value"),
    ("https://example.com/a?b=&a=1", "https://example.com/a?a=1&b=", "blank values kept"),
    ("https://example.com/a?x=1&&y=2", "https://example.com/a?x=1&y=2", "empty pieces dropped"),
    ("https://example.com/a?utm_source=tw&utm_medium=social&id=7", "https://example.com/a?id=7", "utm_* dropped"),
    ("https://example.com/a?utm_anything_new=1", "https://example.com/a", "any utm_ key"),
    ("https://example.com/a?UTM_Source=x&FBCLID=y&id=1", "https://example.com/a?id=1", "tracking keys case-insensitive"),
    ("https://example.com/a?utm%5Fsource=x", "https://example.com/a", "percent-encoded tracking key"),
    ("https://example.com/?fbclid=IwAR0", "https://example.com/", "only tracking -> no query at all"),
    (
        "https://example.com/a?gclid=1&dclid=2&gbraid=3&wbraid=4&msclkid=5&mc_cid=6&mc_eid=7&igshid=8"
        "&yclid=9&_ga=10&ref_src=11&cmpid=12&ocid=13&smid=14&sr_share=15&at_medium=16&at_campaign=17&page=2",
        "https://example.com/a?page=2",
        "the named tracking parameters",
    ),
    ("https://example.com/a?ref=home&source=rss", "https://example.com/a?ref=home&source=rss", "non-tracking keys kept"),
    ("https://example.com/%7euser/a%2fb", "https://example.com/~user/a%2Fb", "percent-encoding normalised"),
    ("https://example.com/a b?q=a b", "https://example.com/a%20b?q=a+b", "spaces escaped"),
    ("https://example.com/caf\u00e9", "https://example.com/caf%C3%A9", "non-ASCII path UTF-8 escaped"),
    ("http://b\u00fccher.example/", "http://xn--bcher-kva.example/", "IDN host in punycode"),
    ("https://example.com/a/./b/../c", "https://example.com/a/c", "dot segments resolved"),
    ("  https://example.com/a\n", "https://example.com/a", "surrounding whitespace"),
    ("https://example.com/p;jsessionid=1?a=1", "https://example.com/p;jsessionid=1?a=1", "path params kept"),
    ("file:///srv/drop/a%20b.txt", "file:///srv/drop/a%20b.txt", "file URL passes through"),
    ("file:///srv/drop/a b.txt#x", "file:///srv/drop/a%20b.txt", "file URL normalised"),
]


@pytest.mark.parametrize(("url", "expected", "why"), CASES, ids=[c[2] for c in CASES])
def test_canonical_url(url: str, expected: str, why: str) -> None:
    assert canonical_url(url) == expected, why


@pytest.mark.parametrize("url", [c[0] for c in CASES])
def test_canonical_url_is_idempotent(url: str) -> None:
    once = canonical_url(url)
    assert canonical_url(once) == once


def test_share_links_collapse_to_one_key() -> None:
    variants = [
        "https://news.example.com/world/2024/11/20/story.html",
        "HTTPS://News.Example.com:443/world/2024/11/20/story.html#comments",
        "https://news.example.com/world/2024/11/20/story.html?utm_source=twitter&utm_medium=social",
        "https://news.example.com/world/2024/11/20/story.html?fbclid=IwAR3x&smid=fb-share",
    ]
    assert len({canonical_url(v) for v in variants}) == 1


def test_tracking_params_is_a_lower_case_frozenset() -> None:
    assert isinstance(TRACKING_PARAMS, frozenset)
    assert all(p == p.lower() for p in TRACKING_PARAMS)
    assert {"fbclid", "gclid", "msclkid", "_ga", "at_campaign"} <= TRACKING_PARAMS


@pytest.mark.parametrize("url", ["", "   ", "http://example.com:99999/"])
def test_invalid_urls_raise_value_error(url: str) -> None:
    with pytest.raises(ValueError):
        canonical_url(url)
