"""The offline dashboard driven as a user drives it, in one headless Chromium session (Playwright on Debian's
Chromium): choose a date range, search, open a space, click an asker or an error type, sort a table, download its
CSV, open a link. Every figure read from the page is compared with the ground truth of the sandbox scenario
(``test_marts.truth``: computed from the scenario alone), never with the page's own data.

The scenario (``test_marts.world``): 2 workspaces x 5 days (2026-03-02 to 03-06), 112 messages, a deleted space,
a message still in progress, one space reconfigured (2 versions). The space lifecycle (benchmark accuracy, before
and after each configuration change) and the CSV's formula guard read a second page, from a pipeline run with
configuration changes, eval runs and questions that look like spreadsheet formulas
(``test_dashboard_figures.lifecycle_world``): its figures are compared with the marts' rows. Screenshots:
``browser.SCREENSHOTS``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from genie_obs_dagster.sandbox.server.wire import SQL_STATUSES

from .browser import Browser, chromium_or_skip
from .conftest import WORKSPACES
from .test_dashboard_figures import (
    EVAL_DAYS,
    HOSTILE,
    LIFECYCLE_CHANGES,
    Lifecycle,
    change_rows,
    lifecycle_world,
    run_rows,
)
from .test_marts import Truth, World, close, dashboard_file, percentile_cont, rate, truth, world  # noqa: F401

ISO = dt.date.isoformat


@pytest.fixture(scope="module")
def browser(request: pytest.FixtureRequest) -> Iterator[Browser]:
    chromium = chromium_or_skip()
    request.getfixturevalue("page")  # the pipeline runs first: Dagster and Playwright's event loop stay apart
    request.getfixturevalue("lifecycle")
    b = Browser(chromium)
    yield b
    b.close()


@pytest.fixture(scope="module")
def page(world: World) -> Path:  # noqa: F811
    return dashboard_file(world)


@pytest.fixture(scope="module")
def lifecycle(tmp_path_factory: pytest.TempPathFactory) -> Lifecycle:
    return lifecycle_world(tmp_path_factory)


@pytest.fixture(scope="module")
def everything(world: World) -> dict[tuple[str, str], Truth]:  # noqa: F811
    return truth(world)


@pytest.fixture(autouse=True)
def _no_script_errors(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every test ends without a script error or console error (the page's own list and the browser's)."""
    yield
    if "browser" in request.fixturenames:
        b: Browser = request.getfixturevalue("browser")
        assert not b.errors, b.errors
        assert b.page.evaluate("window.__errors") == []


# -- the ground truth --------------------------------------------------------------------------------------------


def days(everything: dict[tuple[str, str], Truth]) -> list[dt.date]:
    return sorted({x.day for x in everything.values()})


def within(everything: dict[tuple[str, str], Truth], lo: dt.date, hi: dt.date, ws: str | None = None,
           space: str | None = None) -> list[Truth]:
    return [x for x in everything.values() if lo <= x.day <= hi and (ws in (None, "all") or x.m.workspace_id == ws)
            and (space is None or x.m.space_id == space)]


