"""parsers.i18n: the UI's strings in every locale, and the dates and counts in them."""

from __future__ import annotations

import gzip
import re
from datetime import date
from pathlib import Path

import pytest

from parsers.i18n import (
    CONTINUOUS_LABELS,
    LOADING_TEXTS,
    MERGED_LABELS,
    NOT_FOUND_TEXTS,
    absolute_date,
    dayjs_locale,
    parse_responsible_count,
    parse_task_label,
)

LAB = Path(__file__).parent.parent / "fixtures" / "kausal-watch" / "lab-2024"


@pytest.mark.parametrize(
    ("heading", "count"),
    [
        ("Responsible in 22 actions", 22),
        ("Responsible in 1 actions", 1),
        ("Responsible in 4 strategies", 4),
        ("Responsible in 2 case studies", 2),
        ("22 toimenpiteen vastuuorganisaationa", 22),
        ("300 toimenpiteen vastuuorganisaationa", 300),
        ("Verantwortlich in 5 Maßnahmen", 5),
        ("Verantwortlich in 5 Strategien", 5),
        ("Verantwortlich in 6 Fallstudien", 6),
        ("Verantwortlich für 3 Maßnahmen", 3),
        ("Verantwortlich für 8 Massnahmen", 8),
        ("Ansvarlig i 3 handlinger", 3),
        ("Responsable en 12 acciones", 12),
        ("Atbildīgi 7 rīcības", 7),
        ("Υπεύθυνος σε 9 ενέργειες", 9),
        ("Responsável pelas ações 4", 4),
        ("  responsible\u00a0in 1\u202f234 actions ", 1234),
        ("Respon\u00adsible in 7 actions", 7),
    ],
)
def test_responsible_count_in_every_locale(heading: str, count: int) -> None:
    assert parse_responsible_count(heading) == count


@pytest.mark.parametrize(
    "heading",
    ["Responsible parties", "Responsible in actions", "Vastuut", "Tasks", ""],
)
def test_headings_without_a_count_give_none(heading: str) -> None:
    assert parse_responsible_count(heading) is None


@pytest.mark.parametrize(
    ("label", "count"),
    [
        ("7 tasks", 7),
        ("1 tasks", 1),
        ("3 milestones", 3),
        ("No tasks", 0),
        ("No milestones", 0),
        ("Ei tehtäviä", 0),
        ("3 tehtävää", 3),
        ("Keine Aufgaben", 0),
        ("2 Aufgaben", 2),
        ("Keine Meilensteine", 0),
        ("4 Meilensteine", 4),
        ("Inga uppgifter", 0),
        ("2 uppgifter", 2),
        ("5 milstolpar", 5),
        ("Ingen projekter", 0),
        ("6 projekter", 6),
        ("Sin tareas", 0),
        ("8 tareas", 8),
        ("Nav uzdevumu", 0),
        ("3 uzdevumi", 3),
        ("Δεν υπάρχουν εργασίες", 0),
        ("12\u00a0tasks", 12),
    ],
)
def test_task_labels_in_every_locale(label: str, count: int) -> None:
    assert parse_task_label(label) == count


@pytest.mark.parametrize(
    "label", ["Tasks", "Tehtävät", "tasks 3", "Mitä on tehtävä?", ""]
)
def test_other_texts_are_not_task_labels(label: str) -> None:
    assert parse_task_label(label) is None


@pytest.mark.parametrize(
    ("labels", "member"),
    [
        (MERGED_LABELS, "Merged with action"),
        (MERGED_LABELS, "Merged with strategy"),
        (MERGED_LABELS, "Yhdistetty"),
        (MERGED_LABELS, "Sammanfogad med åtgärden"),
        (MERGED_LABELS, "Zusammengeführt mit Maßnahme"),
        (MERGED_LABELS, "Zusammengeführt mit Massnahme"),
        (MERGED_LABELS, "Slået sammen med handling"),
        (MERGED_LABELS, "Fusionado con la acción"),
        (MERGED_LABELS, "Apvienots ar rīcību"),
        (CONTINUOUS_LABELS, "Continuous"),
        (CONTINUOUS_LABELS, "Jatkuva"),
        (CONTINUOUS_LABELS, "Ständig"),
        (CONTINUOUS_LABELS, "Laufend"),
        (NOT_FOUND_TEXTS, "404: This page could not be found."),
        (NOT_FOUND_TEXTS, "Sivua ei löydy"),
        (NOT_FOUND_TEXTS, "Seite nicht gefunden"),
        (LOADING_TEXTS, "Loading"),
        (LOADING_TEXTS, "Ladataan"),
        (LOADING_TEXTS, "Läser in"),
        (LOADING_TEXTS, "Wird geladen"),
    ],
)
def test_label_sets_hold_the_ui_strings(labels: frozenset[str], member: str) -> None:
    assert member in labels


