"""A tiny document model rendered both to HTML and to Markdown, so the report's two forms always agree."""

from __future__ import annotations

import base64
import html
import re
from functools import lru_cache
from pathlib import Path

CSS = """
*{box-sizing:border-box}
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;max-width:72rem;margin:0 auto;padding:.6rem 1rem;color:#222;overflow-wrap:break-word}
h1{font-size:1.5rem;margin:.3rem 0}h2{border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:2.2rem}h3{margin-top:1.4rem}
.bottom{font-size:1rem;font-weight:600;margin:.3rem 0 .6rem;padding:.4rem .6rem;border-left:4px solid #176317;background:#f5faf5}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;margin:.6rem 0;font-size:.9rem;max-width:100%}
table.wide td.long{min-width:7rem}table.wide td.longer{min-width:11rem}table.wide td,table.wide th{min-width:4rem}table.wide td.short{white-space:normal}
td.url{overflow-wrap:anywhere}
th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top;min-width:5.5rem;overflow-wrap:normal;word-break:normal;hyphens:manual}
td.long{min-width:10rem}td.longer{min-width:18rem}td.short{white-space:nowrap}th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
figure{margin:1rem 0}figure img{max-width:100%;height:auto;border:1px solid #eee}figcaption{font-size:.85rem;color:#555}
figure img{max-height:90vh;width:auto}
details{margin:.6rem 0}summary{cursor:pointer;font-weight:600}
.effect{font-size:1rem;margin:.3rem 0}.effect .num{font-weight:600;font-variant-numeric:tabular-nums}
.badge{display:inline-block;border:1.5px solid currentColor;border-radius:.8em;padding:0 .5em;font-weight:600;font-size:.85em;white-space:nowrap}
.shown{color:#176317}.refuted{color:#a11}.inconclusive{color:#555}.mixed{color:#8a5a00}
code,pre{background:#f6f6f6;padding:.1rem .3rem}pre{padding:.6rem;overflow-x:auto;white-space:pre}
nav h2{font-size:1rem;margin:1rem 0 .2rem;border:0}nav ul{display:flex;flex-wrap:wrap;gap:.1rem 1.2rem;padding:0;margin:0;list-style:none;font-size:.85rem}
#summary .lead{margin:.2rem 0 .5rem;font-size:.85rem;color:#444}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,21rem),1fr));gap:.5rem}
.card{border:1px solid #ddd;border-radius:.4rem;padding:.4rem .5rem;font-size:.8rem;line-height:1.3;min-width:0;display:flow-root}
.card .thumb{float:right;margin:0 0 .3rem .5rem}.card img{display:block;width:144px;height:96px;object-fit:contain;border:1px solid #eee;background:#fff}
.card .t{font-weight:600;font-size:.85rem}.card a{color:inherit}.card>div>div{margin-top:.15rem}
.card .q{color:#444}.card .c{font-style:italic}.card .h{font-weight:600;font-variant-numeric:tabular-nums}
.card .m,.card .p,.card .o{color:#444}
.finding{margin:.5rem 0}.finding .rule{font-size:.85rem;color:#444}
@media (max-width:600px){.card .thumb{float:none;margin:0 0 .3rem}.card img{width:100%;height:auto;max-height:14rem}
.scroll{overflow-x:visible}table,tbody,tr,td{display:block;width:100%}thead{display:none}
tr{border:1px solid #ccc;border-radius:.3rem;margin:.4rem 0;padding:.2rem .4rem}
td{border:0;padding:.1rem 0;min-width:0;overflow-wrap:break-word}td.long,td.longer{min-width:0}td.num{text-align:left;white-space:normal}
td.short{white-space:normal}td[data-label]::before{content:attr(data-label) ": ";font-weight:600;color:#555}}
@media print{nav{display:none}body{max-width:none;margin:0}h2{page-break-before:always}figure{page-break-inside:avoid}}
"""
NUMBER = re.compile(r"[-+−]?(?:\d+(?:[.,]\d+)*|\.\d+)(?:e[-+−]?\d+)?%?", re.IGNORECASE)
LONG, SHORT = 60, 24  # characters: a long text cell gets room for a phrase per line; a short one never wraps
URL, WIDE = 30, 6  # a token this long (a link, a path) may break anywhere; a table this many columns wide gets narrower minimums
SYMBOL = {"shown": "✔", "refuted": "✘", "inconclusive": "?", "mixed": "◐"}


def badge_html(verdict: str) -> str:
    """A verdict badge that reads without colour: a symbol and the word."""
    return f'<span class="badge {verdict}">{SYMBOL.get(verdict, "•")} {html.escape(verdict)}</span>'


