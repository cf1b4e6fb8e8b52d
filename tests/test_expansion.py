"""Names have their forms and aliases make a group one term (alerts/names.py,
alerts/expansion.py): what matches, what does not, and how snippets say why."""
from __future__ import annotations

import pytest

from newswatch.alerts.expansion import added, expand
from newswatch.alerts.matcher import Topic, TopicIndex, match_topics
from newswatch.alerts.query import ABOUT, Document, parse
from newswatch.jobs.config import ConfigError, load_config

ARMS = {"arms": ["weapons", "munitions", "artillery shells", "howitzers"]}


def matches(query: str, title: str, text: str = "", aliases=None, names=True, focus=None) -> bool:
    return expand(parse(query, focus), aliases, names).match(Document(title, text)) is not None


# (query, title, body, matches) with names' forms on and no aliases.
NAME_CASES = [
    ("South Korea", "South Korean exports rise", "", True),
    ("South Korea", "South Koreans vote", "", True),
    ("South Korea", "Seoul weighs its options", "", True),
    ("South Korea", "ROK defence firms grow", "", True),
    ("South Korea", "The Republic of Korea signs a deal", "", True),
    ("South Korea", "The Democratic People's Republic of Korea fires a missile", "", False),
    ("South Korea", "North Korea fires a missile", "Leaders in the south worry.", False),
    ("Ukraine", "Ukrainian troops advance", "", True),
    ("Ukraine", "Kyiv asks for air defence", "", True),
    ("Ukraine", "Kiev asks for air defence", "", True),
    ("United Kingdom", "Britain leaves the bloc", "", True),
    ("United Kingdom", "U.K. inflation falls", "", True),
    ("UK", "British banks rally", "", True),
    ("United States", "U.S. troops leave", "", True),
    ("United States", "Americans go to the polls", "", True),
    ("United States", "It told us nothing", "", False),
    ("United States", "American Samoa braces for a cyclone", "", False),
    ("Guinea", "Papua New Guinea holds elections", "", False),
    ("Guinea", "Conakry holds elections", "", True),
    ("Sudan", "South Sudanese refugees", "", False),
    # A capital whose name is in doubt counts only beside another country's form.
    ("United States", "Washington and Beijing agree on tariffs", "", True),
    ("United States", "Washington wins the football game", "", False),
    ("United States China", "Washington state sells apples to China", "", False),
    ("United States China", "The state of Washington sells apples to China", "", False),
    ("United States", "Washington, D.C. braces for a storm", "", True),
    ("Seychelles", "Victoria Beckham opens a shop", "", False),
    ("Seychelles", "Victoria and Beijing sign a fisheries pact", "", True),
    # A capital in the query is the city: it does not expand to its country.
    ("Seoul fashion", "South Korean fashion week", "", False),
    # Quoted: literal.
    ('"South Korea"', "Seoul weighs its options", "", False),
    ('"Ukraine" arms', "Kyiv arms", "", False),
]


@pytest.mark.parametrize("query,title,text,expected", NAME_CASES)
def test_names_have_their_forms(query, title, text, expected):
    assert matches(query, title, text) is expected


@pytest.mark.parametrize("query,title,expected", [
    ("South Korea Ukraine arms", "Seoul approves artillery shells for Kyiv", True),
    ("South Korea Ukraine arms", "South Korean howitzers for Ukrainian troops", True),
    ("South Korea Ukraine arms", "North Korea sends troops to Russia", False),
    ("South Korea Ukraine arms", "Seoul fashion week opens with Kyiv designers", False),
    ("South Korea Ukraine arms", "South Korea to send arms to Ukraine", True),
    ('South Korea Ukraine "arms"', "Seoul approves howitzers for Kyiv", False),
    ("arms -weapons", "Arms talks stall", True),
    ("arms -weapons", "Munitions talks stall", True),
])
def test_aliases_make_a_group_one_term(query, title, expected):
    assert matches(query, title, aliases=ARMS) is expected


def test_expand_false_keeps_names_literal_but_not_aliases():
    assert not matches("South Korea Ukraine arms", "Seoul approves artillery shells for Kyiv",
                       aliases=ARMS, names=False)
    assert matches("South Korea Ukraine arms", "South Korea approves artillery shells for "
                   "Ukraine", aliases=ARMS, names=False)


