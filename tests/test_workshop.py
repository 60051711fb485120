"""The workshop page: its session logic, and the page itself in headless Chromium (Playwright).

Browser tests start ``solara run sim/workshop/app.py`` on 127.0.0.1 and drive Debian's Chromium
with Playwright. Screenshots of each state are saved under ``test-artifacts/workshop/``. Without
Chromium they are skipped locally; in CI (``CI=true``, where ``.ci/run`` installs it) they fail.
"""

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from sim.workshop.session import CHOICES, Controls, WorkshopSession

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


# -- session logic (no browser) -------------------------------------------------------------------


def test_session_steps_and_monitors_follow_the_model():
    s = WorkshopSession()
    assert s.monitors().week == 0 and s.monitors().when == "Before the first week"
    s.step(40)
    m = s.monitors()
    assert m.week == 40 and m.year == 2 and m.term == 1
    assert m.teacher_hours > 0 and m.pupils_reached > 0
    assert len(s.uptake_series()) == 40
    assert np.allclose(s.stage_shares().sum(axis=1), 1.0)


def test_side_by_side_models_share_the_seed_and_differ_only_in_the_choice():
    s = WorkshopSession(Controls(side_by_side=True))
    a, b = s.models
    assert a.config.strategy.name == "whole_staff" and b.config.strategy.name == "start_small"
    assert np.array_equal(a.staff.threshold, b.staff.threshold)
    assert np.array_equal(a.ties.trust, b.ties.trust)
    s.step(60)
    assert a.week == b.week == 60
    assert s.gap() == pytest.approx(s.monitors(1).uptake_pct - s.monitors(0).uptake_pct)


def test_invalid_choices_give_a_readable_message_and_keep_the_old_model():
    s = WorkshopSession()
    before = s.models
    assert not s.setup(s.controls.with_values(seed=-1))
    assert "seed" in s.error and "\n" not in s.error
    assert s.models is before


def test_sessions_do_not_share_models():
    one, two = WorkshopSession(), WorkshopSession()
    one.step(5)
    assert two.monitors().week == 0
    assert one.models[0] is not two.models[0]


def test_every_offered_choice_builds_a_model():
    for key in ("strategy", "mode", "selection"):
        for value in CHOICES[key]:
            s = WorkshopSession(Controls().with_values(**{f"a_{key}": value}))
            assert s.error is None, (key, value, s.error)
    for scenario in CHOICES["scenario"]:
        assert WorkshopSession(Controls(scenario=scenario)).error is None


