"""HTML sink (`type: html`): one static page a leader reads at a glance.

Self-contained: inline CSS, no script, no fonts, images or anything fetched from the network, so
it opens the same from a mail attachment, a file share or a static web server. Every piece of text
is escaped. It is drawn from the same tables as every other sink, so it never disagrees with them.

The page carries goalsync's mark, `<meta name="generator" content="goalsync">` at the top of its
head, and the sink replaces only a page with that mark, or one of an earlier release (no mark):
goalsync's first lines and its "Made by goalsync." footer at the end.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import IO, Literal

from pydantic import BaseModel, ConfigDict, Field

from connectors.files.charts import PageCharts
from connectors.files.describe import LocalSink
from connectors.files.localfs import StagedFiles, ensure_own_file
from sync.base.contracts import PublishContext, resolve_path
from sync.base.errors import PublishError
from sync.base.report import Cell, Link, Table, is_web_url, row_dicts, valid_unicode

GENERATOR_MARK = '<meta name="generator" content="goalsync">'  # makes a page goalsync's
_HEAD = '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
_LEGACY_FOOTER = b"<footer>Made by goalsync. "  # an earlier release's page: no mark, this footer
_LEGACY_END = b"</footer>\n</body></html>"
_PEEK_BYTES = 8192
_WIP_FLAG = '<span class="flag">over the limit</span>'
MAX_LISTED = 60  # rows of the long tables (risks, unaligned) shown before "and N more"
STATUS_CLASS = {
    "On track": "ok",
    "At risk": "risk",
    "Off track": "off",
    "Done": "done",
    "Not started": "ns",
    "No data": "nd",
}
# Risk kinds, most severe first: what stops delivery, what says it will be late, what hides the
# truth, then housekeeping. A kind not named here follows them, the most frequent first.
RISK_RANK = {
    kind: rank
    for rank, kind in enumerate(
        (
            "blocked",
            "overdue",
            "forecast slip",
            "no data",
            "owner and data disagree",
            "scope growth",
            "stale",
            "no check-in",
            "unassigned",
            "no owner",
            "unestimated",
        )
    )
}


class HtmlSinkConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    type: Literal["html"]
    path: str = Field(min_length=1)
    title: str = "Execution status"

    def build(self, base_dir: Path) -> HtmlSink:
        sink = HtmlSink(resolve_path(base_dir, self.path), self.title)
        ensure_own_file(sink.path, "html", is_goalsync_page)
        return sink


class HtmlSink(LocalSink):
    type = "html"

    def __init__(self, path: Path, title: str = "Execution status") -> None:
        self.path = path
        self.title = title

    def place(self) -> tuple[Path, Literal["file", "folder"]]:
        return self.path, "file"

    def prepare(self, tables: Sequence[Table], ctx: PublishContext) -> StagedFiles:
        # Checked again: something may have appeared at the path while the sources were pulled.
        ensure_own_file(self.path, "html", is_goalsync_page, PublishError)
        staged = StagedFiles(f"html {self.path}")
        page = render_page(tables, title=self.title, generated=ctx.now.astimezone(ctx.tz))
        try:
            staged.add(self.path, lambda fh: _write(fh, page))
        except BaseException:
            staged.discard()
            raise
        return staged


def is_goalsync_page(fh: IO[bytes]) -> bool:
    """Whether the page in `fh` is one goalsync wrote: the mark near the top, or an earlier
    release's page (no mark yet) that starts and ends as goalsync's did."""
    head = fh.read(_PEEK_BYTES)
    if GENERATOR_MARK.encode() in head:
        return True
    if not head.startswith(_HEAD.encode()):
        return False
    fh.seek(0, 2)
    fh.seek(max(0, fh.tell() - _PEEK_BYTES))
    tail = fh.read(_PEEK_BYTES)
    return tail.endswith(_LEGACY_END) and _LEGACY_FOOTER in tail


def _write(fh: IO[bytes], page: str) -> None:
    fh.write(valid_unicode(page).encode("utf-8"))  # UTF-8 cannot write a lone surrogate


def render_page(tables: Sequence[Table], *, title: str, generated: datetime) -> str:
    by_name = {t.name: row_dicts(t) for t in tables}
    status = by_name.get("Status", [])
    run = {str(r["Key"]): r for r in by_name.get("Run", [])}
    as_of = _text(run.get("As of", {}).get("Value")) or generated.strftime("%Y-%m-%d %H:%M")
    parts = [
        _HEAD,
        GENERATOR_MARK,
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>",
        f"<header><h1>{_e(title)}</h1><p class=meta>As of {_e(as_of)}</p></header>",
        _summary(status, run),
        "<section><h2>Goals and key results</h2>",
        _goals(status, PageCharts.from_tables(tables, generated.date())),
        "</section>",
        _risks(by_name.get("Risks", [])),
        _workload(by_name.get("Workload", [])),
        _unaligned(by_name.get("Unaligned", [])),
        _run(by_name.get("Run", [])),
        "<footer>Made by goalsync. Every number here is computed from the teams' own tools; "
        "the Status, Risks and Items tabs of the status sheet hold the same values.</footer>",
        "</body></html>",
    ]
    return "\n".join(parts)


def _summary(status: Sequence[Mapping[str, Cell]], run: Mapping[str, Mapping[str, Cell]]) -> str:
    krs = [r for r in status if r["Level"] == "kr"]
    goals = [r for r in status if r["Level"] == "goal"]
    counts = Counter(str(r["Status"]) for r in krs)
    chips = "".join(
        f'<span class="chip {STATUS_CLASS[w]}">{counts.get(w, 0)} {_e(w.lower())}</span>'
        for w in STATUS_CLASS
        if counts.get(w, 0)
    )
    align = _text(run.get("Alignment by count", {}).get("Value")) or "n/a"
    align_pts = _text(run.get("Alignment by points", {}).get("Value")) or "n/a"
    failing = {
        k.removeprefix("Source "): str(r["Value"])
        for k, r in run.items()
        if k.startswith("Source ") and str(r["Value"]) != "ok"
    }
    never = [name for name, state in failing.items() if state.startswith("never read")]
    stale = [name for name in failing if name not in never]
    stale_note = (
        f'<p class="warn">Stale data: {_e(", ".join(stale))} could not be read; their key '
        "results show their last good values.</p>"
        if stale
        else ""
    ) + (
        f'<p class="warn">No data: {_e(", ".join(never))} could not be read yet; their key '
        "results show No data until a first pull succeeds.</p>"
        if never
        else ""
    )
    return (
        '<section class="summary">'
        f"<p><b>{len(goals)}</b> goals, <b>{len(krs)}</b> key results: {chips}</p>"
        f"<p>Alignment: <b>{_e(align)}</b> of the cycle's work items serve a key result "
        f"({_e(align_pts)} by points).</p>{stale_note}</section>"
    )


def _goals(status: Sequence[Mapping[str, Cell]], charts: PageCharts) -> str:
    out: list[str] = []
    open_goal = False
    for r in status:
        if r["Level"] == "goal":
            if open_goal:
                out.append("</tbody></table></div>")
            open_goal = True
            out.append(
                f'<div class="goal"><div class="ghead">{_pill(r["Status"])}'
                f'<h3><span class="id">{_e(r["ID"])}</span> {_e(r["Title"])}</h3>'
                f'<span class="who">{_e(r["Owner"] or "no owner")} · due {_e(r["Due"])}</span>'
                f"</div>{_bar(r['Progress %'], r['Expected %'], big=True)}{charts.goal(r['ID'])}"
                f"{_note(r['Note'])}{_checkin(r)}"
                '<table class="krs stack"><thead><tr><th>ID</th><th>Key result</th>'
                "<th>Owner</th><th>Due</th><th>Value / target</th><th>Progress vs expected</th>"
                "<th>Status</th><th>Forecast P85</th><th>Risks</th></tr></thead><tbody>"
            )
        else:
            value = _num(r["Value"])
            target = _num(r["Target"])
            done_total = (
                f' <span class="dt">({_e(r["Done / Total"])} done)</span>'
                if r["Done / Total"]
                else ""
            )
            # data-label names each cell where a narrow screen stacks the row into a card
            out.append(
                f'<tr><td class="id">{_e(r["ID"])}</td>'
                f'<td class="kr">{_e(r["Title"])}{_note(r["Note"])}{_checkin(r)}</td>'
                f'<td data-label="Owner">{_e(r["Owner"])}</td>'
                f'<td class="nowrap" data-label="Due">{_e(r["Due"])}</td>'
                f'<td class="num" data-label="Value / target">{_e(value)} / {_e(target)}'
                f"{done_total}</td>"
                f'<td data-label="Progress">{_bar(r["Progress %"], r["Expected %"])}'
                f"{charts.spark(r['ID'])}</td>"
                f'<td data-label="Status">{_pill(r["Status"])}</td>'
                f'<td class="nowrap" data-label="Forecast P85">{_e(r["Forecast P85"])}</td>'
                f'<td class="num" data-label="Risks">{_e(r["Risks"] or "")}</td></tr>'
            )
    if open_goal:
        out.append("</tbody></table></div>")
    return "\n".join(out) if out else "<p>No goals are configured.</p>"


def _risks(rows: Sequence[Mapping[str, Cell]]) -> str:
    if not rows:
        return "<section><h2>Risks</h2><p>No risks found.</p></section>"
    kinds = Counter(str(r["Risk"]) for r in rows)
    order = sorted(kinds, key=lambda k: (RISK_RANK.get(k, len(RISK_RANK)), -kinds[k], k))
    groups: list[str] = []
    left = MAX_LISTED  # the cut counts rows over all kinds, as the other long lists do
    for kind in order:
        listed = [r for r in rows if str(r["Risk"]) == kind][:left]
        left -= len(listed)
        body = "".join(
            f"<tr><td class=id data-label='Key result'>{_e(r['Key result'] or r['Goal'])}</td>"
            f"<td data-label=Item>{_link(r['Item'])}</td>"
            f"<td data-label=Reason>{_e(r['Reason'])}</td>"
            f"<td data-label=Owner>{_e(r['Owner'])}</td>"
            f"<td class=nowrap data-label=Since>{_e(r['Since'])}</td></tr>"
            for r in listed
        )
        groups.append(
            f'<tbody class="kind"><tr><th colspan=5>{_e(kind)} '
            f'<span class="count">{kinds[kind]}</span></th></tr>{body}</tbody>'
        )
    by_kind = ", ".join(f"{kinds[k]} {_e(k)}" for k in order)
    return (
        f"<section><h2>Risks ({len(rows)})</h2><p class=meta>{by_kind}; the most severe kind "
        'first.</p><table class="risks stack"><thead><tr><th>Key result</th><th>Item</th>'
        f"<th>Reason</th><th>Owner</th><th>Since</th></tr></thead>{''.join(groups)}</table>"
        f"{_more(len(rows), 'Risks')}</section>"
    )


def _workload(rows: Sequence[Mapping[str, Cell]]) -> str:
    if not rows:
        return ""
    body = "".join(
        f"<tr{' class=over' if r['Over WIP limit'] else ''}>"
        f"<td data-label=Assignee>{_e(r['Assignee'])}</td>"
        f"<td class=id data-label=Goal>{_e(r['Goal'])}</td>"
        f"<td class=num data-label='Open items'>{_e(r['Open items'])}</td>"
        f"<td class=num data-label='Open points'>{_e(_num(r['Open points']))}</td>"
        f"<td data-label='Over WIP limit'>{_WIP_FLAG if r['Over WIP limit'] else ''}</td></tr>"
        for r in rows
    )
    return (
        "<section><h2>Workload</h2><p class=meta>Open items per person and goal; a person is "
        "over the WIP limit (<code>status: wip_limit</code>) when they hold more open items "
        "than it allows, over all goals.</p><table class='workload stack'><thead><tr>"
        "<th>Assignee</th>"
        "<th>Goal</th><th>Open items</th><th>Open points</th><th>Over WIP limit</th></tr>"
        f"</thead><tbody>{body}</tbody></table></section>"
    )


def _unaligned(rows: Sequence[Mapping[str, Cell]]) -> str:
    if not rows:
        return "<section><h2>Unaligned work</h2><p>Every item serves a key result.</p></section>"
    body = "".join(
        f"<tr><td data-label=Item>{_link(r['Key'])}</td><td data-label=Title>{_e(r['Title'])}</td>"
        f"<td data-label=State>{_e(_words(r['State']))}</td>"
        f"<td data-label=Assignee>{_e(r['Assignee'])}</td></tr>"
        for r in rows[:MAX_LISTED]
    )
    return (
        f"<section><h2>Unaligned work ({len(rows)})</h2><p class=meta>Open or recently done items "
        "that no key result selects.</p><table class='unaligned stack'><thead><tr><th>Item</th>"
        "<th>Title</th>"
        f"<th>State</th><th>Assignee</th></tr></thead><tbody>{body}</tbody></table>"
        f"{_more(len(rows), 'Unaligned')}</section>"
    )


def _run(rows: Sequence[Mapping[str, Cell]]) -> str:
    body = "".join(
        f"<tr><th>{_e(r['Key'])}</th><td>{_e(r['Value'])}</td><td>{_e(r['Detail'])}</td></tr>"
        for r in rows
    )
    return (
        '<section><h2>This run</h2><table class="run stack"><tbody>'
        f"{body}</tbody></table></section>"
    )


def _bar(progress: Cell, expected: Cell, *, big: bool = False) -> str:
    p = float(progress) if isinstance(progress, int | float) else None
    x = float(expected) if isinstance(expected, int | float) else None
    label = f"{p:.0f} %" if p is not None else "no data"
    marker = (
        f'<i class="exp" style="left:{x:.1f}%" title="expected {x:.0f} %"></i>'
        if x is not None
        else ""
    )
    fill = f'<b style="width:{p:.1f}%"></b>' if p is not None else ""
    expected_text = f" / {x:.0f} % expected" if x is not None else ""
    return (
        f'<div class="bar{" big" if big else ""}" role="img" '
        f'aria-label="progress {label}{expected_text}">{fill}{marker}</div>'
        f'<span class="pct">{label}<span class="meta">{expected_text}</span></span>'
    )


def _pill(word: Cell) -> str:
    cls = STATUS_CLASS.get(str(word), "ns")
    return f'<span class="pill {cls}">{_e(word)}</span>'


def _checkin(r: Mapping[str, Cell]) -> str:
    """The owner's latest check-in under its key result (or goal): their word beside the data,
    never instead of it. `.get`: a page drawn from tables without the columns shows none."""
    said = r.get("Confidence")
    if not said:
        return ""
    comment = r.get("Comment")
    return (
        f'<div class="note checkin">Owner says <b>{_e(said)}</b>'
        f"{': ' + _e(comment) if comment else ''}</div>"
    )


def _note(note: Cell) -> str:
    return f'<div class="note">{_e(note)}</div>' if note else ""


def _link(value: Cell) -> str:
    if isinstance(value, Link):
        href = html.escape(value.url, quote=True)
        if not is_web_url(value.url):
            return _e(value.text)  # never a javascript: or data: link from a payload
        return f'<a href="{href}">{_e(value.text)}</a>'
    return _e(value)


def _more(total: int, tab: str) -> str:
    if total <= MAX_LISTED:
        return ""
    return f"<p class=meta>and {total - MAX_LISTED} more in the {tab} tab.</p>"


def _words(value: Cell) -> str:
    """A state as a reader says it: `in progress`, not `in_progress`."""
    return _text(value).replace("_", " ")


def _num(value: Cell) -> str:
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.4g}"
    return _text(value)


def _text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, Link):
        return value.text
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _e(value: Cell) -> str:
    return html.escape(_text(value), quote=True)


# Screen first, then the three readers the page must also serve: a phone (under 640 px the tables
# stack into cards: no sideways scrolling at 390 px), paper (A4 or Letter: a goal card is never
# split, colours kept, nothing wider than the page) and a dark room (the reader's colour scheme).
_CSS = """
:root{color-scheme:light dark;--ok:#1e7b34;--okb:#d9f2df;--risk:#8a5a00;--riskb:#fff0c2;
--off:#a1121f;--offb:#fbd5d8;--done:#1f4e78;--doneb:#dcebf7;--ns:#555;--nsb:#ececec;--nd:#5b4a7a;
--ndb:#ece7f4;--line:#e3e3e3;--muted:#6b6b6b;--fg:#1d1d1f;--bg:#fafafa;--card:#fff;
--track:#e9e9e9;--fill:#3b7dd8;--mark:#222;--link:#0b57d0;--overb:#fff4f4;--kindb:#f4f4f5}
*{box-sizing:border-box}body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
color:var(--fg);margin:0 auto;max-width:1200px;padding:24px;background:var(--bg)}
h1{font-size:24px;margin:0}h2{font-size:18px;margin:28px 0 8px}
h3{font-size:16px;margin:0;flex:1 1 16em;min-width:0}
.meta{color:var(--muted);margin:2px 0}header{margin-bottom:12px}
.summary{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:8px 16px}
.chip{display:inline-block;border-radius:12px;padding:1px 10px;margin:2px 4px;font-weight:600}
.pill{display:inline-block;border-radius:10px;padding:1px 9px;font-weight:600;white-space:nowrap;
font-size:12px}.ok{background:var(--okb);color:var(--ok)}.risk{background:var(--riskb);
color:var(--risk)}.off{background:var(--offb);color:var(--off)}.done{background:var(--doneb);
color:var(--done)}.ns{background:var(--nsb);color:var(--ns)}
.nd{background:var(--ndb);color:var(--nd);font-style:italic}
.goal{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:12px 16px;
margin:12px 0}.ghead{display:flex;flex-wrap:wrap;gap:4px 12px;align-items:center}
.who{color:var(--muted)}
.id{color:var(--muted);font-variant-numeric:tabular-nums;white-space:nowrap}
table{border-collapse:collapse;width:100%;background:var(--card)}th,td{text-align:left;
padding:5px 8px;border-bottom:1px solid var(--line);vertical-align:top;overflow-wrap:break-word}
th{font-size:12px;color:var(--muted);font-weight:600}.krs{margin-top:8px}
td.kr,td[data-label=Reason],td[data-label=Title],.run td{overflow-wrap:anywhere}
td.kr{min-width:12em}
.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.nowrap{white-space:nowrap}.dt{color:var(--muted);font-size:12px}
.bar{position:relative;display:inline-block;vertical-align:middle;width:120px;height:8px;
background:var(--track);border-radius:4px;overflow:visible}.bar.big{width:100%;height:10px;
margin:10px 0 2px;display:block}.bar b{position:absolute;left:0;top:0;bottom:0;border-radius:4px;
background:var(--fill)}.bar i.exp{position:absolute;top:-3px;bottom:-3px;width:2px;
background:var(--mark)}
.pct{margin-left:6px;font-variant-numeric:tabular-nums;white-space:nowrap;font-size:12px}
.note{color:var(--muted);font-size:12px}.warn{color:var(--off);font-weight:600}
tr.over td{background:var(--overb)}.flag{color:var(--off);font-weight:600}
.risks tbody.kind th{background:var(--kindb);color:var(--fg);font-size:13px}
.risks tbody.kind th::first-letter{text-transform:uppercase}
.risks thead th,.risks td[data-label=Owner]{white-space:nowrap}.count{display:inline-block;
min-width:1.6em;margin-left:6px;padding:0 6px;border-radius:9px;background:var(--line);
text-align:center;font-size:12px}
.run th{width:200px}a{color:var(--link)}code{font-size:12px}
footer{margin-top:32px;color:var(--muted);font-size:12px}
@media (prefers-color-scheme:dark){:root{--ok:#7dd99a;--okb:#163d22;--risk:#f0c463;
--riskb:#3d3110;--off:#ff9aa2;--offb:#4a1a1f;--done:#9cc8f0;--doneb:#173049;--ns:#c4c4c4;
--nsb:#333;--nd:#c9b8ea;--ndb:#302845;--line:#38383c;--muted:#a1a1a6;--fg:#e8e8ea;
--bg:#121214;--card:#1c1c1f;--track:#3a3a3e;--fill:#5b9cf0;--mark:#f2f2f2;--link:#8ab4f8;
--overb:#3a1e22;--kindb:#26262a}}
@media screen and (max-width:640px){body{padding:12px 10px}h1{font-size:20px}
.goal{padding:10px 12px}.summary{padding:6px 12px}
table.stack,table.stack tbody,table.stack tr,table.stack td,table.stack th{display:block;
width:auto}table.stack thead{display:none}table.stack{background:none}
table.stack tr{background:var(--card);border:1px solid var(--line);border-radius:6px;
padding:6px 10px;margin:8px 0}table.stack td,table.stack th{border:0;padding:2px 0;
text-align:left;white-space:normal;overflow-wrap:anywhere}
table.stack td[data-label]{display:flex;gap:8px}
table.stack td[data-label]::before{content:attr(data-label);flex:0 0 7.5em;color:var(--muted);
font-size:12px;padding-top:1px}table.stack td:empty{display:none}
table.krs.stack tr{display:grid;grid-template-columns:1fr 1fr;gap:4px 12px;
grid-template-areas:"id status" "kr kr" "owner due" "value forecast" "progress progress"
"risks risks"}table.krs.stack td.id{grid-area:id}table.krs.stack td.kr{grid-area:kr;
font-weight:600}.krs td.kr .note{font-weight:400}
table.krs.stack td[data-label]{display:block}table.krs.stack td[data-label]::before{
display:block;font-size:11px}table.krs.stack td[data-label=Owner]{grid-area:owner}
table.krs.stack td[data-label=Due]{grid-area:due}
table.krs.stack td[data-label="Value / target"]{grid-area:value}
table.krs.stack td[data-label="Forecast P85"]{grid-area:forecast}
table.krs.stack td[data-label=Progress]{grid-area:progress}
table.krs.stack td[data-label=Risks]{grid-area:risks;display:flex;gap:6px}
table.krs.stack td[data-label=Status]{grid-area:status;justify-self:end}
table.krs.stack td[data-label=Status]::before{content:none}
table.risks.stack td[data-label]{display:inline}table.risks.stack td[data-label]::before{
content:none}table.risks.stack td[data-label=Item]::before{content:" · ";color:var(--muted)}
table.risks.stack td[data-label=Reason]{display:block}table.risks.stack td[data-label=Owner],
table.risks.stack td[data-label=Since]{color:var(--muted);font-size:12px}
table.risks.stack td[data-label=Since]::before{content:" · since ";color:var(--muted)}
table.workload.stack td[data-label]{display:inline}table.workload.stack td[data-label]::before{
content:none}table.workload.stack td[data-label=Assignee]{font-weight:600}
table.workload.stack td[data-label=Goal]::before{content:" · ";color:var(--muted)}
table.workload.stack td[data-label="Open items"]::before{content:"\\A";white-space:pre}
table.workload.stack td[data-label="Open items"]::after{content:" open items"}
table.stack tr.over{background:var(--overb)}table.stack tr.over td{background:none}
table.workload.stack td[data-label="Open points"]::before{content:" · "}
table.workload.stack td[data-label="Open points"]::after{content:" points"}
table.workload.stack td[data-label="Over WIP limit"]{display:block}
table.unaligned.stack td[data-label]{display:inline}table.unaligned.stack td[data-label]::before{
content:none}table.unaligned.stack td[data-label=Title]::before{content:" · ";color:var(--muted)}
table.unaligned.stack td[data-label=State]::before{content:"\\A";white-space:pre}
table.unaligned.stack td[data-label=State],table.unaligned.stack td[data-label=Assignee]{
color:var(--muted);font-size:12px}table.unaligned.stack td[data-label=Assignee]::before{
content:" · "}
table.stack td[data-label]:empty{display:none}
.risks tbody.kind>tr:first-child{background:none;border:0;padding:8px 0 0;margin:12px 0 0}
.run th{width:auto;color:var(--fg)}}
@media print{:root{--ok:#1e7b34;--okb:#d9f2df;--risk:#8a5a00;--riskb:#fff0c2;--off:#a1121f;
--offb:#fbd5d8;--done:#1f4e78;--doneb:#dcebf7;--ns:#555;--nsb:#ececec;--nd:#5b4a7a;
--ndb:#ece7f4;--line:#d0d0d0;--muted:#555;--fg:#000;--bg:#fff;--card:#fff;--track:#e3e3e3;
--fill:#3b7dd8;--mark:#000;--link:#000;--overb:#fff4f4;--kindb:#f0f0f0}
@page{margin:12mm}*{-webkit-print-color-adjust:exact;print-color-adjust:exact}
body{font-size:10.5px;max-width:none;padding:0;background:#fff}h1{font-size:18px}
h2{font-size:14px;margin:16px 0 6px;break-after:avoid}.goal{break-inside:avoid;margin:8px 0;
padding:8px 10px}.summary{break-inside:avoid}tr{break-inside:avoid}
thead{display:table-header-group}th,td{padding:3px 5px}
.krs{table-layout:fixed}.krs th{width:9%}.krs th:first-child{width:5%}
.krs th:nth-child(2){width:30%}.krs th:nth-child(5){width:10%}.krs th:nth-child(6){width:13%}
.krs th:last-child{width:6%}.risks tbody.kind>tr:first-child{break-after:avoid}
.krs .num{white-space:normal}.risks th:nth-child(3){width:45%}.krs .bar{width:56px}
.krs .pct{display:block;margin:2px 0 0;white-space:normal}a{text-decoration:none}
footer{margin-top:12px}}
"""
