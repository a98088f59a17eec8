"""Targets and subscriptions in the config: URLs from fields, secrets, clear errors."""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path

import apprise
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.config import load_config, parse_config
from notifiers.secrets import url_secrets
from notifiers.subscriptions import DeliveryPolicy, Mode
from notifiers.targets import Target, build_url, mask
from parsers.errors import ConfigError

SECRET = "S3cr3t@/%;:?#[]&=+ ü"


def _load(tmp_path: Path, text: str) -> object:
    path = tmp_path / "planwatch.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path)


@settings(max_examples=60, deadline=None)
@given(
    user=st.text(min_size=1, max_size=30).filter(lambda s: s.strip() == s),
    password=st.text(min_size=1, max_size=40),
)
def test_any_user_and_password_survive_the_url(user: str, password: str) -> None:
    url = build_url(
        scheme="mailtos",
        host="mail.example.org",
        port=465,
        user=user,
        password=password,
        recipients=["lead@example.org"],
        params={"from": "watch@example.org"},
    )
    plugin = apprise.Apprise.instantiate(url)
    assert plugin is not None
    assert (plugin.user, plugin.password) == (user, password)
    assert [address for _, address in plugin.targets] == ["lead@example.org"]


def test_recipients_are_path_segments_for_chat_services() -> None:
    url = build_url(
        scheme="ntfy", host="ntfy.example.org", recipients=["city alerts", "a/b"]
    )
    assert url == "ntfy://ntfy.example.org/city%20alerts/a%2Fb"


def test_a_target_from_fields_with_its_password_in_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PW_CONFIG_TEST_PASSWORD", SECRET)
    token = tmp_path / "chat-url"
    token.write_text("json://hooks.example.org/" + "t" * 20 + "\n", encoding="utf-8")
    config = _load(
        tmp_path,
        f"""
[[targets]]
name = "unit-lead"
scheme = "mailtos"
host = "mail.example.org"
user = "watch@example.org"
password_env = "PW_CONFIG_TEST_PASSWORD"
recipients = ["lead@example.org"]

[[targets]]
name = "chat"
url_file = "{token}"
""",
    )
    routing = config.resolved_targets()  # type: ignore[attr-defined]

    lead = routing["unit-lead"]
    assert apprise.Apprise.instantiate(lead.url).password == SECRET
    assert lead.body_format == "html"
    assert SECRET not in repr(lead) + str(lead)
    assert routing["chat"].url.endswith("t" * 20)
    assert [s.name for s in routing.subscriptions] == [
        "target:unit-lead",
        "target:chat",
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[[targets]]\nname = "t"\nurl = "mailtos://u:hunter2secret@mail.example.org"',
            "holds a password: put the URL in url_env or url_file",
        ),
        (
            '[[targets]]\nname = "t"\nurl_env = "X"\nscheme = "json"\nhost = "h"',
            "give either a whole URL (url_env) or its fields (scheme, host), not both",
        ),
        (
            '[[targets]]\nname = "t"\nuser = "u"',
            "with fields, give at least scheme and host",
        ),
        ('[[targets]]\nname = "t"', "give exactly one of url, url_env, url_file"),
        (
            '[[targets]]\nname = "t"\nurl = "json://h/"\n'
            '[[subscriptions]]\nname = "s"\ntargets = ["nobody"]',
            "subscription 's' names target 'nobody', which is not among the "
            "targets (t)",
        ),
        (
            '[[targets]]\nname = "t"\nurl = "json://h/"\n[[subscriptions]]\n'
            'name = "s"\ntargets = ["t"]\nmode = "digest"\nat = "08:00"\n'
            'timezone = "Europe/Helsinky"',
            "subscriptions.0.timezone = 'Europe/Helsinky': Value error, unknown time "
            "zone",
        ),
        (
            '[[targets]]\nname = "t"\nurl = "json://h/"\n[[subscriptions]]\n'
            'name = "s"\ntargets = ["t"]\nmode = "digest"',
            'mode = "digest" needs at = "HH:MM"',
        ),
        (
            '[[targets]]\nname = "t"\nurl = "json://h/"\n[[subscriptions]]\n'
            'name = "s"\ntargets = ["t"]\nmode = "digest"\nat = "08:00"\n'
            'weekday = "monday"',
            'give weekday with every = "week", and only then',
        ),
        (
            '[[targets]]\nname = "t"\nurl = "json://h/"\n[[subscriptions]]\n'
            'name = "s"\ntargets = ["t"]\nat = "08:00"',
            'at, every, weekday and send_empty are for mode = "digest"',
        ),
        (
            '[[targets]]\nname = "t"\nurl = "json://h/"\n[[subscriptions]]\n'
            'name = "s"\ntargets = ["t"]\nkinds = ["status_change"]',
            "subscriptions.0.kinds.0 = 'status_change': Input should be "
            "'action_added', 'action_removed', 'status_changed'",
        ),
        (
            '[[targets]]\nname = "t"\nurl = "json://h/"\nlanguage = "es"',
            "targets.0.language = 'es': Input should be 'en', 'fi', 'sv' or 'de'",
        ),
        (
            '[[targets]]\nname = "t"\nurl = "json://h/"\n[[subscriptions]]\n'
            'name = "s"\ntargets = ["t"]\nsites = ["https://watch.example.org"]',
            "give a host name such as 'ilmastovahti.espoo.fi'",
        ),
    ],
)
def test_a_bad_config_says_what_is_wrong_and_where(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, text)
    assert message in str(caught.value)
    assert "hunter2secret" not in str(caught.value)


