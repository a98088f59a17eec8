"""The OpenAPI 3.1 description of the JSON API, served at ``/api/openapi.json``.

Written by hand next to the handlers; the tests check every route is described and
every answer matches its schema, so the two cannot drift apart unnoticed.
"""

from __future__ import annotations

from typing import Any

from monitor.web.queries import STALE_DAYS

Schema = dict[str, Any]


def _t(kind: str, *, null: bool = False, **extra: Any) -> Schema:
    return {"type": [kind, "null"] if null else kind, **extra}


def _ref(name: str, *, null: bool = False) -> Schema:
    ref = {"$ref": f"#/components/schemas/{name}"}
    return {"oneOf": [ref, {"type": "null"}]} if null else ref


def _object(properties: dict[str, Schema], *, optional: tuple[str, ...] = ()) -> Schema:
    return {
        "type": "object",
        "properties": properties,
        "required": [name for name in properties if name not in optional],
    }


TIME = _t("string", format="date-time")
TIME_OR_NULL = _t("string", null=True, format="date-time")
URL = _t("string", format="uri")
ANY: Schema = {}  # a field's value as the site showed it: any JSON

SCHEMAS: dict[str, Schema] = {
    "Error": _object({"error": _t("string")}),
    "Problem": _object(
        {"reason": _t("string", null=True), "pages": _t("array", items=_t("string"))}
    ),
    "Source": _object(
        {
            "name": _t("string"),
            "kind": _t("string"),
            "health": _t("string", enum=["ok", "failing", "anomaly", "never_checked"]),
            "last_check_at": TIME_OR_NULL,
            "last_outcome": _t("string", null=True),
            "last_change_at": TIME_OR_NULL,
            "next_check_at": TIME_OR_NULL,
            "consecutive_failures": _t("integer"),
            "failing": _ref("Problem", null=True),
            "layout_anomaly": _ref("Problem", null=True),
            "actions": _t("integer", description="actions on the site now"),
            "removed_actions": _t("integer"),
            "organizations": _t("integer"),
            "links": _object(
                {"html": URL, "feed": URL, "actions": URL, "changes": URL}
            ),
        }
    ),
    "Check": _object(
        {
            "id": _t("integer"),
            "observed_at": TIME,
            "finished_at": TIME_OR_NULL,
            "outcome": _t("string"),
            "pages": _t("integer"),
            "changes": _t("integer"),
        }
    ),
    "OrgRef": _object({"id": _t("string"), "name": _t("string", null=True)}),
    "Organization": _object(
        {
            "source": _t("string"),
            "id": _t("string"),
            "name": _t("string", null=True),
            "names": _t("object", additionalProperties=_t("string")),
            "action_count": _t("integer", null=True),
            "parent": _ref("OrgRef", null=True),
            "first_seen_at": TIME,
            "last_seen_at": TIME,
            "links": _object({"html": URL, "feed": URL}),
        }
    ),
    "Action": _object(
        {
            "source": _t("string"),
            "id": _t("string", description="the platform's id; stable over renames"),
            "identifier": _t("string", null=True),
            "name": _t("string", null=True),
            "names": _t("object", additionalProperties=_t("string")),
            "url": _t("string", null=True),
            "status": _t("string", null=True),
            "status_label": _t("string", null=True),
            "phase": _t("string", null=True),
            "phase_label": _t("string", null=True),
            "tasks": _object(
                {
                    "total": _t("integer", null=True),
                    "completed": _t("integer", null=True),
                }
            ),
            "completion": _t("integer", null=True),
            "updated_at": _object(
                {
                    "exact": _t("string", null=True),
                    "earliest": _t("string", null=True),
                    "latest": _t("string", null=True),
                }
            ),
            "days_since_update": _t(
                "integer",
                null=True,
                description="whole days from the update time to when planwatch "
                "last saw the action",
            ),
            "stale": _t(
                "boolean",
                null=True,
                description="more than stale_after_days without an update; null "
                "when no update time is known or the action is finished or merged",
            ),
            "stale_after_days": _t("integer"),
            "organizations": _t("array", items=_ref("OrgRef")),
            "responsible": _t(
                "array",
                items=_object(
                    {
                        "organization_id": _t("string"),
                        "name": _t("string", null=True),
                        "role": _t("string", null=True),
                    }
                ),
            ),
            "merged_with": _t("string", null=True),
            "first_seen_at": TIME,
            "last_seen_at": TIME,
            "removed_at": TIME_OR_NULL,
            "links": _object({"html": URL, "feed": URL, "history": URL}),
        }
    ),
    "Version": _object(
        {
            "check_id": _t("integer"),
            "valid_from": TIME,
            "valid_to": TIME_OR_NULL,
            "changed_fields": _t("array", null=True, items=_t("string")),
            "status": _t("string", null=True),
            "phase": _t("string", null=True),
            "state": _t("object", description="the whole stored state"),
        }
    ),
    "Change": _object(
        {
            "id": _t("integer"),
            "entry_id": _t(
                "string", description="stable id, the same as in the Atom feeds"
            ),
            "kind": _t("string"),
            "observed_at": TIME,
            "source": _t("string"),
            "action_id": _t("string", null=True),
            "action_identifier": _t("string", null=True),
            "organization_id": _t("string", null=True),
            "name": _t("string", null=True),
            "field": _t("string", null=True),
            "before": ANY,
            "after": ANY,
            "url": _t("string", null=True),
            "detail": _t("object"),
            "text": _t("string", description="the change in words"),
            "links": _object({"html": URL}),
        }
    ),
    "ActionHistory": _object(
        {
            "action": _ref("Action"),
            "versions": _t("array", items=_ref("Version")),
            "changes": _t("array", items=_ref("Change")),
        }
    ),
    "SourceDetail": {
        "allOf": [
            _ref("Source"),
            _object({"checks": _t("array", items=_ref("Check"))}),
        ]
    },
    "SourceList": _object({"items": _t("array", items=_ref("Source"))}),
    "OrganizationList": _object({"items": _t("array", items=_ref("Organization"))}),
}


