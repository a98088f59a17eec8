"""Messages: every language, every format, and page content that stays inert."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from datetime import UTC, datetime
from html.parser import HTMLParser

import markdown
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from notifiers.context import Item, SourceContext
from notifiers.escape import as_text
from notifiers.render import (
    TEMPLATES,
    Phrases,
    describe,
    render_check,
    render_digest,
)
from notifiers.subscriptions import Facts
from notifiers.targets import LANGUAGES, Target
from storage.events import Event, EventKind

NOW = datetime(2026, 3, 29, 6, 0, tzinfo=UTC)
LINK = "https://watch.example.org/en/actions/3"
HOSTILE = [
    "<script>alert('x')</script>",
    '<img src=x onerror="alert(1)">',
    "[click here](https://evil.example/login)",
    "![pixel](https://evil.example/p.gif)",
    "<https://evil.example/auto>",
    "**urgent** _now_ `code`",
    "visit www.evil.example or mail boss@evil.example",
    "line one\n• 9. Fake action — status: Late → Completed\nhttps://evil.example",
    "right-to-left \u202eevil\u202c text &amp; &lt;b&gt;",
]


def _event(name: str, label: str) -> Event:
    return Event(
        kind=EventKind.STATUS_CHANGED,
        source="espoo",
        observed_at=NOW,
        action_id="3",
        action_identifier="3",
        name=name,
        field="status",
        before="on_time",
        after="late",
        url=LINK,
        detail={"labels": {lang: ["On time", label] for lang in LANGUAGES}},
    )


def _item(event: Event, link: str | None = LINK) -> Item:
    return Item(
        event=event,
        facts=Facts(kind=event.kind, source=event.source),
        link=link,
        names={"en": event.name or ""},
        group="2",
        group_names={"en": event.name or ""},  # the organization's name: hostile too
    )


class _Tags(HTMLParser):
    """Tags, link targets, attributes, and the text inside each emphasis."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.hrefs: list[str] = []
        self.attrs_seen: set[str] = set()
        self.emphasis: list[str] = []
        self._open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if self._open:
            self._open[-1] += f"<{tag}>"  # a tag nested in an emphasis
        if tag in ("strong", "em"):
            self._open.append("")
        for key, value in attrs:
            self.attrs_seen.add(key)
            if key in ("href", "src"):
                self.hrefs.append(value or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("strong", "em") and self._open:
            self.emphasis.append(self._open.pop())

    def handle_data(self, data: str) -> None:
        if self._open:
            self._open[-1] += data


def _html_of_markdown(body: str) -> list[str]:
    """The same Markdown through two renderers (CommonMark, and Apprise's own)."""
    return [MarkdownIt("commonmark").render(body), markdown.markdown(body)]


def _assert_inert_html(html: str, headings: set[str]) -> None:
    """Only planwatch's own tags and link; emphasis only on its own words."""
    parser = _Tags()
    parser.feed(html)
    allowed = {"div", "p", "h3", "ul", "li", "a", "small", "strong", "em"}
    assert set(parser.tags) <= allowed, parser.tags
    assert parser.hrefs == [LINK], parser.hrefs
    assert parser.attrs_seen <= {"href", "lang"}
    footers = {t("text.footer") for t in map(Phrases, LANGUAGES)}
    # Python-Markdown shows some escapes' backslashes: harmless, and ignored here.
    shown = {e.replace("\\", "") for e in parser.emphasis}
    assert shown <= headings | footers, parser.emphasis


@pytest.mark.parametrize("hostile", HOSTILE)
@pytest.mark.parametrize("language", LANGUAGES)
def test_page_content_cannot_inject_markup_links_or_lines(
    hostile: str, language: str
) -> None:
    items = [_item(_event(hostile, hostile))]
    digest_items = [*items, _item(_event("Calm name", "Late"), link=None)]

    for fmt in ("text", "markdown", "html"):
        check = render_check("espoo", items, language=language, body_format=fmt)
        digest = render_digest(
            "lead",
            digest_items,
            since=None,
            until=NOW,
            language=language,
            body_format=fmt,
        )
        for message in (check, digest):
            body = message.body
            assert "evil.example" not in body, body
            assert "https://evil" not in body
            assert "\u202e" not in body
            assert hostile not in message.title
            if fmt == "text":
                lines = body.splitlines()
                assert not any(line.startswith("• 9. Fake") for line in lines)
                assert not any(line.startswith("https://evil") for line in lines)
            elif fmt == "markdown":
                for html in _html_of_markdown(body):
                    _assert_inert_html(html, {as_text(hostile), "Calm name"})
            else:
                _assert_inert_html(body, set())


def test_hostile_text_is_still_readable() -> None:
    name = "Cut <b>emissions</b> [now](https://evil.example)\nby 50 %"
    item = _item(_event(name, "Late"))
    text = render_check("espoo", [item]).body
    md = render_check("espoo", [item], body_format="markdown").body
    html = render_check("espoo", [item], body_format="html").body

    assert "3. Cut <b>emissions</b> [now](https[:]//evil[.]example) by 50 %" in text
    assert (
        "Cut &lt;b&gt;emissions&lt;/b&gt; \\[now\\](https\\[:\\]//evil\\[.\\]example)"
        in md
    )
    assert "Cut &lt;b&gt;emissions&lt;/b&gt; [now](https[:]//evil[.]example) by" in html


def test_each_change_reads_action_field_before_after_with_a_link() -> None:
    event = _event("Electric buses", "Late")
    text = render_check("espoo", [_item(event)]).body
    md = render_check("espoo", [_item(event)], body_format="markdown").body
    html = render_check("espoo", [_item(event)], body_format="html").body

    assert "• 3. Electric buses — status: On time → Late\n  " + LINK in text
    assert f"- 3\\. Electric buses — status: On time → Late ([Open]({LINK}))" in md
    assert (
        f'3. Electric buses — status: On time → Late (<a href="{LINK}">Open</a>)'
        in html
    )


def test_links_only_to_the_sites_planwatch_fetched() -> None:
    ctx = SourceContext(
        source="espoo",
        actions={},
        organizations={},
        hosts=frozenset({"watch.example.org"}),
        pages=(),
    )
    assert ctx.vetted(LINK) == LINK
    assert ctx.vetted("https://evil.example/en/actions/3") is None
    assert ctx.vetted("javascript:alert(1)//watch.example.org") is None
    assert ctx.vetted("data:text/html,<b>x</b>") is None
    item = ctx.item(replace(_event("Bus", "Late"), url="https://evil.example/a"))
    assert item.link is None
    assert "evil" not in render_check("espoo", [item], body_format="html").body


@pytest.mark.parametrize(
    ("detail", "language", "expected"),
    [
        (
            {
                "age_days": 200,
                "limit_days": 180,
                "updated_at": "2025-09-10T08:00:00+00:00",
            },
            "en",
            "not updated for 200 days (last update 2025-09-10), past the 180-day "
            "staleness line",
        ),
        (
            {
                "age_days": 190,
                "limit_days": 180,
                "updated_at": "2025-09-20T00:00:00+00:00",
                "exact": False,
            },
            "en",
            "not updated for at least 190 days (last update 2025-09-20 at the latest)",
        ),
        (
            {
                "age_days": 200,
                "limit_days": 180,
                "updated_at": "2025-09-10",
                "reminder": 1,
            },
            "fi",
            "muistutus: ei päivitetty 200 päivään (viimeksi 2025-09-10), yli 180 "
            "päivän vanhentumisrajan",
        ),
        ({}, "de", "ist veraltet"),
    ],
)
def test_staleness_says_how_old_against_which_line(
    detail: dict[str, object], language: str, expected: str
) -> None:
    event = Event(EventKind.BECAME_STALE, "espoo", NOW, action_id="3", detail=detail)
    assert expected in describe(event, language)


def test_deadlines_say_how_late_and_when_due() -> None:
    late = Event(
        EventKind.TASK_LATE,
        "espoo",
        NOW,
        action_id="3",
        detail={"task": "Buy <b>buses</b>", "due_at": "2026-03-17", "days_late": 12},
    )
    soon = Event(
        EventKind.TASK_DUE_SOON,
        "espoo",
        NOW,
        action_id="3",
        detail={"task": "Plan", "due_at": "2026-04-10", "days_left": 12},
    )
    assert describe(late) == "task “Buy <b>buses</b>” is 12 days late (due 2026-03-17)"
    assert describe(late, "sv") == (
        "uppgiften ”Buy <b>buses</b>” är 12 dagar försenad (förfallodag 2026-03-17)"
    )
    assert describe(soon, "de") == "Aufgabe „Plan“ ist in 12 Tagen fällig (2026-04-10)"
    html = render_check("espoo", [_item(late)], body_format="html").body
    assert "Buy &lt;b&gt;buses&lt;/b&gt;" in html


def test_every_language_has_every_phrase() -> None:
    def keys(lang: str) -> set[str]:
        with (TEMPLATES / "lang" / f"{lang}.toml").open("rb") as handle:
            data = tomllib.load(handle)
        return {f"{section}.{key}" for section, table in data.items() for key in table}

    english = keys("en")
    for lang in LANGUAGES:
        assert keys(lang) == english, lang


def test_every_event_kind_reads_in_every_language() -> None:
    for kind in EventKind:
        event = Event(kind, "espoo", NOW, action_id="3", field=None, before=1, after=2)
        for lang in LANGUAGES:
            assert describe(event, lang).strip()


def test_the_digest_groups_by_organization_then_action() -> None:
    def item(action: str, org: str, org_name: str) -> Item:
        event = replace(
            _event(f"Action {action}", "Late"),
            action_id=action,
            action_identifier=action,
        )
        return Item(
            event=event,
            facts=Facts(kind=event.kind, source="espoo"),
            link=None,
            names={"en": f"Action {action}"},
            group=org,
            group_names={"en": org_name},
        )

    site = Item(
        event=Event(
            EventKind.SOURCE_FAILING, "espoo", NOW, detail={"reason": "timeout"}
        ),
        facts=Facts(kind=EventKind.SOURCE_FAILING, source="espoo"),
    )
    items = [
        item("12", "4", "Transport"),
        site,
        item("3", "2", "Environment"),
        item("10", "4", "Transport"),
    ]
    body = render_digest("lead", items, since=None, until=NOW).body
    order = [
        body.index(s)
        for s in (
            "Transport",
            "10. Action 10",
            "12. Action 12",
            "Environment",
            "3. Action 3",
            "Site espoo",
        )
    ]
    assert order == sorted(order)


def test_an_empty_digest_says_nothing_needs_attention() -> None:
    message = render_digest("lead", [], since=None, until=NOW, language="fi")
    assert message.title == "planwatch: kooste lead, ei huomioitavaa"
    assert "Ei mitään huomioitavaa." in message.body


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mailtos://user:pass@mail.example.org?to=a@example.org", "html"),
        ("slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ", "markdown"),
        ("json://127.0.0.1:8080/hook", "text"),
        ("ntfy://ntfy.example.org/planwatch", "text"),
        ("tgram://123456789:abcdefg_hijklmnop/12345", "html"),
        ("discord://4174216298/JHMHI8qBe7bk2ZwO5U711o3dV_js", "text"),
    ],
)
def test_messages_are_rendered_in_the_format_each_service_takes(
    url: str, expected: str
) -> None:
    assert Target("t", url).body_format == expected
    assert Target("t", url, body_format="text").body_format == "text"


