"""The atlas built from the knowledge base: the guide's sections in its order (§1-§8), then what
ft-atlas adds — every method's card, the corrections with their reasons, a memory / time / cost
table computed by the estimator, and the references. Format-neutral (export/document.py)."""

from __future__ import annotations

from atlas_cli.export.document import Atlas, Bullets, Code, Heading, Link, Page, Paragraph, Table, line, slug
from atlas_cli.export.estimates import cells, conditions_text, present
from atlas_cli.export.labels import words
from atlas_cli.i18n import language, number, pt, set_language, translated
from atlas_cli.kb.catalog import Catalog
from atlas_cli.kb.records import GuideRule, Method, Ratings
from atlas_cli.kb.vocabulary import Lang
from atlas_cli.render.cards import card_sections, ratings_line
from atlas_cli.render.views import guide_disagreements, rating_scales, scoring_notes

GUIDE_PAGE, METHODS_PAGE, CORRECTIONS_PAGE, ESTIMATES_PAGE, REFERENCES_PAGE = (
    "README",
    "methods",
    "corrections",
    "estimates",
    "references",
)
SOURCE_GUIDE = "docs/source/fine-tuning-atlas-v1.4.ru.md"


def build_atlas(catalog: Catalog, lang: Lang) -> Atlas:
    """The atlas in `lang` (the program's texts follow the current language: it is `lang` while
    the atlas is built)."""
    previous = language()
    set_language(lang)
    try:
        w = words()
        pages = (
            _guide_page(catalog, lang, w),
            _methods_page(catalog, lang, w),
            _corrections_page(catalog, lang, w),
            _estimates_page(catalog, w),
            _references_page(catalog, w),
        )
    finally:
        set_language(previous)
    return Atlas(lang, w["title"], pages)


def _method_links(catalog: Catalog, ids: list[str]) -> list[str | Link]:
    out: list[str | Link] = []
    for i, method_id in enumerate(ids):
        if i:
            out.append(", ")
        out.append(Link(method_id, METHODS_PAGE, method_id) if method_id in catalog.methods else method_id)
    return out


def _section_heading(
    catalog: Catalog, number: int, lang: Lang, w: dict[str, str]
) -> list[Heading | Paragraph]:
    section = next((s for s in catalog.kb.guide.sections if s.number == number), None)
    if section is None:  # a knowledge base of one's own may leave a section out
        return []
    title = w["section"].format(number=number, title=section.title.get(lang))
    return [
        Heading(2, title, f"s{number}"),
        Paragraph(line(f"{w['guide_says']}: ", section.summary.get(lang)), quote=True),
    ]


def _rule_items(
    catalog: Catalog, rules: list[GuideRule], lang: Lang, w: dict[str, str]
) -> list[Paragraph | Bullets]:
    blocks: list[Paragraph | Bullets] = []
    for rule in rules:
        blocks.append(
            Bullets((line(f"{rule.id}: {rule.text.get(lang)} → ", *_method_links(catalog, rule.methods)),))
        )
        if rule.critique is not None:
            blocks.append(
                Paragraph(
                    line(f"{w['ft_atlas_says']}: ", rule.critique.get(lang), f" ({rule.source})"), note=True
                )
            )
    return blocks


