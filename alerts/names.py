"""Countries and the forms that name them, for topic queries.

A query word that names a country also matches the other forms of that name (DESIGN.md,
"Topic queries"): "South Korea" ↔ "South Korean(s)", "Republic of Korea", "ROK", and its
capital "Seoul" used for its government. The forms come from the `pycountryinfo` data
package (common and official names, alternative spellings, nationality adjective,
capital), read once per process, with these rules:

* Triggers: a query names a country when a run of its bare words is the country's common
  or official name, one of its alternative spellings or its nationality adjective
  ("Ukraine", "Britain", "South Korean"). A capital does not trigger: `Seoul fashion week`
  is about the city.
* Forms that stand for the country: those names, the nationality adjectives (plurals are
  folded by stemming: "South Koreans"), short forms (the data's all-capital spellings
  other than the ISO alpha-2 code, which is most often an ordinary word or another
  abbreviation: IN, IT, AI, TV; each also dotted: "U.K."), and the capital.
* Spellings that are not Latin script are left out (the matcher reads English news).
* A capital stands for its country alone, unless the data gives reason to doubt that it
  means the government: its name in the data carries a qualifier ("Washington, D.C.":
  the bare name is also the state), or it names a subdivision of another country
  ("Victoria", a state of Australia), or folding its accents changes it ("Malé" would be
  "male"). Such a capital counts only `CONTEXT_WORDS` words or fewer from a form of
  another country ("Washington and Seoul agreed"), and never as "Washington state" or
  "the state of Washington"; the qualified name itself ("Washington, D.C.") always
  counts.
* Dependent territories (the package's `associated_countries`) have names but no
  capital form: "Plymouth", "The Valley" and "Kingston" speak for no government.
* A form inside a longer form of another country does not count there: "Republic of
  Korea" inside "Democratic People's Republic of Korea", "Guinea" in "Papua New Guinea",
  "Sudanese" in "South Sudanese" (see `Form.not_within`).

Supplements to the data, each a spelling the package lacks: `_MORE_FORMS`.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable

CONTEXT_WORDS = 10

# Forms the data lacks, by ISO alpha-3: the dotted "U.S." (undotted, US is the word
# "us"), "ROK" and "Britain" (the data has only "Great Britain"); and Kyiv's former
# English spelling "Kiev" (the data has today's only; news before 2019 says Kiev).
_MORE_FORMS = {"USA": ("U.S.",), "KOR": ("ROK",), "GBR": ("Britain",)}
_MORE_CAPITALS = {"UKR": ("Kiev",)}


@dataclass(frozen=True)
class Form:
    """One way of writing a country's name, as the words of a text are tokenised.

    `not_within`: longer forms of other countries that contain this one, each with the
    offset of this form inside it; an occurrence inside one of them does not count."""

    text: str
    stems: tuple[str, ...]
    not_within: tuple[tuple[tuple[str, ...], int], ...] = ()


@dataclass(frozen=True)
class Country:
    """A country's name (`name`, as shown in explanations) and its forms.

    `forms` stand for the country wherever they occur; `capitals` (the capital's name and
    its other spellings) too when `capital_in_context` is False, else only near a form
    of another country."""

    name: str
    code: str  # ISO 3166-1 alpha-3
    forms: tuple[Form, ...]
    capitals: tuple[Form, ...] = ()
    capital_in_context: bool = False
    qualified_capital: Form | None = None


def _latin(text: str) -> bool:
    folded = unicodedata.normalize("NFKD", text)
    return all(ord(c) < 0x250 or unicodedata.combining(c) or not c.isalpha() for c in folded)


def _dotted(code: str) -> str:
    return ".".join(code) + "."


def _split_nationality(value: str) -> list[str]:
    """"Antiguan, Barbudan" and "Kittitian Or Nevisian" are two adjectives each."""
    parts = []
    for chunk in value.replace(" Or ", ",").split(","):
        if chunk.strip():
            parts.append(chunk.strip())
    return parts


def _records() -> list[dict]:
    from pycountryinfo.countryinfo import PyCountryInfo

    return PyCountryInfo().countries_list


def _dependent() -> frozenset[str]:
    import pycountryinfo.countryinfo as info

    return frozenset(getattr(info, "associated_countries", ()))


@lru_cache(maxsize=1)
def countries() -> tuple[Country, ...]:
    """Every country of the data, with its forms (built once per process)."""
    from newswatch.alerts.query import tokenize

    def form(text: str) -> Form | None:
        stems = tuple(t.stem for t in tokenize(text))
        return Form(text, stems) if stems else None

    records = _records()
    dependent = _dependent()
    subdivisions: dict[str, set[str]] = {}
    for record in records:
        for place in record.get("provinces") or ():
            subdivisions.setdefault(place.casefold(), set()).add(record["iso_codes"]["alpha_3"])

    built = []
    for record in records:
        code = record["iso_codes"]["alpha_3"]
        alpha2 = record["iso_codes"]["alpha_2"]
        names = [record["common_name"], record["official_name"]]
        short = []
        for spelling in record.get("alt_spellings") or ():
            if spelling == alpha2 or not _latin(spelling):
                continue
            if spelling.isupper() and spelling.isalpha():
                short += [spelling, _dotted(spelling)]
            elif "," not in spelling:  # "Korea, Republic of" is an index entry, not prose
                names.append(spelling)
        short += _MORE_FORMS.get(code, ())
        adjectives = _split_nationality(record.get("nationality") or "")
        forms = _unique(form(t) for t in (*names, *short, *adjectives) if _latin(t))
        capitals: tuple[Form, ...] = ()
        qualified = None
        in_context = False
        raw_capital = (record.get("capital") or "").strip()
        if raw_capital and record["common_name"] not in dependent:
            bare, _, qualifier = raw_capital.partition(",")
            capitals = _unique(form(t) for t in (bare, *_MORE_CAPITALS.get(code, ())))
            if qualifier.strip():
                qualified = form(raw_capital)
            folded = "".join(c for c in unicodedata.normalize("NFKD", bare)
                             if not unicodedata.combining(c))
            others = subdivisions.get(bare.casefold(), set()) - {code}
            in_context = bool(qualifier.strip() or others or folded != bare)
            if in_context:
                # "Washington state", "the state of Washington": the subdivision.
                state, of = form("state").stems, form("of").stems
                capitals = tuple(Form(c.text, c.stems, ((c.stems + state, 0),
                                                        (state + of + c.stems, 2)))
                                 for c in capitals)
        built.append(Country(record["common_name"], code, forms, capitals,
                             in_context, qualified))
    return _exclude_overlaps(built)


def _unique(forms: Iterable[Form | None]) -> tuple[Form, ...]:
    seen: dict[tuple[str, ...], Form] = {}
    for f in forms:
        if f is not None and f.stems not in seen:
            seen[f.stems] = f
    return tuple(seen.values())


def _exclude_overlaps(built: list[Country]) -> tuple[Country, ...]:
    """Fill each form's `not_within` with the longer forms of other countries that
    contain it (see the module docstring)."""
    owners: dict[tuple[str, ...], set[str]] = {}
    for country in built:
        for f in (*country.forms, *country.capitals):
            owners.setdefault(f.stems, set()).add(country.code)
    longer = sorted(owners, key=len, reverse=True)

    def fixed(f: Form, code: str) -> Form:
        within = []
        for other in longer:
            if len(other) <= len(f.stems):
                break
            if code in owners[other]:
                continue
            for off in range(len(other) - len(f.stems) + 1):
                if other[off:off + len(f.stems)] == f.stems:
                    within.append((other, off))
        return Form(f.text, f.stems, f.not_within + tuple(within)) if within else f

    out = []
    for c in built:
        out.append(Country(
            c.name, c.code,
            tuple(fixed(f, c.code) for f in c.forms),
            tuple(fixed(f, c.code) for f in c.capitals),
            c.capital_in_context,
            c.qualified_capital,
        ))
    return tuple(out)


@lru_cache(maxsize=1)
def by_trigger() -> dict[tuple[str, ...], tuple[Country, ...]]:
    """Query word runs (as stems) that name a country → the countries they name (a few
    forms name two: "Dominican", "Channel Islander")."""
    found: dict[tuple[str, ...], list[Country]] = {}
    for country in countries():
        for f in country.forms:
            found.setdefault(f.stems, []).append(country)
    return {k: tuple(v) for k, v in found.items()}


def longest_trigger() -> int:
    return max(map(len, by_trigger()), default=0)
