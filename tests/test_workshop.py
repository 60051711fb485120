"""The workshop page: its session logic, and the page itself in headless Chromium (Playwright).

Browser tests (marked ``browser``) start ``solara run sim/workshop/app.py`` on 127.0.0.1 and drive
Debian's Chromium with Playwright, at a projector's 1366x768. Screenshots of each state are saved
under ``test-artifacts/workshop/``. Without Chromium they are skipped locally; in CI
(``CI=true``, where ``.ci/run`` installs it) they fail.
"""

import csv
import io
import itertools
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from sim.config import ConfigError, iter_params
from sim.palette import RESISTANT_COLOUR, STAGE_COLOURS, STAGE_SHAPES, lightness
from sim.population import STAGE_NAMES
from sim.workshop import debrief, svg
from sim.workshop.levers import LEVERS
from sim.workshop.many import run_band
from sim.workshop.session import CHOICES, Controls, WorkshopSession, load_kernels
from sim.workshop.stories import STORIES, narrate
from sim.workshop.stories import story as story_by_key
from sim.workshop.words import OPTION_HELP, OPTION_NAMES

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts" / "workshop"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PROJECTOR = {"width": 1366, "height": 768}
SVG_NS = "{http://www.w3.org/2000/svg}"


# -- session logic (no browser) -------------------------------------------------------------------


def test_session_steps_and_monitors_follow_the_model():
    s = WorkshopSession()
    assert s.monitors().week == 0 and s.monitors().when == "Before the first week"
    s.step(40)
    m = s.monitors()
    assert m.week == 40 and m.year == 2 and m.term == 1
    assert m.teacher_hours > 0 and m.pupils_reached > 0
    assert len(s.uptake_series()) == 40 == len(s.resistant_series()) == len(s.pupils_series())
    assert np.allclose(s.stage_shares().sum(axis=1), 1.0)
    assert s.end_of_year() == 78


def test_side_b_defaults_to_the_opposite_strategy_and_shares_the_seed():
    s = WorkshopSession(Controls(side_by_side=True))
    a, b = s.models
    assert a.config.strategy.name == "whole_staff" and b.config.strategy.name == "start_small"
    assert np.array_equal(a.staff.threshold, b.staff.threshold)
    assert np.array_equal(a.ties.trust, b.ties.trust)
    # B follows A: start small on A puts whole-staff on B
    flipped = s.controls.with_side("a", strategy="start_small")
    assert flipped.side_b.strategy == "whole_staff" and not flipped.identical_sides
    same = flipped.with_side("b", strategy="start_small")
    assert same.identical_sides
    s.setup(same)
    assert "same choices" in s.difference()


def test_headline_and_difference_are_written_out_from_the_monitors():
    s = WorkshopSession(Controls(side_by_side=True))
    s.step(s.horizon)
    a, b = s.monitors(0), s.monitors(1)
    assert s.side_names() == ["Whole-staff launch", "Start small"]
    assert s.headline() == (
        f"Whole-staff launch: {a.uptake_pct:.0f}% using it, {a.resistant} resisting"
        f" · Start small: {b.uptake_pct:.0f}%, {b.resistant} resisting"
    )
    lead, behind = (b, a) if b.uptake_pct > a.uptake_pct else (a, b)
    name = "Start small" if lead is b else "Whole-staff launch"
    text = s.difference()
    assert text.startswith(f"{name} ahead by {lead.uptake_pct - behind.uptake_pct:.0f} point")
    fewer = behind.resistant - lead.resistant
    if fewer > 0:
        assert f"{fewer} fewer resisting" in text
    assert s.gap() == pytest.approx(b.uptake_pct - a.uptake_pct)


def test_events_are_detected_from_the_model():
    s = WorkshopSession(Controls(side_by_side=True))
    s.step(s.horizon)
    first_workshop = s.models[0].config.pln.workshop_weeks[0] + 1  # weeks count from 1
    kinds_a = {(e.week, e.kind) for e in s.events(0)}
    kinds_b = {(e.week, e.kind) for e in s.events(1)}
    assert (first_workshop, "workshop") in kinds_a
    assert (first_workshop, "launch") in kinds_a  # whole staff: launched after the first workshop
    assert (first_workshop, "pilot") in kinds_b  # start small: a pilot first
    widened = [w for w, k in kinds_b if k == "widened"]
    assert widened and min(widened) > first_workshop
    support_years = s.models[0].config.pln.support_years
    assert (support_years * 39 + 1, "support_ended") in kinds_a
    table = s.table()
    assert len(table) == 2 * s.horizon
    assert "whole-staff launch" in table.loc[table.week == first_workshop, "events"].iloc[0]
    # sessions that require trying press staff again every term, but a school is launched (or
    # its pilot widened) once: each school appears in at most one such event per side
    for side, kind in ((0, "launch"), (1, "widened")):
        schools = [k for e in s.events(side) if e.kind == kind for k in e.schools]
        assert schools and len(schools) == len(set(schools)), (kind, schools)