def kpis_of(xs: list[Truth], everything: dict[tuple[str, str], Truth], last: dt.date) -> dict[str, float | None]:
    """What each KPI card must show for these messages (ids as in dashboard.js)."""
    n = {o: sum(x.outcome == o for x in xs) for o in ("completed", "failed", "cancelled")}
    finished = sum(n.values())
    pos, neg = sum(x.rating == "POSITIVE" for x in xs), sum(x.rating == "NEGATIVE" for x in xs)
    stmts = [x.statement for x in xs if x.statement]
    askers = {x.asker for x in xs}
    scope = {x.m.workspace_id for x in xs}
    today = {x.asker for x in everything.values() if x.day == last and x.m.workspace_id in scope}
    week = {x.asker for x in everything.values() if last - dt.timedelta(days=6) <= x.day <= last and x.m.workspace_id in scope}
    return {
        "questions": len(xs), "conversations": len({(x.m.workspace_id, x.m.conversation_id) for x in xs}),
        "askers": len(askers), "spaces": len({(x.m.workspace_id, x.m.space_id) for x in xs}),
        "success_rate": rate(n["completed"], finished), "positive_feedback": rate(pos, pos + neg),
        "failed": n["failed"], "failure_rate": rate(n["failed"], finished), "positive": pos, "negative": neg,
        "reviews": sum(x.review for x in xs), "statements": len(stmts),
        "failed_statements": sum(s["execution_status"] == "FAILED" for s in stmts),
        "avg_duration": rate(sum(s["total_duration_ms"] for s in stmts), len(stmts)),
        "read_rows": sum(s["read_rows"] for s in stmts), "read_bytes": sum(s["read_bytes"] for s in stmts),
        "people": len(askers), "dau": len(today), "wau": len(week), "per_person": rate(len(xs), len(askers)),
    }


def searchable(x: Truth) -> str:
    """The text of a message the API shows (question; SQL and its description once Genie wrote SQL; the answer
    once completed), lower case: what the search looks in."""
    if not x.fetched:
        return ""
    parts = [x.m.content]
    if x.m.sql and x.status in SQL_STATUSES:
        parts += [x.m.sql, x.m.sql_description or ""]
    if x.status == "COMPLETED" and x.m.attachment_ids:
        parts.append(x.m.answer_text or "")
    return "\n".join(parts).lower()


def same(got: float | None, want: float | None) -> bool:
    return close(None if got is None else float(got), None if want is None else float(want))


def assert_kpis(shown: dict[str, tuple[float | None, float | None]], want: dict[str, float | None],
                prev: dict[str, float | None] | None) -> None:
    for k, (value, previous) in shown.items():
        if k not in want:
            continue
        assert same(value, want[k]), (k, value, want[k])
        assert same(previous, None if prev is None else prev[k]), (k, "previous period", previous, prev and prev[k])


# -- a user's steps ----------------------------------------------------------------------------------------------


def choose_range(b: Browser, lo: dt.date, hi: dt.date) -> None:
    """Dates -> Custom..., then the two dates, as a user types them."""
    if b.page.input_value("#range-filter") != "custom":
        b.after(lambda: b.page.select_option("#range-filter", "custom"))
    for field, day in (("#range-from", lo), ("#range-to", hi)):
        if b.page.input_value(field) != ISO(day):
            b.after(lambda field=field, day=day: b.page.fill(field, ISO(day)))
    assert b.page.get_attribute("html", "data-range") == f"{ISO(lo)}/{ISO(hi)}"


def choose_preset(b: Browser, value: str) -> None:
    b.after(lambda: b.page.select_option("#range-filter", value))


def open_tab(b: Browser, title: str) -> None:
    b.after(lambda: b.page.click(f'nav.tabs button:text-is("{title}")'))


def search(b: Browser, words: str) -> int:
    """Type the words in the search box; the number of messages found once the page has searched them."""
    b.page.fill("#search-q", words)
    b.page.press("#search-q", "Enter")
    found = b.wait_for("""q => { const c = document.querySelector('#search-count');
        return c && c.dataset.query === q && c.dataset.matches !== '' && document.documentElement.dataset.rendered === 'ok'
               ? c.dataset.matches : null; }""", words)
    return int(found)


# -- the tests ---------------------------------------------------------------------------------------------------


