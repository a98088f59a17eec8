"""SQL views with readable column names, for Datasette and ad-hoc SQL.

They are derived from the tables, so they are dropped before the migrations run and
created again after (see ``migrations/env.py``): a migration that rebuilds a table
never trips over a view, and ``planwatch db upgrade`` always leaves the views that
match this version. The README's "History and export" section lists them.
"""

from __future__ import annotations

from sqlalchemy import Connection, text


def _value(dialect: str, column: str, path: str) -> str:
    """A scalar at ``path`` (dotted) inside a JSON column, as SQL."""
    if dialect == "postgresql":
        return f"({column} #>> '{{{path.replace('.', ',')}}}')"
    return f"json_extract({column}, '$.{path}')"


def _display_name(dialect: str, column: str) -> str:
    """The English name, else the first language's (states keep names per language)."""
    if dialect == "postgresql":
        first = f"SELECT value FROM json_each_text({column} -> 'names') LIMIT 1"  # noqa: S608
        return f"coalesce({column} -> 'names' ->> 'en', ({first}))"
    first = f"SELECT value FROM json_each({column}, '$.names') LIMIT 1"  # noqa: S608
    return f"coalesce(json_extract({column}, '$.names.en'), ({first}))"


def view_definitions(dialect: str) -> dict[str, str]:
    """View name -> SELECT, for one SQL dialect ("sqlite" or "postgresql")."""

    def j(column: str, path: str) -> str:
        return _value(dialect, column, path)

    name = _display_name(dialect, "v.state")
    org_name = _display_name(dialect, "ov.state")
    # Every piece of these statements is a constant of this module: nothing comes
    # from outside, hence the S608 exemptions.
    return {
        "action_history": f"""
            SELECT s.name AS source, a.platform_id AS action_id,
                   {j("v.state", "identifier")} AS identifier, {name} AS name,
                   {j("v.state", "status")} AS status, {j("v.state", "phase")} AS phase,
                   {j("v.state", "tasks_total")} AS tasks_total,
                   {j("v.state", "tasks_completed")} AS tasks_completed,
                   {j("v.state", "completion")} AS completion,
                   {j("v.state", "updated_exact")} AS information_updated,
                   {j("v.state", "url")} AS url,
                   v.valid_from, v.valid_to,
                   {j("v.changed_fields", "fields")} AS changed_fields,
                   v.id AS version_id, v.check_id
            FROM action_versions v
            JOIN actions a ON a.id = v.action_id
            JOIN sources s ON s.id = a.source_id""",  # noqa: S608
        "actions_now": """
            SELECT * FROM action_history WHERE valid_to IS NULL""",
        "organization_history": f"""
            SELECT s.name AS source, o.platform_id AS organization_id,
                   {org_name} AS name,
                   {j("ov.state", "action_count")} AS action_count,
                   {j("ov.state", "parent_id")} AS parent_id,
                   ov.valid_from, ov.valid_to,
                   {j("ov.changed_fields", "fields")} AS changed_fields,
                   ov.id AS version_id, ov.check_id
            FROM organization_versions ov
            JOIN organizations o ON o.id = ov.organization_id
            JOIN sources s ON s.id = o.source_id""",  # noqa: S608
        "changes": f"""
            SELECT e.id AS change_id, s.name AS source, e.observed_at, e.kind,
                   e.action_platform_id AS action_id,
                   e.action_identifier, e.organization_platform_id AS organization_id,
                   e.name, e.field,
                   {j("e.before", "value")} AS before,
                   {j("e.after", "value")} AS after,
                   e.url, e.check_id
            FROM events e JOIN sources s ON s.id = e.source_id""",  # noqa: S608
        "check_log": """
            SELECT c.id AS check_id, s.name AS source, c.observed_at, c.outcome,
                   c.pages, c.events AS changes, c.started_at, c.finished_at
            FROM checks c JOIN sources s ON s.id = c.source_id""",
        "snapshot_log": """
            SELECT sn.id AS snapshot_id, s.name AS source, sn.url, sn.fetched_at,
                   sn.status_code, sn.fetch_outcome, sn.parse_outcome, sn.page_kind,
                   sn.language, sn.duration AS duration_seconds, b.size AS raw_bytes,
                   sn.pruned_at AS raw_pruned_at, sn.check_id
            FROM snapshots sn
            JOIN checks c ON c.id = sn.check_id
            JOIN sources s ON s.id = c.source_id
            LEFT JOIN blobs b ON b.sha256 = sn.blob_sha256""",
    }


def drop_views(connection: Connection) -> None:
    # Reverse order: a view may read another (actions_now reads action_history).
    for view in reversed(view_definitions(connection.dialect.name)):
        connection.execute(text(f"DROP VIEW IF EXISTS {view}"))


def create_views(connection: Connection) -> None:
    for view, select in view_definitions(connection.dialect.name).items():
        connection.execute(text(f"CREATE VIEW {view} AS {select}"))