def test_a_decision_mid_run_is_marked_and_changes_only_what_follows():
    plain, decided = WorkshopSession(), WorkshopSession()
    plain.step(39)
    decided.step(39)
    decided.decide("leadership.involvement", 1.0)
    decided.decide("leadership.howto_support", 1.0, school=2)
    plain.step(78)
    decided.step(78)
    before, after = plain.uptake_series(), decided.uptake_series()
    assert np.array_equal(before[:39], after[:39])  # the weeks already run are not changed
    assert not np.array_equal(plain.stage_shares()[39:], decided.stage_shares()[39:])
    assert after[-1] > before[-1]  # more involvement and how-to support: more staff using it
    marks = [e for e in decided.events() if e.kind == "decision"]
    assert [e.week for e in marks] == [39, 39] and marks[1].schools == (2,)
    assert "'How to' support: 1 (school 3)" in marks[1].describe(8)
    assert "after week 39" in debrief.summary_markdown(decided)
    with pytest.raises(ConfigError, match="involvement"):
        decided.decide("leadership.involvement", 2.0)
    with pytest.raises(ConfigError, match="cannot change during a run"):
        decided.decide("schools.trust_climate", 0.2)


def test_a_decision_side_by_side_applies_to_one_side_only():
    s = WorkshopSession(Controls(side_by_side=True).with_side("b", strategy="whole_staff"))
    s.step(20)
    s.decide("leadership.in_improvement_plan", False, side=1)
    s.step(97)
    assert [e.kind for e in s.events(0)].count("decision") == 0
    assert [e.kind for e in s.events(1)].count("decision") == 1
    assert np.array_equal(s.uptake_series(0)[:20], s.uptake_series(1)[:20])
    assert not np.array_equal(s.stage_shares(0), s.stage_shares(1))


def test_invalid_choices_give_a_readable_message_and_keep_the_old_model():
    s = WorkshopSession()
    before = s.models
    assert not s.setup(s.controls.with_values(seed=-1))
    assert "seed" in s.error and "\n" not in s.error
    assert s.models == before


def test_sessions_do_not_share_models():
    one, two = WorkshopSession(), WorkshopSession()
    one.step(5)
    assert two.monitors().week == 0
    assert one.models[0] is not two.models[0]


def test_every_offered_choice_builds_a_model_and_has_plain_words():
    for key in ("strategy", "mode", "selection"):
        for value in CHOICES[key]:
            s = WorkshopSession(Controls().with_values(**{f"a_{key}": value}))
            assert s.error is None, (key, value, s.error)
            assert OPTION_NAMES[key][value] and OPTION_HELP[key][value]
    for scenario in CHOICES["scenario"]:
        assert WorkshopSession(Controls(scenario=scenario)).error is None
        assert OPTION_NAMES["scenario"][scenario] and OPTION_HELP["scenario"][scenario]


def test_levers_take_ranges_and_defaults_from_the_config():
    meta = {key: m for key, _, m in iter_params()}
    controls = Controls()
    for lv in LEVERS:
        assert lv.help and lv.name
        if lv.kind in ("int", "float"):
            assert lv.low == meta[lv.key]["low"]
            assert meta[lv.key]["high"] is None or lv.high == meta[lv.key]["high"]
            assert lv.low_label and lv.high_label
        if lv.kind == "choice":
            assert lv.choices == tuple(meta[lv.key]["choices"])
    # defaults are the scenario's: the materials-only preset has low involvement
    assert (
        Controls(scenario="passive_dissemination").lever_value("leadership.involvement")[0] == 0.2
    )
    # a scenario that draws a lever per school shows the mean of the values this seed's run uses
    value, varies = controls.lever_value("leadership.involvement")
    drawn = WorkshopSession(controls).models[0].levers.get("involvement")
    assert varies and len(set(drawn)) > 1
    assert value == pytest.approx(drawn.mean())
    assert Controls(seed=1).lever_value("leadership.involvement")[0] != value
    s = WorkshopSession(controls.with_lever("leadership.involvement", 0.9))
    assert s.models[0].config.leadership.involvement == [0.9] * s.models[0].schools.n


def test_palette_survives_greyscale_and_colour_blindness():
    levels = sorted(lightness(STAGE_COLOURS[s]) for s in STAGE_NAMES)
    assert min(np.diff(levels)) >= 5  # every stage a different grey
    order = ["unaware", "aware", "interested", "trialling", "adopted", "embedded"]
    assert all(np.diff([lightness(STAGE_COLOURS[s]) for s in order]) < 0)  # light to dark
    assert STAGE_COLOURS["lapsed"] != RESISTANT_COLOUR
    marks = {(STAGE_COLOURS[s], STAGE_SHAPES[s]) for s in STAGE_NAMES}
    assert len(marks) == len(STAGE_NAMES)
    assert STAGE_SHAPES["lapsed"] not in {STAGE_SHAPES[s] for s in order}


