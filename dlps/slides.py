"""report/slides.html: a self-contained slide deck (a 5–10 minute talk) generated from the same data as the report."""

from __future__ import annotations

import html

from dlps.report_data import Data, flat, headline
from dlps.report_doc import SYMBOL, badge_html, data_uri
from dlps.fmt import fmt

CSS = """
*{box-sizing:border-box}html,body{margin:0;height:100%;background:#fff;color:#222;font:18px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif}
section{display:none;position:absolute;inset:0;padding:2.2rem 3rem 2.6rem;overflow:hidden}
section.active{display:block}
h1{font-size:2rem;margin:0 0 .6rem}h2{font-size:1.5rem;margin:0 0 .6rem}
.badge{display:inline-block;border:2px solid currentColor;border-radius:.8em;padding:0 .5em;font-weight:600;white-space:nowrap}
.shown{color:#176317}.refuted{color:#a11}.inconclusive{color:#555}.mixed{color:#8a5a00}
.row{display:flex;gap:1.5rem;align-items:flex-start}.row>div{flex:1;min-width:0}.row>div:first-child{flex:1.5}
img{width:100%;max-height:68vh;object-fit:contain;border:1px solid #eee}
table{border-collapse:collapse;font-size:.75rem}td,th{border:1px solid #ccc;padding:.15rem .4rem;text-align:left;vertical-align:top}
.small{font-size:.8rem;color:#444}
aside.notes{display:none;position:absolute;left:0;right:0;bottom:0;max-height:40%;overflow:auto;background:#fffbe6;border-top:2px solid #e0c200;padding:.5rem 3rem;font-size:.85rem}
body.show-notes aside.notes{display:block}
#counter{position:fixed;right:1rem;bottom:.5rem;font-size:.8rem;color:#666}
@media print{section{display:block!important;position:relative;height:auto;min-height:100vh;page-break-after:always;break-after:page}
aside.notes,#counter{display:none!important}}
"""
JS = """
(function(){
  var s=document.querySelectorAll('section'),i=0,c=document.getElementById('counter');
  function show(n){i=Math.max(0,Math.min(s.length-1,n));for(var k=0;k<s.length;k++){s[k].classList.toggle('active',k===i);}
    c.textContent=(i+1)+' / '+s.length;document.body.setAttribute('data-slide',String(i));}
  document.addEventListener('keydown',function(e){
    if(e.key==='ArrowRight'||e.key==='ArrowDown'||e.key===' '||e.key==='PageDown'){show(i+1);e.preventDefault();}
    else if(e.key==='ArrowLeft'||e.key==='ArrowUp'||e.key==='PageUp'){show(i-1);e.preventDefault();}
    else if(e.key==='Home'){show(0);}else if(e.key==='End'){show(s.length-1);}
    else if(e.key==='n'||e.key==='N'){document.body.classList.toggle('show-notes');}
  });
  show(0);
})();
"""


def _slide(body: str, notes: str) -> str:
    return f'<section>{body}<aside class="notes">{html.escape(notes)}</aside></section>'


def _overview(data: Data) -> str:
    rows = "".join(f"<tr><td>{html.escape(data.title(n))}</td><td>{badge_html(data.verdict(n))}</td></tr>"
                   for n in data.names)
    body = ("<h1>dlps — a deep-learning practice study, actually run</h1>"
            f"<p>{len(data.names)} classic experiments, each with findings decided by rules fixed before the data "
            "were seen; every number on these slides is read from the pipeline's metrics.</p>"
            f"<table><tr><th>experiment</th><th>verdict</th></tr>{rows}</table>"
            '<p class="small">Keys: → / space next, ← back, n speaker notes.</p>')
    counts = {v: sum(data.verdict(n) == v for n in data.names) for v in SYMBOL}
    notes = ("Overview. " + ", ".join(f"{k} {v}" for k, v in counts.items() if v)
             + ". The badges read without colour: a tick is shown, a cross refuted, a question mark inconclusive.")
    return _slide(body, notes)


