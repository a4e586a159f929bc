"""A loopback fake of the Google Sheets API v4: the calls goalsync makes, on an in-memory grid.

- `GET /v4/spreadsheets/{id}` with a `fields` mask; `GET .../values:batchGet` (UNFORMATTED_VALUE,
  FORMULA or FORMATTED_VALUE; serial-number dates, which is all the grid holds).
- `POST /v4/spreadsheets/{id}:batchUpdate`, applied atomically: every request runs on copies of
  the sheets it touches, and only a batch without error is committed. addSheet, deleteSheet,
  updateSheetProperties, updateCells, repeatCell, copyPaste, add/deleteConditionalFormatRule,
  setBasicFilter, clearBasicFilter, updateDimensionProperties, create/update/delete-
  DeveloperMetadata (on sheets, found by metadataId; shown in spreadsheets.get), and charts:
  addChart, updateChartSpec, updateEmbeddedObjectPosition, deleteEmbeddedObject (an id taken by
  another embedded object is refused, as the API does; every source range and the anchor cell
  must lie in the grid; shown in spreadsheets.get as `charts`). Like Sheets it
  refuses bodies over 10 MB, cells over 50,000 characters, spreadsheets over 10 million cells,
  writes outside the grid, duplicate tab names (ignoring case) and removing the last visible tab.
- `POST /token`: a service account's token exchange, when `token` is set (then every API call
  needs that bearer token, else 401).
- `PUT .../values/{range}` and `POST .../values:batchUpdate` with valueInputOption: USER_ENTERED
  turns a string starting with "=" into a formula, as Sheets does; RAW keeps it a string.

Errors have the API's shape: {"error": {"code", "message", "status"}}. Calls are counted by the
FakeServer base (`count("POST", "/v4/spreadsheets/x:batchUpdate")`) and `bodies` keeps the size
of every batchUpdate body received.
"""

from __future__ import annotations

import copy
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote

from tests.fakes.server import FakeServer, Request, Response

BODY_LIMIT = 10_485_760
CELL_CHARS = 50_000
MAX_CELLS = 10_000_000
CellData = dict[str, Any]


class ApiError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class FakeSheet:
    sheet_id: int
    title: str
    rows: int = 1000
    columns: int = 26
    hidden: bool = False
    frozen_rows: int = 0
    cells: dict[tuple[int, int], CellData] = field(default_factory=dict)
    rules: list[dict[str, Any]] = field(default_factory=list)
    basic_filter: dict[str, Any] | None = None
    widths: dict[int, int] = field(default_factory=dict)
    metadata: list[dict[str, Any]] = field(default_factory=list)  # developer metadata
    charts: dict[int, dict[str, Any]] = field(default_factory=dict)  # EmbeddedChart by chartId

    def clone(self) -> FakeSheet:
        return FakeSheet(
            self.sheet_id, self.title, self.rows, self.columns, self.hidden, self.frozen_rows,
            dict(self.cells), list(self.rules), self.basic_filter, dict(self.widths),
            [dict(m) for m in self.metadata], copy.deepcopy(self.charts),
        )  # fmt: skip

    def properties(self, index: int) -> dict[str, Any]:
        grid = {"rowCount": self.rows, "columnCount": self.columns}
        if self.frozen_rows:
            grid["frozenRowCount"] = self.frozen_rows
        props: dict[str, Any] = {
            "sheetId": self.sheet_id, "title": self.title, "index": index,
            "sheetType": "GRID", "gridProperties": grid, "hidden": self.hidden,
        }  # fmt: skip
        # Like the API's JSON, zero and false values are left out (sheetId 0, index 0, ...).
        return {k: v for k, v in props.items() if v not in (0, False)}

    def value(self, row: int, col: int, render: str = "UNFORMATTED_VALUE") -> Any:
        entered = self.cells.get((row, col), {}).get("userEnteredValue") or {}
        if "formulaValue" in entered:
            formula = entered["formulaValue"]
            if render == "FORMULA":
                return formula
            link = re.fullmatch(r'=HYPERLINK\("((?:[^"]|"")*)","((?:[^"]|"")*)"\)', formula)
            return link.group(2).replace('""', '"') if link else "#NAME?"
        for kind in ("stringValue", "numberValue", "boolValue"):
            if kind in entered:
                v = entered[kind]
                return str(v) if render == "FORMATTED_VALUE" and kind != "stringValue" else v
        return None

    def formulas(self) -> dict[tuple[int, int], str]:
        return {
            k: c["userEnteredValue"]["formulaValue"]
            for k, c in self.cells.items()
            if "formulaValue" in (c.get("userEnteredValue") or {})
        }


