"""Tests for the topic query language (newswatch.alerts.query)."""
from __future__ import annotations

from pathlib import Path

import pytest

from newswatch.alerts import query
from newswatch.alerts.query import (
    ABOUT, Document, Focus, Phrase, QueryError, QueryMatch, Snippet, Term, parse, tokenize,
)

SEED = Path(__file__).resolve().parent.parent / "seeds" / "000_5867867d4832e80a.txt"

SENTENCE = ("South Korea is weighing whether to send arms to Ukraine, officials said, "
            "as pressure from Washington grows.")

# (id, query, title, text, should match, why)
CASES = [
    ("and-four-words", "South Korea Ukraine arms", "", SENTENCE, True,
     "all four words occur somewhere"),
    ("and-missing-word", "South Korea Ukraine arms", "", SENTENCE.replace("arms", "aid"),
     False, "every bare word is required"),
    ("and-spread-title-body", "Korea arms", "Seoul weighs arms for Kyiv",
     "South Korea said nothing.", True, "AND looks at title and body together"),
    ("case-insensitive", "SOUTH korea", "", "south KOREA", True, "case folded"),
    ("arms-not-farms", "arms", "", "Farms and harms, an armistice.", False,
     "word boundaries: farms, harms, armistice are other words"),
    ("arm-matches-arms", "arm", "", "shipments of arms", True, "stemmed alike"),
    ("arms-matches-arm", "arms", "", "a robotic arm", True, "stemmed alike"),
    ("weapons-matches-weapon", "weapons", "", "a new weapon", True, "stemmed alike"),
    ("weapon-matches-weapons", "weapon", "", "new weapons", True, "stemmed alike"),
    ("phrase-adjacent", '"South Korea"', "", "talks with South Korea today", True,
     "consecutive words"),
    ("phrase-line-break", '"South Korea"', "", "officials in South\nKorea said", True,
     "a line break between the words is still adjacent"),
    ("phrase-punctuation", '"arms deal"', "", "the arms. Deal or not", True,
     "punctuation between the words is ignored"),
    ("phrase-apart", '"South Korea"', "", "South Africa and North Korea", False,
     "both words occur, but not next to each other"),
    ("phrase-stemmed", '"arms shipment"', "", "an arm shipments story", True,
     "phrase words are stemmed too"),
    ("or-first", "Kyiv OR Kiev", "", "in Kyiv today", True, "either alternative"),
    ("or-second", "Kyiv OR Kiev", "", "in Kiev today", True, "either alternative"),
    ("or-neither", "Kyiv OR Kiev", "", "in Lviv today", False, "neither alternative"),
    ("lowercase-or-is-a-word", "Kyiv or Kiev", "", "in Kyiv today", False,
     "lowercase or is a plain word, so all three words are required"),
    ("or-precedence", "Korea arms OR tanks", "", "tanks for Ukraine", True,
     "AND binds tighter: (Korea arms) OR tanks"),
    ("minus-excludes", "Ukraine -sports", "", "Ukraine sports news", False,
     "-word excludes"),
    ("minus-absent", "Ukraine -sports", "", "Ukraine arms news", True,
     "-word only excludes when present"),
    ("not-excludes", "Ukraine NOT sports", "", "Ukraine sports news", False,
     "NOT word excludes"),
    ("not-title-only", "Ukraine NOT sports", "Sports roundup", "Ukraine won.", False,
     "a negated word in the title alone still excludes"),
    ("minus-phrase", 'Ukraine -"South Korea"', "", "Ukraine and South Korea", False,
     "-\"phrase\" excludes the phrase"),
    ("minus-phrase-apart", 'Ukraine -"South Korea"', "", "Ukraine, South Africa, Korea",
     True, "-\"phrase\" does not exclude the words apart"),
    ("parens", "(Kyiv OR Kiev) arms", "", "arms for Kiev", True, "grouping"),
    ("parens-needs-and", "(Kyiv OR Kiev) arms", "", "Kiev", False,
     "the group is ANDed with arms"),
    ("not-group", "Ukraine -(sports OR football)", "", "Ukraine football", False,
     "negated group"),
    ("title-term", "title:arms", "Arms for Ukraine", "nothing here", True,
     "title: looks in the title"),
    ("title-term-body-only", "title:arms", "Ukraine news", "arms for Ukraine", False,
     "title: ignores the body"),
    ("title-phrase", 'title:"South Korea" Ukraine', "South Korea weighs aid",
     "Ukraine asks", True, "title phrase plus body word"),
    ("title-group", "title:(Kyiv OR Kiev)", "Kiev talks", "", True, "title: on a group"),
    ("diacritics-text", "Zelenskyy", "", "President Zelenskyý said", True,
     "accents folded in the text"),
    ("diacritics-query", "Zelenskyý", "", "President Zelenskyy said", True,
     "accents folded in the query"),
    ("diacritics-decomposed", "Zelenskyy", "", "Zelensky\u0301y said", True,
     "NFD text with a combining accent"),
    ("possessive-ascii", "South Korea", "", "South Korea's arms", True,
     "possessive 's dropped"),
    ("possessive-curly", "South Korea", "", "South Korea\u2019s arms", True,
     "possessive \u2019s dropped"),
    ("possessive-in-query", "Korea\u2019s", "", "Korea said", True,
     "possessive in the query dropped too"),
    ("possessive-phrase", '"South Korea arms"', "", "South Korea\u2019s arms", True,
     "possessive does not break a phrase"),
    ("hyphen-splits", "Ukraine", "", "the Russo-Ukraine war", True,
     "hyphenated words split"),
    ("hyphen-phrase", '"Korea Ukraine"', "", "Korea-Ukraine ties", True,
     "hyphenated parts are adjacent"),
    ("hyphen-query-word", "Korea-Ukraine", "", "Korea Ukraine ties", True,
     "a hyphenated query word is a phrase of its parts"),
    ("hyphen-query-apart", "Korea-Ukraine", "", "Ukraine and Korea", False,
     "... so its parts must be adjacent and in order"),
    ("us-abbrev", "U.S.", "", "the U.S. military", True, "U.S. matches U.S."),
    ("us-abbrev-hyphen", "U.S.", "", "U.S.-supplied missiles", True,
     "U.S. before a hyphen"),
    ("us-abbrev-no-final-dot", "U.S.", "", "the U.S military", True,
     "final dot optional"),
    ("us-pronoun-not-abbrev", "us", "", "the U.S. military", False,
     "the pronoun is not the abbreviation"),
    ("us-abbrev-not-pronoun", "U.S.", "", "he told us", False,
     "the abbreviation is not the pronoun"),
    ("us-undotted", "US", "", "US military aid", True, "undotted US is the word us"),
    ("colon-time", "10:30", "", "at 10:30 local time", True,
     "a colon after digits is punctuation"),
    ("colon-word-end", "Update: Korea", "", "update on Korea", True,
     "a colon ending a word is punctuation"),
    ("thousands", "1,000th", "", "the 1000th day", True, "thousands separator dropped"),
    ("curly-quotes-phrase", "\u201cSouth Korea\u201d", "", "in South Korea", True,
     "curly double quotes delimit a phrase"),
    ("explicit-and", "Korea AND arms", "", "Korea arms", True, "AND is accepted"),
    ("double-negation", "NOT -sports", "", "sports", True, "NOT -x is x"),
]


