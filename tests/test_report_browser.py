"""Open the built report and slides in headless Chromium: the bottom line comes first, the first experiment follows
within two screens, the summary cards show their sentences whole and their thumbnails open the figures, no
Markdown is left unrendered, no table is wider than its column, table cells never break a word and only numbers are
right-aligned, nothing overflows the viewport outside a scroll container at 1280 or 390 px, figures decode, the
deck moves by keys, clicks, swipes and `#n` addresses, a multi-panel figure gets the slide's width, nothing is
fetched from the network, nothing logs an error."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from report_fixture import NAMES, WIDE_FIGURE, make_project

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
DECODED = "els => els.map(e => ({alt: e.alt, ok: e.complete && e.naturalWidth > 0 && e.naturalHeight > 0}))"
# cells where a word (two letters or more; a line may break after its hyphens; identifiers and hashes of 30 characters
# or more may break anywhere) is wider than the cell's content box: the word was broken mid-word
BROKEN_WORDS = """() => {
  const ctx = document.createElement('canvas').getContext('2d'), bad = [];
  for (const c of document.querySelectorAll('td, th')) {
    if (!c.getClientRects().length) continue;  // a header hidden on a phone, where each row is a card
    const st = getComputedStyle(c);
    ctx.font = `${st.fontStyle} ${st.fontWeight} ${st.fontSize} ${st.fontFamily}`;
    const inner = c.clientWidth - parseFloat(st.paddingLeft) - parseFloat(st.paddingRight);
    const word = c.innerText.split(/\\s+|(?<=[-–/])/).filter(w => /\\p{L}{2}/u.test(w) && w.length < 30)
      .find(w => ctx.measureText(w).width > inner + 2);
    if (word) bad.push(`${word} in a ${Math.round(inner)} px cell`);
  }
  return bad.slice(0, 5); }"""
# text cells (anything but a bare number) that are not left-aligned
RIGHT_TEXT = """() => [...document.querySelectorAll('td')].filter(c => {
  const t = c.innerText.trim();
  return t && !/^[-+−]?(\\d+([.,]\\d+)*|\\.\\d+)(e[-+−]?\\d+)?%?$/i.test(t)
    && !['left', 'start'].includes(getComputedStyle(c).textAlign); }).map(c => c.innerText.slice(0, 40)).slice(0, 5)"""
# elements reaching past the viewport's right edge with no scroll container around them
OVERFLOW = """() => [...document.querySelectorAll('body *')].filter(e => {
  const r = e.getBoundingClientRect(); if (r.right <= innerWidth + 1) return false;
  for (let p = e.parentElement; p; p = p.parentElement) if (getComputedStyle(p).overflowX !== 'visible') return false;
  return true; }).map(e => e.tagName + '.' + e.className).slice(0, 5)"""
# summary boxes whose text is cut (ellipsis, line clamp, hidden overflow)
CLIPPED = """() => [...document.querySelectorAll('#summary .card *')].filter(e =>
  e.scrollWidth > e.clientWidth + 1 || e.scrollHeight > e.clientHeight + 1).map(e => e.className).slice(0, 5)"""
# rendered text holding literal Markdown markers (bold or code) that the page should have rendered
MARKDOWN_LEFT = """() => { const w = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT), bad = [];
  for (let n = w.nextNode(); n; n = w.nextNode())
    if (/\\*\\*|`/.test(n.nodeValue)) bad.push(n.nodeValue.trim().slice(0, 60));
  return bad.slice(0, 5); }"""
# shown tables wider than the column they sit in (a scroll box around one does not count as its column)
WIDE_TABLES = """() => [...document.querySelectorAll('table')].filter(t => {
  if (!t.getClientRects().length) return false;  // folded in a <details>
  let col = t.parentElement; while (col.classList.contains('scroll')) col = col.parentElement;
  const st = getComputedStyle(col), room = col.clientWidth - parseFloat(st.paddingLeft) - parseFloat(st.paddingRight);
  return t.getBoundingClientRect().width > room + 1;
}).map(t => `${t.rows[0].cells[0].innerText}: ${Math.round(t.getBoundingClientRect().width)} px`).slice(0, 5)"""
# summary thumbnails that do not link to a figure showing the same image
UNLINKED_THUMBS = """() => [...document.querySelectorAll('#summary img')].filter(i => {
  const a = i.closest('a[href^="#"]'), target = a && document.getElementById(a.getAttribute('href').slice(1));
  const shown = target && target.tagName === 'FIGURE' && target.querySelector('img');
  return !(shown && shown.src === i.src); }).map(i => i.alt).slice(0, 5)"""
BOX = "sel => { const e = document.querySelector(sel); return e && e.getBoundingClientRect().toJSON(); }"
ACTIVE = "() => [...document.querySelectorAll('section')].findIndex(s => s.classList.contains('active'))"


@pytest.fixture
def report_dir(tmp_path, monkeypatch) -> Path:
    """The report built from the fake project (the real one needs a full `dvc repro`)."""
    if CHROMIUM is None:
        pytest.skip("no Chromium installed (Debian: apt-get install chromium); .ci/run installs it")
    pytest.importorskip("playwright.sync_api", reason="playwright not installed (pip install -e '.[test]')")
    from dlps.report.build import build

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

    def open(self, path: Path, width: int = 1280, height: int = 800, fragment: str = ""):
        page = self.ctx.new_page()
        page.set_viewport_size({"width": width, "height": height})
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("request", lambda r: self.requests.append(r.url))
        page.goto(path.as_uri() + fragment, wait_until="load")
        return page

    def external(self) -> list[str]:
        return [u for u in self.requests if not u.startswith(("file:", "data:"))]

    def close(self):
        self.ctx.close()
        self._p.stop()


def test_index_reads_at_desktop_and_phone_widths(report_dir, tmp_path):
    b = Browser(tmp_path / "profile")
    seen = {}
    try:
        for width, height in ((1280, 800), (390, 844)):
            page = b.open(report_dir / "index.html", width, height)
            seen[width] = {
                "bottom": page.evaluate(BOX, "#bottom-line"), "summary": page.evaluate(BOX, "#summary"),
                "text": page.eval_on_selector("#summary", "e => e.innerText"),
                "clipped": page.evaluate(CLIPPED), "broken": page.evaluate(BROKEN_WORDS),
                "right": page.evaluate(RIGHT_TEXT), "overflow": page.evaluate(OVERFLOW),
                "wide": page.evaluate(WIDE_TABLES), "first": page.evaluate(BOX, f"#{NAMES[0]}"),
                "widths": page.evaluate("() => [document.documentElement.scrollWidth, "
                                        "document.documentElement.clientWidth]")}
            if width == 1280:
                cards = page.eval_on_selector_all("#summary .card", "els => els.length")
                images = page.eval_on_selector_all("img", DECODED)
                nav = page.eval_on_selector_all("nav a", "els => els.map(e => e.getAttribute('href'))")
                markdown, unlinked = page.evaluate(MARKDOWN_LEFT), page.evaluate(UNLINKED_THUMBS)
                page.screenshot(path=str(tmp_path / "index.png"))
    finally:
        b.close()
    for width, s in seen.items():
        assert s["bottom"] and 0 <= s["bottom"]["top"] and s["bottom"]["bottom"] <= s["summary"]["top"], width
        assert s["summary"]["top"] < 800, width  # the summary starts on the first screen
        assert "…" not in s["text"] and not s["clipped"], (width, s["clipped"])
        assert not s["broken"], (width, s["broken"])
        assert not s["right"], (width, s["right"])
        assert not s["overflow"], (width, s["overflow"])
        assert s["widths"][0] <= s["widths"][1], (width, s["widths"])
        assert not s["wide"], (width, s["wide"])  # wide tables wrap in their column (cards on a phone)
    # the verdicts table (every primary beside the confirmatory run's verdict) sits between the summary and the
    # first experiment
    assert seen[1280]["first"]["top"] < 5 * 800, seen[1280]["first"]  # the first experiment within two screens
    assert not markdown, markdown  # prose from Markdown files is rendered, not shown as source
    assert not unlinked, unlinked  # every summary thumbnail opens its figure
    assert cards == len(NAMES)
    assert images and all(i["ok"] for i in images) and all(i["alt"] for i in images)
    assert {"#summary", "#protocol", "#claims", "#literature", "#methods", "#pilot"} <= set(nav)
    assert not b.errors, b.errors
    assert not b.external(), b.external()
    assert (tmp_path / "index.png").stat().st_size > 10_000


def test_slides_move_by_keys_clicks_swipes_and_addresses(report_dir, tmp_path):
    b = Browser(tmp_path / "profile")
    try:
        page = b.open(report_dir / "slides.html")
        n = page.eval_on_selector_all("section", "els => els.length")
        images = page.eval_on_selector_all("img", DECODED)
        seen = [page.evaluate(ACTIVE)]
        for key in ("ArrowRight", "Space", "ArrowRight", "ArrowLeft", "End", "Home"):
            page.keyboard.press(key)
            seen.append(page.evaluate(ACTIVE))
        page.keyboard.press("n")
        notes = page.eval_on_selector("section.active aside.notes", "e => getComputedStyle(e).display")
        visible = page.evaluate("() => [...document.querySelectorAll('section')].filter("
                                "s => getComputedStyle(s).display !== 'none').length")
        page.emulate_media(media="print")
        printed = page.evaluate("() => [...document.querySelectorAll('section')].filter("
                                "s => getComputedStyle(s).display !== 'none').length")

        page = b.open(report_dir / "slides.html", fragment="#3")
        moves = [(page.evaluate(ACTIVE), page.evaluate("location.hash"))]
        for x in (960, 320):  # right half forward, left half back
            page.mouse.click(x, 400)
            moves.append((page.evaluate(ACTIVE), page.evaluate("location.hash")))
        page.evaluate("""() => { const t = x => [new Touch({identifier: 1, target: document.body, clientX: x,
            clientY: 400})], fire = (type, x) => document.dispatchEvent(new TouchEvent(type, {bubbles: true,
            touches: type === 'touchstart' ? t(x) : [], changedTouches: t(x)}));
            fire('touchstart', 900); fire('touchend', 300); }""")  # a swipe to the left
        moves.append((page.evaluate(ACTIVE), page.evaluate("location.hash")))
        page.reload(wait_until="load")
        moves.append((page.evaluate(ACTIVE), page.evaluate("location.hash")))

        wide = page.evaluate(f"""() => [...document.querySelectorAll('section')].findIndex(s =>
            [...s.querySelectorAll('img')].some(i => i.alt.startsWith('{WIDE_FIGURE} ')))""")
        page.keyboard.press("Home")
        for _ in range(wide):
            page.keyboard.press("ArrowRight")
        share = page.evaluate(f"""() => {{ const s = document.querySelectorAll('section')[{wide}],
            i = s.querySelector('img'), r = i.getBoundingClientRect(), st = getComputedStyle(s),
            shown = Math.min(r.width, r.height * i.naturalWidth / i.naturalHeight);
            return shown / (s.clientWidth - parseFloat(st.paddingLeft) - parseFloat(st.paddingRight)); }}""")
    finally:
        b.close()
    assert moves == [(2, "#3"), (3, "#4"), (2, "#3"), (3, "#4"), (3, "#4")], moves
    assert share >= 0.8, f"the {WIDE_FIGURE} multi-panel figure shows at {share:.0%} of the slide's width"
    assert n >= 15
    assert len(images) >= len(NAMES) and all(i["ok"] for i in images), images
    assert seen == [0, 1, 2, 3, 2, n - 1, 0], seen
    assert notes == "block" and visible == 1 and printed == n
    assert not b.errors, b.errors
    assert not b.external(), b.external()
