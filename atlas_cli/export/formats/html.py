"""The atlas as one self-contained HTML page per language: inline CSS, no scripts, no fonts or
images fetched, so it opens offline and can be mailed as one file. Every string from the
knowledge base passes through html.escape; links go only to anchors on the page or to http(s)
URLs."""

from __future__ import annotations

from html import escape

from atlas_cli.export.document import Atlas, Block, Bullets, Code, Heading, Line, Link, Paragraph, Table
from atlas_cli.export.registry import ExportFormat, register

STYLE = """
body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1f2328; }
main { max-width: 72rem; margin: 0 auto; padding: 1rem 2rem 4rem; }
nav { background: #f6f8fa; border-bottom: 1px solid #d0d7de; padding: .5rem 2rem; position: sticky; top: 0; }
nav a { margin-right: 1.2rem; }
h1 { border-bottom: 2px solid #d0d7de; padding-bottom: .3rem; margin-top: 3rem; }
h2 { border-bottom: 1px solid #d0d7de; padding-bottom: .2rem; margin-top: 2.2rem; }
h3 { margin-top: 1.6rem; }
a { color: #0969da; text-decoration: none; } a:hover { text-decoration: underline; }
table { border-collapse: collapse; margin: 1rem 0; font-size: 14px; display: block; overflow-x: auto; }
th, td { border: 1px solid #d0d7de; padding: .3rem .6rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; } tr:nth-child(even) td { background: #fbfcfd; }
caption { caption-side: bottom; text-align: left; color: #59636e; font-size: 13px; padding-top: .4rem; }
blockquote { border-left: 4px solid #8250df; margin: 1rem 0; padding: .2rem 1rem; background: #fbf8ff; }
.note { border-left: 4px solid #bf8700; padding: .2rem 1rem; background: #fff8e5; }
pre { background: #f6f8fa; padding: .8rem; overflow-x: auto; font-size: 13px; border-radius: 6px; }
code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; }
@media (prefers-color-scheme: dark) {
  body { background: #0d1117; color: #e6edf3; } nav, th, pre { background: #161b22; }
  th, td, h1, h2 { border-color: #30363d; } tr:nth-child(even) td { background: #11161d; }
  a { color: #4493f8; } blockquote { background: #1a1426; } .note { background: #221c0e; }
}
"""


def _href(link: Link) -> str | None:
    if link.url is not None:
        return link.url if link.url.startswith(("https://", "http://")) else None
    return f"#{link.anchor}" if link.anchor else None


def inline(parts: Line) -> str:
    out = []
    for part in parts:
        if isinstance(part, str):
            out.append(escape(part))
            continue
        href = _href(part)
        out.append(f'<a href="{escape(href)}">{escape(part.text)}</a>' if href else escape(part.text))
    return "".join(out)


def block(b: Block) -> str:
    if isinstance(b, Heading):
        level = min(6, b.level)
        return f'<h{level} id="{escape(b.anchor)}">{escape(b.text)}</h{level}>'
    if isinstance(b, Paragraph):
        if b.quote:
            return f"<blockquote><p>{inline(b.text)}</p></blockquote>"
        return f'<p class="note">{inline(b.text)}</p>' if b.note else f"<p>{inline(b.text)}</p>"
    if isinstance(b, Bullets):
        return "<ul>" + "".join(f"<li>{inline(item)}</li>" for item in b.items) + "</ul>"
    if isinstance(b, Table):
        head = "".join(f"<th>{escape(c)}</th>" for c in b.columns)
        rows = "".join(
            "<tr>" + "".join(f"<td>{inline(cell)}</td>" for cell in row) + "</tr>" for row in b.rows
        )
        caption = f"<caption>{escape(b.caption)}</caption>" if b.caption else ""
        return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
    assert isinstance(b, Code)
    language = f' class="language-{escape(b.language)}"' if b.language else ""
    return f"<pre><code{language}>{escape(b.text)}</code></pre>"


def document(atlas: Atlas) -> str:
    nav = " ".join(
        f'<a href="#{escape(page.blocks[0].anchor)}">{escape(page.title)}</a>'
        for page in atlas.pages
        if page.blocks and isinstance(page.blocks[0], Heading)
    )
    body = "\n".join(block(b) for page in atlas.pages for b in page.blocks)
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{escape(atlas.lang)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(atlas.title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f"<nav>{nav}</nav>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


def files(atlas: Atlas) -> dict[str, str]:
    return {f"atlas.{atlas.lang}.html": document(atlas)}


register(
    ExportFormat(
        name="html",
        summary="one self-contained HTML page per language (atlas.LANG.html): inline CSS, no network",
        files=files,
        document=document,
    )
)
