"""A method's card and the guide's decision tree, for the terminal and as Markdown."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.padding import Padding
from rich.panel import Panel
from rich.text import Text as RichText
from rich.tree import Tree

from atlas_cli.i18n import pt, t, translated
from atlas_cli.kb.behaviour import (
    AllOfBehaviour,
    AnyOfBehaviour,
    ComparisonBehaviour,
    HyperValue,
    NotOfBehaviour,
)
from atlas_cli.kb.catalog import Catalog
from atlas_cli.kb.records import (
    Condition,
    GuideRule,
    HostedOffer,
    Hyperparameter,
    Method,
)
from atlas_cli.kb.vocabulary import HOSTED_SERVICE_WORDS, HOSTED_STATUS_WORDS, Lang
from atlas_cli.render.grid import fenced, markdown_inline, markdown_text
from atlas_cli.render.paste import Verbatim


def _reference(ref_title: str, author: str, year: int, arxiv: str | None) -> str:
    arxiv_part = f", arXiv {arxiv}" if arxiv else ""
    return f"{author} ({year}). {ref_title}{arxiv_part}"


def ratings_line(memory: str, speed: str, quality: str) -> str:
    return t(
        "memory {memory} · speed {speed} · quality {quality}",
        memory=pt("memory", memory),
        speed=pt("speed", speed),
        quality=pt("quality", quality),
    )


def _hyperparameter(name: str, entry: Hyperparameter) -> str:
    """`r: 16 — PEFT's default is 8 (practitioners' default)`: the value, the value with a PEFT
    method where it differs, the note and the source."""
    line = name if entry.value is None else f"{name}: {_value(entry.value)}"
    if entry.with_peft is not None:
        line += t(" (with PEFT: {value})", value=_value(entry.with_peft))
    if entry.note is not None:
        line += f" — {entry.note.get()}"
    return line + (f" ({translated(entry.source)})" if entry.source else "")


def _value(value: HyperValue) -> str:
    if isinstance(value, list):
        return ", ".join(value)
    return str(value).lower() if isinstance(value, bool) else str(value)


def _ratings_lines(method: Method) -> list[str]:
    r = method.ratings
    lines = [ratings_line(r.memory, r.speed, r.quality)]
    if method.scoring is not None:
        s = method.scored_ratings
        lines.append(
            t(
                "ft-atlas scores it as {ratings}: {because} ({source})",
                ratings=ratings_line(s.memory, s.speed, s.quality),
                because=method.scoring.because.get(),
                source=translated(method.scoring.source),
            )
        )
    return lines


def _offer_line(offer: HostedOffer) -> str:
    note = offer.status_note.get() if offer.status_note is not None else ""
    status = "" if offer.status == "available" else f" [{t(HOSTED_STATUS_WORDS[offer.status])}: {note}]"
    leaves = " " + t("Your data leaves your machine.") if offer.data_leaves_machine else ""
    return t(
        "{provider}{status} — {services}. Models: {models}. Start: {entry}. Cost: {price} (as of {date}; "
        "{sources}).{leaves}",
        provider=offer.provider,
        status=status,
        services=", ".join(t(HOSTED_SERVICE_WORDS[service]) for service in offer.services),
        models="; ".join(map(translated, offer.models)),
        entry=offer.entry,
        price=offer.price.get(),
        date=offer.date,
        sources=", ".join(offer.source),
        leaves=leaves,
    )


# The comparisons as a reader writes them (the KB's operator names are for the YAML).
OPERATOR_SIGNS = {"eq": "=", "ne": "≠", "in": "∈", "not_in": "∉", "gt": ">", "ge": "≥", "lt": "<", "le": "≤"}


def condition_words(condition: Condition) -> str:
    """A rule condition as a reader writes it: `gpu_vendor = apple`, `goal ∈ {chat, align}`."""
    if isinstance(condition, AllOfBehaviour):
        return t(" and ").join(condition_words(c) for c in condition.all)
    if isinstance(condition, AnyOfBehaviour):
        return "(" + t(" or ").join(condition_words(c) for c in condition.any) + ")"
    if isinstance(condition, NotOfBehaviour):
        return t("not ({condition})", condition=condition_words(condition.not_))
    assert isinstance(condition, ComparisonBehaviour)
    if isinstance(condition.value, list):
        value = "{" + ", ".join(map(str, condition.value)) + "}"
    else:
        value = str(condition.value)
    return f"{condition.fact} {OPERATOR_SIGNS.get(condition.op, condition.op)} {value}"


def library_lines(method: Method) -> list[tuple[str, str, str]]:
    """Each library as (its entry point, its note, when it applies): the entry is pasted as it is."""
    lines = []
    for lib in method.libraries:
        entry = f"{lib.library}: {translated(lib.entry)}"
        entry += f" [{pt('library status', lib.status)}]" if lib.status != "stable" else ""
        note = translated(lib.note) if lib.note else ""
        when = t(" (when {condition})", condition=condition_words(lib.when)) if lib.when is not None else ""
        lines.append((entry, note, when))
    return lines


def card_sections(method: Method, lang: Lang) -> list[tuple[str, list[str]]]:
    """The card's sections as (heading, lines): one content model for both renderers."""
    share = method.trainable_share
    sections: list[tuple[str, list[str]]] = [
        (t("Summary"), [method.summary.get(lang)]),
        (
            t("Trains"),
            [method.trains.get(lang)]
            + (
                [t("Trainable share: {share} ({source})", share=translated(share.text), source=share.source)]
                if share
                else []
            ),
        ),
        (t("Ratings"), _ratings_lines(method)),
        (t("Use when"), [text.get(lang) for text in method.use_when]),
        (t("Avoid when"), [text.get(lang) for text in method.avoid_when]),
        (t("Data"), [method.data.get(lang)]),
        (t("Hardware"), [method.hardware.get(lang)]),
        (
            t("Libraries"),
            [f"{entry}{' — ' + note if note else ''}{when}" for entry, note, when in library_lines(method)],
        ),
        (t("Providers"), [_offer_line(offer) for offer in method.providers]),
        (t("Hyperparameters"), [_hyperparameter(k, v) for k, v in method.hyperparameters.items()]),
        (t("Pitfalls"), [text.get(lang) for text in method.pitfalls]),
        (
            t("References"),
            [_reference(ref.title, ref.first_author, ref.year, ref.arxiv) for ref in method.references],
        ),
        (t("Source"), [", ".join(method.source)]),
    ]
    return [(heading, lines) for heading, lines in sections if lines]


