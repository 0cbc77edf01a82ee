"""Open the built report in headless Chromium: figures decode, no console errors, no network requests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def report_html() -> Path:
    path = ROOT / "report/index.html"
    if not path.is_file():
        pytest.skip("report/index.html not built (run `dvc repro`)")
    return path


def test_report_in_headless_chromium(report_html, tmp_path):
    if CHROMIUM is None:
        pytest.skip("no Chromium installed (Debian: apt-get install chromium); .ci/run installs it")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed (pip install -e '.[test]')")
    console_errors, requests = [], []
    with sync_api.sync_playwright() as p:
        # a fresh profile folder per run (Chromium's --user-data-dir)
        browser = p.chromium.launch_persistent_context(str(tmp_path / "profile"), executable_path=CHROMIUM, args=ARGS,
                                                       headless=True, viewport={"width": 1200, "height": 900})
        try:
            page = browser.new_page()
            page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: console_errors.append(str(e)))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(report_html.as_uri(), wait_until="load")
            images = page.eval_on_selector_all(
                "img", "els => els.map(e => ({alt: e.alt, ok: e.complete && e.naturalWidth > 0 && e.naturalHeight > 0}))")
            headings = page.eval_on_selector_all("nav a", "els => els.map(e => e.getAttribute('href'))")
            page.screenshot(path=str(tmp_path / "report.png"), full_page=False)
        finally:
            browser.close()
    assert images and all(i["ok"] for i in images), [i["alt"] for i in images if not i["ok"]]
    assert all(i["alt"] for i in images)
    assert not console_errors, console_errors
    external = [u for u in requests if not u.startswith(("file:", "data:"))]
    assert not external, external
    assert "#summary" in headings and "#claims" in headings
    assert (tmp_path / "report.png").stat().st_size > 10_000
