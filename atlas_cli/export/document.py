"""The atlas as format-neutral content: pages of blocks, each piece of text plain (never markup).

A renderer escapes every piece for its format, so knowledge-base text can never inject HTML or
Markdown structure. Cross-references name a page and an anchor; a renderer writing one document
turns them into in-page links.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Link:
    """A reference to an anchor on a page of the atlas (`page` is a Page.name), or to a URL."""

    text: str
    page: str | None = None
    anchor: str | None = None
    url: str | None = None


Inline = str | Link  # a run of plain text, or a link
Line = tuple[Inline, ...]


def line(*parts: Inline) -> Line:
    return tuple(parts)


@dataclass(frozen=True, slots=True)
class Heading:
    level: int  # 1 is the page's title
    text: str
    anchor: str


@dataclass(frozen=True, slots=True)
class Paragraph:
    text: Line
    quote: bool = False  # the guide's own words, shown as a quotation
    note: bool = False  # ft-atlas's commentary on the guide, set apart


@dataclass(frozen=True, slots=True)
class Bullets:
    items: tuple[Line, ...]


@dataclass(frozen=True, slots=True)
class Table:
    columns: tuple[str, ...]
    rows: tuple[tuple[Line, ...], ...]
    caption: str | None = None


@dataclass(frozen=True, slots=True)
class Code:
    text: str
    language: str = ""


Block = Heading | Paragraph | Bullets | Table | Code


@dataclass(slots=True)
class Page:
    name: str  # a file stem: README, methods, ...
    title: str
    blocks: list[Block] = field(default_factory=list)

    def add(self, *blocks: Block) -> Page:
        self.blocks.extend(blocks)
        return self


@dataclass(frozen=True, slots=True)
class Atlas:
    lang: str
    title: str
    pages: tuple[Page, ...]


def slug(text: str) -> str:
    """An ASCII anchor: ids and numbers from the KB are already slugs."""
    out = "".join(c if c.isascii() and c.isalnum() else "-" for c in text.lower())
    return "-".join(part for part in out.split("-") if part) or "section"


def plain(text_line: Line) -> str:
    return "".join(part if isinstance(part, str) else part.text for part in text_line)