@pytest.mark.parametrize("query,title,text,expected,why",
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_matching(query, title, text, expected, why):
    match = parse(query).match(Document(title, text))
    assert (match is not None) == expected, why
    if match is not None:
        assert isinstance(match, QueryMatch)
        assert match.snippets, "a match always carries at least one snippet"


# (id, query, problem, caret position)
ERRORS = [
    ("unclosed-paren", "(South Korea", "unbalanced parenthesis", 0),
    ("stray-paren", "South Korea)", "unbalanced parenthesis", 11),
    ("nested-unclosed", "Ukraine (Kyiv OR (Kiev)", "unbalanced parenthesis", 8),
    ("unclosed-quote", 'arms "South Korea', "unbalanced quote", 5),
    ("dangling-or", "Korea OR", "OR needs a term on both sides", 6),
    ("leading-or", "OR Korea", "OR needs a term on both sides", 0),
    ("or-or", "Korea OR OR arms", "OR needs a term on both sides", 6),
    ("or-before-paren", "(Korea OR) arms", "OR needs a term on both sides", 7),
    ("empty", "", "empty query", 0),
    ("blank", "   ", "empty query", 0),
    ("punctuation-only", "& ...", "the query has no words to search for", 0),
    ("empty-parens", "arms ()", "empty parentheses", 5),
    ("empty-phrase", 'arms ""', "empty phrase", 5),
    ("unknown-field", "arms foo:bar",
     "unknown field 'foo:' (only title: and source: are supported)", 5),
    ("url-is-not-a-field", "see https://x.org", "unknown field 'https:'", 4),
    ("title-alone", "arms title:", "title: needs a word, phrase or group right after it", 5),
    ("dangling-not", "arms NOT", "NOT needs a term right after it", 5),
    ("negative-only-minus", "-sports", "a query needs at least one positive term", 0),
    ("negative-only-not", "NOT sports", "a query needs at least one positive term", 0),
    ("negative-only-many", '-sports -"op ed"', "a query needs at least one positive term", 0),
    ("negative-only-group", "-(a OR b)", "a query needs at least one positive term", 0),
    ("negative-or-branch", "arms OR -sports", "every OR alternative needs a positive term", 8),
    ("source-alone", "source:reuters", "a query needs at least one positive term", 0),
    ("source-or-branch", "arms OR source:reuters",
     "every OR alternative needs a positive term", 8),
    ("source-no-name", "arms source:", "source: needs a source name right after it", 5),
    ("source-bad-name", "arms source:(a OR b)", "source: needs a source name right after it", 5),
    ("near-no-distance", "Korea NEAR arms", "NEAR needs a distance in words, e.g. NEAR/5", 6),
    ("near-bad-distance", "Korea NEAR/x arms", "NEAR needs a distance in words", 6),
    ("near-leading", "NEAR/3 arms", "NEAR needs a term on both sides", 0),
    ("near-dangling", "arms NEAR/3", "NEAR needs a term on both sides", 5),
    ("near-negated-side", "arms NEAR/3 -sports", "NEAR needs a word, a phrase", 12),
    ("near-and-group", "arms NEAR/3 (Korea Japan)", "NEAR needs a word, a phrase", 13),
]


# (id, query, source, title, text, should match, why): NEAR and source:
FIELD_CASES = [
    ("near-within", "Korea NEAR/5 arms", "", "", SENTENCE, True,
     "five words between Korea and arms"),
    ("near-too-far", "Korea NEAR/4 arms", "", "", SENTENCE, False,
     "five words between, four allowed"),
    ("near-either-order", "arms NEAR/5 Korea", "", "", SENTENCE, True, "order does not matter"),
    ("near-adjacent", "Korea NEAR/0 arms", "", "", "Korea arms deal", True,
     "NEAR/0 is adjacent, in either order"),
    ("near-line-break", "Korea NEAR/1 arms", "", "", "Korea sends\narms", True,
     "a line break is no word"),
    ("near-not-across-fields", "Korea NEAR/9 arms", "", "South Korea", "arms", False,
     "title and body are separate texts"),
    ("near-in-title", "title:(Korea NEAR/2 arms)", "", "Korea weighs arms", "", True,
     "title: applies to both sides"),
    ("near-phrase", '"South Korea" NEAR/3 Ukraine', "", "", "South Korea, in talks with Ukraine",
     True, "a phrase side is measured from its last word"),
    ("near-or-side", "(Kyiv OR Kiev) NEAR/2 arms", "", "", "arms for Kiev", True,
     "any alternative of a group"),
    ("near-stemmed", "weapon NEAR/1 shipments", "", "", "shipment of weapons", True,
     "stems compared, as everywhere"),
    ("near-chain", "Korea NEAR/2 arms NEAR/2 Ukraine", "", "", "Korea sends arms to Ukraine",
     True, "a chain: each link within its distance"),
    ("near-chain-broken", "Korea NEAR/2 arms NEAR/2 Ukraine", "", "",
     "Korea sends arms, officials say, eventually to Ukraine", False,
     "Ukraine is too far from the Korea-arms pair"),
    ("near-lowercase-is-word", "Korea near arms", "", "", "Korea sends arms", False,
     "lowercase near is a word that must occur"),
    ("source-same", "Ukraine source:wnam", "wnam", "", "Ukraine", True, "from that source"),
    ("source-case", "Ukraine source:WNAM", "wnam", "", "Ukraine", True, "case-insensitive"),
    ("source-other", "Ukraine source:wnam", "viewus", "", "Ukraine", False,
     "from another source"),
    ("source-prefix", "Ukraine source:wna", "wnam", "", "Ukraine", False,
     "a source name is compared whole"),
    ("source-or", "Ukraine (source:a OR source:b)", "b", "", "Ukraine", True,
     "sources in a group"),
    ("source-negated", "Ukraine -source:wnam", "wnam", "", "Ukraine", False,
     "excluding a source"),
    ("source-unknown-doc", "Ukraine source:wnam", None, "", "Ukraine", False,
     "an article of no known source is of no named one"),
]


@pytest.mark.parametrize("query,source,title,text,expected,why",
                         [c[1:] for c in FIELD_CASES], ids=[c[0] for c in FIELD_CASES])
def test_near_and_source(query, source, title, text, expected, why):
    match = parse(query).match(Document(title, text, source))
    assert (match is not None) == expected, why
    if match is not None:
        assert match.snippets


def test_near_marks_only_the_close_pair():
    text = "Korea spoke first. Much later, in another story, Korea sends arms."
    match = parse("Korea NEAR/1 arms").match(Document("", text))
    assert _mark_texts(match) == ["Korea", "arms"]
    assert match.snippets[0].text == "Much later, in another story, Korea sends arms."


def test_sidebar_only_term_never_matches_the_extracted_article():
    """Seed 004's "Weekly Best Articles" sidebar mentions a Komodo dragon; its article
    does not. Matching sees the extracted title and body only."""
    from newswatch.corpus.extract import extract

    seed = SEED.parent / "004_9b88c3d1e34566fc.txt"
    raw = seed.read_text(encoding="utf-8")
    anywhere = parse("Komodo dragon", focus=None)
    assert anywhere.match(Document("", raw)) is not None, "the page has it"
    article = extract(seed.read_bytes(), seed.resolve().as_uri(), None)
    assert parse("Komodo dragon").match(Document(article.title, article.text)) is None
    assert parse("South Korea Ukraine arms").match(
        Document(article.title, article.text)) is not None


def test_anchors_cover_every_match():
    """An inverted index files a query under its anchors: each match has one of them."""
    for query, source, title, text in (
            [(c[1], None, c[2], c[3]) for c in CASES] + [c[1:5] for c in FIELD_CASES]):
        q = parse(query)
        doc = Document(title, text, source)
        assert q.anchors, query
        if q.match(doc) is not None:
            assert q.anchors & doc.stems, query


def test_anchors_prefer_rare_words():
    assert parse("the Hague talks").anchors in ({"hagu"}, {"talk"})
    assert parse("Kyiv OR Kiev").anchors == {"kyiv", "kiev"}
    assert parse('"South Korea" -sports').anchors <= {"south", "korea"}


@pytest.mark.parametrize("query,problem,position",
                         [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_errors(query, problem, position):
    with pytest.raises(QueryError) as info:
        parse(query)
    err = info.value
    assert isinstance(err, ValueError)
    assert err.problem.startswith(problem)
    assert err.position == position
    assert err.query == query
    lines = str(err).split("\n")
    assert lines[0] == err.problem
    assert lines[1] == "  " + query
    assert lines[2] == "  " + " " * position + "^"


def test_error_message_format_from_the_brief():
    with pytest.raises(QueryError) as info:
        parse("(South Korea")
    assert str(info.value) == "unbalanced parenthesis\n  (South Korea\n  ^"


def test_query_keeps_source_and_lists_positive_terms():
    q = parse('title:"South Korea" arms -sports (arms OR tanks)')
    assert q.source == 'title:"South Korea" arms -sports (arms OR tanks)'
    stems = [t.stem if isinstance(t, Term) else t.stems for t in q.terms()]
    assert stems == [("south", "korea"), "arm", "tank"]
    assert isinstance(q.terms()[0], Phrase) and q.terms()[0].in_title


def test_tokenize_surface_forms():
    text = "South Korea’s U.S.-supplied arms, Zelenskyý's 1,000th day."
    tokens = tokenize(text)
    assert [t.stem for t in tokens] == [
        "south", "korea", "u.s", "suppli", "arm", "zelenskyy", "1000th", "day"]
    assert [text[t.start:t.end] for t in tokens][:3] == ["South", "Korea’s", "U.S."]


def test_tokens_do_not_depend_on_the_stem_cache(monkeypatch):
    """Surface forms are stemmed once and remembered; a full cache is replaced by an
    empty one. Either way every token is the same, a mark-only one still dropped."""
    monkeypatch.setattr(query, "_STEM_CACHE_SIZE", 4)
    monkeypatch.setattr(query, "_stem_cache", {})
    texts = {"Cafe\u0301 \u0301 arms Arms armed Korea’s U.S.": [
                 "cafe", "arm", "arm", "arm", "korea", "u.s"],
             "Korea’s arms, Korea's arms": ["korea", "arm", "korea", "arm"]}
    for _ in range(2):  # first with an empty or replaced cache, then with a warm one too
        for text, stems in texts.items():
            tokens = tokenize(text)
            assert [t.stem for t in tokens] == stems
            assert [text[t.start:t.end] for t in tokens][-2:] == text.split()[-2:]
    assert "U.S." not in query._stem_cache, "the full cache was replaced"


def _mark_texts(match: QueryMatch) -> list[str]:
    return [s.text[a:b] for s in match.snippets for a, b in s.marks]


def _check_snippet_invariants(match: QueryMatch, title: str, text: str) -> None:
    assert 1 <= len(match.snippets) <= 3
    for snippet in match.snippets:
        assert isinstance(snippet, Snippet)
        core = snippet.text.removeprefix("…").removesuffix("…")
        assert core and (core in title or core in text), "snippet text is never invented"
        assert list(snippet.marks) == sorted(snippet.marks)
        for (_, end), (start, _) in zip(snippet.marks, snippet.marks[1:]):
            assert end <= start, "marks do not overlap"
        for start, end in snippet.marks:
            assert 0 <= start < end <= len(snippet.text)


def test_snippet_marks_cover_surface_forms():
    text = ("Seoul is cautious. South Korea’s government may send arms to Ukraine, "
            "officials said.\nFarms and harms are unrelated. Another line about the weather.")
    match = parse("South Korea Ukraine arms").match(Document("", text))
    assert match is not None
    _check_snippet_invariants(match, "", text)
    best = match.snippets[0]
    assert best.text == "South Korea’s government may send arms to Ukraine, officials said."
    assert [best.text[a:b] for a, b in best.marks] == ["South", "Korea’s", "arms", "Ukraine"]
    for word in _mark_texts(match):
        assert tokenize(word)[0].stem in {"south", "korea", "ukrain", "arm"}


def test_at_most_three_snippets_best_first():
    text = " ".join(f"Sentence {i} mentions arms." for i in range(10))
    text += " Ukraine and arms together."
    match = parse("arms OR Ukraine").match(Document("", text))
    assert match is not None
    _check_snippet_invariants(match, "", text)
    assert len(match.snippets) == 3
    assert match.snippets[0].text == "Ukraine and arms together."


def test_negated_terms_are_never_marked():
    text = "Ukraine news. Nothing about the league here."
    match = parse("Ukraine -sports NOT football").match(Document("", text))
    assert match is not None
    assert _mark_texts(match) == ["Ukraine"]


def test_or_marks_every_matching_alternative():
    match = parse("Kyiv OR Kiev").match(Document("", "Kyiv, once spelled Kiev."))
    assert _mark_texts(match) == ["Kyiv", "Kiev"]


def test_long_sentence_is_windowed_on_whole_words():
    filler = " ".join(["lorem ipsum dolor"] * 40)
    text = f"{filler} South Korea weighs arms for Ukraine {filler}."
    # Past the lead and said once: words anywhere (the default focus would refuse it).
    match = parse("South Korea Ukraine arms", focus=None).match(Document("", text))
    snippet = match.snippets[0]
    _check_snippet_invariants(match, "", text)
    assert snippet.text.startswith("…") and snippet.text.endswith("…")
    assert len(snippet.text) <= 210
    core = snippet.text[1:-1]
    assert f" {core} " in f" {text} ", "cut on whole words"
    assert [snippet.text[a:b] for a, b in snippet.marks] == [
        "South", "Korea", "arms", "Ukraine"]


def test_title_snippet_and_phrase_marks():
    match = parse('title:"South Korea"').match(Document("South Korea weighs aid", "body"))
    assert match.snippets == (Snippet("South Korea weighs aid", ((0, 5), (6, 11))),)


def test_score_title_hit_beats_body_hit():
    q = parse("arms")
    in_title = q.match(Document("Arms for Ukraine", "Officials spoke."))
    in_body = q.match(Document("Officials spoke", "Arms for Ukraine."))
    assert in_title.score > in_body.score > 0


def test_score_more_hits_and_longer_terms_score_higher():
    q = parse("arms OR Zelenskyy")
    once = q.match(Document("", "arms"))
    thrice = q.match(Document("", "arms, arms and arms"))
    rare = q.match(Document("", "Zelenskyy"))
    assert thrice.score > once.score
    assert rare.score > once.score


def test_score_is_deterministic():
    doc_args = ("South Korea arms", SENTENCE)
    scores = {parse("South Korea Ukraine arms").match(Document(*doc_args)).score
              for _ in range(5)}
    assert len(scores) == 1


def test_sentence_split_keeps_abbreviations():
    text = "Mr. Lee met U.S. officials on arms. Then he left."
    match = parse("arms").match(Document("", text))
    assert match.snippets[0].text == "Mr. Lee met U.S. officials on arms."


def test_one_document_many_queries():
    doc = Document("Seoul weighs arms for Kyiv", SENTENCE)
    hits = [q for q in ("Korea", "title:Kyiv", "Japan", '"South Korea"', "-x Ukraine")
            if parse(q).match(doc)]
    assert hits == ["Korea", "title:Kyiv", '"South Korea"', "-x Ukraine"]


def test_seed_article():
    """The whole page, boilerplate first, as text: the query's words anywhere in it."""
    text = SEED.read_text(encoding="utf-8")
    match = parse("South Korea Ukraine arms", focus=None).match(Document("", text))
    assert match is not None
    _check_snippet_invariants(match, "", text)
    marked = [w.lower() for w in _mark_texts(match)]
    assert "arms" in marked
    assert any("arms" in [s.text[a:b] for a, b in s.marks] for s in match.snippets)
    # The seed says "U.S." many times and never the pronoun "us".
    assert parse("U.S. Ukraine", focus=None).match(Document("", text)) is not None
    assert parse("us", focus=None).match(Document("", text)) is None


# Focus: a topic alerts on what an article is about. FILLER puts what follows it past
# the lead (the body's first ABOUT.lead_words words).
FILLER = " ".join(["lorem"] * ABOUT.lead_words) + ". "

# (id, query, title, body, matches under `focus: about`)
FOCUS_CASES = [
    ("in-title", "Korea arms", "Korea weighs arms", FILLER, True),
    ("in-lead", "Korea arms", "", "Korea weighs arms. " + FILLER, True),
    ("once-past-lead", "Korea arms", "", FILLER + "Korea weighs arms.", False),
    ("title-and-often", "Korea arms", "Korea news", FILLER + "arms " * ABOUT.mentions, True),
    ("title-and-not-often-enough", "Korea arms", "Korea news",
     FILLER + "arms " * (ABOUT.mentions - 1), False),
    ("often-but-nothing-leads", "Korea arms", "", FILLER + "Korea arms " * 9, False),
    ("two-lead-then-one-once", "Korea Ukraine arms", "Korea and Ukraine", FILLER + "Arms.",
     True),
    ("one-leads-then-one-once", "Korea arms", "Korea news", FILLER + "Arms.", False),
    ("two-lead-then-two-once", "Korea Ukraine arms deal", "Korea and Ukraine",
     FILLER + "An arms deal.", False),
    ("or-alternatives-count-together", "Korea (Kyiv OR Kiev)", "Korea news",
     FILLER + "Kyiv Kiev " * (ABOUT.mentions // 2), True),
    ("not-applies-anywhere", "Korea -sports", "Korea news", FILLER + "sports", False),
    ("or-of-ands-each-on-its-own", "(Korea arms) OR (Japan ships)", "Japan ships",
     FILLER + "Korea arms", True),
    ("or-of-ands-none-prominent", "(Korea arms) OR (Japan ships)", "news",
     FILLER + "Korea arms Japan ships", False),
    ("title-field", "title:Korea arms", "Korea news", "arms. " + FILLER, True),
]


@pytest.mark.parametrize("query,title,text,expected",
                         [c[1:] for c in FOCUS_CASES], ids=[c[0] for c in FOCUS_CASES])
def test_focus_needs_the_terms_prominent(query, title, text, expected):
    assert (parse(query, ABOUT).match(Document(title, text)) is not None) is expected
    # Anywhere (the default, `focus: anywhere`), every case matches but the negated one.
    anywhere = parse(query).match(Document(title, text)) is not None
    assert anywhere is (query != "Korea -sports")


def test_focus_figures_are_the_query_s():
    text = "Korea weighs arms. " + " ".join(["lorem"] * 20)
    near_lead = Document("", " ".join(["lorem"] * 20) + " Korea weighs arms.")
    assert parse("Korea arms").match(near_lead) is not None
    assert parse("Korea arms", focus=Focus(lead_words=10, mentions=4)).match(near_lead) is None
    assert parse("Korea arms", focus=Focus(lead_words=10)).match(Document("", text)) is not None
    once = Document("Korea and Ukraine", FILLER + "Arms.")
    assert parse("Korea Ukraine arms").match(once) is not None
    assert parse("Korea Ukraine arms", focus=Focus(once=0)).match(once) is None


def _reference_focus(query: str, doc: Document, focus: Focus) -> bool:
    """The focus rule written out plainly from each term's hits (for AND queries of
    terms and NOTs): the definition the matcher's faster decision must agree with."""
    from newswatch.alerts.query import And, Not, _evaluate

    root = parse(query, focus=None).root
    parts = root.children if isinstance(root, And) else (root,)
    leading = weak = 0
    for part in parts:
        found = _evaluate(part, doc)
        if found is None:
            return False
        if isinstance(part, Not):
            continue
        places = {(f, p) for _, f, p, _ in found}
        if any(f == 0 or p < focus.lead_words for f, p in places):
            leading += 1
        elif len(places) < focus.mentions:
            weak += 1
    if len(parts) == 1:
        return leading == 1
    return leading >= 1 and (weak == 0 or (weak <= focus.once and leading >= 2))


def test_focus_decision_agrees_with_its_definition():
    """Seeded random articles and queries: the matcher's decision (from positions, with
    early exits) equals the rule computed from every hit."""
    import random

    rng = random.Random(17)
    words = ["korea", "ukraine", "arms", "seoul", "kyiv", "deal", "lorem", "ipsum"]
    queries = ["korea arms", "korea ukraine arms", "korea (kyiv OR ukraine) arms",
               '"korea arms" deal', "korea ukraine -deal", "arms", "(seoul OR korea) deal kyiv"]
    focus = Focus(lead_words=12, mentions=3, once=1)
    checked = 0
    for _ in range(400):
        title = " ".join(rng.choice(words) for _ in range(rng.randint(0, 4)))
        body = " ".join(rng.choice(words + ["lorem"] * 8) for _ in range(rng.randint(0, 60)))
        doc = Document(title, body)
        for query in queries:
            expected = _reference_focus(query, doc, focus)
            assert (parse(query, focus=focus).match(doc) is not None) is expected, (
                query, title, body)
            checked += expected
    assert checked > 50  # the articles exercise matches, not only misses