def test_uptake_axis_is_fitted_to_the_data():
    assert svg.nice_top(17) == 20 and svg.nice_top(0) == 10 and svg.nice_top(63) == 80
    chart = svg.line_chart(
        [svg.Series(np.array([0.0, 5.0, 17.0]), "A")], 117, "t", "y", percent=True
    )
    assert ">20%<" in chart and ">100%<" not in chart


def _plot_box(chart: str) -> tuple[float, float, float, float]:
    """The plot rectangle of a line chart (x, y, width, height): the unfilled framed rect."""
    root = ET.fromstring(chart)
    (rect,) = [r for r in root.iter(f"{SVG_NS}rect") if r.get("fill") == "none"]
    return tuple(float(rect.get(k)) for k in ("x", "y", "width", "height"))


def test_side_names_are_in_a_legend_outside_the_plot():
    # late in the run the curve and its event letters reach the top right, where a name at the
    # end of the line used to be drawn over them: the names now sit above the plot
    s = WorkshopSession(Controls(side_by_side=True))
    s.step(s.horizon)
    names = s.side_names()
    series = [svg.Series(100 * s.uptake_series(i), names[i], i, tuple(s.events(i))) for i in (0, 1)]
    for big in (1.0, 1.35):
        chart = svg.line_chart(series, s.horizon, "t", "y", percent=True, mark_events=True, big=big)
        x, y, w, h = _plot_box(chart)
        root = ET.fromstring(chart)
        labels = [t for t in root.iter(f"{SVG_NS}text") if t.text in names]
        assert sorted(t.text for t in labels) == sorted(names)
        for t in labels:  # baseline above the plot's top edge, start inside the plot's width
            assert float(t.get("y")) < y and x <= float(t.get("x")) < x + w
        # the plot keeps its height: the legend's row is added to the picture
        assert h == pytest.approx(_plot_box(svg.line_chart([], 117, "t", "y", big=big))[3])
    # names too long for one row wrap onto a second, still above the plot
    long = [
        svg.Series(np.array([1.0, 2.0]), "a rather long name for a side " * 2, i) for i in (0, 1)
    ]
    chart = svg.line_chart(long, 117, "t", "y")
    texts = [t for t in ET.fromstring(chart).iter(f"{SVG_NS}text") if t.text == long[0].label]
    assert len({t.get("y") for t in texts}) == 2
    assert all(float(t.get("y")) < _plot_box(chart)[1] for t in texts)


def _mark_boxes(chart: str, big: float) -> list[tuple[str, float, float, float, float]]:
    """Each event mark's text and box (x0, y0, x1, y1), from its anchor and measured width."""
    boxes = []
    for t in ET.fromstring(chart).iter(f"{SVG_NS}text"):
        if t.text and t.text.isupper() and t.get("text-anchor") == "middle":
            font = float(t.get("font-size"))
            half = svg._text_width(t.text, font) / 2
            x, y = float(t.get("x")), float(t.get("y"))
            boxes.append((t.text, x - half, y - 0.75 * font, x + half, y + 0.1 * font))
    return boxes


def _line_points(chart: str) -> list[np.ndarray]:
    """The sides' lines (stroke width 4), sampled every SVG unit along each segment."""
    lines = []
    for line in ET.fromstring(chart).iter(f"{SVG_NS}polyline"):
        if line.get("stroke-width") != "4":
            continue
        pts = np.array([[float(v) for v in p.split(",")] for p in line.get("points").split()])
        samples = [
            np.linspace(a, b, max(2, int(np.hypot(*(b - a))) + 1))
            for a, b in zip(pts[:-1], pts[1:], strict=True)
        ]
        lines.append(np.vstack(samples) if samples else pts)
    return lines


@pytest.mark.parametrize("story", ["side_by_side", *(st.key for st in STORIES)])
def test_event_letters_sit_clear_of_the_lines_and_of_each_other(story):
    controls = (
        Controls(side_by_side=True) if story == "side_by_side" else story_by_key(story).controls
    )
    s = WorkshopSession(controls)
    s.step(s.horizon)
    sides = range(len(s.arms))
    names = s.side_names()
    series = [svg.Series(100 * s.uptake_series(i), names[i], i, tuple(s.events(i))) for i in sides]
    for big in (1.0, 1.35):
        chart = svg.line_chart(series, s.horizon, "t", "y", percent=True, mark_events=True, big=big)
        boxes = _mark_boxes(chart, big)
        assert len(boxes) >= 3
        lines = _line_points(chart)
        for text, x0, y0, x1, y1 in boxes:
            for pts in lines:  # 2.5 units of slack: the line's own half-width
                inside = (pts[:, 0] > x0 + 2.5) & (pts[:, 0] < x1 - 2.5)
                inside &= (pts[:, 1] > y0 + 2.5) & (pts[:, 1] < y1 - 2.5)
                assert not inside.any(), (story, big, text, (x0, y0, x1, y1))
        for a, b in itertools.combinations(boxes, 2):
            overlap = a[1] < b[3] and b[1] < a[3] and a[2] < b[4] and b[2] < a[4]
            assert not overlap, (story, big, a, b)