@dataclass
class FakeSpreadsheet:
    spreadsheet_id: str
    title: str
    sheets: list[FakeSheet]

    def sheet(self, title: str) -> FakeSheet:
        found = next((s for s in self.sheets if s.title.casefold() == title.casefold()), None)
        if found is None:
            raise KeyError(title)
        return found

    def by_id(self, sheet_id: int) -> FakeSheet:
        found = next((s for s in self.sheets if s.sheet_id == sheet_id), None)
        if found is None:
            raise ApiError(400, f"No grid with id: {sheet_id}")
        return found

    def values(self, title: str, render: str = "UNFORMATTED_VALUE") -> list[list[Any]]:
        sheet = self.sheet(title)
        return _trimmed(sheet, 0, 0, sheet.rows, sheet.columns, render)

    def titles(self) -> list[str]:
        return [s.title for s in self.sheets]

    def snapshot(self) -> dict[str, Any]:
        return copy.deepcopy({s.title: (s.rows, s.columns, s.cells) for s in self.sheets})


class FakeSheets(FakeServer):
    def __init__(self, latency: float = 0.0) -> None:
        super().__init__(latency)
        self.spreadsheets: dict[str, FakeSpreadsheet] = {}
        self.bodies: list[int] = []  # sizes of batchUpdate bodies, refused ones included
        self.on_commit: Callable[[FakeSpreadsheet], None] | None = None
        # With a token set, API calls need "Authorization: Bearer <token>" (else 401), and
        # POST /token hands it out to a service account's signed JWT, as oauth2.googleapis.com.
        self.token: str | None = None
        self._data_lock = threading.Lock()

    # --- setting up and reading back --------------------------------------------------------

    def add_spreadsheet(
        self, spreadsheet_id: str, tabs: dict[str, list[list[Any]]] | None = None
    ) -> FakeSpreadsheet:
        """A spreadsheet with the tabs given (values typed as a person would enter them: str,
        int/float, bool; a string starting with = becomes a formula, one starting with ' stays
        text without the quote), or one empty Sheet1."""
        sheets = [FakeSheet(0, "Sheet1")] if not tabs else []
        book = FakeSpreadsheet(spreadsheet_id, f"Fake {spreadsheet_id}", sheets)
        for n, (title, rows) in enumerate((tabs or {}).items()):
            sheet = FakeSheet(n * 1000, title)  # the first has id 0, which JSON leaves out
            for r, row in enumerate(rows):
                for c, v in enumerate(row):
                    if v is not None:
                        sheet.cells[(r, c)] = {"userEnteredValue": _entered(v, user=True)}
            book.sheets.append(sheet)
        self.spreadsheets[spreadsheet_id] = book
        return book

    def batch_updates(self, spreadsheet_id: str) -> int:
        return self.count("POST", f"/v4/spreadsheets/{spreadsheet_id}:batchUpdate")

    # --- the API ----------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        path = unquote(request.path)
        if path == "/token" and request.method == "POST":
            form = parse_qs(request.body.decode())
            if "assertion" not in form or self.token is None:
                return Response(400, {"error": "invalid_grant", "error_description": "no"})
            return Response(200, {"access_token": self.token, "expires_in": 3600})
        m = re.fullmatch(r"/v4/spreadsheets/([^/:]+)(.*)", path)
        try:
            if self.token is not None and request.headers.get("authorization") != (
                f"Bearer {self.token}"
            ):
                raise ApiError(401, "Request is missing required authentication credential.")
            if m is None:
                raise ApiError(404, f"Method not found: {path}")
            with self._data_lock:
                book = self.spreadsheets.get(m.group(1))
                if book is None:
                    raise ApiError(404, "Requested entity was not found.")
                return self._route(book, m.group(2), request)
        except ApiError as exc:
            kinds = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 404: "NOT_FOUND"}
            status = kinds.get(exc.code, "UNKNOWN")
            return Response(
                exc.code, {"error": {"code": exc.code, "message": str(exc), "status": status}}
            )

    def _route(self, book: FakeSpreadsheet, rest: str, request: Request) -> Response:
        if request.method == "GET" and rest == "":
            data = _spreadsheet_json(book)
            mask = request.arg("fields")
            return Response(200, _masked(data, _parse_mask(mask)) if mask else data)
        if request.method == "GET" and rest == "/values:batchGet":
            render = request.arg("valueRenderOption", "FORMATTED_VALUE") or "FORMATTED_VALUE"
            ranges = [_read_range(book, a1, render) for a1 in request.query.get("ranges", [])]
            return Response(200, {"spreadsheetId": book.spreadsheet_id, "valueRanges": ranges})
        if request.method == "POST" and rest == ":batchUpdate":
            self.bodies.append(len(request.body))
            if len(request.body) > BODY_LIMIT:
                raise ApiError(400, f"Request payload size exceeds the limit: {BODY_LIMIT} bytes.")
            replies = self._commit(book, request.json().get("requests") or [])
            return Response(200, {"spreadsheetId": book.spreadsheet_id, "replies": replies})
        if request.method == "PUT" and rest.startswith("/values/"):
            option = request.arg("valueInputOption") or ""
            entry = {"range": rest.removeprefix("/values/"), **request.json()}
            self._commit_values(book, [entry], option)
            return Response(200, {"spreadsheetId": book.spreadsheet_id})
        if request.method == "POST" and rest == "/values:batchUpdate":
            body = request.json()
            self._commit_values(book, body.get("data") or [], body.get("valueInputOption", ""))
            return Response(200, {"spreadsheetId": book.spreadsheet_id})
        raise ApiError(404, f"Method not found: {request.method} {rest}")

    def _commit(self, book: FakeSpreadsheet, requests: list[dict[str, Any]]) -> list[Any]:
        work = _Work(book)
        replies = []
        for i, req in enumerate(requests):
            if len(req) != 1:
                raise ApiError(400, f"Invalid requests[{i}]: exactly one kind of request")
            ((kind, body),) = req.items()
            try:
                replies.append(work.apply(kind, body))
                work.check_limits()
            except ApiError as exc:
                raise ApiError(exc.code, f"Invalid requests[{i}].{kind}: {exc}") from None
        book.sheets = work.sheets
        if self.on_commit is not None:
            self.on_commit(book)
        return replies

    def _commit_values(self, book: FakeSpreadsheet, data: list[Any], option: str) -> None:
        if option not in ("RAW", "USER_ENTERED"):
            raise ApiError(400, "Invalid valueInputOption: INPUT_VALUE_OPTION_UNSPECIFIED")
        work = _Work(book)
        for entry in data:
            title, r0, c0, _, _ = _parse_a1(book, entry.get("range", ""))
            sheet = work.touch(book.sheet(title).sheet_id)
            for r, row in enumerate(entry.get("values") or []):
                for c, v in enumerate(row):
                    work.put(sheet, r0 + r, c0 + c, {"userEnteredValue": _entered(v, option)})
        work.check_limits()
        book.sheets = work.sheets


