"""Headless Chromium against `streamlit run`: log in, open every page in both languages, phone width."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from dashboards.i18n import t
from tests.conftest import IN_CI, ROOT, free_port
from tests.dashboard.conftest import PASSWORDS

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ARTIFACTS = ROOT / "tests" / "artifacts" / "dashboard"
CHROMIUM = os.environ.get("HUIKUAN_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PAGES = ["overview", "aging", "worklist", "forecast", "customers", "projects", "reconciliation", "models"]


def _need_chromium() -> None:
    if not Path(CHROMIUM).exists():
        msg = f"Chromium not found at {CHROMIUM} (apt-get install chromium, or set HUIKUAN_CHROMIUM)"
        if IN_CI:
            pytest.fail(msg + " — CI=true: the browser tests must run")
        pytest.skip(msg)



def start_server(home: Path) -> tuple[subprocess.Popen, str]:
    """`streamlit run` on a free loopback port for the instance at `home`; waits until it answers."""
    from huikuan.commands.dashboard import streamlit_command

    port = free_port()
    env = dict(os.environ, HUIKUAN_HOME=str(home), HUIKUAN_LANGUAGE="zh",
               STREAMLIT_BROWSER_GATHER_USAGE_STATS="false")
    with open(home / "streamlit.log", "w") as log:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen(streamlit_command(port, "127.0.0.1"), cwd=ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited: {(home / 'streamlit.log').read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.3)
    proc.terminate()
    raise RuntimeError("streamlit did not start within 60 s")


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def server(real_instance):
    _need_chromium()
    proc, url = start_server(real_instance)
    yield url
    stop_server(proc)


@pytest.fixture(scope="module")
def browser():
    _need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


def wait_ready(page, title: str, timeout: float = 30.0) -> None:
    """Until the page's title is shown and the app stopped running."""
    page.wait_for_selector(f'h1:has-text("{title}")', timeout=timeout * 1000)
    deadline = time.time() + timeout
    quiet_since = None
    while time.time() < deadline:
        running = page.locator('[data-testid="stStatusWidget"]').count() > 0
        if running:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.time()
        elif time.time() - quiet_since > 1.5:  # tables draw on a canvas just after the run ends
            return
        page.wait_for_timeout(150)
    raise AssertionError(f"{title}: still running after {timeout} s")


def log_in(page, url: str, lang: str, username: str = "cfo") -> None:
    page.goto(f"{url}/?lang={lang}")
    page.get_by_label(t("username", lang), exact=True).fill(username)
    page.get_by_label(t("password", lang), exact=True).fill(PASSWORDS[username])
    page.get_by_role("button", name=t("login_button", lang)).click()
    wait_ready(page, t("page_overview", lang))


def open_page(page, name: str, lang: str) -> None:
    # The default page's link points at "/", so find links by their (translated) title.
    page.locator('[data-testid="stSidebarNav"] a').filter(has_text=t(f"page_{name}", lang)).first.click()
    wait_ready(page, t("aging_title" if name == "aging" else f"page_{name}", lang))


def watch_console(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url} ({r.failure})"))
    return errors


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_page_in_the_browser(server, browser, lang):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    # Tall enough that a screenshot shows a whole page (Streamlit scrolls inside its own container).
    context = browser.new_context(viewport={"width": 1440, "height": 2000},
                                  locale="zh-CN" if lang == "zh" else "en-US")
    page = context.new_page()
    errors = watch_console(page)
    log_in(page, server, lang)
    for name in PAGES:
        if name != "overview":
            open_page(page, name, lang)
        page.screenshot(path=str(ARTIFACTS / f"{name}-{lang}.png"), full_page=True)
        assert page.locator('[data-testid="stException"]').count() == 0, f"{name}: exception shown"
        assert page.locator('[data-testid="stAlertContentError"]').count() == 0, f"{name}: error shown"
    assert not errors, errors
    context.close()


def test_phone_width_overview_and_worklist(server, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                  device_scale_factor=2)
    page = context.new_page()
    errors = watch_console(page)
    log_in(page, server, "zh", "collector")
    metrics = page.locator('[data-testid="stMetric"]')
    assert metrics.count() >= 3
    first = metrics.first.bounding_box()
    assert first and first["x"] >= 0 and first["x"] + first["width"] <= 390 + 1
    page.screenshot(path=str(ARTIFACTS / "overview-phone.png"), full_page=True)
    # The sidebar collapses on a phone: open it to navigate, as a person would.
    page.locator('[data-testid="stExpandSidebarButton"], [data-testid="stSidebarCollapsedControl"] button').first.click()
    open_page(page, "worklist", "zh")
    collapse = page.locator('[data-testid="stSidebarCollapseButton"] button')
    if collapse.count() and collapse.first.is_visible():
        collapse.first.click()  # close the drawer, as a person would, to read the list
        page.wait_for_timeout(500)
    table = page.locator('[data-testid="stDataFrame"]').first
    box = table.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390 + 1, box
    page.screenshot(path=str(ARTIFACTS / "worklist-phone.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390 + 1, f"the page scrolls sideways at 390 px ({width} px wide)"
    assert page.locator('[data-testid="stException"]').count() == 0
    assert not errors, errors
    context.close()


def test_pages_keep_rendering_while_publishing(server, browser, real_instance):
    """Click through pages in a real browser while the pipeline swaps snapshots underneath."""
    import threading

    from tests.dashboard.test_publish_while_serving import _publisher

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors = watch_console(page)
    log_in(page, server, "en")
    stop, published, failures = threading.Event(), [], []
    thread = threading.Thread(target=_publisher, args=(real_instance, stop, published, failures), daemon=True)
    thread.start()
    try:
        for _ in range(2):
            for name in ("aging", "customers", "worklist", "overview"):
                open_page(page, name, "en")
                assert page.locator('[data-testid="stException"]').count() == 0, name
    finally:
        stop.set()
        thread.join(timeout=60)
    assert not failures, failures
    assert len(published) >= 2
    assert not errors, errors
    context.close()
