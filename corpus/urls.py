"""URL canonicalisation for dedup level 1 (see DESIGN.md, "Dedup").

Two URLs that name the same article should map to the same string, so that an article
reached through a feed link, a share link with ``utm_*`` parameters and its own
``<link rel=canonical>`` is fetched and stored once. The transformation is deliberately
conservative: it only rewrites what cannot change which server answers or which
document it serves (so ``www.`` stays, and ``http`` is never turned into ``https``).
"""

from __future__ import annotations

import logging
from urllib.parse import unquote_plus, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

__all__ = ["TRACKING_PARAMS", "TRACKING_PREFIXES", "canonical_url"]

logger = logging.getLogger(__name__)

#: Query parameters that only identify the campaign, click or share that led to a page,
#: never the page itself. Compared case-insensitively (keys are lower-cased first).
TRACKING_PARAMS: frozenset[str] = frozenset(
    {
        # ad-network click ids
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid",
        "ttclid", "li_fat_id", "igshid", "s_kwcid", "ef_id",
        # Google Analytics cross-domain linker
        "_ga", "_gl",
        # Mailchimp, HubSpot, Marketo, Vero, Olytics (newsletter links)
        "mc_cid", "mc_eid", "_hsenc", "_hsmi", "mkt_tok", "vero_id", "vero_conv",
        "oly_anon_id", "oly_enc_id",
        # Facebook share/action parameters
        "fb_action_ids", "fb_action_types", "fb_ref", "fb_source",
        # news sites' own share/campaign tags
        "ref_src", "ref_url", "cmpid", "ocid", "ncid", "smid", "smtyp", "sr_share",
        "soc_src", "soc_trk", "xtor", "guccounter", "guce_referrer", "guce_referrer_sig",
        # AT Internet (Piano) campaign tags
        "at_medium", "at_campaign", "at_format", "at_creation", "at_variant",
        "at_send_date", "at_link", "at_link_id", "at_link_type", "at_link_origin",
        "at_platform", "at_ptr_name", "at_bbc_team", "at_custom1", "at_custom2",
        "at_custom3", "at_custom4",
    }
)  # fmt: skip

#: Key prefixes that mark a tracking parameter whatever follows (``utm_source``, ``utm_id``, …).
TRACKING_PREFIXES: tuple[str, ...] = ("utm_",)

_DEFAULT_PORTS = {"http": 80, "https": 443}


def _is_tracking(key: str) -> bool:
    key = unquote_plus(key).strip().lower()
    return key in TRACKING_PARAMS or key.startswith(TRACKING_PREFIXES)


def _strip_tracking(query: str) -> str:
    """Drop tracking parameters from a raw query string, leaving every other byte as it was.

    Works on the raw ``&``-separated pieces rather than on parse_qsl() output so that the
    remaining parameters keep their original escaping for canonicalize_url() to normalise.
    """
    kept = [piece for piece in query.split("&") if piece and not _is_tracking(piece.partition("=")[0])]
    return "&".join(kept)


def canonical_url(url: str) -> str:
    """Return the canonical form of ``url`` used as the dedup key for "same URL".

    For http(s) URLs: scheme and host lower-cased, default port (:80 / :443) dropped,
    fragment dropped, tracking parameters (:data:`TRACKING_PARAMS`, ``utm_*``) dropped,
    the remaining query parameters sorted (blank values kept), percent-encoding
    normalised, dot segments resolved, an empty path written as ``/``. ``www.`` and the
    scheme are kept as they are: a different host or scheme may be a different server.

    Other schemes (``file://`` for local sources) get only the generic normalisation
    (escaping, dot segments, no fragment).

    The function is idempotent: ``canonical_url(canonical_url(u)) == canonical_url(u)``.

    Raises:
        ValueError: ``url`` is empty or not a valid URL (e.g. a port out of range).
    """
    url = url.strip()
    if not url:
        raise ValueError("empty URL")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        return canonicalize_url(url)

    # canonicalize_url() lower-cases the host, IDNA-encodes it, drops the fragment, sorts
    # the query (blank values kept), normalises percent-escapes, resolves dot segments and
    # writes an empty path as "/". What it does not do, and we add: remove tracking
    # parameters (before it sorts) and drop the scheme's default port (after it, so the
    # host is already lower-cased and a trailing ":" already removed).
    query = _strip_tracking(parts.query)
    canon = canonicalize_url(urlunsplit((scheme, parts.netloc, parts.path, query, "")))

    canon_parts = urlsplit(canon)
    try:
        port = canon_parts.port
    except ValueError:  # a non-numeric or out-of-range port: not ours to repair
        return canon
    if port == _DEFAULT_PORTS[scheme]:
        netloc = canon_parts.netloc.rpartition(":")[0]
        canon = urlunsplit((canon_parts.scheme, netloc, canon_parts.path or "/", canon_parts.query, ""))
    return canon
