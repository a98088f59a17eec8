"""A name with "&" before letters keeps them: "Local&regional", not "Local®ional".

Found trying `planwatch parse` on names with entities and ampersands: the text
cleaning that folds stray entities ("&amp;", "&shy;", "&nbsp;" left in a name)
ran ``html.unescape``, which also decodes HTML's legacy entities written without
their semicolon. So an action published as "Local&regional cooperation" came out
"Local®ional cooperation", "Public&sector" as "Public§or", "Local&central heating"
as "Local¢ral heating", on both layers (the markup's text is decoded once
already, and the embedded data's is plain): names altered beyond the documented
folding. Only a whole entity reference, ended by its semicolon, is folded now.
"""

from __future__ import annotations

import gzip
import re

import pytest

from parsers.kausal import parse_page
from parsers.records import Layer
from parsers.text import clean
from tests.conftest import FIXTURES

PAGE = FIXTURES / "lab-2024" / "before" / "html" / "action-1.en.html.gz"
URL = "http://demo.localhost:3000/en/actions/1"
NAME = "Emission-free district heating"
FLIGHT = re.compile(r"<script>self\.__next_f\.push\(.*?</script>", re.S)


@pytest.mark.parametrize(
    ("published", "expected"),
    [
        ("Local&regional cooperation", "Local&regional cooperation"),
        ("Public&sector", "Public&sector"),
        ("Local&central heating", "Local&central heating"),
        ("Tax&times", "Tax&times"),
        ("R&D and P&R", "R&D and P&R"),
        # Stray entities are folded, as documented.
        ("Wind &amp; solar", "Wind & solar"),
        ("Energy&shy;efficiency", "Energyefficiency"),
        ("Zero&nbsp;waste", "Zero waste"),
        ("2024&#8211;2030", "2024\u20132030"),
        ("Stra&szlig;en", "Straßen"),
        ("Unknown &bogus; entity", "Unknown &bogus; entity"),
    ],
)
def test_clean_folds_whole_entities_only(published: str, expected: str) -> None:
    assert clean(published) == expected


def _page(name: str, *, embedded: bool) -> str:
    body = gzip.decompress(PAGE.read_bytes()).decode()
    assert NAME in body
    shown = name.replace("&", "&amp;")  # as React writes it in the markup
    parts = FLIGHT.split(body)
    scripts = FLIGHT.findall(body)
    out = parts[0].replace(NAME, shown)
    for script, text in zip(scripts, parts[1:], strict=True):
        out += (script.replace(NAME, name) if embedded else "") + text.replace(
            NAME, shown
        )
    return out


@pytest.mark.parametrize("embedded", [True, False])
def test_an_action_name_with_an_ampersand_is_kept(embedded: bool) -> None:
    name = "Local&regional heating"

    page = parse_page(_page(name, embedded=embedded), URL)

    (action,) = page.actions
    assert action.layer is (Layer.EMBEDDED if embedded else Layer.HTML)
    assert action.name == name