def is_number(v) -> bool:
    """Only a number and nothing else (a unit-free value, or a percentage) is right-aligned; '3 of 5 seeds' is text."""
    if isinstance(v, str):
        return bool(NUMBER.fullmatch(v.strip()))
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def badge_md(verdict: str) -> str:
    return f"{SYMBOL.get(verdict, '•')} **{verdict}**"


@lru_cache(maxsize=1)
def _markdown():
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False})  # prose never carries raw HTML into the page


def md_inline(text: str) -> str:
    """One line of Markdown prose (code spans, emphasis, links) as escaped HTML."""
    return _markdown().renderInline(str(text))


LOCAL_LINK = re.compile(r'href="(?![a-z][a-z0-9+.-]*:|#|/)')


def md_block(text: str, base: str = "") -> str:
    """A Markdown document (lists, paragraphs) as HTML; relative links are taken as relative to `base`."""
    return LOCAL_LINK.sub(f'href="{base}', _markdown().render(text))


def data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()


class Doc:
    """Sections appended in order; each call writes the same content to both forms."""

    def __init__(self):
        self.html: list[str] = []
        self.md: list[str] = []
        self.toc: list[tuple[str, str]] = []
        self.top = 1  # blocks before the contents list (the title and what a reader sees first)

    def heading(self, level: int, text: str, anchor: str | None = None):
        if anchor and level == 2:
            self.toc.append((anchor, text))
        ident = f' id="{anchor}"' if anchor else ""
        self.html.append(f"<h{level}{ident}>{html.escape(text)}</h{level}>")
        self.md.append(f"{'#' * level} {text}\n")

    def para(self, text: str, cls: str | None = None):
        c = f' class="{cls}"' if cls else ""
        self.html.append(f"<p{c}>{md_inline(text)}</p>")
        self.md.append(text + "\n")

    def markdown(self, text: str, base: str = ""):
        """A Markdown fragment (a file's body, with its lists) rendered; the Markdown form keeps it as written."""
        self.html.append(md_block(text, base))
        self.md.append(text.strip() + "\n")

    def details(self, label: str):
        """Fold what follows (until end_details) behind a one-line label; the Markdown form shows it as is."""
        self.html.append(f"<details><summary>{html.escape(label)}</summary>")
        self.md.append(f"*{label}:*\n")

    def end_details(self):
        self.html.append("</details>")

    def raw(self, html_text: str, md_text: str):
        self.html.append(html_text)
        self.md.append(md_text)

    def bullets(self, items: list[str]):
        self.html.append("<ul>" + "".join(f"<li>{md_inline(t)}</li>" for t in items) + "</ul>")
        self.md.append("\n".join(f"- {t}" for t in items) + "\n")

    def table(self, header: list[str], rows: list[list]):
        """A table that wraps inside its column (scrolling sideways only if a word is still too wide) and turns
        into one card per row on a phone."""
        def cell(v, label: str | None = None, tag="td"):
            text = str(v)
            cls = [("num" if is_number(v) else "longer" if len(text) >= 4 * LONG else "long" if len(text) >= LONG
                    else "short" if len(text) <= SHORT else "") if tag == "td" else ""]
            cls += ["url"] if tag == "td" and any(len(w) >= URL for w in text.split()) else []
            cls_attr = " ".join(c for c in cls if c)
            attrs = (f' class="{cls_attr}"' if cls_attr else "") + (
                f' data-label="{html.escape(label)}"' if label else "")
            return f"<{tag}{attrs}>{md_inline(text)}</{tag}>"

        wide = ' class="wide"' if len(header) >= WIDE else ""
        self.html.append(f'<div class="scroll"><table{wide}><thead><tr>' + "".join(cell(h, tag="th") for h in header)
                         + "</tr></thead><tbody>" + "".join("<tr>" + "".join(cell(v, h) for v, h in zip(r, header))
                                                            + "</tr>" for r in rows) + "</tbody></table></div>")
        esc = lambda v: str(v).replace("|", "\\|").replace("\n", " ")  # noqa: E731
        self.md.append("\n".join(["| " + " | ".join(map(esc, header)) + " |", "|" + "---|" * len(header)]
                                 + ["| " + " | ".join(map(esc, r)) + " |" for r in rows]) + "\n")

    def figure(self, path: Path, caption: str, alt: str, ident: str | None = None):
        """A figure at its column's width; `ident` lets a thumbnail elsewhere link to it."""
        attrs = f' id="{ident}"' if ident else ""
        self.html.append(f'<figure{attrs}><img src="{data_uri(path)}" alt="{html.escape(alt)}">'
                         f"<figcaption>{md_inline(caption)}</figcaption></figure>")
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
