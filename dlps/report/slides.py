"""report/slides.html: a self-contained deck for a 7-minute talk (title and bottom line, methods, one slide per
experiment, claims, literature and its sources, takeaways and limitations), generated from the same data as the
report, with two or three sentences of speaker notes per slide."""

from __future__ import annotations

import html
import struct

from dlps.report.data import Data, bottom_line, effect_text, methods_lines, power_plan, underpowered
from dlps.report.doc import badge_html, data_uri, md_inline
from dlps.fmt import fmt

WIDE = 1.8  # width / height: a figure this wide has several panels and gets the slide's full width
CSS = """
*{box-sizing:border-box}html,body{margin:0;height:100%;background:#fff;color:#222;font:18px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif}
section{display:none;position:absolute;inset:0;padding:2rem 3rem 2.4rem;overflow:auto}
section.active{display:block}
h1{font-size:2rem;margin:0 0 .6rem}h2{font-size:1.5rem;margin:0 0 .6rem}
.badge{display:inline-block;border:2px solid currentColor;border-radius:.8em;padding:0 .5em;font-weight:600;white-space:nowrap}
.shown{color:#176317}.refuted{color:#a11}.inconclusive{color:#555}.mixed{color:#8a5a00}
.row{display:flex;gap:1.5rem;align-items:flex-start}.row>div{flex:1;min-width:0}.row>div:first-child{flex:1.5}
.row.wide{flex-direction:column;gap:.6rem}.row.wide>div{flex:none;width:100%}
.row.wide>div:last-child{display:grid;grid-template-columns:1fr 1.4fr;gap:1.5rem}.row.wide p{margin-top:0}
img{width:100%;max-height:66vh;object-fit:contain;border:1px solid #eee}.row.wide img{max-height:54vh}
table{border-collapse:collapse;font-size:.72rem}td,th{border:1px solid #ccc;padding:.15rem .4rem;text-align:left;vertical-align:top}
.small{font-size:.8rem;color:#444}.big{font-size:1.1rem;font-weight:600}.num{white-space:nowrap}
ol.src{font-size:.8rem;line-height:1.3;color:#333;padding-left:1.6rem}ul.tight li{margin:.15rem 0}
aside.notes{display:none;position:fixed;left:0;right:0;bottom:0;max-height:40%;overflow:auto;background:#fffbe6;border-top:2px solid #e0c200;padding:.5rem 3rem;font-size:.85rem}
body.show-notes section.active aside.notes{display:block}
#counter{position:fixed;right:1rem;bottom:.5rem;font-size:.8rem;color:#666}
@media (max-width:700px){section{padding:1rem}.row{flex-direction:column}.row>div{width:100%}
.row.wide>div:last-child{display:block}}
@media print{section{display:block!important;position:relative;height:auto;min-height:100vh;page-break-after:always;break-after:page}
aside.notes,#counter{display:none!important}}
"""
# click: right half forward, left half back; swipe; keys; #n addresses slide n (1-based) and follows every move
JS = """
(function(){
  var s=document.querySelectorAll('section'),i=0,c=document.getElementById('counter'),x0=null,y0=0;
  function fromHash(){var n=parseInt(location.hash.slice(1),10);return isNaN(n)?0:n-1;}
  function show(n){i=Math.max(0,Math.min(s.length-1,n));for(var k=0;k<s.length;k++){s[k].classList.toggle('active',k===i);}
    c.textContent=(i+1)+' / '+s.length;document.body.setAttribute('data-slide',String(i));
    var h='#'+(i+1);if(location.hash!==h){try{history.replaceState(null,'',h);}catch(e){location.hash=h;}}}
  document.addEventListener('keydown',function(e){
    if(e.key==='ArrowRight'||e.key==='ArrowDown'||e.key===' '||e.key==='PageDown'){show(i+1);e.preventDefault();}
    else if(e.key==='ArrowLeft'||e.key==='ArrowUp'||e.key==='PageUp'){show(i-1);e.preventDefault();}
    else if(e.key==='Home'){show(0);}else if(e.key==='End'){show(s.length-1);}
    else if(e.key==='n'||e.key==='N'){document.body.classList.toggle('show-notes');}
  });
  document.addEventListener('click',function(e){
    if(e.button!==0||(e.target.closest&&e.target.closest('a,aside.notes')))return;
    show(e.clientX>=window.innerWidth/2?i+1:i-1);
  });
  document.addEventListener('touchstart',function(e){x0=e.touches[0].clientX;y0=e.touches[0].clientY;},{passive:true});
  document.addEventListener('touchend',function(e){
    if(x0===null)return;var dx=e.changedTouches[0].clientX-x0,dy=e.changedTouches[0].clientY-y0;x0=null;
    if(Math.abs(dx)>40&&Math.abs(dx)>Math.abs(dy)){show(dx<0?i+1:i-1);}
  },{passive:true});
  window.addEventListener('hashchange',function(){show(fromHash());});
  show(fromHash());
})();
"""