def test_label_sets_do_not_overlap() -> None:
    sets = [MERGED_LABELS, CONTINUOUS_LABELS, NOT_FOUND_TEXTS, LOADING_TEXTS]

    for index, first in enumerate(sets):
        for second in sets[index + 1 :]:
            assert not first & second
    assert "Käynnissä" not in MERGED_LABELS | CONTINUOUS_LABELS


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("Information updated 12/03/2026", "en", date(2026, 12, 3)),
        ("Information updated 12/03/2026", "en-GB", date(2026, 3, 12)),
        ("Information updated 12/03/2026", "en-AU", date(2026, 3, 12)),
        ("Información actualizada 12/03/2026", "es", date(2026, 3, 12)),
        ("Información actualizada 12/03/2026", "es-US", date(2026, 12, 3)),
        ("Tietoja päivitetty 03.12.2026", "fi", date(2026, 12, 3)),
        ("Letzte Aktualisierung 03.12.2026", "de-CH", date(2026, 12, 3)),
        ("Information uppdaterad 2026-11-30", "sv", date(2026, 11, 30)),
        ("Information uppdaterad 30.11.2026", "sv-FI", date(2026, 11, 30)),
        ("2026-11-30", None, date(2026, 11, 30)),
        # A part above 12 settles the order whatever the language.
        ("Information updated 11/30/2026", "fi", date(2026, 11, 30)),
        ("Information updated 30/11/2026", "en", date(2026, 11, 30)),
        ("05/05/2026", None, date(2026, 5, 5)),
        # A slashed date on a page whose locale has none: leaked, order unknown.
        ("Tietoja päivitetty 12/03/2026", "fi", None),
        ("Oplysninger opdateret 12/03/2026", "da", None),
        ("12/03/2026", None, None),
        ("Information updated", "en", None),
        ("31.02.2026", "fi", None),
        ("13/13/2026", "en", None),
    ],
)
def test_absolute_date(text: str, lang: str | None, expected: date | None) -> None:
    assert absolute_date(text, lang) == expected


@pytest.mark.parametrize(
    ("lang", "locale"),
    [
        ("en", "en"),
        ("en-GB", "en-gb"),
        ("de-CH", "de"),
        ("sv-FI", "sv-fi"),
        ("es-US", "es-us"),
        ("pt-BR", None),
        ("da", None),
        (None, None),
    ],
)
def test_dayjs_locale_follows_dayjs_fallback(
    lang: str | None, locale: str | None
) -> None:
    assert dayjs_locale(lang) == locale


# -- the strings of real pages (fixtures/kausal-watch/lab-2024) ---------------------


def _text_nodes() -> dict[str, set[str]]:
    """Every text node of every fixture page, by the page's language."""
    nodes: dict[str, set[str]] = {}
    for path in sorted(LAB.rglob("*.html.gz")):
        lang = path.name.split(".")[-3]
        page = gzip.decompress(path.read_bytes()).decode("utf-8")
        found = re.findall(r">([^<>]+)<", page)
        nodes.setdefault(lang, set()).update(text.strip() for text in found)
    return nodes


NODES = _text_nodes()


def test_fixture_pages_were_found() -> None:
    assert set(NODES) == {"en", "fi"}


@pytest.mark.parametrize(
    "pattern",
    [r"Responsible in (\d+) actions", r"(\d+) toimenpiteen vastuuorganisaationa"],
)
def test_fixture_headings_parse_to_their_number(pattern: str) -> None:
    headings = [text for texts in NODES.values() for text in texts]
    matched = [(text, re.fullmatch(pattern, text)) for text in headings]
    found = [(text, int(match.group(1))) for text, match in matched if match]

    assert len(found) >= 4
    for text, number in found:
        assert parse_responsible_count(text) == number


def test_fixture_task_labels_parse_to_their_number() -> None:
    texts = [text for texts in NODES.values() for text in texts]
    counted = [text for text in texts if re.fullmatch(r"\d+ (tasks|tehtävää)", text)]
    empty = [text for text in texts if text in ("No tasks", "Ei tehtäviä")]

    assert len(counted) >= 4
    assert len(empty) == 2
    for text in counted:
        assert parse_task_label(text) == int(text.split()[0])
    for text in empty:
        assert parse_task_label(text) == 0


def test_fixture_loading_fallbacks_are_known() -> None:
    assert {"Loading", "Loading..."} <= NODES["en"] & LOADING_TEXTS
    assert "Ladataan" in NODES["fi"] & LOADING_TEXTS


def _updated_dates(lang: str) -> dict[str, date | None]:
    """The "Information updated" date of each action page in ``lang``, by page."""
    dates: dict[str, date | None] = {}
    for path in sorted(LAB.rglob(f"action-[0-9]*.{lang}.html.gz")):
        page = gzip.decompress(path.read_bytes()).decode("utf-8")
        plain = re.sub(r"<!-- -->", "", page)
        match = re.search(
            r"(?:Information updated|Tietoja päivitetty) ?([^<]+)<", plain
        )
        if match:
            key = f"{path.parent.parent.name}/{path.name.split('.')[0]}"
            dates[key] = absolute_date(match.group(1), lang)
    return dates


def test_fixture_action_dates_agree_across_languages() -> None:
    english, finnish = _updated_dates("en"), _updated_dates("fi")

    assert len(english) >= 4
    assert english.keys() == finnish.keys()
    assert None not in english.values()
    assert english == finnish