class _Work:
    """A batch in progress: sheets are copied on first touch and swapped in on commit."""

    def __init__(self, book: FakeSpreadsheet) -> None:
        self.sheets = list(book.sheets)
        self._copies: set[int] = set()  # id() of the sheets this batch owns

    def touch(self, sheet_id: int) -> FakeSheet:
        for i, s in enumerate(self.sheets):
            if s.sheet_id == sheet_id:
                if id(s) not in self._copies:
                    s = s.clone()
                    self._copies.add(id(s))
                    self.sheets[i] = s
                return s
        raise ApiError(400, f"No grid with id: {sheet_id}")

    def check_limits(self) -> None:
        total = sum(s.rows * s.columns for s in self.sheets)
        if total > MAX_CELLS:
            raise ApiError(
                400,
                "This action would increase the number of cells in the workbook above the "
                f"limit of {MAX_CELLS} cells.",
            )

    def put(self, sheet: FakeSheet, row: int, col: int, cell: CellData) -> None:
        if row >= sheet.rows or col >= sheet.columns:
            raise ApiError(400, f"Range ({sheet.title}!R{row + 1}C{col + 1}) exceeds grid limits.")
        if not cell:
            sheet.cells.pop((row, col), None)
            return
        entered = cell.get("userEnteredValue")
        if entered:
            text = entered.get("stringValue") or entered.get("formulaValue")
            if type(text) is str and len(text) > CELL_CHARS:
                raise ApiError(
                    400,
                    f"Your input contains more than the maximum of {CELL_CHARS} characters in "
                    "a single cell.",
                )
        sheet.cells[(row, col)] = cell

    def bounds(self, rng: dict[str, Any]) -> tuple[FakeSheet, int, int, int, int]:
        sheet = self.touch(int(rng.get("sheetId", 0)))
        r0, c0 = rng.get("startRowIndex", 0), rng.get("startColumnIndex", 0)
        r1, c1 = rng.get("endRowIndex", sheet.rows), rng.get("endColumnIndex", sheet.columns)
        if r1 > sheet.rows or c1 > sheet.columns or r0 > r1 or c0 > c1:
            raise ApiError(
                400,
                f"Range ({sheet.title}!R{r0 + 1}C{c0 + 1}:R{r1}C{c1}) exceeds grid limits. Max "
                f"rows: {sheet.rows}, max columns: {sheet.columns}",
            )
        return sheet, r0, c0, r1, c1

    def apply(self, kind: str, body: dict[str, Any]) -> Any:
        handler = getattr(self, f"_{kind}", None)
        if handler is None:
            raise ApiError(400, f'Invalid JSON payload received. Unknown name "{kind}"')
        return handler(body)

    def _addSheet(self, body: dict[str, Any]) -> Any:
        props = body.get("properties") or {}
        taken = {s.sheet_id for s in self.sheets}
        sheet_id = props.get("sheetId", max(taken, default=0) + 1)
        if sheet_id in taken or sheet_id < 0:
            raise ApiError(400, f"Sheet id {sheet_id} is already in use or invalid.")
        grid = props.get("gridProperties") or {}
        sheet = FakeSheet(
            sheet_id, props.get("title") or f"Sheet{len(self.sheets) + 1}",
            grid.get("rowCount", 1000), grid.get("columnCount", 26), props.get("hidden", False),
            grid.get("frozenRowCount", 0),
        )  # fmt: skip
        self._unique_title(sheet.title, None)
        self._copies.add(id(sheet))
        self.sheets.insert(props.get("index", len(self.sheets)), sheet)
        return {"addSheet": {"properties": sheet.properties(self.sheets.index(sheet))}}

    def _deleteSheet(self, body: dict[str, Any]) -> Any:
        sheet = self.touch(body["sheetId"])
        if not any(not s.hidden for s in self.sheets if s is not sheet):
            raise ApiError(400, "You can't remove all the visible sheets in a document.")
        self.sheets.remove(sheet)
        return {}

    def _updateSheetProperties(self, body: dict[str, Any]) -> Any:
        props = body["properties"]
        sheet = self.touch(props.get("sheetId", 0))
        mask = _parse_mask(body["fields"])
        grid = props.get("gridProperties") or {}
        gmask = mask.get("gridProperties", {})
        if "title" in mask:
            self._unique_title(props["title"], sheet)
            sheet.title = props["title"]
        if "hidden" in mask:
            sheet.hidden = bool(props.get("hidden", False))
            if all(s.hidden for s in self.sheets):
                raise ApiError(400, "You can't hide all the sheets in a document.")
        if "index" in mask:
            self.sheets.remove(sheet)
            self.sheets.insert(props.get("index", 0), sheet)
        for key, attr in (("rowCount", "rows"), ("columnCount", "columns")):
            if "gridProperties" in mask and (not gmask or key in gmask):
                setattr(sheet, attr, grid.get(key, 0))
        if "gridProperties" in mask and (not gmask or "frozenRowCount" in gmask):
            sheet.frozen_rows = grid.get("frozenRowCount", 0)
        if sheet.rows < 1 or sheet.columns < 1 or sheet.frozen_rows >= sheet.rows:
            raise ApiError(400, "Sheet must keep at least one unfrozen row and one column.")
        sheet.cells = {
            k: v for k, v in sheet.cells.items() if k[0] < sheet.rows and k[1] < sheet.columns
        }
        return {}

    def _unique_title(self, title: str, sheet: FakeSheet | None) -> None:
        if any(s.title.casefold() == title.casefold() for s in self.sheets if s is not sheet):
            raise ApiError(
                400, f'A sheet with the name "{title}" already exists. Please enter another name.'
            )

    def _updateCells(self, body: dict[str, Any]) -> Any:
        mask = _parse_mask(body["fields"])
        rows = body.get("rows") or []
        if "range" in body:
            sheet, r0, c0, r1, c1 = self.bounds(body["range"])
        else:
            start = body["start"]
            sheet = self.touch(start.get("sheetId", 0))
            r0, c0 = start.get("rowIndex", 0), start.get("columnIndex", 0)
            r1 = r0 + len(rows)
            c1 = c0 + max((len(r.get("values") or []) for r in rows), default=0)
            if r1 > sheet.rows:
                last = sheet.rows - 1
                raise ApiError(
                    400, f"GridCoordinate.rowIndex[{r1 - 1}] is after last row in grid[{last}]"
                )
        everything = "*" in mask  # the new cell is the given one: no merging to do
        for r in range(r0, r1):
            values = rows[r - r0].get("values") or [] if r - r0 < len(rows) else []
            for c in range(c0, c1):
                given = values[c - c0] if c - c0 < len(values) else None
                if given is None and "range" not in body:
                    continue
                if everything:
                    self.put(sheet, r, c, given or {})
                else:
                    old = sheet.cells.get((r, c), {})
                    self.put(sheet, r, c, _apply_mask(old, given or {}, mask))
        return {}

    def _repeatCell(self, body: dict[str, Any]) -> Any:
        sheet, r0, c0, r1, c1 = self.bounds(body["range"])
        mask = _parse_mask(body["fields"])
        for r in range(r0, r1):
            for c in range(c0, c1):
                self.put(sheet, r, c, _apply_mask(sheet.cells.get((r, c), {}), body["cell"], mask))
        return {}

    def _copyPaste(self, body: dict[str, Any]) -> Any:
        src, sr0, sc0, sr1, sc1 = self.bounds(body["source"])
        dest = body["destination"]
        corner = {
            **dest,
            "endRowIndex": dest.get("startRowIndex", 0),
            "endColumnIndex": dest.get("startColumnIndex", 0),
        }
        dst, dr0, dc0, _, _ = self.bounds(corner)  # each pasted cell is checked by put()
        if body.get("pasteType", "PASTE_NORMAL") != "PASTE_NORMAL":
            raise ApiError(400, "the fake pastes PASTE_NORMAL only")
        copied = {
            (r, c): src.cells.get((r, c), {}) for r in range(sr0, sr1) for c in range(sc0, sc1)
        }
        for (r, c), cell in copied.items():
            self.put(dst, dr0 + r - sr0, dc0 + c - sc0, dict(cell))
        return {}

    def _addConditionalFormatRule(self, body: dict[str, Any]) -> Any:
        rule = body["rule"]
        ids = {r.get("sheetId", 0) for r in rule.get("ranges") or []}
        if len(ids) != 1:
            raise ApiError(400, "A rule's ranges must be on one sheet.")
        sheet = self.touch(ids.pop())
        sheet.rules.insert(body.get("index", 0), rule)
        return {}

    def _deleteConditionalFormatRule(self, body: dict[str, Any]) -> Any:
        sheet = self.touch(body.get("sheetId", 0))
        index = body.get("index", 0)
        if index >= len(sheet.rules):
            raise ApiError(400, f"No conditional format on sheet {sheet.sheet_id} at index {index}")
        del sheet.rules[index]
        return {}

    def _setBasicFilter(self, body: dict[str, Any]) -> Any:
        sheet, *_ = self.bounds(body["filter"]["range"])
        sheet.basic_filter = body["filter"]
        return {}

    def _clearBasicFilter(self, body: dict[str, Any]) -> Any:
        self.touch(body.get("sheetId", 0)).basic_filter = None
        return {}

    def _createDeveloperMetadata(self, body: dict[str, Any]) -> Any:
        given = body["developerMetadata"]
        location = given.get("location") or {}
        if "sheetId" not in location:
            raise ApiError(400, "the fake keeps developer metadata on sheets only")
        sheet = self.touch(location["sheetId"])
        taken = {m["metadataId"] for s in self.sheets for m in s.metadata}
        metadata_id = given.get("metadataId", max(taken, default=0) + 1)
        if metadata_id in taken:
            raise ApiError(400, f"Developer metadata id {metadata_id} is already in use.")
        created = {
            "metadataId": metadata_id,
            "metadataKey": given["metadataKey"],
            "metadataValue": given.get("metadataValue", ""),
            "location": {"locationType": "SHEET", "sheetId": sheet.sheet_id},
            "visibility": given.get("visibility", "DOCUMENT"),
        }
        sheet.metadata.append(created)
        return {"createDeveloperMetadata": {"developerMetadata": created}}

    def _updateDeveloperMetadata(self, body: dict[str, Any]) -> Any:
        mask = _parse_mask(body["fields"])
        given = body["developerMetadata"]
        for data_filter in body["dataFilters"]:
            sheet, index = self._metadata(data_filter)
            entry = dict(sheet.metadata[index])
            for key in mask:
                if key in given:
                    entry[key] = given[key]
            sheet.metadata[index] = entry
        return {}

    def _deleteDeveloperMetadata(self, body: dict[str, Any]) -> Any:
        sheet, index = self._metadata(body["dataFilter"])
        del sheet.metadata[index]
        return {}

    def _metadata(self, data_filter: dict[str, Any]) -> tuple[FakeSheet, int]:
        wanted = (data_filter.get("developerMetadataLookup") or {}).get("metadataId")
        for s in list(self.sheets):
            for index, entry in enumerate(s.metadata):
                if entry["metadataId"] == wanted:
                    return self.touch(s.sheet_id), index
        raise ApiError(400, f"No developer metadata with id {wanted}.")

    def _addChart(self, body: dict[str, Any]) -> Any:
        chart = copy.deepcopy(body["chart"])
        taken = {s.sheet_id for s in self.sheets} | {c for s in self.sheets for c in s.charts}
        chart_id = chart.setdefault("chartId", max(taken, default=0) + 1)
        if chart_id in taken:
            raise ApiError(400, f"An embedded object with id {chart_id} already exists.")
        sheet = self._anchor_sheet(chart.get("position") or {})
        self._check_spec(chart.get("spec") or {})
        sheet.charts[chart_id] = chart
        return {"addChart": {"chart": chart}}

    def _updateChartSpec(self, body: dict[str, Any]) -> Any:
        sheet = self._chart_sheet(body["chartId"])
        self._check_spec(body["spec"])
        sheet.charts[body["chartId"]]["spec"] = copy.deepcopy(body["spec"])
        return {}

    def _updateEmbeddedObjectPosition(self, body: dict[str, Any]) -> Any:
        sheet = self._chart_sheet(body["objectId"])
        new = body["newPosition"].get("overlayPosition")
        if new is None or not body.get("fields"):
            raise ApiError(400, "the fake moves charts within their sheet only, with fields")
        chart = sheet.charts[body["objectId"]]
        overlay = chart["position"]["overlayPosition"]
        for key in _parse_mask(body["fields"]):
            if key in new:
                overlay[key] = copy.deepcopy(new[key])
            else:
                overlay.pop(key, None)
        self._anchor_sheet(chart["position"])
        return {}

    def _deleteEmbeddedObject(self, body: dict[str, Any]) -> Any:
        del self._chart_sheet(body["objectId"]).charts[body["objectId"]]
        return {}

    def _chart_sheet(self, chart_id: int) -> FakeSheet:
        for s in list(self.sheets):
            if chart_id in s.charts:
                return self.touch(s.sheet_id)
        raise ApiError(400, f"No embedded object with id: {chart_id}")

    def _anchor_sheet(self, position: dict[str, Any]) -> FakeSheet:
        anchor = (position.get("overlayPosition") or {}).get("anchorCell")
        if anchor is None:
            raise ApiError(400, "the fake places charts as overlays on a grid only")
        sheet = self.touch(int(anchor.get("sheetId", 0)))
        if anchor.get("rowIndex", 0) >= sheet.rows or anchor.get("columnIndex", 0) >= sheet.columns:
            raise ApiError(400, f"The anchor cell is outside the grid of {sheet.title}")
        return sheet

    def _check_spec(self, spec: dict[str, Any]) -> None:
        """A basic chart's domain and series: source ranges inside their grids, one column
        wide, the domain and every series in the same number of ranges."""
        basic = spec.get("basicChart")
        if basic is None:
            raise ApiError(400, "the fake draws basic charts only")
        data = [d["domain"] for d in basic.get("domains") or []]
        data += [s["series"] for s in basic.get("series") or []]
        counts = set()
        for chart_data in data:
            sources = chart_data["sourceRange"]["sources"]
            counts.add(len(sources))
            for rng in sources:
                self.bounds(rng)
                if rng["endColumnIndex"] - rng["startColumnIndex"] != 1:
                    raise ApiError(400, "Exactly one dimension of a source range must be 1")
        if len(counts) > 1:
            raise ApiError(400, "The domain and all series must have the same number of ranges")

    def _updateDimensionProperties(self, body: dict[str, Any]) -> Any:
        rng = body["range"]
        sheet = self.touch(rng.get("sheetId", 0))
        if rng["dimension"] == "COLUMNS":
            for c in range(rng.get("startIndex", 0), rng.get("endIndex", sheet.columns)):
                if c >= sheet.columns:
                    raise ApiError(400, f"Column {c} is outside the grid")
                sheet.widths[c] = body["properties"]["pixelSize"]
        return {}


