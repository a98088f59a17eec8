"""Action links never carry the user name and password of the page they came from.

Found checking the series-2024 pages through a source whose pages sit behind basic
auth (`pages = ["http://watch:PASSWORD@host/en/actions", ...]`, as a staging site
is): every action's URL was built from the page's address, credentials included,
so the password went into the database's action versions and changes, `export`,
the check's output, and, as each change's link, into the notifications sent to
every target. The fetcher masks such URLs in its logs; the links are now the
plan's public addresses, without them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.demo import lab_pages
from monitor.localserve import ReceiverState, SiteState, receiver, serve_site
from monitor.pipeline import CheckReport, observe_saved, record_check
from parsers.api import ApiPlan, site_prefix
from parsers.kausal import parse_page
from storage.db import Database
from tests import change_series as series
from tests.cli_helpers import run_cli

SECRET = "s3cret-pw"


def test_a_page_read_with_credentials_links_its_actions_without_them() -> None:
    url = f"{series.HOST}/en/actions".replace("http://", f"http://watch:{SECRET}@")
    page = parse_page(series.page_body("r01", f"{series.HOST}/en/actions"), url)

    assert page.actions
    assert all(a.url is not None and SECRET not in a.url for a in page.actions)
    assert all(a.url.startswith(f"{series.HOST}/en/actions/") for a in page.actions)


def test_api_links_are_built_without_credentials() -> None:
    plan = ApiPlan("demo", "Demo", "fi", ("fi", "en"), "")
    prefix = site_prefix(f"https://watch:{SECRET}@plan.example", plan, "en")
    assert prefix == "https://plan.example/en"


def test_notifications_link_actions_without_the_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    site, inbox = SiteState(pages=lab_pages("before")), ReceiverState()
    db = str(tmp_path / "history.sqlite")
    with serve_site(site) as base, receiver(inbox) as receiver_url:
        page = base.replace("http://", f"http://watch:{SECRET}@") + "/en/actions"
        notify = receiver_url.replace("http", "json", 1)
        run_cli(monkeypatch, capsys, "check", page, "--db", db, "--notify", notify)
        site.replace(lab_pages("after"))
        code, out, err = run_cli(
            monkeypatch, capsys, "check", page, "--db", db, "--notify", notify
        )
        [message] = inbox.wait_for(1)

    assert code == 0, err
    assert "/en/actions/" in message.body.decode()
    assert SECRET not in message.body.decode()
    assert SECRET not in out + err
    exported = run_cli(
        monkeypatch, capsys, "export", "changes", "--format", "csv", "--db", db
    )
    assert "/en/actions/" in exported[1]
    assert SECRET not in exported[1]


def test_an_action_page_behind_basic_auth_answering_not_found_still_removes(
    db: Database,
) -> None:
    # Its link no longer carries the credentials its page is fetched with.
    urls = [f"{series.HOST}/en/actions", f"{series.HOST}/en/actions/12"]

    def check(name: str) -> CheckReport:
        at = series.check_time(name)
        pages = [
            observe_saved(
                url.replace("http://", f"http://watch:{SECRET}@"),
                series.page_body(name, url),
                at,
            )
            for url in urls
        ]
        return record_check(db, "demo", pages, observed_at=at)

    check("r02")
    gone = check("r03")

    [removed] = [e for e in gone.events if e.kind.value == "action_removed"]
    assert removed.action_id == "12"
    assert removed.detail["reason"] == "its page answers not found"
