"""Expansion of a parsed query: names have their forms, aliases make a group one term.

`expand(query, aliases, names=True)` rewrites a `Query` so that

* a run of bare (unquoted) words that names a country ("South Korea", "Ukraine",
  "British") becomes one term: an OR-group of the country's forms (alerts/names.py),
  the query's own words among them, as a phrase;
* a run of bare words that is an alias key (`aliases: {arms: [weapons, "artillery
  shells"]}`) becomes one term: an OR-group of the key and its aliases (a multi-word
  alias is a phrase); a key that also names a country adds its aliases to the name's
  group;
* a quoted word or phrase stays literal, and `names=False` (a topic's `expand: false`)
  leaves names alone (aliases still apply: they are the topic's own words).

Runs are matched longest first, left to right, among the words ANDed side by side (a
name never spans an OR, a parenthesis or a `title:` boundary). The groups are ordinary
OR nodes (`query.Group`) in the tree, so a `TopicIndex` files the topic under every
form's rarest word and matching stays one set lookup per word of the article; there is
no regular expression per topic. Each added form carries the query's word or name it
stands for, which snippets show beside its marks: "«Seoul» (South Korea)".
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Mapping, Sequence

from newswatch.alerts import names as country_names
from newswatch.alerts.query import (
    And, Beside, Group, Leaf, Near, Node, Not, Or, Phrase, Query, Term, tokenize,
)

Aliases = Mapping[str, Sequence[str]]


@dataclass(frozen=True)
class Added:
    """What an expansion added for one word or name of the query: `label` as written in
    the query, `kind` ("name" or "alias"), and the forms it now also matches."""

    label: str
    kind: str
    forms: tuple[str, ...]


def expand(query: Query, aliases: Aliases | None = None, names: bool = True) -> Query:
    """The query with its names' forms and its aliases as OR-groups (see the module
    docstring); the same query when nothing applies."""
    table = _alias_table(tuple((k, tuple(v)) for k, v in (aliases or {}).items()))
    longest = max([country_names.longest_trigger() if names else 0,
                   *(len(k) for k in table)])
    root = _Rewriter(table, names, longest).node(query.root)
    return query if root == query.root else replace(query, root=root)


def added(query: Query) -> tuple[Added, ...]:
    """What expansion added over the literal query, group by group, in query order."""
    found: list[Added] = []

    def walk(node: Node) -> None:
        if isinstance(node, Group):
            forms = tuple(dict.fromkeys(_shown(c) for c in node.children[1:]))
            found.append(Added(node.label, node.kind, forms))
            return
        if isinstance(node, Not):
            walk(node.child)
        elif isinstance(node, (And, Or, Near)):
            for child in node.children:
                walk(child)

    walk(query.root)
    return tuple(found)


def _shown(node: Node) -> str:
    if isinstance(node, Beside):
        return f"{_shown(node.children[0])} (beside another country)"
    return node.text  # type: ignore[union-attr]


# --------------------------------------------------------------------------- tables

def _stems(text: str) -> tuple[str, ...]:
    return tuple(t.stem for t in tokenize(text))


@lru_cache(maxsize=256)
def _alias_table(aliases: tuple[tuple[str, tuple[str, ...]], ...]
                 ) -> dict[tuple[str, ...], tuple[str, tuple[str, ...]]]:
    """Alias key stems → (key as written, its aliases as written). Keys without words
    are dropped (the config refuses them)."""
    table: dict[tuple[str, ...], tuple[str, tuple[str, ...]]] = {}
    for key, values in aliases:
        stems = _stems(key)
        if stems:
            old = table.get(stems, (key, ()))
            table[stems] = (old[0], tuple(dict.fromkeys((*old[1], *values))))
    return table


def _leaf(text: str, stems: tuple[str, ...], in_title: bool, stands_for: str,
          not_within=()) -> Leaf:
    if len(stems) == 1:
        return Term(stems[0], text, in_title, stands_for=stands_for, not_within=not_within)
    return Phrase(stems, text, in_title, stands_for=stands_for, not_within=not_within)


@lru_cache(maxsize=512)
def _country_forms(code: str, in_title: bool) -> tuple[Node, ...]:
    """The nodes that stand for a country: its forms, its capital (beside another
    country's form where the capital's name is in doubt), as built by alerts/names."""
    country = next(c for c in country_names.countries() if c.code == code)
    nodes: list[Node] = [_leaf(f.text, f.stems, in_title, country.name, f.not_within)
                         for f in country.forms]
    for c in country.capitals:
        capital = _leaf(c.text, c.stems, in_title, country.name, c.not_within)
        if country.capital_in_context:
            nodes.append(Beside((capital, _elsewhere(code)), country_names.CONTEXT_WORDS))
        else:
            nodes.append(capital)
    if country.qualified_capital is not None:
        q = country.qualified_capital
        nodes.append(_leaf(q.text, q.stems, in_title, country.name))
    return tuple(nodes)


@lru_cache(maxsize=64)
def _elsewhere(code: str) -> Or:
    """Any form of a country other than `code` (or its capital, when not in doubt): the
    context in which a doubtful capital counts."""
    leaves: dict[Leaf, None] = {}
    for country in country_names.countries():
        if country.code == code:
            continue
        for f in country.forms:
            leaves[_leaf(f.text, f.stems, False, "", f.not_within)] = None
        if not country.capital_in_context:
            for c in country.capitals:
                leaves[_leaf(c.text, c.stems, False, "", c.not_within)] = None
    return Or(tuple(leaves))


# --------------------------------------------------------------------------- rewriting

class _Rewriter:
    def __init__(self, aliases, names: bool, longest: int):
        self.aliases = aliases
        self.names = names
        self.longest = longest

    def node(self, node: Node) -> Node:
        if isinstance(node, Term) and not node.quoted:
            return self.run([node]) or node
        if isinstance(node, And):
            return And(tuple(self.children(node.children)), node.pos)
        if isinstance(node, Not):
            return Not(self.node(node.child), node.pos)
        if isinstance(node, Near):
            return replace(node, children=tuple(self.node(c) for c in node.children))
        if isinstance(node, Or):
            return replace(node, children=tuple(self.node(c) for c in node.children))
        return node

    def children(self, children: Sequence[Node]) -> list[Node]:
        """ANDed children, with runs of bare words side by side grouped when they form
        a name or an alias key (longest first)."""
        out: list[Node] = []
        i = 0
        while i < len(children):
            child = children[i]
            if isinstance(child, Term) and not child.quoted:
                run = []
                for c in children[i:i + self.longest]:
                    if not (isinstance(c, Term) and not c.quoted and c.in_title == child.in_title):
                        break
                    run.append(c)
                for size in range(len(run), 0, -1):
                    group = self.run(run[:size])
                    if group is not None:
                        out.append(group)
                        i += size
                        break
                else:
                    out.append(child)
                    i += 1
                continue
            out.append(self.node(child))
            i += 1
        return out

    def run(self, words: list[Term]) -> Group | None:
        """The group for these consecutive bare words, or None if they are neither a name
        nor an alias key."""
        stems = tuple(w.stem for w in words)
        label = " ".join(w.text for w in words)
        in_title = words[0].in_title
        countries = country_names.by_trigger().get(stems, ()) if self.names else ()
        alias = self.aliases.get(stems)
        if not countries and alias is None:
            return None
        # The query's own words, kept out of longer names of other countries when they
        # name one ("Guinea" is not read in "Papua New Guinea").
        within = next((f.not_within for c in countries for f in c.forms if f.stems == stems), ())
        own = _leaf(label, stems, in_title, "", within)
        forms: list[Node] = []
        for country in countries:
            forms += [f for f in _country_forms(country.code, in_title)
                      if not (isinstance(f, (Term, Phrase)) and _leaf_stems(f) == stems)]
        if alias is not None:
            for value in alias[1]:
                value_stems = _stems(value)
                if value_stems and value_stems != stems:
                    forms.append(_leaf(value, value_stems, in_title, label))
        forms = list(dict.fromkeys(forms))
        kind = "name" if countries else "alias"
        if not forms:
            return None
        return Group((own, *forms), words[0].pos, label=label, kind=kind)


def _leaf_stems(leaf: Leaf) -> tuple[str, ...]:
    return (leaf.stem,) if isinstance(leaf, Term) else leaf.stems