def _guide_page(catalog: Catalog, lang: Lang, w: dict[str, str]) -> Page:
    guide = catalog.kb.guide
    page = Page(GUIDE_PAGE, w["title"])
    page.add(
        Heading(1, w["title"], "atlas"),
        Paragraph(line(w["intro"].format(guide=guide.title, version=guide.version))),
        Paragraph(line(w["generated"].format(lang=lang))),
        Heading(2, w["contents"], "contents"),
        Bullets(
            (
                line(Link(w["guide_part"], GUIDE_PAGE, "s1")),
                line(Link(w["methods_page"], METHODS_PAGE, "methods")),
                line(Link(w["corrections_page"], CORRECTIONS_PAGE, "corrections")),
                line(Link(w["estimates_page"], ESTIMATES_PAGE, "estimates")),
                line(Link(w["references_page"], REFERENCES_PAGE, "references")),
            )
        ),
    )
    page.add(*_section_heading(catalog, 1, lang, w))

    page.add(*_section_heading(catalog, 2, lang, w))
    page.add(
        Table(
            (w["category"], w["what_changes"], w["examples"], w["when"], w["methods"]),
            tuple(
                (
                    line(c.name.get(lang)),
                    line(c.changes.get(lang)),
                    line(", ".join(c.examples)),
                    line(c.when.get(lang)),
                    line(*_method_links(catalog, c.methods)),
                )
                for c in catalog.kb.categories
            ),
        )
    )

    page.add(*_section_heading(catalog, 3, lang, w))
    page.add(*_rule_items(catalog, guide.choose, lang, w))

    page.add(*_section_heading(catalog, 4, lang, w))
    page.add(
        Table(
            (w["method"], w["memory"], w["speed"], w["quality"], w["best_for"], w["methods"]),
            tuple(
                (
                    line(translated(row.label)),
                    line(pt("memory", row.memory)),
                    line(pt("speed", row.speed)),
                    line(pt("quality", row.quality)),
                    line(row.best_for.get(lang)),
                    line(*_method_links(catalog, row.methods)),
                )
                for row in guide.comparison
            ),
            caption=rating_scales(),
        )
    )
    rows = [{"methods": list(r.methods)} for r in guide.comparison]
    notes = guide_disagreements(catalog) + scoring_notes(catalog, rows)  # type: ignore[arg-type]
    if notes:
        page.add(Heading(3, w["differences"], "s4-differences"), Bullets(tuple(line(n) for n in notes)))

    page.add(*_section_heading(catalog, 5, lang, w))
    page.add(
        Table(
            (w["step"], w["stage"], w["guide_says"], w["methods"]),
            tuple(
                (
                    line(str(s.step)),
                    line(s.name),
                    line(s.text.get(lang)),
                    line(*_method_links(catalog, s.methods)),
                )
                for s in guide.stages
            ),
        )
    )
    objectives = [m for m in catalog.kb.methods if m.kind == "objective"]
    page.add(
        Heading(3, w["objectives_today"], "s5-objectives"),
        Paragraph(line(w["objectives_intro"])),
        Bullets(
            tuple(
                line(
                    Link(translated(m.name), METHODS_PAGE, m.id), f": {_first_sentence(m.summary.get(lang))}"
                )
                for m in objectives
            )
        ),
    )

    page.add(*_section_heading(catalog, 6, lang, w))
    page.add(
        Table(
            (w["goal"], w["library"], w["features"], w["methods"], w["note"]),
            tuple(
                (
                    line(t.goal.get(lang)),
                    line(t.library),
                    line(t.features.get(lang)),
                    line(*_method_links(catalog, t.methods)),
                    line(t.note.get(lang) if t.note else ""),
                )
                for t in guide.tools
            ),
        )
    )

    page.add(*_section_heading(catalog, 7, lang, w))
    page.add(*_rule_items(catalog, guide.recommendations, lang, w))
    page.add(Paragraph(line(w["estimates_link"], Link(w["estimates_page"], ESTIMATES_PAGE, "estimates"))))

    page.add(*_section_heading(catalog, 8, lang, w))
    return page


def _first_sentence(text: str) -> str:
    first = text.split(". ")[0].rstrip(".")
    return first + "."


def _methods_page(catalog: Catalog, lang: Lang, w: dict[str, str]) -> Page:
    page = Page(METHODS_PAGE, w["methods_page"])
    page.add(Heading(1, w["methods_page"], "methods"), Heading(2, w["method_index"], "method-index"))
    page.add(
        Table(
            (w["id"], w["name"], w["kind"], w["category"], w["ratings"]),
            tuple(
                (
                    line(Link(m.id, METHODS_PAGE, m.id)),
                    line(translated(m.name)),
                    line(pt("method kind", m.kind)),
                    line(m.category),
                    line(_ratings(m.ratings)),
                )
                for m in catalog.kb.methods
            ),
        )
    )
    for method in catalog.kb.methods:
        page.add(*_card(method, lang, w))
    return page


def _ratings(ratings: Ratings) -> str:
    return f"{pt('memory', ratings.memory)} / {pt('speed', ratings.speed)} / {pt('quality', ratings.quality)}"


def _card(method: Method, lang: Lang, w: dict[str, str]) -> list[Heading | Paragraph | Bullets | Code]:
    blocks: list[Heading | Paragraph | Bullets | Code] = [
        Heading(2, f"{translated(method.name)} ({method.id})", method.id),
        Paragraph(line(f"{pt('method kind', method.kind)} · {method.category}")),
    ]
    if method.aliases:
        blocks.append(Paragraph(line(f"{w['also_known_as']}: {', '.join(method.aliases)}")))
    for heading, lines in card_sections(method, lang):
        blocks.append(Heading(3, heading, f"{method.id}-{slug(heading)}"))
        blocks.append(Bullets(tuple(line(text) for text in lines)))
    blocks.append(Heading(3, w["snippet"], f"{method.id}-snippet"))
    blocks.append(Code(method.snippet.rstrip(), "python"))
    return blocks