def _page(item: str) -> Schema:
    return _object(
        {
            "items": _t("array", items=_ref(item)),
            "total": _t("integer"),
            "limit": _t("integer"),
            "offset": _t("integer"),
            "next": _t("string", null=True, format="uri"),
            "prev": _t("string", null=True, format="uri"),
        }
    )


SCHEMAS["ActionPage"] = _page("Action")
SCHEMAS["ChangePage"] = _page("Change")


def _param(
    name: str, where: str, schema: Schema, text: str, *, required: bool = False
) -> dict[str, Any]:
    return {
        "name": name,
        "in": where,
        "required": required or where == "path",
        "schema": schema,
        "description": text,
    }


PARAMETERS: dict[str, dict[str, Any]] = {
    "source": _param("source", "path", _t("string"), "the source's name"),
    "action": _param("action", "path", _t("string"), "the action's platform id"),
    "limit": _param(
        "limit",
        "query",
        _t("integer", minimum=1, maximum=500, default=50),
        "items per page",
    ),
    "offset": _param(
        "offset", "query", _t("integer", minimum=0, default=0), "items to skip"
    ),
    "sourceFilter": _param(
        "source", "query", _t("string"), "only this source (an unknown one is a 404)"
    ),
    "organization": _param(
        "organization",
        "query",
        _t("string"),
        "only what concerns this organization (its platform id); needs source",
    ),
    "staleDays": _param(
        "stale_days",
        "query",
        _t("integer", minimum=1),
        "days without an update after which an action is stale (default: the "
        f"plan's own line as last seen, else {STALE_DAYS})",
    ),
    "ifNoneMatch": _param(
        "If-None-Match", "header", _t("string"), "an ETag from an earlier answer"
    ),
    "ifModifiedSince": _param(
        "If-Modified-Since",
        "header",
        _t("string"),
        "a Last-Modified from an earlier answer",
    ),
}


def _use(*names: str) -> list[dict[str, str]]:
    return [{"$ref": f"#/components/parameters/{n}"} for n in names]