# --- helpers ----------------------------------------------------------------------------------


def _entered(value: Any, option: str = "RAW", *, user: bool = False) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int | float):
        return {"numberValue": value}
    text = str(value)
    if option == "USER_ENTERED" or user:
        if text.startswith("'"):  # typed as text: Sheets keeps it a string, without the quote
            return {"stringValue": text[1:]}
        if text.startswith("="):
            return {"formulaValue": text}
        if re.fullmatch(r"-?\d+(\.\d+)?", text):
            return {"numberValue": float(text)}
    return {"stringValue": text}


def _spreadsheet_json(book: FakeSpreadsheet) -> dict[str, Any]:
    sheets = []
    for i, s in enumerate(book.sheets):
        entry: dict[str, Any] = {"properties": s.properties(i)}
        if s.rules:
            entry["conditionalFormats"] = s.rules
        if s.basic_filter:
            entry["basicFilter"] = s.basic_filter
        if s.metadata:
            entry["developerMetadata"] = s.metadata
        if s.charts:
            entry["charts"] = list(s.charts.values())
        sheets.append(entry)
    return {
        "spreadsheetId": book.spreadsheet_id,
        "properties": {"title": book.title, "locale": "en_US", "timeZone": "Etc/GMT"},
        "sheets": sheets,
        "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{book.spreadsheet_id}/edit",
    }