def test_a_date_range_makes_every_kpi_the_truth_of_that_range(browser: Browser, page: Path,
                                                              everything: dict[tuple[str, str], Truth]) -> None:
    b, d = browser, days(everything)
    last = d[-1]
    b.open(page, "ws=all&tab=summary")
    assert_kpis(b.kpis(), kpis_of(list(everything.values()), everything, last), None)
    # the last two days, compared with the two days before
    lo, hi = d[-2], d[-1]
    choose_range(b, lo, hi)
    want = kpis_of(within(everything, lo, hi), everything, hi)
    prev = kpis_of(within(everything, lo - dt.timedelta(days=2), lo - dt.timedelta(days=1)), everything, lo - dt.timedelta(days=1))
    assert want["questions"] < len(everything) and prev["questions"] > 0
    shown = b.kpis()
    assert_kpis(shown, want, prev)
    assert {"questions", "conversations", "askers", "spaces", "success_rate", "positive_feedback"} <= set(shown)
    assert b.page.locator('[data-kpi="questions"] .delta').inner_text().endswith("vs previous 2 days")
    b.screenshot("range-summary")
    for tab, ids in (("Quality and feedback", {"failed", "failure_rate", "positive", "negative", "reviews"}),
                     ("SQL performance", {"statements", "failed_statements", "avg_duration", "read_rows", "read_bytes"}),
                     ("Adoption", {"people", "dau", "wau", "per_person"})):
        open_tab(b, tab)
        shown = b.kpis()
        assert ids <= set(shown), (tab, shown)
        # adoption on a period's last day: the previous period's figures are those of its own last day
        assert_kpis(shown, want, prev)
    # one workspace, the same range
    ws = sorted({k[0] for k in everything})[1]
    b.after(lambda: b.page.select_option("#ws-filter", ws))
    open_tab(b, "Executive summary")
    assert_kpis(b.kpis(), kpis_of(within(everything, lo, hi, ws), everything, hi),
                kpis_of(within(everything, lo - dt.timedelta(days=2), lo - dt.timedelta(days=1), ws), everything, lo - dt.timedelta(days=1)))
    # "last 7 days" covers the whole 5-day scenario; there is no data before it to compare with
    b.after(lambda: b.page.select_option("#ws-filter", "all"))
    choose_preset(b, "7d")
    assert_kpis(b.kpis(), kpis_of(list(everything.values()), everything, last), None)
    assert "(7 days)" in b.page.inner_text("#range-label")


def test_search_finds_a_known_question_and_what_an_admin_asks(browser: Browser, page: Path,
                                                              everything: dict[tuple[str, str], Truth]) -> None:
    b, d = browser, days(everything)
    b.open(page, "ws=all&tab=prompts")
    assert search(b, "") == len(everything)  # every message: the sandbox is within the page's text budget
    # a known question of the scenario, typed as a phrase
    known = max((x for x in everything.values() if x.fetched), key=lambda x: (len(x.m.content), x.m.message_id))
    phrase = " ".join(known.m.content.split()[:5])
    found = search(b, f'"{phrase}"')
    assert found == sum(phrase.lower() in searchable(x) for x in everything.values()) >= 1
    questions = b.table("messages")
    assert known.m.content in [row[questions["headers"].index("Question")] for row in questions["rows"]]
    assert b.page.locator('table[data-table="messages"] mark').count() >= found
    b.screenshot("search-known-question")
    # "every question about warehouses that failed last week"
    choose_preset(b, "7d")
    b.after(lambda: b.page.select_option("#search-status", "failed"))
    found = search(b, "warehouse")
    week = within(everything, d[-1] - dt.timedelta(days=6), d[-1])
    want = [x for x in week if x.outcome == "failed" and "warehouse" in searchable(x)]
    assert found == len(want) >= 2
    rows = b.table("messages")
    status = rows["headers"].index("Status")
    assert {r[status] for r in rows["rows"]} == {"failed"}
    # ... of the last two days only, rated or not, in one workspace
    choose_range(b, d[-2], d[-1])
    assert search(b, "warehouse") == sum(x.day >= d[-2] for x in want) >= 1
    b.screenshot("search-failed-warehouse")
    # no words, no filters, the whole range: 112 messages in pages of 50
    choose_preset(b, "all")
    b.after(lambda: b.page.select_option("#search-status", ""))
    assert search(b, "") == len(everything)
    pager = b.page.locator("[data-pager]")
    assert pager.inner_text().startswith(f"Rows 1–50 of {len(everything)}")
    first_page = b.table("messages")["rows"]
    b.after(lambda: b.page.click('button[data-step="next"]'))
    assert pager.inner_text().startswith(f"Rows 51–100 of {len(everything)}")
    assert b.table("messages")["rows"] != first_page
    # feedback filter: the negative ones
    b.after(lambda: b.page.select_option("#search-feedback", "NEGATIVE"))
    assert search(b, "") == sum(x.rating == "NEGATIVE" for x in everything.values())
    b.after(lambda: b.page.select_option("#search-feedback", ""))