def test_a_missing_secret_names_the_variable_not_a_value(tmp_path: Path) -> None:
    config = _load(
        tmp_path,
        '[[targets]]\nname = "t"\nscheme = "mailtos"\nhost = "m.example.org"\n'
        'user = "u"\npassword_env = "PW_CONFIG_TEST_UNSET"',
    )
    with pytest.raises(
        ConfigError, match=r"PW_CONFIG_TEST_UNSET \(password\) is not set"
    ):
        config.resolved_targets()  # type: ignore[attr-defined]


def test_a_url_apprise_cannot_read_is_refused_without_showing_it() -> None:
    config = parse_config(
        {"targets": [{"name": "teams", "url": "msteams://hunter2secret/x/y"}]}
    )
    with pytest.raises(ConfigError) as caught:
        config.resolved_targets()
    assert "target 'teams': Apprise does not accept its URL" in str(caught.value)
    assert "hunter2secret" not in str(caught.value)


def test_subscriptions_become_routing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLANWATCH_FORCE_TO", "json://staging.example.org/all")
    config = _load(
        tmp_path,
        """
[notifications]
max_attempts = 3

[[targets]]
name = "lead"
url = "json://lead.example.org/"

[[targets]]
name = "watchdog"
url = "json://watchdog.example.org/"

[[subscriptions]]
name = "transport"
targets = ["lead"]
organizations = ["4"]
kinds = ["status_changed", "task_late"]
language = "sv"
mode = "digest"
every = "week"
weekday = "friday"
at = 16:30:00
timezone = "Europe/Helsinki"
send_empty = true
""",
    )
    routing = config.resolved_targets()  # type: ignore[attr-defined]

    transport = routing.subscription("transport")
    assert transport.mode is Mode.DIGEST
    assert transport.language == "sv"
    assert transport.filters.organizations == frozenset({"4"})
    assert transport.schedule is not None
    assert (transport.schedule.at, transport.schedule.weekday) == (time(16, 30), 4)
    assert routing.subscription("target:watchdog").mode is Mode.IMMEDIATE
    assert routing.policy.max_attempts == 3
    forced = routing.target_for("lead")
    assert forced is not None
    assert forced.url == "json://staging.example.org/all"


def test_masks_and_secret_parts() -> None:
    url = "tgram://123456789:AAH-token-value/12345?format=html"
    assert mask(url) == "tgram://***"
    assert mask("mailtos://u:p@mail.example.org/") == "mailtos://mail.example.org/***"
    parts = url_secrets(
        build_url(scheme="mailtos", host="m.example.org", user="u", password=SECRET)
    )
    assert SECRET in parts
    assert "S3cr3t%40%2F%25%3B%3A%3F%23%5B%5D%26%3D%2B%20%C3%BC" in parts
    assert repr(Target("t", url)) == "Target(name='t', url='tgram://***')"


def test_by_default_a_message_outlasts_a_target_down_overnight(tmp_path: Path) -> None:
    # Five attempts from 30 s doubling gave up after 7.5 minutes: a webhook down
    # for ten minutes had its alerts marked failed until someone ran notify retry.
    config = _load(
        tmp_path, '[[targets]]\nname = "lead"\nurl = "json://lead.example.org/"\n'
    )
    policy = config.resolved_targets().policy  # type: ignore[attr-defined]
    waited = sum(
        (policy.retry_delay(n) for n in range(1, policy.max_attempts)), timedelta()
    )
    assert waited >= timedelta(hours=12)
    assert policy == DeliveryPolicy()  # the config's defaults are the worker's
