"""An action named by its page's URL is found however the URL is written.

Found trying `planwatch history` with an address copied from a browser: an
identifier outside ASCII ("Ä2") is percent-encoded there and in discovery's page
list (…/actions/%C3%842), while the history keeps the identifier as read. The
URL was compared as written, and history said no such action.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from monitor.pipeline import record_check
from storage.db import Database
from storage.history import find_actions
from tests.change_pages import SITE, Item, org_page

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "path", ["actions/%C3%842", "actions/Ä2", "en/actions/%c3%842"]
)
def test_an_action_is_found_by_its_url_encoded_or_not(db: Database, path: str) -> None:
    items = [Item("1", "on_time"), Item("Ä2", "late")]
    record_check(db, "test", [org_page("1", items, T0)], observed_at=T0)

    with db.reader() as session:
        found = find_actions(session, f"{SITE}/{path}")

    assert [ref.identifier for ref in found] == ["Ä2"]