CONDITIONAL = ("ifNoneMatch", "ifModifiedSince")


def _get(
    summary: str,
    schema: str,
    parameters: list[dict[str, Any]],
    *,
    errors: tuple[int, ...] = (),
) -> dict[str, Any]:
    responses: dict[str, Any] = {
        "200": {
            "description": "OK",
            "headers": {
                "ETag": {"schema": _t("string")},
                "Last-Modified": {"schema": _t("string")},
            },
            "content": {"application/json": {"schema": _ref(schema)}},
        },
        "304": {"description": "not modified since the validators sent"},
    }
    for status in errors:
        responses[str(status)] = {
            "description": {400: "a query parameter is wrong", 404: "not found"}[
                status
            ],
            "content": {"application/json": {"schema": _ref("Error")}},
        }
    return {
        "get": {
            "summary": summary,
            "parameters": [*parameters, *_use(*CONDITIONAL)],
            "responses": responses,
        }
    }


def _paths() -> dict[str, Any]:
    return {
        "/api/sources": _get("Every source with its health", "SourceList", []),
        "/api/sources/{source}": _get(
            "One source: health and recent checks",
            "SourceDetail",
            _use("source"),
            errors=(404,),
        ),
        "/api/sources/{source}/organizations": _get(
            "A source's organizations as last seen",
            "OrganizationList",
            _use("source"),
            errors=(404,),
        ),
        "/api/sources/{source}/actions/{action}": _get(
            "One action's current state",
            "Action",
            [*_use("source", "action", "staleDays")],
            errors=(400, 404),
        ),
        "/api/sources/{source}/actions/{action}/history": _get(
            "One action's versions and changes, oldest first",
            "ActionHistory",
            [*_use("source", "action", "staleDays")],
            errors=(400, 404),
        ),
        "/api/actions": _get(
            "Actions in their current state",
            "ActionPage",
            [
                *_use("sourceFilter", "organization"),
                _param(
                    "status",
                    "query",
                    _t("string"),
                    "status identifiers, comma-separated or repeated",
                ),
                _param(
                    "stale",
                    "query",
                    _t("boolean"),
                    "only stale (true) or only fresh (false) actions; actions "
                    "without an update time are in neither",
                ),
                *_use("staleDays"),
                _param(
                    "removed",
                    "query",
                    _t("boolean", default=False),
                    "include removed actions in their last state",
                ),
                *_use("limit", "offset"),
            ],
            errors=(400, 404),
        ),
        "/api/changes": _get(
            "The changes found",
            "ChangePage",
            [
                *_use("sourceFilter", "organization"),
                _param(
                    "action",
                    "query",
                    _t("string"),
                    "only this action (its platform id); needs source",
                ),
                _param(
                    "kind",
                    "query",
                    _t("string"),
                    "event kinds, comma-separated or repeated (an unknown kind "
                    "is a 400)",
                ),
                _param(
                    "since",
                    "query",
                    _t("string"),
                    "ISO-8601 time or date: changes observed at or after it",
                ),
                _param(
                    "until",
                    "query",
                    _t("string"),
                    "ISO-8601 time or date: changes observed before it",
                ),
                _param(
                    "order",
                    "query",
                    _t("string", enum=["desc", "asc"], default="desc"),
                    "newest first (desc) or oldest first (asc)",
                ),
                *_use("limit", "offset"),
            ],
            errors=(400, 404),
        ),
        "/api/openapi.json": {
            "get": {
                "summary": "This description",
                "responses": {
                    "200": {
                        "description": "OK",
                        "content": {"application/json": {"schema": {}}},
                    }
                },
            }
        },
    }


def document(root: str = "") -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "planwatch",
            "version": "1",
            "description": (
                "Read-only history of watched climate action plans: sources and "
                "their health, actions in their current state and over time, and "
                "the changes found. Lists are paginated with limit and offset; "
                "answers carry ETag and Last-Modified for conditional requests."
            ),
        },
        **({"servers": [{"url": root}]} if root else {}),
        "paths": _paths(),
        "components": {"schemas": SCHEMAS, "parameters": PARAMETERS},
    }