Mask = dict[str, "Mask"]


def _parse_mask(text: str) -> Mask:
    """A field mask ("a,b(c,d.e)") as a tree; an empty subtree means the whole field."""
    tree: Mask = {}
    pos = 0

    def parse(into: Mask) -> None:
        nonlocal pos
        while pos < len(text):
            m = re.match(r"\s*([\w*]+(?:\.[\w*]+)*)\s*", text[pos:])
            if not m:
                raise ApiError(400, f"Invalid field mask: {text!r}")
            pos += m.end()
            node = into
            for part in m.group(1).split("."):
                node = node.setdefault(part, {})
            if pos < len(text) and text[pos] == "(":
                pos += 1
                parse(node)
                if pos >= len(text) or text[pos] != ")":
                    raise ApiError(400, f"Invalid field mask: {text!r}")
                pos += 1
            if pos < len(text) and text[pos] == ",":
                pos += 1
                continue
            return

    parse(tree)
    return tree


def _masked(data: Any, mask: Mask) -> Any:
    if not mask or "*" in mask:
        return data
    if isinstance(data, list):
        return [_masked(x, mask) for x in data]
    if isinstance(data, dict):
        return {k: _masked(v, mask[k]) for k, v in data.items() if k in mask}
    return data


def _apply_mask(old: CellData, given: CellData, mask: Mask) -> CellData:
    """The cell after writing the fields of `mask` from `given` (absent in `given` = cleared)."""
    # Cells are never changed in place (always rebuilt), so parts of a request can be shared.
    if "*" in mask:
        return given
    out = dict(old)
    for key, sub in mask.items():
        if not sub:
            if key in given:
                out[key] = given[key]
            else:
                out.pop(key, None)
        else:
            inner = _apply_mask(out.get(key) or {}, given.get(key) or {}, sub)
            if inner:
                out[key] = inner
            else:
                out.pop(key, None)
    return out