def _slide(body: str, notes: str) -> str:
    return f'<section>{body}<aside class="notes">{html.escape(notes)}</aside></section>'


def aspect(path) -> float:
    """A PNG's width / height from its header (1 when it is not a PNG)."""
    with open(path, "rb") as f:
        head = f.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        return 1.0
    w, h = struct.unpack(">II", head[16:24])
    return w / h if h else 1.0


def _counts(verdicts: list[str], keys=("shown", "refuted", "inconclusive")) -> str:
    return ", ".join(f"{verdicts.count(k)} {k}" for k in keys)


def _overview(data: Data) -> str:
    rows = "".join(f"<tr><td>{html.escape(data.title(n))}</td><td>{badge_html(data.verdict(n))}</td></tr>"
                   for n in data.names)
    body = ("<h1>dlps — a deep-learning practice study, actually run</h1>"
            f'<p class="big">{html.escape(bottom_line(data))}</p>'
            f"<table><tr><th>experiment</th><th>verdict of its primary findings</th></tr>{rows}</table>"
            '<p class="small">Next: click the right half, swipe left, → or space. Back: left half, ← . '
            "n: speaker notes. #n in the address opens slide n.</p>")
    notes = (f"We re-ran {len(data.names)} classic deep-learning experiments whose results an old project only "
             "asserted, under a protocol fixed in advance. " + bottom_line(data)
             + " A tick is shown, a cross refuted, a question mark inconclusive.")
    return _slide(body, notes)


def _methods(data: Data) -> str:
    facts, (_, target) = methods_lines(data), power_plan(data)
    items = "".join(f"<li>{md_inline(facts[k])}</li>" for k in ("protocol", "alpha", "holm", "seeds", "power"))
    body = f"<h2>Methods: the protocol, fixed before the data</h2><ul class=\"tight\">{items}</ul>"
    aim = f"{target}%" if target else "the target"
    notes = ("Every rule, margin and seed count was committed in the protocol before this run's fresh seeds ran, "
             "and the report lists any deviation. Tests are one-sided with intervals matched to them, and Holm's "
             "adjustment runs within each experiment. Power was simulated beforehand from the pilots' and the earlier "
             "run's spread; where the "
             f"budget could not buy {aim} power, the protocol says so, and inconclusive is the expected outcome there.")
    return _slide(body, notes)


def _experiment(data: Data, name: str) -> str:
    h, fig = data.headline(name), data.key_figure(name)
    has_fig = bool(fig and fig["path"].is_file())
    img = (f'<img src="{data_uri(fig["path"])}" alt="{html.escape(fig["alt"])}">' if has_fig
           else "<p>(no figure in this run)</p>")
    wide = " wide" if has_fig and aspect(fig["path"]) >= WIDE else ""
    if h:
        f = h["finding"]
        main = (f"<p>{badge_html(f['verdict'])} <strong>{html.escape(f['claim'])}</strong><br>"
                f'<span class="big">{html.escape(h["number"])}</span><br><span class="small">'
                f"{html.escape(h['meaning'])}{'; ' + html.escape(h['p']) if h['p'] else ''}</span></p>")
        others = "".join(f"<li>{badge_html(o['verdict'])} {html.escape(o['claim'])}</li>" for o in h["others"])
        main += f'<ul class="small">{others}</ul>' if others else ""
        rest = [o["verdict"] for o in h["others"]]
        said = (f"Main result, {f['verdict']}: {f['claim'].rstrip('.')} ({h['number']}). "
                + (f"Other primary findings: {_counts(rest, tuple(dict.fromkeys(rest)))}." if rest else ""))
    else:
        main, said = "<p>No findings in this run's metrics.</p>", "This run's metrics hold no findings here."
    body = (f"<h2>{html.escape(data.title(name))} {badge_html(data.verdict(name))}</h2>"
            f'<div class="row{wide}"><div>{img}</div><div><p><strong>Question.</strong> '
            f"{html.escape(data.question(name))}</p><div>{main}</div></div></div>")
    return _slide(body, f"{data.question(name)} {said}".strip())


def _claims(data: Data) -> str:
    def measured(c: dict) -> str:  # the claim's finding's number, not a cut of the long sentence
        f = data.finding(c.get("finding"))
        return effect_text(f) if f else "—"

    rows = "".join(f"<tr><td>{html.escape(c['claim'])}</td><td><strong>{html.escape(c['verdict'])}</strong></td>"
                   f'<td class="num">{html.escape(measured(c))}</td></tr>' for c in data.claims)
    body = ("<h2>The old project's claims</h2>" + (f"<table><tr><th>claim</th><th>verdict</th><th>measured (its "
                                                     f"finding)</th></tr>{rows}</table>" if rows else
                                                     "<p>No claims file in this run.</p>"))
    v = [c["verdict"] for c in data.claims]
    return _slide(body, f"Of the {len(v)} old claims, {v.count('holds')} hold as stated and "
                        f"{v.count('does not hold')} do not; the rest stay open. Each verdict comes from one named "
                        "finding, and the number beside it is that finding's effect.")


