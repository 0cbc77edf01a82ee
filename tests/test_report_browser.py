"""Open the built report and slides in headless Chromium: the summary fits one screen, nothing overflows on a
phone, figures decode, keys move between slides, nothing is fetched from the network, nothing logs an error."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from report_fixture import NAMES, make_project

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
DECODED = "els => els.map(e => ({alt: e.alt, ok: e.complete && e.naturalWidth > 0 && e.naturalHeight > 0}))"


@pytest.fixture
def report_dir(tmp_path, monkeypatch) -> Path:
    """The report built from the fake project (the real one needs a full `dvc repro`)."""
    if CHROMIUM is None:
        pytest.skip("no Chromium installed (Debian: apt-get install chromium); .ci/run installs it")
    pytest.importorskip("playwright.sync_api", reason="playwright not installed (pip install -e '.[test]')")
    from dlps.report import build

    build(make_project(tmp_path / "project", monkeypatch))
    return tmp_path / "project" / "report"


class Browser:
    """One Chromium with a fresh profile; records console errors and every request."""

    def __init__(self, profile: Path):
        from playwright.sync_api import sync_playwright

        self.errors, self.requests = [], []
        self._p = sync_playwright().start()
        self.ctx = self._p.chromium.launch_persistent_context(str(profile), executable_path=CHROMIUM, args=ARGS,
                                                              headless=True, viewport={"width": 1280, "height": 800})

    def open(self, path: Path, width: int = 1280, height: int = 800):
        page = self.ctx.new_page()
        page.set_viewport_size({"width": width, "height": height})
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("request", lambda r: self.requests.append(r.url))
        page.goto(path.as_uri(), wait_until="load")
        return page

    def external(self) -> list[str]:
        return [u for u in self.requests if not u.startswith(("file:", "data:"))]

    def close(self):
        self.ctx.close()
        self._p.stop()


def test_index_summary_fits_one_screen_and_nothing_overflows_on_a_phone(report_dir, tmp_path):
    b = Browser(tmp_path / "profile")
    try:
        page = b.open(report_dir / "index.html")
        box = page.eval_on_selector("#summary", "e => e.getBoundingClientRect().toJSON()")
        cards = page.eval_on_selector_all("#summary .card", "els => els.length")
        images = page.eval_on_selector_all("img", DECODED)
        nav = page.eval_on_selector_all("nav a", "els => els.map(e => e.getAttribute('href'))")
        page.screenshot(path=str(tmp_path / "index.png"))
        phone = b.open(report_dir / "index.html", width=390, height=844)
        widths = phone.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        wide = phone.evaluate("""() => [...document.querySelectorAll('body *')].filter(e => {
            const r = e.getBoundingClientRect(); if (r.right <= innerWidth + 1) return false;
            for (let p = e.parentElement; p; p = p.parentElement) if (getComputedStyle(p).overflowX !== 'visible') return false;
            return true; }).map(e => e.tagName + '.' + e.className).slice(0, 5)""")
    finally:
        b.close()
    assert cards == len(NAMES)
    assert box["top"] >= 0 and box["bottom"] <= 800 and box["right"] <= 1280, box
    assert images and all(i["ok"] for i in images) and all(i["alt"] for i in images)
    assert widths[0] <= widths[1], widths
    assert not wide, wide
    assert {"#summary", "#claims", "#literature", "#methods"} <= set(nav)
    assert not b.errors, b.errors
    assert not b.external(), b.external()
    assert (tmp_path / "index.png").stat().st_size > 10_000


def test_slides_decode_move_with_the_keys_and_stay_offline(report_dir, tmp_path):
    b = Browser(tmp_path / "profile")
    try:
        page = b.open(report_dir / "slides.html")
        n = page.eval_on_selector_all("section", "els => els.length")
        images = page.eval_on_selector_all("img", DECODED)
        active = lambda: page.evaluate(  # noqa: E731
            "() => [...document.querySelectorAll('section')].findIndex(s => s.classList.contains('active'))")
        seen = [active()]
        for key in ("ArrowRight", "Space", "ArrowRight", "ArrowLeft", "End", "Home"):
            page.keyboard.press(key)
            seen.append(active())
        page.keyboard.press("n")
        notes = page.eval_on_selector("section.active aside.notes", "e => getComputedStyle(e).display")
        visible = page.evaluate("() => [...document.querySelectorAll('section')].filter("
                                "s => getComputedStyle(s).display !== 'none').length")
        page.emulate_media(media="print")
        printed = page.evaluate("() => [...document.querySelectorAll('section')].filter("
                                "s => getComputedStyle(s).display !== 'none').length")
    finally:
        b.close()
    assert n >= 11
    assert len(images) >= len(NAMES) and all(i["ok"] for i in images), images
    assert seen == [0, 1, 2, 3, 2, n - 1, 0], seen
    assert notes == "block" and visible == 1 and printed == n
    assert not b.errors, b.errors
    assert not b.external(), b.external()