def test_stage_labels_fit_the_picture_and_do_not_overlap():
    # at the end of the run, thin bands (7%, 19.7 units at the default size: less than a line
    # of text) either side of a wide lapsed band with a long label
    shares = np.tile(np.array([0.30, 0.07, 0.07, 0.07, 0.07, 0.07, 0.35]), (117, 1))
    for big in (1.0, 1.35):
        chart = svg.stages_chart(shares, 117, "Where staff are", big=big)
        root = ET.fromstring(chart)
        width = float(root.get("width"))
        labels = [
            t
            for t in root.iter(f"{SVG_NS}text")
            if t.text and t.text.endswith("%") and t.get("text-anchor") is None
        ]
        assert len(labels) == 7
        ys = sorted(float(t.get("y")) for t in labels)
        font = float(labels[0].get("font-size"))
        assert min(np.diff(ys)) >= font  # no two labels on top of each other
        for t in labels:  # none runs off the picture's right edge
            assert float(t.get("x")) + svg._text_width(t.text, font, bold=False) <= width, t.text
        _, y, _, h = _plot_box(chart)
        assert all(y <= v - 0.7 * font and v <= y + h + 0.3 * font for v in ys)


def test_debrief_table_and_summary_describe_the_run():
    s = WorkshopSession(Controls(side_by_side=True))
    s.step(39)
    rows = list(csv.DictReader(io.StringIO(debrief.table_csv(s).decode())))
    assert len(rows) == 78 and {r["side"] for r in rows} == {"A", "B"}
    assert float(rows[38]["uptake_pct"]) == pytest.approx(s.monitors(0).uptake_pct)
    text = debrief.summary_markdown(s)
    assert text.startswith("# Workshop summary: " + s.headline())
    assert "Start small" in text and "Whole-staff launch" in text
    assert s.difference() in text and "Flood's New Forest case study" in text
    assert "seeds/" not in text and ".txt" not in text


def test_many_runs_use_the_comparison_code_and_match_single_runs():
    import sim

    controls = Controls(side_by_side=True, seed=3)
    band = run_band(controls, ("Whole-staff launch", "Start small"), n_seeds=4, n_jobs=1)
    assert set(band.weekly) == {0, 1} and all(len(v) == 117 for v in band.weekly[0])
    low, mid, high = band.weekly[1]
    assert np.all(low <= mid) and np.all(mid <= high)
    # the runs are the project's own: seed 3 of side B is sim.simulate on the same choices
    single = sim.simulate("new_forest", seed=3, overrides=controls.overrides(controls.side_b))
    row = band.runs[(band.runs.arm == "B") & (band.runs.seed == 3)]
    assert row["uptake_final"].iloc[0] == single.summary["uptake_final"]
    finals = band.summary[(band.summary.arm == "B") & (band.summary.outcome == "uptake_final")]
    assert finals["n"].iloc[0] == 4
    assert finals["mean"].iloc[0] == pytest.approx(
        band.runs[band.runs.arm == "B"].uptake_final.mean()
    )
    assert band.a_ahead + band.b_ahead <= 4
    text = band.text()
    assert text.startswith("Over 4 seeds") and "Start small ahead in" in text


def test_stories_build_and_narrate_with_the_runs_numbers():
    for st in STORIES:
        s = WorkshopSession(st.controls)
        assert s.error is None, (st.key, s.error)
        weeks = [c.week for c in st.checkpoints]
        assert weeks == sorted(weeks) and weeks[-1] <= s.horizon and len(weeks) >= 2
        s.step(weeks[0])
        text = narrate(st.checkpoints[0], s)
        assert "{" not in text and (s.headline() in text or s.difference() in text)