def _sources(data: Data) -> list[str]:
    seen: list[str] = []
    for r in data.literature:
        if r.get("source") and r["source"] not in seen:
            seen.append(r["source"])
    return seen


def _literature(data: Data) -> str:
    refs = _sources(data)
    kind = any("kind" in r for r in data.literature)
    rows = "".join(f"<tr><td>{html.escape(r['experiment'])}</td><td>{html.escape(r['quantity'])}</td>"
                   + (f"<td>{html.escape(str(r.get('kind', '')))}</td>" if kind else "")
                   + f"<td class=num>{'n/a' if r['ours'] is None else fmt(r['ours'])}</td>"
                   f"<td class=num>{html.escape(r['band'])}</td>"
                   f"<td class=num><strong>{html.escape(r['verdict'])}</strong></td>"
                   f"<td>[{refs.index(r['source']) + 1 if r.get('source') in refs else '—'}]</td></tr>"
                   for r in data.literature)
    body = ("<h2>Against the literature</h2><table><tr><th>experiment</th><th>quantity</th>"
            + ("<th>kind</th>" if kind else "") + "<th>ours</th><th>band</th><th>verdict</th><th>source</th></tr>"
            f"{rows}</table><p class=small>Sources [n]: next slide.</p>")
    v = [r["verdict"] for r in data.literature]
    return _slide(body, f"Next to published figures and theory: {_counts(v, tuple(dict.fromkeys(v)))}. "
                        "Not comparable means a different data size, model or budget, said row by row.")


def _sources_slide(data: Data) -> str:
    items = "".join(f"<li>{html.escape(s)}</li>" for s in _sources(data))
    return _slide(f"<h2>Sources of the literature rows</h2><ol class=src>{items}</ol>",
                  "The sources, numbered as on the previous slide, each with the table or section its figure is read "
                  "from.")


def _takeaways(data: Data) -> str:
    prim = [(n, f) for n in data.names for f in data.findings(n) if f.get("primary")]
    shown = [f["claim"] for _, f in prim if f["verdict"] == "shown"]
    refuted = [f["claim"] for _, f in prim if f["verdict"] == "refuted"]
    open_ = [f for _, f in prim if f["verdict"] == "inconclusive"]
    few = [f"{n} {len(data.metrics[n].get('seeds', []))}" for n in data.names
           if len(data.metrics[n].get("seeds", [])) <= 3]
    low, devs = underpowered(data), data.protocol.get("deviations")
    limits = ([f"Underpowered by design (protocol): {', '.join(low)}."] if low else []) + (
        [f"Few seeds: {', '.join(few)}; their intervals are wide."] if few else []) + [
        f"Inconclusive primary findings: {len(open_)}; not evidence of no effect.",
        "Deviations from the protocol: " + ("not recorded." if devs is None else "; ".join(devs) if devs else "none."),
        "The pilot is exploratory: its verdicts are listed in the report, never counted here."]
    lis = lambda xs: "".join(f"<li>{md_inline(x)}</li>" for x in xs)  # noqa: E731
    body = (f'<h2>Takeaways and limitations</h2><div class="row"><div><p><strong>Shown</strong></p>'
            f'<ul class="small tight">{lis(shown) or "<li>none</li>"}</ul><p><strong>Refuted</strong></p>'
            f'<ul class="small tight">{lis(refuted) or "<li>none</li>"}</ul></div><div><p><strong>Limitations</strong>'
            f'</p><ul class="small tight">{lis(limits)}</ul></div></div>')
    notes = (f"Of {len(prim)} primary findings, {len(shown)} are shown and {len(refuted)} refuted; {len(open_)} stay "
             "open. The limits are mostly power: the protocol named the underpowered findings in advance, and an "
             "inconclusive verdict there is not evidence against the effect.")
    return _slide(body, notes)


def render(data: Data) -> str:
    slides = [_overview(data), _methods(data), *(_experiment(data, n) for n in data.names), _claims(data),
              _literature(data), _sources_slide(data), _takeaways(data),
              _slide("<h1>Questions?</h1><p>report/index.html has every table, rule and figure; report/defense.md "
                     "has the expected questions with their answers.</p>",
                     "Questions. The report has every rule and figure, the defense notes the expected questions.")]
    return ('<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width,initial-scale=1"><title>dlps slides</title>'
            f"<style>{CSS}</style></head><body>\n" + "\n".join(slides)
            + f'\n<div id="counter"></div><script>{JS}</script></body></html>\n')
