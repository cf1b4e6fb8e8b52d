"""A storyline on a local news beat, for the story-update tests: a town council votes
to build a water plant (reported by three outlets), and a day later the contract to
build it is awarded. Short test fixtures served by the local news site (tests/newssite.py)
or added to a corpus directly; the town, people and firms are made up.

`VOTES` are three reports of the vote (the third comes last and repeats it);
`CONTRACT`, `PROTEST` and `PERMIT` are developments. Each report: source, path, title, paragraphs, published.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from html import escape

from newswatch.corpus.extract import Article

#: The evening of the vote; every report is dated from it.
VOTE_DAY = datetime(2025, 3, 11, 20, 0, tzinfo=timezone.utc)
QUERY = "Millbrook water plant"


@dataclass(frozen=True)
class Report:
    source: str
    path: str
    title: str
    paragraphs: tuple[str, ...]
    published: datetime

    def article(self, host: str | None = None) -> Article:
        url = f"https://{host or self.source + '.example'}/{self.path}"
        return Article(url=url, canonical_url=url, title=self.title, text="\n\n".join(self.paragraphs),
                       published=self.published, language="en", author=None)

    def html(self, site: str) -> str:
        body = "".join(f"<p>{escape(p)}</p>" for p in self.paragraphs)
        return (f"<!doctype html><html lang=\"en\"><head><title>{escape(self.title)} | {site}</title>"
                f"<meta property=\"article:published_time\" content=\"{self.published.isoformat()}\"></head>"
                f"<body><nav><a href=\"/\">{site}</a> <a href=\"/local/\">Local</a></nav><main><article>"
                f"<h1>{escape(self.title)}</h1><p class=\"byline\">By Staff, {site}</p>{body}</article>"
                f"<aside><h2>Most read</h2><ul><li><a href=\"/x/1.html\">Farmers market returns</a></li>"
                f"</ul></aside></main><footer>© {site}</footer></body></html>")


GAZETTE_VOTE = Report(
    "gazette", "local/council-approves-water-plant.html",
    "Millbrook council approves $84 million water treatment plant",
    ("Millbrook's city council voted 7-2 on Tuesday night to build a new water treatment plant "
     "on Ferris Road, ending two years of debate over the town's ageing supply.",
     "The $84 million plant will replace the 1962 Calder Street works and treat up to 12 million "
     "gallons a day. Mayor Elena Ortiz said the vote was \"the most important decision this "
     "council will make for a generation.\"",
     "Councillors Ray Dunmore and Ivy Shah voted against, arguing that the Ferris Road site sits "
     "too close to the Tully River flood plain."),
    VOTE_DAY,
)
HERALD_VOTE = Report(
    "herald", "news/millbrook-water-plant-vote.html",
    "Council backs new Millbrook water plant despite flood worries",
    ("After a four-hour meeting, Millbrook council members approved the Ferris Road water "
     "treatment plant by a vote of 7-2.",
     "Mayor Elena Ortiz called it a generational decision. The plant, estimated at $84 million, "
     "is to treat 12 million gallons of water a day and replace the Calder Street works.",
     "Ray Dunmore, one of two dissenting councillors, warned that the site lies beside the Tully "
     "River flood plain."),
    VOTE_DAY + timedelta(hours=1),
)
COURIER_VOTE = Report(
    "courier", "2025/03/12/millbrook-votes-for-water-plant.html",
    "Millbrook votes 7-2 for Ferris Road water plant",
    ("Millbrook will get a new water treatment plant. The city council approved the $84 million "
     "project 7-2 on Tuesday, with Ray Dunmore and Ivy Shah opposed.",
     "The Ferris Road plant is designed to treat 12 million gallons a day and will take over from "
     "the Calder Street works. Mayor Elena Ortiz said residents had waited long enough for "
     "reliable water."),
    VOTE_DAY + timedelta(days=1, hours=2),
)
CONTRACT = Report(
    "gazette", "local/harlan-pryce-wins-plant-contract.html",
    "Harlan & Pryce wins $61.5 million contract to build Millbrook water plant",
    ("Millbrook awarded the contract to build its Ferris Road water treatment plant to Harlan & "
     "Pryce on Wednesday, a day after the city council approved the project.",
     "The Oakdale firm bid $61.5 million, beating three rivals, and expects to start work in March "
     "with about 340 workers on site. Dana Whitfield, the company's project director, said the "
     "plant would be finished within 30 months.",
     "Mayor Elena Ortiz said the winning bid left room in the $84 million budget for new mains on "
     "Calder Street."),
    VOTE_DAY + timedelta(days=1),
)
VOTES = (GAZETTE_VOTE, HERALD_VOTE, COURIER_VOTE)
PROTEST = Report(
    "herald", "news/residents-march-against-plant-site.html",
    "400 march as Tully River Alliance appeals Millbrook water plant site",
    ("About 400 residents marched from Jubilee Park to Millbrook city hall on Wednesday evening "
     "to protest against the Ferris Road site chosen for the $84 million water treatment plant.",
     "Councillor Ray Dunmore, who voted against the plant, told the crowd the Tully River flood "
     "plain was no place for it. Organiser Tomas Reyna of the Tully River Alliance said the group "
     "had filed an appeal with the Harrow County planning board and collected 2,150 signatures.",
     "Mayor Elena Ortiz said the plant would be built to withstand a 500-year flood."),
    VOTE_DAY + timedelta(days=1, hours=3),
)
PERMIT = Report(
    "gazette", "local/board-rejects-plant-appeal.html",
    "Board backs Calloway Hydro flood study, rejects Millbrook water plant appeal 5-0",
    ("The Harrow County planning board voted 5-0 on Friday to reject the Tully River Alliance's "
     "appeal against the Ferris Road site of Millbrook's $84 million water treatment plant.",
     "Board chair Miriam Osei said a study by Calloway Hydro showed the plant would stand above a "
     "500-year flood. Tomas Reyna said the alliance would take its case to the state water "
     "commission."),
    VOTE_DAY + timedelta(days=2),
)