def test_an_alias_key_that_names_a_country_adds_to_its_forms():
    query = expand(parse("Ukraine"), {"Ukraine": ["Zelensky"]})
    assert query.match(Document("Zelensky speaks", "")) is not None
    assert query.match(Document("Kyiv speaks", "")) is not None


def test_a_name_s_forms_count_together_as_mentions():
    """Under `focus: about`, a term past the lead needs ABOUT.mentions mentions: the
    forms of one name add up."""
    filler = " ".join(["lorem"] * ABOUT.lead_words) + ". "
    mentions = ["Seoul", "South Korea", "South Korean", "Seoul"]
    body = filler + " and ".join(mentions[:ABOUT.mentions]) + "."
    assert matches("South Korea Ukraine", "Ukraine talks", body, focus=ABOUT)
    fewer = filler + " and ".join(mentions[:ABOUT.mentions - 1]) + "."
    assert not matches("South Korea Ukraine", "Ukraine talks", fewer, focus=ABOUT)


def test_snippets_mark_the_form_that_stood_in():
    query = expand(parse("South Korea Ukraine arms"), ARMS)
    found = query.match(Document("Seoul approves artillery shells for Kyiv", ""))
    snippet = found.snippets[0]
    assert snippet.text == ("Seoul (South Korea) approves artillery shells (arms) for Kyiv "
                            "(Ukraine)")
    assert [snippet.text[a:b] for a, b in snippet.marks] == [
        "Seoul", "artillery", "shells", "Kyiv"]


def test_literal_words_are_not_annotated():
    query = expand(parse("South Korea Ukraine"))
    snippet = query.match(Document("South Korea and Ukraine talk", "")).snippets[0]
    assert snippet.text == "South Korea and Ukraine talk"


def test_added_lists_what_the_expansion_adds():
    groups = {g.label: g for g in added(expand(parse("South Korea Ukraine arms"), ARMS))}
    assert groups["South Korea"].kind == "name"
    assert {"Seoul", "South Korean", "ROK"} <= set(groups["South Korea"].forms)
    assert {"Kyiv", "Ukrainian"} <= set(groups["Ukraine"].forms)
    assert groups["arms"].kind == "alias"
    assert groups["arms"].forms == ("weapons", "munitions", "artillery shells", "howitzers")


def test_an_expanded_topic_is_found_through_the_topic_index():
    topic = Topic("korea-arms", expand(parse("South Korea Ukraine arms"), ARMS))
    other = Topic("fashion", expand(parse("fashion week")))
    index = TopicIndex([topic, other])
    found = match_topics(index, "Seoul approves artillery shells for Kyiv", "")
    assert [m.topic.name for m in found] == ["korea-arms"]


def write_config(tmp_path, text: str):
    path = tmp_path / "newswatch.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_config_merges_top_level_and_topic_aliases(tmp_path):
    config = load_config(write_config(tmp_path, """
aliases: {arms: [weapons]}
topics:
  - name: korea-arms
    query: South Korea Ukraine arms
    aliases: {arms: ["artillery shells"]}
    focus: about
  - name: literal
    query: South Korea Ukraine arms
    expand: false
"""))
    merged, literal = config.topics
    assert merged.query.focus == ABOUT and literal.query.focus is None
    assert {g.label: g.forms for g in added(merged.query)}["arms"] == (
        "weapons", "artillery shells")
    assert [g.label for g in added(literal.query)] == ["arms"]  # aliases, not names
    assert config.aliases == {"arms": ("weapons",)}


@pytest.mark.parametrize("aliases,key", [
    ("{arms: ['--']}", "topics[0].aliases.arms[0]"),
    ("{'&': [weapons]}", "topics[0].aliases.&.[key]"),
])
def test_an_alias_without_words_is_a_config_error(tmp_path, aliases, key):
    path = write_config(tmp_path, f"topics:\n  - name: t\n    query: arms\n    aliases: {aliases}\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value).startswith(f"{path}: {key}: ")
    assert "an alias needs a word" in str(err.value)