def _experiment(data: Data, name: str) -> str:
    prim = data.primary(name)
    fig = data.key_figure(name)
    img = (f'<img src="{data_uri(fig["path"])}" alt="{html.escape(fig["alt"])}">'
           if fig and fig["path"].is_file() else "<p>(no figure in this run)</p>")
    lines = "".join(f"<li>{badge_html(f['verdict'])} {html.escape(f['claim'])}<br>"
                    f'<span class="small">{html.escape(headline(f))}</span></li>' for f in prim)
    body = (f"<h2>{html.escape(data.title(name))} {badge_html(data.verdict(name))}</h2>"
            f'<div class="row"><div>{img}</div><div><p><strong>Question.</strong> {html.escape(data.question(name))}'
            f"</p><ul>{lines}</ul></div></div>")
    others = [f for f in data.findings(name) if f not in prim]
    also = (f"Also tested: {', '.join(f['id'] + ' ' + f['verdict'] for f in others)}." if others else "")
    notes = " ".join(p for p in [f"{data.title(name)}. {data.question(name)}", *(flat(f["text"]) for f in prim),
                                 also, f"Seeds: {len(data.metrics[name]['seeds'])}."] if p)
    return _slide(body, notes)


def _claims(data: Data) -> str:
    rows = "".join(f"<tr><td>{html.escape(c['claim'])}</td><td><strong>{html.escape(c['verdict'])}</strong></td>"
                   f"<td class=small>{html.escape(c['measured'][:160])}</td></tr>" for c in data.claims)
    body = ("<h2>The old project's claims</h2>" + (f"<table><tr><th>claim</th><th>verdict</th><th>measured</th></tr>"
                                                     f"{rows}</table>" if rows else "<p>No claims file in this run.</p>"))
    held = sum(c["verdict"] == "holds" for c in data.claims)
    return _slide(body, f"{held} of {len(data.claims)} old claims hold as stated; the others are refuted, "
                        "inconclusive or not testable as worded. Each verdict comes from one named finding.")


def _literature(data: Data) -> str:
    rows = "".join(f"<tr><td>{html.escape(r['experiment'])}</td><td>{html.escape(r['quantity'])}</td>"
                   f"<td>{'n/a' if r['ours'] is None else fmt(r['ours'])}</td><td>{html.escape(r['band'])}</td>"
                   f"<td><strong>{html.escape(r['verdict'])}</strong></td></tr>" for r in data.literature)
    body = ("<h2>Against the literature</h2><table><tr><th>experiment</th><th>quantity</th><th>ours</th><th>band</th>"
            f"<th>verdict</th></tr>{rows}</table>")
    counts = {v: sum(r["verdict"] == v for r in data.literature) for v in ("in band", "out of band", "not comparable")}
    return _slide(body, "Literature check: " + ", ".join(f"{v} {k}" for k, v in counts.items())
                  + ". Sources and how each figure was verified are in the report's literature section.")


def _summary(data: Data) -> str:
    items = "".join(f"<li>{badge_html(data.verdict(n))} {html.escape(data.title(n))}: "
                    f'<span class="small">{html.escape(headline(data.primary(n)[0]) if data.primary(n) else "")}'
                    "</span></li>" for n in data.names)
    return _slide(f"<h2>Summary</h2><ul>{items}</ul>",
                  "Summary: one line per experiment, the primary finding's effect with its interval and p.")


def render(data: Data) -> str:
    slides = [_overview(data), *(_experiment(data, n) for n in data.names), _claims(data), _literature(data),
              _summary(data), _slide("<h1>Questions?</h1><p>report/index.html has every table, rule and figure; "
                                     "report/defense.md has the expected questions with their answers.</p>",
                                     "Q&A. Likely questions: seeds, tests, subset sizes, what would flip a verdict.")]
    return ('<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width,initial-scale=1"><title>dlps slides</title>'
            f"<style>{CSS}</style></head><body>\n" + "\n".join(slides)
            + f'\n<div id="counter"></div><script>{JS}</script></body></html>\n')