# -- the page in a real browser -------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server():
    """A fresh workshop server per test, so no test depends on sessions another left behind."""
    port = _free_port()
    solara = Path(sys.executable).parent / "solara"
    env = {**os.environ, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False"}
    proc = subprocess.Popen(
        [
            str(solara),
            "run",
            "sim/workshop/app.py",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--production",
            "--no-open",
        ],
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
                break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("the workshop server did not start")
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


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


def _open(browser, url):
    context = browser.new_context(viewport={"width": 1500, "height": 1100})
    page = context.new_page()
    page.goto(url, wait_until="networkidle")
    page.locator(".monitor-week").first.wait_for(timeout=30000)
    page.locator("img").first.wait_for(timeout=30000)
    return context, page


def _shot(page, name):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _monitor(page, cls):
    return page.locator(f".{cls}").first.inner_text()


def _week(page) -> int:
    match = re.search(r"week (\d+)", _monitor(page, "monitor-week"))
    return int(match.group(1)) if match else 0


def _wait_week(page, at_least, timeout=60):
    deadline = time.time() + timeout
    while _week(page) < at_least and time.time() < deadline:
        page.wait_for_timeout(200)
    return _week(page)


def _pause(page):
    page.get_by_role("button", name="Pause").click()
    page.get_by_role("button", name="Run").wait_for(timeout=30000)
    page.wait_for_timeout(1000)  # let the last drawn week arrive
    week = _week(page)
    page.wait_for_timeout(800)
    assert _week(page) == week  # paused: the week no longer moves


def test_page_loads_and_is_not_blank(browser, server):
    context, page = _open(browser, server)
    for label in ("Set up", "Step", "Run", "Reset"):
        assert page.get_by_role("button", name=label).count() == 1
    images = page.locator("img")
    assert images.count() >= 2  # network and curves
    box = images.first.bounding_box()
    assert box and box["width"] > 200 and box["height"] > 200
    assert "uptake 0.0%" in _monitor(page, "monitor-uptake")
    _shot(page, "01_loaded")
    context.close()


def test_stepping_advances_the_week_and_uptake(browser, server):
    context, page = _open(browser, server)
    for n in range(1, 4):
        page.get_by_role("button", name="Step").click()
        page.wait_for_function(
            f"document.querySelector('.monitor-week').innerText.includes('week {n}')",
            timeout=15000,
        )
    assert _week(page) == 3
    page.get_by_role("button", name="Run").click()
    week = _wait_week(page, 45)
    _pause(page)
    assert week >= 45
    uptake = float(re.search(r"uptake ([\d.]+)%", _monitor(page, "monitor-uptake")).group(1))
    assert uptake > 0
    _shot(page, "02_stepped")
    context.close()


def test_changing_a_control_and_resetting_changes_the_model(browser, server):
    context, page = _open(browser, server)
    page.get_by_role("button", name="Step").click()
    _wait_week(page, 1)
    page.locator(".v-select").filter(has_text="strategy").first.click()
    page.get_by_role("option", name="none", exact=True).click()
    page.get_by_text("Controls changed").wait_for(timeout=15000)
    page.get_by_role("button", name="Reset").click()
    page.get_by_text("none, none, mixed").first.wait_for(timeout=15000)
    assert _week(page) == 0
    _shot(page, "03_changed_and_reset")
    context.close()


def test_side_by_side_shows_two_networks_two_curves_and_the_gap(browser, server):
    context, page = _open(browser, server)
    page.get_by_text("side by side").click()
    page.get_by_role("button", name="Set up").click()
    page.locator(".monitor-gap").wait_for(timeout=15000)
    uptakes = page.locator(".monitor-uptake")
    assert uptakes.count() == 2
    assert uptakes.nth(0).inner_text().startswith("A: whole_staff")
    assert uptakes.nth(1).inner_text().startswith("B: start_small")
    for n in range(1, 6):
        page.get_by_role("button", name="Step").click()
        page.wait_for_function(
            f"document.querySelector('.monitor-week').innerText.includes('week {n}')",
            timeout=30000,
        )
    weeks = page.locator(".monitor-week")
    assert "week 5" in weeks.nth(0).inner_text() and "week 5" in weeks.nth(1).inner_text()
    assert page.locator("img").count() >= 3  # two networks, and the curves of both sides
    assert "gap (B - A)" in page.locator(".monitor-gap").inner_text()
    _shot(page, "04_side_by_side")
    context.close()


def test_two_browsers_do_not_share_a_model(browser, server):
    first, page1 = _open(browser, server)
    second, page2 = _open(browser, server)
    for _ in range(3):
        page1.get_by_role("button", name="Step").click()
        page1.wait_for_timeout(400)
    assert _wait_week(page1, 3) == 3
    page2.wait_for_timeout(500)
    assert _week(page2) == 0
    _shot(page2, "05_second_browser_untouched")
    first.close()
    second.close()


def test_invalid_input_shows_a_message_not_a_traceback(browser, server):
    context, page = _open(browser, server)
    seed = page.get_by_role("textbox", name="seed")
    seed.fill("-3")
    seed.press("Enter")
    page.get_by_role("button", name="Set up").click()
    message = page.get_by_text("These choices do not make a valid model")
    message.wait_for(timeout=15000)
    assert "seed" in message.inner_text()
    assert "Traceback" not in page.inner_text("body")
    _shot(page, "06_invalid_input")
    context.close()
