"""A tiny document model rendered both to HTML and to Markdown, so the report's two forms always agree."""

from __future__ import annotations

import base64
import html
from pathlib import Path

CSS = """
*{box-sizing:border-box}
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;max-width:64rem;margin:0 auto;padding:.6rem 1rem;color:#222;overflow-wrap:anywhere}
h1{font-size:1.5rem;margin:.3rem 0}h2{border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:2.2rem}h3{margin-top:1.4rem}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;margin:.6rem 0;font-size:.9rem}th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}
figure{margin:1rem 0}figure img{max-width:100%;height:auto;border:1px solid #eee}figcaption{font-size:.85rem;color:#555}
.badge{display:inline-block;border:1.5px solid currentColor;border-radius:.8em;padding:0 .5em;font-weight:600;font-size:.85em;white-space:nowrap}
.shown{color:#176317}.refuted{color:#a11}.inconclusive{color:#555}.mixed{color:#8a5a00}
code,pre{background:#f6f6f6;padding:.1rem .3rem}pre{padding:.6rem;overflow-x:auto;white-space:pre}
nav ul{columns:2}@media (max-width:600px){nav ul{columns:1}}
#summary .lead{margin:.2rem 0 .5rem;font-size:.85rem;color:#444}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,19.5rem),1fr));gap:.5rem}
.card{display:flex;gap:.5rem;border:1px solid #ddd;border-radius:.4rem;padding:.4rem;font-size:.8rem;line-height:1.3;min-width:0}
.card img{width:110px;height:78px;object-fit:contain;flex:none;border:1px solid #eee;background:#fff}
.card .t{font-weight:600;font-size:.85rem}.card a{color:inherit}
.card .q,.card .h{display:-webkit-box;-webkit-box-orient:vertical;-webkit-line-clamp:2;overflow:hidden}
.card .c{font-style:italic;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}.card .q{color:#444}.card>div{min-width:0}
.finding{margin:.5rem 0}.finding .rule{font-size:.85rem;color:#444}
@media print{nav{display:none}body{max-width:none;margin:0}h2{page-break-before:always}figure{page-break-inside:avoid}}
"""
SYMBOL = {"shown": "✔", "refuted": "✘", "inconclusive": "?", "mixed": "◐"}


def badge_html(verdict: str) -> str:
    """A verdict badge that reads without colour: a symbol and the word."""
    return f'<span class="badge {verdict}">{SYMBOL.get(verdict, "•")} {html.escape(verdict)}</span>'


def badge_md(verdict: str) -> str:
    return f"{SYMBOL.get(verdict, '•')} **{verdict}**"


def data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()


class Doc:
    """Sections appended in order; each call writes the same content to both forms."""

    def __init__(self):
        self.html: list[str] = []
        self.md: list[str] = []
        self.toc: list[tuple[str, str]] = []

    def heading(self, level: int, text: str, anchor: str | None = None):
        if anchor and level == 2:
            self.toc.append((anchor, text))
        ident = f' id="{anchor}"' if anchor else ""
        self.html.append(f"<h{level}{ident}>{html.escape(text)}</h{level}>")
        self.md.append(f"{'#' * level} {text}\n")

    def para(self, text: str, cls: str | None = None):
        c = f' class="{cls}"' if cls else ""
        self.html.append(f"<p{c}>{html.escape(text)}</p>")
        self.md.append(text + "\n")

    def raw(self, html_text: str, md_text: str):
        self.html.append(html_text)
        self.md.append(md_text)

    def bullets(self, items: list[str]):
        self.html.append("<ul>" + "".join(f"<li>{html.escape(t)}</li>" for t in items) + "</ul>")
        self.md.append("\n".join(f"- {t}" for t in items) + "\n")

    def table(self, header: list[str], rows: list[list]):
        def cell(v, tag="td"):
            num = isinstance(v, (int, float)) or (isinstance(v, str) and v[:1].isdigit())
            return f"<{tag}{' class=num' if num and tag == 'td' else ''}>{html.escape(str(v))}</{tag}>"

        self.html.append('<div class="scroll"><table><thead><tr>' + "".join(cell(h, "th") for h in header)
                         + "</tr></thead><tbody>" + "".join("<tr>" + "".join(cell(v) for v in r) + "</tr>"
                                                            for r in rows) + "</tbody></table></div>")
        esc = lambda v: str(v).replace("|", "\\|").replace("\n", " ")  # noqa: E731
        self.md.append("\n".join(["| " + " | ".join(map(esc, header)) + " |", "|" + "---|" * len(header)]
                                 + ["| " + " | ".join(map(esc, r)) + " |" for r in rows]) + "\n")

    def figure(self, path: Path, caption: str, alt: str):
        self.html.append(f'<figure><img src="{data_uri(path)}" alt="{html.escape(alt)}">'
                         f"<figcaption>{html.escape(caption)}</figcaption></figure>")
        self.md.append(f"![{alt}](../{path.as_posix()})\n\n*{caption}*\n")

    def code(self, text: str):
        self.html.append(f"<pre><code>{html.escape(text)}</code></pre>")
        self.md.append(f"```\n{text}\n```\n")

    def render_html(self, title: str, top: int = 1) -> str:
        """The page; the contents list goes after the first `top` blocks (the title and the one-screen summary)."""
        nav = "<nav><h2>Contents</h2><ul>" + "".join(
            f'<li><a href="#{a}">{html.escape(t)}</a></li>' for a, t in self.toc) + "</ul></nav>"
        body = "\n".join(self.html[:top] + [nav] + self.html[top:])
        return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
                f'<meta name="viewport" content="width=device-width,initial-scale=1">'
                f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>\n{body}\n</body></html>\n")

    def render_md(self, top: int = 1) -> str:
        toc = "## Contents\n\n" + "\n".join(f"- [{t}](#{a})" for a, t in self.toc) + "\n"
        return "\n".join(self.md[:top] + [toc] + self.md[top:])