def test_a_space_page_shows_that_space_true_figures(browser: Browser, page: Path, world: World,  # noqa: F811
                                                    everything: dict[tuple[str, str], Truth]) -> None:
    b, d, s = browser, days(everything), world.changed_space
    key = f"{s.workspace_id}/{s.space_id}"
    b.open(page, "ws=all&tab=usage")
    b.after(lambda: b.page.click(f'table[data-table="space-leaderboard"] a[data-space="{key}"]'))
    assert b.page.inner_text("#page-space h2") == s.title
    mine = within(everything, d[0], d[-1], space=s.space_id)
    durations = [x.statement["total_duration_ms"] for x in mine if x.statement]
    n = {o: sum(x.outcome == o for x in mine) for o in ("completed", "failed", "cancelled")}
    want = {"space_questions": len(mine), "space_askers": len({x.asker for x in mine}),
            "space_conversations": len({x.m.conversation_id for x in mine}),
            "space_success_rate": rate(n["completed"], sum(n.values())), "space_failed": n["failed"],
            "space_negative": sum(x.rating == "NEGATIVE" for x in mine), "space_p50": percentile_cont(durations, 0.5)}
    shown = b.kpis()
    assert set(shown) == set(want)
    assert_kpis(shown, want, None)
    # its askers, its configuration versions (what changed), its prompts
    askers = b.table("space-askers")
    per_asker = {a: sum(x.asker == a for x in mine) for a in {x.asker for x in mine}}
    assert {r[1]: int(r[2]) for r in askers["rows"]} == per_asker
    versions = b.table("space-versions")
    assert [r[0] for r in versions["rows"]] == ["2", "1"]
    changed = versions["rows"][0][versions["headers"].index("What changed")]
    assert "+ sample question: Added later?" in changed
    assert f"“{s.title.removesuffix(' (v2)')}” → “{s.title}”" in changed
    assert versions["rows"][0][versions["headers"].index("Questions while current")] == "0"  # seen after the questions
    assert versions["rows"][1][versions["headers"].index("Questions while current")] == str(len(mine))
    assert b.table("space-prompts")["total"] == len(mine)
    assert b.page.locator('#page-space svg.chart').count() >= 4
    b.screenshot("space-page")
    # the same space over the last two days, against the two before
    lo, hi = d[-2], d[-1]
    choose_range(b, lo, hi)
    now = within(everything, lo, hi, space=s.space_id)
    before = within(everything, lo - dt.timedelta(days=2), lo - dt.timedelta(days=1), space=s.space_id)
    shown = b.kpis()
    for k, xs, j in (("space_questions", now, 0), ("space_questions", before, 1), ("space_askers", now, 0),
                     ("space_askers", before, 1), ("space_failed", now, 0)):
        want_value = len(xs) if k == "space_questions" else len({x.asker for x in xs}) if k == "space_askers" else \
            sum(x.outcome == "failed" for x in xs)
        assert same(shown[k][j], want_value), (k, j, shown[k], want_value)
    assert b.table("space-prompts")["total"] == len(now)
    # the space whose details could not be fetched (deleted) has a page too
    gone = f"{world.deleted_space.workspace_id}/{world.deleted_space.space_id}"
    b.open(page, f"ws=all&tab=space&space={gone}")
    assert b.kpis()["space_questions"][0] == len(within(everything, d[0], d[-1], space=world.deleted_space.space_id))
    choose_preset(b, "all")