def _parse_a1(book: FakeSpreadsheet, a1: str) -> tuple[str, int, int, int | None, int | None]:
    m = re.fullmatch(r"(?:'((?:[^']|'')+)'|([^'!]+))(?:!(.*))?", a1)
    if m is None:
        raise ApiError(400, f"Unable to parse range: {a1}")
    title = (m.group(1) or "").replace("''", "'") or m.group(2)
    cells = m.group(3)
    try:
        book.sheet(title)
    except KeyError:
        raise ApiError(400, f"Unable to parse range: {a1}") from None
    if not cells:
        return title, 0, 0, None, None
    refs = re.fullmatch(r"([A-Z]*)(\d*)(?::([A-Z]*)(\d*))?", cells)
    if refs is None:
        raise ApiError(400, f"Unable to parse range: {a1}")
    c0 = _col(refs.group(1)) if refs.group(1) else 0
    r0 = int(refs.group(2)) - 1 if refs.group(2) else 0
    c1 = _col(refs.group(3)) + 1 if refs.group(3) else None
    r1 = int(refs.group(4)) if refs.group(4) else None
    return title, r0, c0, r1, c1


def _col(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def _read_range(book: FakeSpreadsheet, a1: str, render: str) -> dict[str, Any]:
    title, r0, c0, r1, c1 = _parse_a1(book, a1)
    sheet = book.sheet(title)
    r1, c1 = min(r1 or sheet.rows, sheet.rows), min(c1 or sheet.columns, sheet.columns)
    out: dict[str, Any] = {
        "range": f"'{title}'!R{r0 + 1}C{c0 + 1}:R{r1}C{c1}",
        "majorDimension": "ROWS",
    }
    values = _trimmed(sheet, r0, c0, r1, c1, render)
    if values:
        out["values"] = values
    return out


def _trimmed(sheet: FakeSheet, r0: int, c0: int, r1: int, c1: int, render: str) -> list[list[Any]]:
    """Rows as the API returns them: trailing empty cells and rows left out, gaps as ""."""
    grid: dict[int, dict[int, Any]] = {}
    for r, c in sheet.cells:
        if r0 <= r < r1 and c0 <= c < c1:
            value = sheet.value(r, c, render)
            if value is not None:
                grid.setdefault(r, {})[c] = value
    if not grid:
        return []
    rows = []
    for r in range(r0, max(grid) + 1):
        cols = grid.get(r, {})
        rows.append([cols.get(c, "") for c in range(c0, max(cols) + 1)] if cols else [])
    return rows
