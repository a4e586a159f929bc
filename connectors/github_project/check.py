"""`goalsync doctor` for a board: one GraphQL query (cost 1) that answers "would a run work?":
the endpoint answers and takes the token, the token may read projects (a classic token's
X-OAuth-Scopes names read:project or project; a fine-grained token shows no scopes, and the
query succeeding is the proof), the board exists, and every field the config names is on it,
of the right kind, with the configured status values among its options."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from connectors.github_project.fetch import project_of
from sync.base.contracts import CheckContext, CheckTarget
from sync.base.errors import AuthError, ConfigError, GoalsyncError

if TYPE_CHECKING:
    from connectors.github_project.source import GitHubProjectSource

FIELDS_QUERY = """
query($owner: String!, $number: Int!) {
  rateLimit { cost remaining resetAt }
  repositoryOwner(login: $owner) {
    login
    ... on ProjectV2Owner {
      projectV2(number: $number) {
        title
        fields(first: 100) {
          nodes {
            ... on ProjectV2FieldCommon { name dataType }
            ... on ProjectV2SingleSelectField { options { name } }
          }
        }
      }
    }
  }
}
"""

PROJECT_SCOPES = frozenset({"read:project", "project"})


def check_github_project(
    source: GitHubProjectSource, target: CheckTarget, ctx: CheckContext
) -> None:
    config = source.config
    try:
        client = source.client(ctx.budget_s)
    except AuthError as exc:
        target.add("credentials", "fail", str(exc), f"set {config.token_env}")
        return
    who = f"source {source.name!r}"
    try:
        data = client.query(
            FIELDS_QUERY,
            {"owner": config.owner, "number": config.number},
            what=f"{who} board {source.board.name} fields",
        )
        project = project_of(data, source.board, who)
    except AuthError as exc:
        target.add("reachable", "ok", f"GitHub GraphQL at {config.graphql_url}")
        target.add(
            "credentials",
            "fail",
            str(exc),
            f"give {config.token_env} the read:project scope (classic) or Projects read access",
        )
        return
    except ConfigError as exc:
        target.add("reachable", "ok", f"GitHub GraphQL at {config.graphql_url}")
        target.add("board", "fail", str(exc), "check owner and number (see the board's URL)")
        return
    except GoalsyncError as exc:
        target.add(
            "reachable",
            "fail",
            str(exc),
            "check base_url (https://api.github.com, or https://HOST/api/v3 for Enterprise)",
        )
        return
    finally:
        target.requests = client.points.requests
        client.close()
    target.add("reachable", "ok", f"GitHub GraphQL at {config.graphql_url}")
    _scope(client.scopes, config.token_env, target)
    target.add("board", "ok", f"{source.board.name}: {project.get('title') or ''}".rstrip(": "))
    _fields(project, source, target)


def _scope(scopes: str | None, token_env: str, target: CheckTarget) -> None:
    if scopes is None:
        target.add("scope", "ok", "the token reads the board (a fine-grained token: no scopes)")
        return
    held = {s.strip() for s in scopes.split(",") if s.strip()}
    if held & PROJECT_SCOPES:
        target.add("scope", "ok", f"token scopes: {', '.join(sorted(held))}")
    else:
        target.add(
            "scope",
            "warn",
            f"token scopes {', '.join(sorted(held)) or '(none)'} lack read:project; "
            "GitHub may stop answering board queries",
            f"add the read:project scope to {token_env}",
        )


def _fields(project: dict[str, Any], source: GitHubProjectSource, target: CheckTarget) -> None:
    config = source.config
    nodes = ((project.get("fields") or {}).get("nodes")) or []
    fields = {str(n["name"]).casefold(): n for n in nodes if isinstance(n, dict) and n.get("name")}
    names = ", ".join(sorted(str(n["name"]) for n in fields.values()))
    wanted = [
        ("status_field", config.status_field, "SINGLE_SELECT"),
        ("points_field", config.points_field, "NUMBER"),
        ("goal_field", config.goal_field, None),
    ]
    for key, name, kind in wanted:
        if name is None:
            continue
        found = fields.get(name.casefold())
        if found is None:
            target.add(
                key, "fail", f"the board has no field {name!r} (it has: {names})", f"fix {key}"
            )
            continue
        if kind is not None and found.get("dataType") != kind:
            target.add(
                key,
                "fail",
                f"field {name!r} is {found.get('dataType')}, not {kind}",
                f"name a {kind.lower().replace('_', '-')} field in {key}",
            )
            continue
        detail = f"field {name!r} ({found.get('dataType')})"
        if key == "status_field":
            options = {str(o.get("name", "")).casefold() for o in found.get("options") or []}
            missing = [
                v
                for v in (*config.done_values, *config.in_progress_values)
                if v.casefold() not in options
            ]
            if missing:
                target.add(
                    key,
                    "warn",
                    f"{detail} has no option {', '.join(repr(v) for v in missing)}",
                    "fix done_values / in_progress_values",
                )
                continue
        target.add(key, "ok", detail)