def test_the_leaderboard_ranks_spaces_across_workspaces_sorts_and_exports_what_it_shows(
        browser: Browser, page: Path, everything: dict[tuple[str, str], Truth]) -> None:
    b = browser
    b.open(page, "ws=all&tab=usage")
    board = b.table("space-leaderboard")
    h = board["headers"]
    ranks, questions = [int(r[h.index("#")]) for r in board["rows"]], [int(r[h.index("Questions")]) for r in board["rows"]]
    assert ranks == list(range(1, len(board["rows"]) + 1))  # one ranking, not one per workspace
    assert questions == sorted(questions, reverse=True)
    keys = b.page.eval_on_selector_all('table[data-table="space-leaderboard"] a[data-space]', "els => els.map(e => e.dataset.space)")
    per_space = {f"{x.m.workspace_id}/{x.m.space_id}": 0 for x in everything.values()}
    for x in everything.values():
        per_space[f"{x.m.workspace_id}/{x.m.space_id}"] += 1
    assert dict(zip(keys, questions, strict=True)) == per_space
    rows = b.download_csv("space-leaderboard")
    assert rows[0] == h and len(rows) - 1 == board["total"] == len(board["rows"])
    for csv_row, shown in zip(rows[1:], board["rows"], strict=True):
        for col, value, text in zip(h, csv_row, shown, strict=True):
            assert shown_as(value, text), (col, value, text)
    b.screenshot("leaderboard")
    # sorted by askers (most first): the table and its CSV in that order
    b.after(lambda: b.page.click('table[data-table="space-leaderboard"] th[data-col="askers"] button'))
    board = b.table("space-leaderboard")
    askers = [int(r[h.index("Askers")]) for r in board["rows"]]
    assert askers == sorted(askers, reverse=True)
    assert b.page.get_attribute('th[data-col="askers"]', "aria-sort") == "descending"
    rows = b.download_csv("space-leaderboard")
    assert [r[h.index("Space")] for r in rows[1:]] == [r[h.index("Space")] for r in board["rows"]]
    per_space_askers = {}
    for x in everything.values():
        per_space_askers.setdefault(f"{x.m.workspace_id}/{x.m.space_id}", set()).add(x.asker)
    keys = b.page.eval_on_selector_all('table[data-table="space-leaderboard"] a[data-space]', "els => els.map(e => e.dataset.space)")
    assert dict(zip(keys, askers, strict=True)) == {k: len(v) for k, v in per_space_askers.items()}


FORMULA_FIRST = ("=", "+", "-", "@", "\t", "\r")  # a text cell starting so gets a ' in the CSV


def pts(v: float) -> str:
    """A change of a ratio as the page shows it."""
    return ("+" if v > 0 else "−" if v < 0 else "±") + f"{abs(100 * v):.1f} pts"


def shown_as(value: str, text: str) -> bool:
    """A CSV value (unformatted) is what the table cell shows once formatted; a text that a spreadsheet would take
    for a formula has a ' before it in the CSV."""
    if value == text or (value == "" and text == "–"):
        return True
    if value.startswith("'") and value[1:] == text and text.startswith(FORMULA_FIRST):
        return True
    if re.fullmatch(r"-?\d+(\.\d+)?(e-?\d+)?", value):
        v = float(value)
        return text in (f"{v:,.0f}", f"{100 * v:.1f}%", pts(v))
    found = re.fullmatch(r"(\d{4}-\d\d-\d\d)T(\d\d:\d\d):\d\d\+00:00", value)
    return bool(found) and text == f"{found.group(1)} {found.group(2)} UTC"


