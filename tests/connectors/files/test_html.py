from __future__ import annotations

import html
import re
from dataclasses import replace
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.files.html import GENERATOR_MARK, MAX_LISTED, HtmlSink, HtmlSinkConfig, render_page
from sync.base.errors import ConfigError, PublishError
from sync.base.report import RiskRow, RunInfo, StatusReport, StatusRow
from sync.tables import to_tables
from tests.connectors.helpers import (
    BERLIN,
    FORMULA_TITLE,
    JS_URL,
    NOW,
    SCRIPT_TITLE,
    publish_context,
    sample_report,
    sample_run,
    sample_tables,
    trend_tables,
)


class Tags(HTMLParser):
    """Every start tag with its attributes, and the text, as a browser would see them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(page: str) -> Tags:
    parser = Tags()
    parser.feed(page)
    parser.close()
    return parser


def page(*, stale: bool = False, title: str = "Execution status") -> str:
    return render_page(sample_tables(stale=stale), title=title, generated=NOW.astimezone(BERLIN))


def test_the_sink_writes_one_page_on_apply(tmp_path: Path) -> None:
    config = HtmlSinkConfig.model_validate(
        {"type": "html", "path": "site/index.html", "title": "<b>Q4</b> board"}
    )
    sink = config.build(tmp_path)
    staged = sink.prepare(sample_tables(), publish_context())
    assert not (tmp_path / "site" / "index.html").exists()
    staged.apply()
    written = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert written.startswith("<!doctype html>")
    assert "<title>&lt;b&gt;Q4&lt;/b&gt; board</title>" in written
    assert "<b>Q4</b>" not in written
    assert [p.name for p in (tmp_path / "site").iterdir()] == ["index.html"]


def test_untrusted_text_is_escaped() -> None:
    text = page()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "<script" not in text.lower()
    assert "Side quest &lt;b&gt;bold&lt;/b&gt;" in text
    assert html.escape(FORMULA_TITLE, quote=True) in text
    seen = "".join(parse(text).text)
    assert SCRIPT_TITLE in seen  # the reader sees the title as it was written
    assert "Side quest <b>bold</b>" in seen


def test_nothing_is_fetched_from_the_network() -> None:
    text = page()
    lowered = text.lower()
    for needle in ("src=", "srcset=", "@import", "url(", "<link", "<script", "<iframe", "<img"):
        assert needle not in lowered, needle
    tags = parse(text).tags
    assert {t for t, _ in tags}.isdisjoint(
        {"script", "link", "img", "iframe", "object", "embed", "video", "audio", "source", "base"}
    )
    for tag, attrs in tags:
        assert "src" not in attrs, tag
        if tag == "meta":
            assert "http-equiv" not in attrs
    # the only URLs on the page are links a reader may click
    assert {t for t, a in tags if any(v and "://" in v for v in a.values())} == {"a"}


def test_a_javascript_url_is_not_a_link() -> None:
    text = page()
    tags = parse(text).tags
    hrefs = [a["href"] for t, a in tags if t == "a"]
    assert hrefs == [
        "https://acme.atlassian.net/browse/PAY-102",
        "https://plan.example/ops/9",
    ]
    assert "javascript:" not in text.lower()
    assert "EVIL-1" in text  # the item is still listed, as text


def test_other_schemes_are_not_links_either() -> None:
    report = sample_report()
    risks = tuple(
        RiskRow(
            key_result="G1.1",
            goal="G1",
            item=f"X-{n}",
            risk="stale",
            owner=None,
            since=None,
            reason="r",
            item_url=url,
        )
        for n, url in enumerate(
            ["data:text/html,<script>alert(1)</script>", " javascript:x", "JAVASCRIPT:x", "//evil"]
        )
    )
    tables = to_tables(StatusReport(now=NOW, rows=report.rows, risks=risks), sample_run(), BERLIN)
    text = render_page(tables, title="t", generated=NOW)
    assert [a for t, a in parse(text).tags if t == "a"] == []
    assert "<script" not in text.lower()


def test_progress_bars_show_progress_and_expected() -> None:
    text = page()
    tags = parse(text).tags
    bars = [a for t, a in tags if t == "div" and (a.get("class") or "").startswith("bar")]
    assert [b["class"] for b in bars] == ["bar big", "bar", "bar", "bar big", "bar"]
    fills = [a["style"] for t, a in tags if t == "b" and a.get("style")]
    assert fills == ["width:62.5%", "width:62.5%", "width:0.0%", "width:100.0%"]
    markers = [a["style"] for t, a in tags if t == "i" and a.get("class") == "exp"]
    assert markers == ["left:50.0%", "left:40.0%", "left:40.0%", "left:0.0%", "left:0.0%"]
    assert 'aria-label="progress no data / 0 % expected"' in text  # G2 has no progress yet
    assert 'aria-label="progress 62 % / 40 % expected"' in text


def test_status_pills_and_summary() -> None:
    text = page()
    pills = [
        a["class"] for t, a in parse(text).tags if t == "span" and "pill" in (a.get("class") or "")
    ]
    assert pills == ["pill ok", "pill risk", "pill off", "pill ns", "pill done"]
    assert "<b>2</b> goals, <b>3</b> key results" in text
    assert "Alignment: <b>75.0 %</b>" in text
    assert "(100.0 % by points)" in text


def test_stale_sources_are_named() -> None:
    assert "Stale data" not in page()
    stale = page(stale=True)
    assert re.search(r'<p class="warn">Stale data: gh \(file\) could not be read', stale)


def test_long_lists_are_cut_with_a_pointer_to_the_tab() -> None:
    report = sample_report()
    risks = tuple(
        RiskRow(
            key_result="G1.1",
            goal="G1",
            item=f"PAY-{n}",
            risk="overdue",
            owner=None,
            since=date(2026, 10, 1),
            reason="late",
        )
        for n in range(MAX_LISTED + 5)
    )
    tables = to_tables(StatusReport(now=NOW, rows=report.rows, risks=risks), sample_run(), BERLIN)
    text = render_page(tables, title="t", generated=NOW)
    assert f"Risks ({MAX_LISTED + 5})" in text
    assert "and 5 more in the Risks tab." in text
    assert f"PAY-{MAX_LISTED - 1}<" in text
    assert f"PAY-{MAX_LISTED}<" not in text


def test_empty_report() -> None:
    tables = to_tables(
        StatusReport(now=NOW, rows=()),
        RunInfo(run_id="r", started=NOW, as_of=NOW, version="0.1.0"),
        UTC,
    )
    text = render_page(tables, title="t", generated=datetime(2026, 11, 16, 9, 0, tzinfo=UTC))
    assert "No goals are configured." in text
    assert "No risks found." in text
    assert "As of 2026-11-16 09:00 UTC" in text


def _risk(item: str, kind: str) -> RiskRow:
    return RiskRow(
        key_result="G1.1",
        goal="G1",
        item=item,
        risk=kind,
        owner="Ana Ruiz",
        since=date(2026, 10, 1),
        reason=f"{kind} reason",
    )


def test_risks_are_grouped_by_kind_most_severe_first_with_counts() -> None:
    risks = (
        _risk("PAY-1", "stale"),
        _risk("PAY-2", "unestimated"),
        _risk("PAY-3", "stale"),
        _risk("PAY-4", "a kind from a newer release"),
        _risk("PAY-5", "overdue"),
        _risk("PAY-6", "blocked"),
        _risk("PAY-7", "stale"),
    )
    report = replace(sample_report(), risks=risks)
    text = render_page(to_tables(report, sample_run(), BERLIN), title="t", generated=NOW)
    groups = re.findall(
        r'<tbody class="kind"><tr><th colspan=5>([^<]+) <span class="count">(\d+)', text
    )
    assert groups == [
        ("blocked", "1"),
        ("overdue", "1"),
        ("stale", "3"),
        ("unestimated", "1"),
        ("a kind from a newer release", "1"),  # an unknown kind follows the known ones
    ]
    # each group holds its own rows, in the tab's order
    stale = text.split("<th colspan=5>stale ")[1].split("</tbody>")[0]
    assert re.findall(r"PAY-\d", stale) == ["PAY-1", "PAY-3", "PAY-7"]
    assert "1 blocked, 1 overdue, 3 stale, 1 unestimated, 1 a kind from a newer release;" in text


def test_the_kind_order_names_every_risk_goalsync_raises() -> None:
    from connectors.files.html import RISK_RANK

    mappings = Path(__file__).resolve().parents[3] / "mappings"
    source = "".join(p.read_text(encoding="utf-8") for p in mappings.glob("*.py"))
    raised = set(re.findall(r'\brisk(?:=|\(\s*item,\s*)"([a-z -]+)"', source))
    assert {"blocked", "overdue", "no owner", "no data", "forecast slip"} <= raised  # found them
    assert raised <= set(RISK_RANK), raised - set(RISK_RANK)


def test_workload_flag_column_names_the_wip_limit() -> None:
    text = page()
    workload = text.split("<h2>Workload</h2>")[1].split("</section>")[0]
    headers = re.findall(r"<th>([^<]*)</th>", workload)
    assert headers == ["Assignee", "Goal", "Open items", "Open points", "Over WIP limit"]
    assert "wip_limit" in workload
    assert "<td data-label='Over WIP limit'><span class=\"flag\">over the limit</span>" in workload


def test_states_are_words() -> None:
    report = sample_report()
    unaligned = tuple(replace(u, state="in_progress") for u in report.unaligned)
    text = render_page(
        to_tables(replace(report, unaligned=unaligned), sample_run(), BERLIN),
        title="t",
        generated=NOW,
    )
    assert "in_progress" not in text
    assert "<td data-label=State>in progress</td>" in text


def test_key_result_rows_name_their_cells_for_the_phone_cards() -> None:
    text = page()
    tags = parse(text).tags
    krs_tables = [a for t, a in tags if t == "table" and "krs" in (a.get("class") or "")]
    assert krs_tables and all("stack" in (a["class"] or "") for a in krs_tables)
    labels = [a["data-label"] for t, a in tags if t == "td" and "data-label" in a]
    kr_labels = ["Owner", "Due", "Value / target", "Progress", "Status", "Forecast P85", "Risks"]
    assert labels[: len(kr_labels)] == kr_labels
    # every list table stacks on a phone, so none of them scrolls sideways
    tables_ = [a.get("class") or "" for t, a in tags if t == "table"]
    assert all("stack" in c for c in tables_), tables_


def test_the_style_serves_phones_paper_and_dark_rooms() -> None:
    css = page().split("<style>")[1].split("</style>")[0]
    assert "@media screen and (max-width:640px)" in css
    assert "@media (prefers-color-scheme:dark)" in css
    print_css = css.split("@media print{")[1]
    assert ".goal{break-inside:avoid" in print_css
    assert "thead{display:table-header-group}" in print_css
    assert "@page{margin:12mm}" in print_css  # no paper size: the reader's A4 or Letter


_HOSTILE = st.text(alphabet=st.sampled_from(list("<>&\"'=/ scriptSCRIPTa:jv()")), max_size=40)


@settings(max_examples=60, deadline=None)
@given(title=_HOSTILE, owner=_HOSTILE, note=_HOSTILE)
def test_any_text_stays_text(title: str, owner: str, note: str) -> None:
    row = StatusRow(
        id="G1",
        level="goal",
        title=title,
        owner=owner,
        start=date(2026, 10, 1),
        due=date(2026, 12, 31),
        value=None,
        target=None,
        progress=10.0,
        expected=20.0,
        status="On track",
        note=note,
    )
    tables = to_tables(StatusReport(now=NOW, rows=(row,)), sample_run(), BERLIN)
    text = render_page(tables, title=title, generated=NOW)
    assert "<script" not in text.lower()
    parsed = parse(text)
    assert {t for t, _ in parsed.tags} <= {
        "html", "head", "meta", "title", "style", "body", "header", "h1", "p", "section", "h2",
        "div", "span", "h3", "b", "i", "table", "thead", "tr", "th", "tbody", "td", "footer", "a",
        # the inline charts: drawing elements only (no image, no link, no foreign object)
        "svg", "text", "tspan", "line", "polyline", "circle",
    }  # fmt: skip
    seen = "".join(parsed.text)
    for piece in (title, owner, note):
        assert piece.strip() in seen


def test_js_url_constant_is_in_the_sample() -> None:
    # guards the javascript: test above: the sample report really carries such a URL
    assert any(r.item_url == JS_URL for r in sample_report().risks)


# --- writing only its own page -------------------------------------------------------------------


def build(tmp_path: Path, path: str = "status.html") -> HtmlSink:
    return HtmlSinkConfig.model_validate({"type": "html", "path": path}).build(tmp_path)


def publish(tmp_path: Path) -> Path:
    build(tmp_path).prepare(sample_tables(), publish_context()).apply()
    return tmp_path / "status.html"


def test_the_page_carries_goalsyncs_mark_in_its_head(tmp_path: Path) -> None:
    head = publish(tmp_path).read_bytes()[:512]
    assert GENERATOR_MARK.encode() in head
    tags = Tags()
    tags.feed(page())
    assert ("meta", {"name": "generator", "content": "goalsync"}) in tags.tags


def test_a_rerun_onto_its_own_page_works(tmp_path: Path) -> None:
    first = publish(tmp_path).read_bytes()
    second = publish(tmp_path).read_bytes()
    assert second == first


def test_an_earlier_releases_page_is_adopted(tmp_path: Path) -> None:
    target = tmp_path / "status.html"
    # An earlier release's page: the same, less the mark.
    target.write_text(page().replace(GENERATOR_MARK + "\n", ""), encoding="utf-8")
    assert GENERATOR_MARK not in target.read_text(encoding="utf-8")
    publish(tmp_path)
    assert GENERATOR_MARK in target.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "content",
    [
        "",
        "<!doctype html><title>The team's own page</title>\n",
        # goalsync's first lines, but not its footer: someone's page built from a copy
        page().replace(GENERATOR_MARK + "\n", "").replace("Made by goalsync.", "Made by us."),
        page().replace(GENERATOR_MARK + "\n", "") + "\n<p>added by hand</p>",
        "root:x:0:0:root:/root:/bin/bash\n",
    ],
)
def test_a_page_goalsync_did_not_write_is_refused_untouched(tmp_path: Path, content: str) -> None:
    target = tmp_path / "status.html"
    target.write_text(content, encoding="utf-8")
    before = target.read_bytes()
    with pytest.raises(ConfigError, match="goalsync did not write it") as caught:
        build(tmp_path)
    assert str(target) in str(caught.value)
    assert target.read_bytes() == before


def test_a_page_that_appeared_while_pulling_fails_the_publish(tmp_path: Path) -> None:
    sink = build(tmp_path)
    target = tmp_path / "status.html"
    target.write_bytes(b"<p>theirs</p>")
    with pytest.raises(PublishError, match="goalsync did not write it"):
        sink.prepare(sample_tables(), publish_context())
    assert target.read_bytes() == b"<p>theirs</p>"
    assert [p.name for p in tmp_path.iterdir()] == ["status.html"]


def test_a_folder_or_a_link_at_the_path_is_refused(tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    with pytest.raises(ConfigError, match="is a folder"):
        build(tmp_path, "site")
    own = publish(tmp_path)
    (tmp_path / "link.html").symlink_to(own)
    with pytest.raises(ConfigError, match="is a symbolic link"):
        build(tmp_path, "link.html")


def trend_page() -> str:
    return render_page(trend_tables(), title="Trends", generated=NOW.astimezone(BERLIN))


def test_one_trend_chart_per_goal_and_a_sparkline_per_key_result_no_script() -> None:
    """G1 has a month of History: a line chart of progress against expected; G2 has none yet:
    an empty chart saying so. Each key result has a 30-day sparkline. All inline SVG."""
    text = trend_page()
    tags = parse(text).tags
    svgs = [attrs for tag, attrs in tags if tag == "svg"]
    assert [a["class"] for a in svgs].count("trend") == 2  # G1, G2
    assert [a["class"] for a in svgs].count("spark") == 3  # G1.1, G1.2, G2.1
    assert len(svgs) == 5
    assert (
        "<script" not in text.lower()
        and "src=" not in text
        and 'href="http' not in text[: text.index("<section")]
    )
    labels = [a["aria-label"] for a in svgs]
    assert [a["aria-label"] for a in svgs if a["class"] == "trend"] == [
        "G1 progress against expected, 2026-10-01 to 2026-11-15: 90 % on 2026-11-15",
        "G2: no trend yet",
    ]
    # G1.1 has History every 5 days back from 11-16 (60 %, 55 %, ...): the last 30 days,
    # 10-18 to 11-16, start at 10-22 (35 %); 10-17 (30 %) is out of the window
    assert "G1.1, last 30 days: from 35 % to 60 %" in labels
    assert "G1.2, last 30 days: no progress measured" in labels


def test_a_no_data_day_is_a_gap_in_the_line_not_a_zero() -> None:
    text = trend_page()
    goal_svg = text[text.index('<svg class="trend"') : text.index("</svg>")]
    polylines = re.findall(r'<polyline points="([^"]*)"[^>]*stroke="#3b7dd8"', goal_svg)
    # progress: 1, 4, 7 October, a gap on the 10th (No data), then 13 October to 15 November
    assert [len(p.split()) for p in polylines] == [3, 12]
    bottom = 160 - 24  # the plot's 0 % line
    ys = [float(xy.split(",")[1]) for p in polylines for xy in p.split()]
    assert ys[0] == bottom and min(ys[1:]) < bottom  # only day one is at 0 %
    dashed = re.findall(r'<polyline[^>]*stroke="#8a8a8a"[^>]*stroke-dasharray', goal_svg)
    assert len(dashed) == 1  # expected is known every day: one unbroken dashed line


def test_chart_text_is_escaped() -> None:
    text = trend_page()
    assert "<script" not in text.lower()
    assert "&lt;script&gt;" in text