def _corrections_page(catalog: Catalog, lang: Lang, w: dict[str, str]) -> Page:
    guide = catalog.kb.guide
    page = Page(CORRECTIONS_PAGE, w["corrections_page"])
    page.add(Heading(1, w["corrections_page"], "corrections"), Heading(2, w["critiques"], "corrected-rules"))
    for rule in [*guide.choose, *guide.recommendations]:
        page.add(
            Heading(3, f"{rule.id}: {rule.text.get(lang)}", rule.id),
            Paragraph(
                line(rule.critique.get(lang) if rule.critique else w["no_correction"], f" ({rule.source})"),
                note=rule.critique is not None,
            ),
        )
    page.add(Heading(2, w["tool_notes"], "corrected-tools"))
    page.add(
        Bullets(
            tuple(
                line(f"{t.library} ({t.goal.get(lang)}): ", t.note.get(lang))
                for t in guide.tools
                if t.note is not None
            )
        )
    )
    page.add(Heading(2, w["rating_corrections"], "corrected-ratings"))
    rows = []
    for m in catalog.kb.methods:
        if m.scoring is None:
            continue
        s = m.scored_ratings
        rows.append(
            (
                line(Link(translated(m.name), METHODS_PAGE, m.id)),
                line(_ratings(m.ratings)),
                line(ratings_line(s.memory, s.speed, s.quality)),
                line(m.scoring.because.get(lang)),
                line(translated(m.scoring.source)),
            )
        )
    page.add(Table((w["method"], w["ratings"], w["ft_atlas_says"], w["note"], w["source"]), tuple(rows)))
    return page


def _estimates_page(catalog: Catalog, w: dict[str, str]) -> Page:
    page = Page(ESTIMATES_PAGE, w["estimates_page"])
    computed = cells(catalog)
    gpus, models, methods = present(catalog)
    page.add(Heading(1, w["estimates_page"], "estimates"))
    if not computed:
        return page
    sample = next((c for c in computed if c.method == "lora"), computed[0])
    page.add(
        Paragraph(line(w["estimates_intro"].format(conditions=conditions_text(sample)))),
        Paragraph(line(w["cell_legend"])),
    )
    by_key = {(c.method, c.model, c.gpu): c for c in computed}
    for method_id in methods:
        method = catalog.methods[method_id]
        page.add(Heading(2, translated(method.name), f"estimates-{method_id}"))
        page.add(
            Table(
                (w["model"], *gpus),
                tuple(
                    (
                        line(f"{catalog.models[m].name}" if m in catalog.models else m),
                        *(line(by_key[(method_id, m, g)].text()) for g in gpus),
                    )
                    for m in models
                ),
            )
        )
    page.add(Heading(2, w["prices"], "reference-prices"))
    price_rows = []
    for gpu_id in gpus:
        reference = catalog.reference_price(gpu_id)
        if reference is not None:
            price_rows.append((line(gpu_id), line(f"${number(reference[0], 'g')}"), line(reference[1])))
    page.add(Table((w["gpu"], w["price"], w["source"]), tuple(price_rows)))
    return page


def _references_page(catalog: Catalog, w: dict[str, str]) -> Page:
    guide = catalog.kb.guide
    page = Page(REFERENCES_PAGE, w["references_page"])
    page.add(
        Heading(1, w["references_page"], "references"),
        Heading(2, w["guide_source"], "source-guide"),
        Paragraph(line(f"{guide.title} v{guide.version} ({SOURCE_GUIDE})")),
        Heading(2, w["papers"], "papers"),
    )
    cited: dict[tuple[str, str, int], tuple[str | None, str | None, list[str]]] = {}
    for m in catalog.kb.methods:
        for ref in m.references:
            key = (ref.first_author, ref.title, ref.year)
            url = ref.url or (f"https://arxiv.org/abs/{ref.arxiv}" if ref.arxiv else None)
            cited.setdefault(key, (url, ref.arxiv, []))[2].append(m.id)
    items = []
    for (author, title, year), (url, arxiv, methods) in sorted(
        cited.items(), key=lambda kv: (kv[0][0], kv[0][2])
    ):
        parts: list[str | Link] = [f"{author} ({year}). "]
        parts.append(Link(title, url=url) if url else title)
        if arxiv:
            parts.append(f", arXiv {arxiv}")
        parts.append(f" — {w['cited_by']} ")
        parts += _method_links(catalog, methods)
        items.append(line(*parts))
    page.add(Bullets(tuple(items)))
    return page