def test_clicking_an_asker_or_an_error_type_filters_the_view(browser: Browser, page: Path,
                                                            everything: dict[tuple[str, str], Truth]) -> None:
    b, last = browser, days(everything)[-1]
    b.open(page, "ws=all&tab=adoption")
    top = b.page.locator('table[data-table="top-users"] a[data-asker]').first
    asker = top.get_attribute("data-asker")
    b.after(lambda: top.click())
    assert b.page.locator('[data-filter="asker"]').inner_text().startswith(f"Asker: {asker}")
    open_tab(b, "Executive summary")
    mine = [x for x in everything.values() if x.asker == asker]
    want = kpis_of(mine, everything, last)
    shown = b.kpis()
    for k in ("questions", "conversations", "askers", "spaces", "success_rate"):
        assert same(shown[k][0], want[k]), (k, shown[k], want[k])
    assert shown["askers"][0] == 1
    b.screenshot("filtered-by-asker")
    b.after(lambda: b.page.click('[data-filter="asker"] a'))
    assert b.page.locator('[data-filter="asker"]').count() == 0
    assert b.kpis()["questions"][0] == len(everything)
    # an error type, from the failures chart
    open_tab(b, "Quality and feedback")
    error = "WAREHOUSE_ACCESS_MISSING_EXCEPTION"
    failed = [x for x in everything.values() if x.outcome == "failed" and (x.m.error_type or "UNKNOWN") == error]
    assert failed
    b.after(lambda: b.page.click(f'svg.chart a[data-label="{error}"]'))
    assert b.page.locator('[data-filter="error"]').inner_text().startswith(f"Error type: {error}")
    shown = b.kpis()
    assert shown["failed"][0] == len(failed) and shown["failure_rate"][0] == 1.0
    b.screenshot("filtered-by-error-type")
    b.after(lambda: b.page.click('[data-filter="error"] a'))


def test_a_link_opens_the_same_view(browser: Browser, page: Path, world: World,  # noqa: F811
                                    everything: dict[tuple[str, str], Truth]) -> None:
    b, d, s = browser, days(everything), world.changed_space
    b.open(page, "ws=all&tab=usage")
    b.after(lambda: b.page.click(f'table[data-table="space-leaderboard"] a[data-space="{s.workspace_id}/{s.space_id}"]'))
    choose_range(b, d[1], d[-1])
    url, kpis, title = b.page.url, b.kpis(), b.page.inner_text("#page-space h2")
    assert "tab=space" in url and "range=custom" in url and f"from={ISO(d[1])}" in url
    other = b.context.new_page()
    b.watch(other)
    try:
        other.goto(url)
        b.wait_drawn(None, other)
        assert other.inner_text("#page-space h2") == title
        assert other.get_attribute("html", "data-range") == f"{ISO(d[1])}/{ISO(d[-1])}"
        assert other.input_value("#range-filter") == "custom"
        again = {k: (float(v) if v else None, float(p) if p else None) for k, v, p in other.evaluate(
            "Array.from(document.querySelectorAll('[data-kpi]')).map(e => [e.dataset.kpi, e.dataset.value, e.dataset.prev])")}
        assert set(again) == set(kpis)
        assert all(same(again[k][0], kpis[k][0]) and same(again[k][1], kpis[k][1]) for k in kpis), (again, kpis)
        # the browser's back button returns to the leaderboard the space was opened from
        b.page.go_back()
        b.wait_drawn("#ws=all&tab=usage")
        assert b.table("space-leaderboard")["total"] == len({(x.m.workspace_id, x.m.space_id) for x in everything.values()})
    finally:
        other.close()


# -- the space lifecycle and the CSV's formula guard (the lifecycle page) -----------------------------------------


def csv_is(rows: list[list[str]], want: list[list[object]]) -> None:
    """CSV rows (after the header) hold exactly these values: numbers as numbers, None as empty, texts as is."""
    assert len(rows) == len(want), (rows, want)
    for got, expected in zip(rows, want, strict=True):
        for text, v in zip(got, expected, strict=True):
            if v is None:
                assert text == "", (got, expected)
            elif isinstance(v, (int, float)) and not isinstance(v, bool):
                assert not text.startswith("'") and float(text) == v, (got, expected)  # numbers are never prefixed
            else:
                assert text == v, (got, expected)