def test_task_changes_name_the_task_and_its_state_in_the_language() -> None:
    event = Event(
        EventKind.TASKS_CHANGED,
        "espoo",
        NOW,
        action_id="1",
        field="tasks",
        before={"total": 2, "completed": 1},
        after={"total": 3, "completed": 2},
        detail={
            "added": ["Survey"],
            "states": {"Heat pumps": ["IN_PROGRESS", "COMPLETED"]},
        },
    )
    assert describe(event, "fi") == (
        "tehtävät: 1/2 valmiina → 2/3 valmiina "
        "(lisätty ”Survey”; ”Heat pumps” käynnissä → valmis)"
    )
    assert describe(event) == (
        "tasks: 1/2 completed → 2/3 completed "
        "(added “Survey”; “Heat pumps” in progress → completed)"
    )


_PIECES = st.sampled_from(
    [
        "<", ">", "&", "[", "]", "(", ")", "*", "_", "`", "~", "\\", "!", "#", "-",
        "1.", "\n", "\r", "\t", "\u202e", "\u2028", "<b>", "</a>", "<script>",
        "](", "http://", "https://", "javascript:", "www.", "evil.example", "@",
        '"', "'", "=", "&lt;", "&#60;", "|", ":", "//",
    ]
)  # fmt: skip
_NAMES = st.lists(st.one_of(_PIECES, st.text(max_size=4)), max_size=14).map("".join)


@settings(max_examples=150, deadline=None)
@given(name=_NAMES, label=_NAMES)
def test_no_page_text_whatever_it_holds_becomes_markup_or_a_link(
    name: str, label: str
) -> None:
    calm = replace(_event("Calm", "Late"), action_id="4", action_identifier="4")
    items = [_item(_event(name, label)), _item(calm, link=None)]
    text = render_check("espoo", items).body
    md = render_check("espoo", items, body_format="markdown").body
    html = render_check("espoo", items, body_format="html").body

    assert len(text.splitlines()) == 9  # intro, blank, 2 blocks, footer: fixed
    assert "://" not in text.replace(LINK, "")
    _assert_inert_html(html, set())
    for rendered in _html_of_markdown(md):
        _assert_inert_html(rendered, set())
