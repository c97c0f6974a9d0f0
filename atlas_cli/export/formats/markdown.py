"""The atlas as Markdown: one page per part (README.md, methods.md, ...) for --out DIR, or one
document on stdout. Every piece of knowledge-base text is escaped, so it is shown, never read as
Markdown or HTML; anchors are explicit (`<a id>`), so links work on any renderer that keeps them."""

from __future__ import annotations

from urllib.parse import quote

from atlas_cli.export.document import (
    Atlas,
    Block,
    Bullets,
    Code,
    Heading,
    Line,
    Link,
    Page,
    Paragraph,
    Table,
)
from atlas_cli.export.registry import ExportFormat, file_suffix, register
from atlas_cli.render.grid import fenced, line_start_safe, markdown_inline


def _url(url: str) -> str | None:
    if not url.startswith(("https://", "http://")):
        return None
    return quote(url, safe=":/?#=&%+,;@!$'*~.-_")


def _link_target(link: Link, lang: str, one_document: bool) -> str | None:
    if link.url is not None:
        return _url(link.url)
    anchor = f"#{link.anchor}" if link.anchor else ""
    if one_document or link.page is None:
        return anchor or None
    return f"{link.page}{file_suffix(lang)}.md{anchor}"


def inline(parts: Line, lang: str, one_document: bool, line_start: bool = True) -> str:
    out = []
    for part in parts:
        if isinstance(part, str):
            out.append(markdown_inline(part))
            continue
        target = _link_target(part, lang, one_document)
        out.append(f"[{markdown_inline(part.text)}]({target})" if target else markdown_inline(part.text))
    joined = "".join(out)
    return line_start_safe(joined) if line_start else joined


def block(b: Block, lang: str, one_document: bool, shift: int = 0) -> str:
    if isinstance(b, Heading):
        return f'<a id="{b.anchor}"></a>\n\n{"#" * min(6, b.level + shift)} {markdown_inline(b.text)}\n'
    if isinstance(b, Paragraph):
        body = inline(b.text, lang, one_document)
        return f"> {body}\n" if b.quote else f"{body}\n"
    if isinstance(b, Bullets):
        return "".join(f"- {inline(item, lang, one_document)}\n" for item in b.items)
    if isinstance(b, Table):
        lines = [
            "| " + " | ".join(markdown_inline(c) for c in b.columns) + " |",
            "|" + "---|" * len(b.columns),
        ]
        lines += [
            "| " + " | ".join(inline(cell, lang, one_document, False) or " " for cell in row) + " |"
            for row in b.rows
        ]
        if b.caption:
            lines += ["", markdown_inline(b.caption)]
        return "\n".join(lines) + "\n"
    assert isinstance(b, Code)
    return "\n".join(fenced(b.text, b.language)) + "\n"


def page_text(page: Page, lang: str, one_document: bool, shift: int = 0) -> str:
    return "\n".join(block(b, lang, one_document, shift) for b in page.blocks)


def files(atlas: Atlas) -> dict[str, str]:
    suffix = file_suffix(atlas.lang)
    return {f"{page.name}{suffix}.md": page_text(page, atlas.lang, False) for page in atlas.pages}


def document(atlas: Atlas) -> str:
    """Every page in one document: the first keeps its title, the others become its parts."""
    first, *rest = atlas.pages
    return "\n".join([page_text(first, atlas.lang, True), *(page_text(p, atlas.lang, True, 1) for p in rest)])


register(
    ExportFormat(
        name="markdown",
        summary="Markdown pages (README.md, methods.md, corrections.md, estimates.md, references.md)",
        files=files,
        document=document,
    )
)