def shown_like_its_csv(b: Browser, table_id: str, skip: tuple[str, ...] = ()) -> list[list[str]]:
    """The table's CSV, after checking that every cell shown is its CSV value formatted."""
    table, rows = b.table(table_id), b.download_csv(table_id)
    assert rows[0] == table["headers"] and len(rows) - 1 == table["total"] == len(table["rows"])
    for csv_row, shown in zip(rows[1:], table["rows"], strict=True):
        for col, value, text in zip(rows[0], csv_row, shown, strict=True):
            assert col in skip or shown_as(value, text), (table_id, col, value, text)
    return rows[1:]


def test_a_space_page_shows_its_benchmark_accuracy_and_how_it_did_around_each_change(
        browser: Browser, lifecycle: Lifecycle) -> None:
    b, L = browser, lifecycle
    ws = next(iter(LIFECYCLE_CHANGES))
    space = next(s for w, s in L.changed if w == ws)
    key = f"{ws}/{space}"
    runs = [r for r in run_rows(L.runs) if (r["workspace_id"], r["space_id"]) == (ws, space)]
    changes = [r for r in change_rows(L.changes) if (r["workspace_id"], r["space_id"]) == (ws, space)]
    assert len(runs) >= 2 and len(changes) == 1
    b.open(L.page, f"ws=all&tab=space&space={key}")
    figure = b.page.locator('[data-figure="accuracy"]')
    latest = runs[-1]
    assert float(figure.get_attribute("data-value")) == latest["accuracy"]
    assert float(figure.get_attribute("data-change")) == latest["accuracy_change"] == latest["accuracy"] - runs[-2]["accuracy"]
    assert figure.inner_text().startswith(f"{100 * latest['accuracy']:.1f}%")
    points = b.page.eval_on_selector_all("#page-space circle.run", "cs => cs.map(c => [c.dataset.run, c.dataset.accuracy])")
    assert [(int(n), float(a)) for n, a in points] == [(r["run_number"], r["accuracy"]) for r in runs]
    marks = b.page.eval_on_selector_all("#page-space svg.chart .mark text", "ts => ts.map(t => t.textContent)")
    assert marks == ["v2", "v2"]  # the change, on the questions chart and on the accuracy chart
    csv_is(shown_like_its_csv(b, "space-evals"), [
        [r["finished_at"], r["run_number"], r["num_questions"], r["num_correct"], r["num_needs_review"], r["num_bad"],
         r["accuracy"], r["accuracy_change"]] for r in reversed(runs)])
    impact = ("questions_before", "questions_after", "success_rate_before", "success_rate_after", "success_rate_change",
              "negative_feedback_rate_before", "negative_feedback_rate_after", "negative_feedback_rate_change")
    csv_is(shown_like_its_csv(b, "space-changes", skip=("What changed",)),
           [[r["changed_at"], r["version_number"], r["diff_summary"], *(r[k] for k in impact)] for r in changes])
    assert b.table("space-changes")["rows"][0][2] == "tables −1; text instructions ~1"
    b.screenshot("space-lifecycle")
    # a range holding the change and the latest run only: that run's accuracy, its change still vs the run before
    lo = dt.date.fromisoformat(changes[0]["changed_at"][:10])
    choose_range(b, lo, lo + dt.timedelta(days=3))
    in_range = [r for r in runs if r["run_date"] >= ISO(lo)]
    assert in_range and len(in_range) < len(runs)
    assert (int(figure.get_attribute("data-runs")), float(figure.get_attribute("data-value"))) == (len(in_range), in_range[-1]["accuracy"])
    assert float(figure.get_attribute("data-change")) == in_range[-1]["accuracy_change"]
    assert b.table("space-changes")["total"] == 1
    # ... and one after the change and the runs: nothing of either
    choose_range(b, lo + dt.timedelta(days=2), lo + dt.timedelta(days=3))
    assert figure.count() == 0 and b.table("space-evals") is None and b.table("space-changes") is None
    assert "No benchmark run started in this date range" in b.page.inner_text("#page-space")
    choose_preset(b, "all")
    # spaces without runs say why
    for (w, s), why in ((L.no_benchmarks, "no benchmark questions"), (L.schedule_off, "evals: section of the settings")):
        b.open(L.page, f"ws=all&tab=space&space={w}/{s}")
        assert why in b.page.inner_text('[data-note="no-evals"]')
    # every space's changes and latest accuracy, on the configuration page, per workspace
    every = change_rows(L.changes)
    b.open(L.page, "ws=all&tab=config")
    keys = b.page.eval_on_selector_all('table[data-table="config-impact"] a[data-space]', "els => els.map(e => e.dataset.space)")
    assert keys == [f"{r['workspace_id']}/{r['space_id']}" for r in every]
    rows = shown_like_its_csv(b, "config-impact", skip=("What changed",))
    csv_is([r[3:] for r in rows], [[r["version_number"], r["diff_summary"], *(r[k] for k in impact)] for r in every])
    latest_runs = {f"{r['workspace_id']}/{r['space_id']}": r for r in run_rows(L.runs) if r["is_latest"]}
    keys = b.page.eval_on_selector_all('table[data-table="accuracy-by-space"] a[data-space]', "els => els.map(e => e.dataset.space)")
    assert sorted(keys) == sorted(latest_runs)
    rows = shown_like_its_csv(b, "accuracy-by-space")
    csv_is([r[2:] for r in rows], [[latest_runs[k]["accuracy"], latest_runs[k]["accuracy_change"], latest_runs[k]["num_questions"],
                                    len(EVAL_DAYS), latest_runs[k]["finished_at"]] for k in keys])
    b.screenshot("config-lifecycle")
    other = WORKSPACES[1]
    b.after(lambda: b.page.select_option("#ws-filter", other))
    assert b.table("config-impact")["total"] == sum(r["workspace_id"] == other for r in every) == 1
    assert b.table("accuracy-by-space")["total"] == sum(k.startswith(other) for k in latest_runs) >= 1