def method_card(method: Method, lang: Lang) -> RenderableType:
    kind = pt("method kind", method.kind)
    # A Text, not markup: a string title also turns :smile: in a KB name into an emoji.
    title = RichText(translated(method.name))
    title.append(f"  ({method.id} · {kind} · {method.category})", style="dim")
    parts: list[RenderableType] = []
    libraries = t("Libraries")
    for heading, lines in card_sections(method, lang):
        if heading == libraries:
            continue  # below the box
        parts.append(RichText(heading, style="bold cyan"))
        bullet = len(lines) > 1
        parts.extend(RichText(("• " if bullet else "  ") + line) for line in lines)
    if method.aliases:
        parts.append(RichText(t("Also known as: {names}", names=", ".join(method.aliases)), style="dim"))
    card = Panel(Group(*parts), title=title, title_align="left")
    # Outside the box and unwrapped: entry points and the snippet are pasted into an editor (a
    # review: BitsAndBytesConfig(...) was split over three boxed lines).
    entries: list[RenderableType] = [RichText(libraries, style="bold cyan")] if method.libraries else []
    for entry, note, when in library_lines(method):
        entries.append(Verbatim("• " + entry))
        if note or when:
            entries.append(Padding(RichText((note + when).strip(), style="dim"), (0, 0, 0, 2)))
    snippet: list[RenderableType] = [
        RichText(t("Snippet"), style="bold cyan"),
        Verbatim(method.snippet.rstrip(), "python"),
    ]
    return Group(card, *entries, *snippet)


def method_card_markdown(method: Method, lang: Lang) -> str:
    kind = pt("method kind", method.kind)
    out = [
        f"## {markdown_text(translated(method.name))} (`{method.id}`)",
        "",
        t("*{kind} · category `{category}`*", kind=kind, category=method.category),
        "",
    ]
    for heading, lines in card_sections(method, lang):
        out.append(f"**{heading}**")
        out.append("")
        out.extend(f"- {markdown_text(line)}" for line in lines)
        out.append("")
    out += [f"**{t('Snippet')}**", "", *fenced(method.snippet.rstrip(), "python"), ""]
    return "\n".join(out)


def guide_sections(catalog: Catalog) -> list[tuple[str, list[GuideRule]]]:
    """The guide's two rule lists (§3, §7) with their headings, shared by both renderers."""
    guide = catalog.kb.guide
    return [(t("§3 How to choose"), guide.choose), (t("§7 Practical recommendations"), guide.recommendations)]


def guide_tree(catalog: Catalog, lang: Lang) -> Tree:
    tree = Tree(f"[bold]{escape(catalog.kb.guide.title)}[/bold] v{escape(catalog.kb.guide.version)}")
    for title, rules in guide_sections(catalog):
        branch = tree.add(f"[bold cyan]{title}[/bold cyan]")
        for rule in rules:
            leaf = branch.add(
                f"[bold]{rule.id}[/bold] {escape(rule.text.get(lang))} → "
                f"[green]{escape(', '.join(rule.methods))}[/green]"
            )
            if rule.critique:
                leaf.add(f"[yellow]ft-atlas:[/yellow] {escape(rule.critique.get(lang))}")
    return tree


def guide_markdown(catalog: Catalog, lang: Lang) -> str:
    guide = catalog.kb.guide
    out = [f"# {markdown_text(guide.title)} v{markdown_inline(guide.version)}", ""]
    for title, rules in guide_sections(catalog):
        out += [f"## {title}", ""]
        for rule in rules:
            out.append(f"- {rule.id}: {markdown_inline(rule.text.get(lang))} → {', '.join(rule.methods)}")
            if rule.critique:
                out.append(f"  - *ft-atlas:* {markdown_inline(rule.critique.get(lang))}")
        out.append("")
    return "\n".join(out)