# -- the page in a real browser -------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_server(extra_env=None):
    """Start the page as ``make workshop`` does: the model's kernels are loaded first, so the
    first Run does not wait for them to compile (on a fresh checkout, about 15 s)."""
    load_kernels()
    port = _free_port()
    solara = Path(sys.executable).parent / "solara"
    env = {**os.environ, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False", **(extra_env or {})}
    proc = subprocess.Popen(
        [str(solara), "run", "sim/workshop/app.py", "--host", "127.0.0.1"]
        + ["--port", str(port), "--production", "--no-open"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(url, timeout=2).status == 200:
                return proc, url
        except OSError:
            time.sleep(0.5)
    proc.kill()
    pytest.fail("the workshop server did not start")


def _stop_server(proc) -> float:
    """SIGTERM the server; return the seconds it took to exit (killed after 30 s)."""
    started = time.time()
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return float("inf")
    return time.time() - started


class _Server(str):
    """The server's URL, carrying its process (for the SIGTERM test)."""

    proc: subprocess.Popen


@pytest.fixture(scope="module")
def server():
    """One server for the module: each browser context is its own session with its own model."""
    proc, url = _start_server()
    handle = _Server(url)
    handle.proc = proc
    yield handle
    if proc.poll() is None:
        _stop_server(proc)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium is missing in CI: .ci/run must install Debian's chromium")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


def _open(browser, url, viewport=PROJECTOR):
    context = browser.new_context(viewport=viewport, accept_downloads=True)
    page = context.new_page()
    page.goto(url, wait_until="networkidle")
    page.locator(".stage-frame").wait_for(state="attached", timeout=60000)
    page.wait_for_function(FRAME + " >= 0", timeout=30000)
    page.locator(".network-pic svg").first.wait_for(timeout=30000)
    return context, page


FRAME = "+document.querySelector('.stage-frame').dataset.frame"


def _shot(page, name, full_page=False):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)


def _week(page) -> int:
    match = re.search(r"week (\d+)", page.locator(".monitor-week").first.inner_text())
    return int(match.group(1)) if match else 0


def _button(page, name):
    return page.get_by_role("button", name=name, exact=True)


def _wait_week(page, week, timeout=90000):
    page.wait_for_function(
        f"/week {week} of/.test(document.querySelector('.monitor-week').innerText)"
        f" && !+document.querySelector('.stage-frame').dataset.running",
        timeout=timeout,
        polling=100,
    )


def _uptakes(page) -> list[int]:
    cells = page.locator(".monitor-uptake")
    return [int(cells.nth(i).inner_text().rstrip("%")) for i in range(cells.count())]


def _speed(page, name):
    page.locator(".speed-select").click()
    page.get_by_role("option", name=name).click()


def _download_text(page, label) -> str:
    if not page.get_by_text(label).is_visible():
        page.get_by_text("Debrief: take the run away").click()
    with page.expect_download() as info:
        page.get_by_text(label).click()
    return Path(info.value.path()).read_text(encoding="utf-8")


def _marks(page) -> list[str]:
    """The event letters on the uptake chart (texts made of capitals only)."""
    return page.evaluate(
        "[...document.querySelectorAll('.main-chart svg text')].map(t => t.textContent)"
        ".filter(t => /^[A-Z]+$/.test(t))"
    )


def _side_by_side(page):
    page.get_by_text("Side by side").first.click()
    page.locator(".monitor-gap").wait_for(timeout=30000)


@pytest.mark.browser
def test_page_loads_readable_and_not_blank(browser, server):
    context, page = _open(browser, server)
    for label in ("Set up", "Step", "Run", "To the end of this year", "To the end"):
        assert _button(page, label).count() == 1
    net = page.locator(".network-pic svg").first.bounding_box()
    assert net and net["width"] > 300 and net["height"] > 150
    assert page.locator(".network-pic svg [fill='#f4f4f4']").count() > 50  # unaware staff
    # the uptake chart is above the fold at 1366x768 and nothing covers it
    chart = page.locator(".main-chart svg").bounding_box()
    assert chart and chart["y"] + chart["height"] < PROJECTOR["height"]
    assert "runs on Solara" not in page.inner_text("body")
    assert "whole_staff" not in page.inner_text("body") and "seeds/" not in page.inner_text("body")
    _shot(page, "01_loaded")
    page.get_by_text("Info: what this is").click()
    page.get_by_text("Sources", exact=True).click()
    sources = page.locator(".sources-panel")
    sources.wait_for()
    for name in ("Flood's New Forest case study", "Brown & Flood 2019", "Brown 2019"):
        assert name in sources.inner_text()
    assert "Things to try" in page.locator(".info-panel").inner_text()
    sources.scroll_into_view_if_needed()
    _shot(page, "01_info_and_sources")
    context.close()


@pytest.mark.browser
def test_run_then_pause_within_bounded_time(browser, server):
    context, page = _open(browser, server)
    _speed(page, "5 weeks a second")
    started = time.time()
    _button(page, "Run").click()
    page.wait_for_function(
        "/week ([3-9]|\\d\\d) of/.test(document.querySelector('.monitor-week').innerText)",
        timeout=20000,
        polling=100,
    )
    _button(page, "Pause").click()
    _button(page, "Run").wait_for(timeout=5000)
    paused_after = time.time() - started
    page.wait_for_timeout(1200)
    week = _week(page)
    page.wait_for_timeout(1500)
    assert _week(page) == week and 3 <= week < 30  # paused: the week no longer moves
    assert paused_after < 20
    _shot(page, "02_run_then_paused")
    # Step still works after a pause, and each step reaches the screen quickly
    times = []
    for _ in range(5):
        frame = page.evaluate(FRAME)
        t = time.time()
        _button(page, "Step").click()
        page.wait_for_function(f"{FRAME} > {frame}", timeout=10000, polling=10)
        times.append(time.time() - t)
    _wait_week(page, week + 5, timeout=10000)  # the week's widget follows the pictures'
    assert np.median(times) < 1.0, times  # 0.15 s measured here; generous for busy CI machines
    context.close()


@pytest.mark.browser
def test_to_the_end_of_year_one_and_to_the_end_alone(browser, server):
    context, page = _open(browser, server)
    _button(page, "To the end of this year").click()
    _wait_week(page, 39)
    assert "summer term" in page.locator(".monitor-week").inner_text()
    assert "WL" in _marks(page)  # the first workshop and the launch, in the same week
    _shot(page, "03_end_of_year_one")
    _speed(page, "A month per picture")
    _button(page, "To the end").click()
    _wait_week(page, 117)
    assert _button(page, "Run").is_disabled()
    assert any("S" in m for m in _marks(page))  # support ended
    # the side's name is drawn clear of the plot, so of the curve and its letters
    overlaps = page.evaluate(
        """() => {
        const svg = document.querySelector('.main-chart svg');
        const plot = [...svg.querySelectorAll('rect')].find(r => r.getAttribute('fill') === 'none');
        const p = plot.getBBox();
        return [...svg.querySelectorAll('text')]
          .filter(t => t.textContent === 'Whole-staff launch')
          .map(t => t.getBBox())
          .map(b => b.x < p.x + p.width && p.x < b.x + b.width && b.y < p.y + p.height && p.y < b.y + b.height);
        }"""
    )
    assert overlaps == [False]
    _shot(page, "04_to_the_end")
    context.close()


@pytest.mark.browser
def test_side_by_side_runs_to_the_end_and_writes_the_difference(browser, server):
    context, page = _open(browser, server)
    _side_by_side(page)
    headline = page.locator(".headline-line").inner_text()
    assert headline.startswith("Whole-staff launch:") and "Start small:" in headline
    _speed(page, "A month per picture")
    _button(page, "To the end of this year").click()
    _wait_week(page, 39)
    _button(page, "To the end").click()
    _wait_week(page, 117)
    weeks = page.locator(".monitor-week")
    assert weeks.count() == 1 and "week 117" in weeks.inner_text()
    diff = page.locator(".monitor-gap").inner_text()
    assert re.search(r"(ahead by \d+ points?|level on uptake)", diff), diff
    assert page.locator(".network-pic").count() == 2
    assert page.locator(".main-chart svg polyline").count() >= 2  # both curves
    _shot(page, "05_side_by_side_to_the_end")
    # the same choice on both sides is called out
    page.locator(".side-b .choice-strategy").click()
    page.get_by_role("option", name="Whole-staff launch", exact=True).click()
    page.get_by_text("A and B are the same choices").first.wait_for(timeout=15000)
    _shot(page, "06_identical_sides_warning")
    context.close()


@pytest.mark.browser
def test_two_browsers_run_at_once_without_sharing(browser, server):
    first, page1 = _open(browser, server)
    second, page2 = _open(browser, server)
    _side_by_side(page2)
    _speed(page1, "A month per picture")
    _button(page1, "To the end").click()
    _button(page2, "To the end of this year").click()
    _wait_week(page2, 39, timeout=120000)
    _wait_week(page1, 117, timeout=120000)
    assert _week(page2) == 39
    assert page1.locator(".network-pic").count() == 1 and page2.locator(".network-pic").count() == 2
    _shot(page1, "07_first_browser")
    _shot(page2, "07_second_browser")
    first.close()
    second.close()


@pytest.mark.browser
def test_presenter_view_is_readable_from_the_back(browser, server):
    context, page = _open(browser, server)
    _side_by_side(page)
    _speed(page, "A month per picture")
    _button(page, "To the end of this year").click()
    _wait_week(page, 39)
    _button(page, "Presenter view").click()
    page.locator(".presenter").wait_for(timeout=15000)
    assert page.locator(".controls").count() == 0  # controls hidden
    for selector in (".headline-line", ".monitor-week", ".difference", ".pic-title", ".pic-key"):
        size = page.eval_on_selector(selector, "e => parseFloat(getComputedStyle(e).fontSize)")
        assert size >= 24, (selector, size)
    button = page.eval_on_selector(
        ".runbar .v-btn .v-btn__content", "e => parseFloat(getComputedStyle(e).fontSize)"
    )
    assert button >= 24
    # figures scale with the window: the same chart is wider in a wider window
    narrow = page.locator(".main-chart svg").bounding_box()["width"]
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.wait_for_timeout(500)
    wide = page.locator(".main-chart svg").bounding_box()["width"]
    assert wide > narrow * 1.2
    page.set_viewport_size(PROJECTOR)
    page.wait_for_timeout(500)
    _shot(page, "08_presenter_view")
    context.close()


@pytest.mark.browser
def test_invalid_input_is_shown_on_the_page(browser, server):
    context, page = _open(browser, server)
    seed = page.locator(".seed-input input")
    seed.fill("-3")
    seed.press("Enter")
    message = page.get_by_text("These choices do not make a valid model")
    message.wait_for(timeout=15000)
    assert "seed" in message.inner_text()
    assert "Traceback" not in page.inner_text("body")
    _shot(page, "09_invalid_input")
    context.close()


@pytest.mark.browser
def test_debrief_exports_download_and_read(browser, server, tmp_path):
    context, page = _open(browser, server)
    _side_by_side(page)
    _speed(page, "A month per picture")
    _button(page, "To the end of this year").click()
    _wait_week(page, 39)
    with page.expect_download() as info:
        page.locator(".export-png").click()
    png = tmp_path / "pictures.png"
    info.value.save_as(png)
    from PIL import Image

    with Image.open(png) as im:
        assert im.format == "PNG" and im.width == 1600 and im.height > 1000
        grey = np.asarray(im.convert("L"))
        assert grey.std() > 10  # not a blank picture
    page.get_by_text("Debrief: take the run away").click()
    with page.expect_download() as info:
        page.get_by_text("The run's table (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(Path(info.value.path()).read_text("utf-8"))))
    assert len(rows) == 78 and rows[-1]["week"] == "39"
    with page.expect_download() as info:
        page.get_by_text("One-page summary (Markdown)").click()
    text = Path(info.value.path()).read_text(encoding="utf-8")
    headline = page.locator(".headline-line").inner_text()
    assert text.startswith("# Workshop summary: " + headline)
    assert "## Outcomes so far" in text and "Year 1, summer term, week 39" in text
    _shot(page, "10_debrief", full_page=True)
    context.close()


@pytest.mark.browser
def test_a_story_reaches_its_checkpoints(browser, server):
    context, page = _open(browser, server)
    _speed(page, "A month per picture")
    page.locator(".story-select").click()
    page.get_by_role("option", name="Start small under low trust").click()
    _button(page, "Start the story").click()
    narration = page.locator(".narration")
    narration.wait_for(timeout=15000)
    assert "Trust among staff is low" in narration.inner_text()
    assert page.locator(".network-pic").count() == 2  # the story set up side by side
    # levers drawn per school stay drawn: drawing the sliders sets nothing for all schools
    assert page.get_by_text("(varies by school)").count() >= 3
    _button(page, "Play to the first checkpoint").click()
    for number, week in ((1, 6), (2, 39), (3, 117)):
        page.get_by_text(f"Checkpoint {number} of 3").wait_for(timeout=60000)
        # the narration and the week are separate widgets, updated one after the other
        _wait_week(page, week, timeout=10000)
        if number == 2:
            _shot(page, "11_story_checkpoint")
        if number < 3:
            _button(page, f"Continue to week {(39, 117)[number - 1]}").click()
    assert "difference" not in narration.inner_text() and "{" not in narration.inner_text()
    page.get_by_text("The end of the story.").wait_for(timeout=10000)
    context.close()


@pytest.mark.browser
def test_fifty_seeds_show_the_band_of_outcomes(browser, server):
    context, page = _open(browser, server)
    _speed(page, "A month per picture")
    _button(page, "To the end of this year").click()
    _wait_week(page, 39)
    page.locator(".run-many").click()
    text = page.locator(".band-text")
    text.wait_for(timeout=150000)
    words = text.inner_text()
    assert re.match(r"Over 50 seeds .*: Whole-staff launch \d+% using it at the end", words)
    low, high = map(int, re.search(r"middle 80% of runs (\d+) to (\d+)%", words).groups())
    assert low < high  # chance alone moves the outcome
    assert page.locator(".main-chart svg polygon[fill-opacity='0.16']").count() == 1  # the band
    summary = _download_text(page, "One-page summary (Markdown)")
    assert "**Over many seeds:** Over 50 seeds" in summary
    page.locator(".main-chart").scroll_into_view_if_needed()
    _shot(page, "12_fifty_seeds_band")
    context.close()


@pytest.mark.browser
def test_a_decision_mid_run_is_marked_and_changes_the_trajectory(browser, server):
    context, page = _open(browser, server)
    _side_by_side(page)
    page.locator(".side-b .choice-strategy").click()  # the same choices on both sides...
    page.get_by_role("option", name="Whole-staff launch", exact=True).click()
    page.get_by_text("A and B are the same choices").first.wait_for(timeout=15000)
    # the warning follows the controls; the headline follows the models: wait for B's rebuild
    page.locator(".headline-line", has_text="Whole-staff launch (B)").wait_for(timeout=15000)
    _speed(page, "A month per picture")
    _button(page, "To the end of this year").click()
    _wait_week(page, 39)
    uptakes = _uptakes(page)  # both sides read from one frame
    assert uptakes[0] == uptakes[1], uptakes
    panel = page.locator(".decision-panel")
    panel.locator(
        "label", has_text="In the improvement plan"
    ).click()  # ...then take it out of B's plan
    panel.locator(".decision-side").click()
    page.get_by_role("option", name="B: Whole-staff launch (B) only").click()
    _button(page, "Apply from next week").click()
    page.get_by_text("From next week: In the improvement plan: no (every school)").wait_for()
    page.wait_for_function(
        "[...document.querySelectorAll('.main-chart svg text')].some(t => /^[A-Z]*D$/.test(t.textContent))",
        timeout=10000,
    )
    assert sum("D" in m for m in _marks(page)) == 1  # marked on B only
    _button(page, "To the end").click()
    _wait_week(page, 117)
    rows = [page.locator(f".monitor-side-{i}").inner_text() for i in range(2)]
    assert rows[0].split("\t")[1:] != rows[1].split("\t")[1:], rows
    _shot(page, "13_decision_mid_run")
    context.close()


@pytest.mark.browser
def test_server_stops_on_sigterm_while_a_run_is_going(browser, server):
    """Last in the module: it stops the module's server."""
    context, page = _open(browser, server)
    _speed(page, "1 week a second")
    _button(page, "To the end").click()
    page.wait_for_function("/week [1-9]/.test(document.querySelector('.monitor-week').innerText)")
    seconds = _stop_server(server.proc)
    assert seconds < 10, f"the server took {seconds:.1f} s to stop"
    context.close()


def test_a_network_given_at_start_is_offered_and_runs(tmp_path):
    """make workshop NETWORK=folder: the page offers the imported schools as a scenario (its
    levers, both sides, the many-runs band); a bad folder is refused in one line, exit 2."""
    script = (
        "from sim.workshop.session import CHOICES, Controls, WorkshopSession, load_kernels\n"
        "from sim.workshop.many import run_band\n"
        "assert 'from_files' in CHOICES['scenario']\n"
        "c = Controls(scenario='from_files', side_by_side=True)\n"
        "s = WorkshopSession(c)\n"
        "assert s.error is None, s.error\n"
        "m = s.models[0]\n"
        "print(m.schools.n, m.staff.n, int(m.staff.participant.sum()))\n"
        "s.step(39)\n"
        "assert s.week == 39 and s.monitors(0).use_pct > 0\n"
        "band = run_band(c, ['A', 'B'], n_seeds=4, n_jobs=1)\n"
        "print(len(band.runs))\n"
    )
    env = {**os.environ, "PLN_WORKSHOP_NETWORK": str(ROOT / "examples" / "network")}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    schools, staff, participants = map(int, done.stdout.split()[:3])
    assert (schools, staff) == (3, 38) and participants > 0  # the example network's files
    assert int(done.stdout.split()[3]) == 8  # 4 seeds x 2 sides
    # without the variable the scenario is not offered
    assert "from_files" not in CHOICES["scenario"]
    # a folder without the files: one line, exit 2, before the page starts
    bad = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from sim.workshop.session import check_network; "
            "sys.exit(check_network(sys.argv[1]))",
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    lines = bad.stderr.strip().splitlines()
    assert bad.returncode == 2 and len(lines) == 1 and "network.staff" in lines[0], bad.stderr


@pytest.mark.browser
def test_the_page_runs_a_network_given_at_start(browser):
    """make workshop NETWORK=examples/network: choose "Your network", run a year."""
    proc, url = _start_server({"PLN_WORKSHOP_NETWORK": str(ROOT / "examples" / "network")})
    try:
        context, page = _open(browser, url)
        page.locator(".choice-scenario").click()
        page.get_by_role("option", name="Your network (from its files)").click()
        page.get_by_text("Your own schools").first.wait_for(timeout=30000)
        page.wait_for_function(  # the example network's three schools are drawn
            "(t => /School 3/.test(t) && !/School 4/.test(t))"
            "(document.querySelector('.network-pic').textContent)",
            timeout=30000,
        )
        _speed(page, "A month per picture")
        _button(page, "To the end of this year").click()
        _wait_week(page, 39)
        assert "Traceback" not in page.inner_text("body")
        _shot(page, "13_imported_network")
        context.close()
    finally:
        _stop_server(proc)