def test_a_question_that_looks_like_a_formula_stays_text_in_the_csv(browser: Browser, lifecycle: Lifecycle) -> None:
    """Questions such as =HYPERLINK(...) or @SUM(...) are exported with a ' before them, so a spreadsheet shows them
    instead of running them; the table shows them as asked, and numbers stay numbers."""
    b = browser
    b.open(lifecycle.page, "ws=all&tab=prompts")
    assert search(b, "payload") == len(HOSTILE)
    shown = b.table("messages")
    h = shown["headers"]
    assert sorted(r[h.index("Question")] for r in shown["rows"]) == sorted(HOSTILE)
    rows = b.download_csv("messages")
    assert rows[0] == h
    assert sorted(r[h.index("Question")] for r in rows[1:]) == sorted("'" + q for q in HOSTILE)
    for r, cells in zip(rows[1:], shown["rows"], strict=True):  # the other cells: as shown, numbers as numbers
        assert all(shown_as(r[h.index(c)], cells[h.index(c)]) for c in ("Asked", "Asker", "Question", "Genie's description"))
        assert r[h.index("SQL time")] == "" or float(r[h.index("SQL time")]) >= 0


def test_every_page_draws_without_a_script_error(browser: Browser, page: Path) -> None:
    """Every page of the dashboard drawn at once, per workspace and over a range, after everything above."""
    for view in ("ws=all&tab=all", "ws=all&tab=all&range=30d", "ws=2345678901234567&tab=all&range=custom&from=2026-03-03&to=2026-03-04"):
        browser.open(page, view)
        assert browser.page.get_attribute("html", "data-rendered") == "ok"
        assert int(browser.page.get_attribute("html", "data-charts") or 0) >= 20
    browser.screenshot("all-pages")
    assert not browser.errors
    assert browser.page.evaluate("window.__errors") == []
