"""`goalsync doctor` for a Google Sheets source or sink."""

from __future__ import annotations

from collections.abc import Sequence

from connectors.sheets.client import Access, SheetsClient
from sync.base.contracts import CheckContext, CheckTarget
from sync.base.errors import AuthError, ConfigError, GoalsyncError
from sync.base.retry import Budget


def check_sheets(
    access: Access, target: CheckTarget, ctx: CheckContext, *, tabs: Sequence[str] | None
) -> None:
    """spreadsheets.get with a field mask of the tab titles (the credentials are accepted, the
    sheet is shared with them, the input tabs exist). 1 request (a service account also
    exchanges its key for a token). Write access cannot be seen without writing: the check says
    whom to share the sheet with as Editor. `tabs`: the input tabs a source reads (None for a
    sink)."""
    client = SheetsClient(access, timeout=30.0)
    try:
        reply = client.fetch_spreadsheet(
            "properties.title,sheets.properties.title", budget=Budget(ctx.budget_s)
        )
    except AuthError as exc:
        target.add("credentials", "fail", str(exc), f"share the sheet with {access.principal}")
        return
    except ConfigError as exc:
        target.add("spreadsheet", "fail", str(exc), "check spreadsheet_id")
        return
    except GoalsyncError as exc:
        target.add("reachable", "fail", str(exc), "check the network (or endpoint:)")
        return
    finally:
        target.requests = client.calls
    title = str((reply.get("properties") or {}).get("title") or access.spreadsheet_id)
    titles = [str((s.get("properties") or {}).get("title", "")) for s in reply.get("sheets") or []]
    target.add("credentials", "ok", f"opened {title!r} as {access.principal}")
    if tabs is not None:
        present = {t.casefold() for t in titles}
        missing = [t for t in tabs if t.casefold() not in present]
        if missing:
            target.add(
                "tabs",
                "fail",
                f"no tab {', '.join(repr(m) for m in missing)} (its tabs: {', '.join(titles)})",
                "add the tab with its header row, or fix the names under tabs:",
            )
        else:
            target.add("tabs", "ok", f"reads {', '.join(tabs)}")
    else:
        target.add(
            "permissions",
            "ok",
            f"readable; writing is not tested (it would change the sheet): {access.principal} "
            "must be an Editor of it",
        )
