"""Catalog listings and comparison tables as Grids (rendered as rich tables or Markdown)."""

from __future__ import annotations

from atlas_cli.core.memory import gib_to_gb
from atlas_cli.kb.catalog import Catalog
from atlas_cli.kb.schema import Gpu, Method
from atlas_cli.kb.vocabulary import Lang
from atlas_cli.render.documents import SCHEMA_VERSION, CompareJson, CompareRowJson, ModelJson
from atlas_cli.render.grid import Grid

SUMMARY_CHARS = 70


def headline(text: str) -> str:
    """The first sentence, cut to fit a listing; `ft-atlas show` has the rest."""
    first = text.split(". ")[0].rstrip(".")
    return first if len(first) <= SUMMARY_CHARS else first[: SUMMARY_CHARS - 1].rstrip() + "…"


def methods_grid(methods: list[Method], lang: Lang) -> Grid:
    grid = Grid(
        "Methods",
        ["id", "kind", "memory / speed / quality", "summary"],
        caption="ft-atlas show ID prints a method's card.",
        compact=("id",),
        drop_order=("memory / speed / quality", "kind"),
    )
    for m in methods:
        r = m.ratings
        ratings = f"{r.memory} / {r.speed} / {r.quality}"
        grid.rows.append([m.id, m.kind, ratings, headline(m.summary.get(lang))])
    return grid


def guide_comparison_rows(catalog: Catalog, lang: Lang) -> list[CompareRowJson]:
    return [
        {
            "methods": list(row.methods),
            "label": row.label,
            "memory": row.memory,
            "speed": row.speed,
            "quality": row.quality,
            "best_for": row.best_for.get(lang),
            "trainable_share": None,
        }
        for row in catalog.kb.guide.comparison
    ]


def method_comparison_rows(methods: list[Method], lang: Lang) -> list[CompareRowJson]:
    return [
        {
            "methods": [m.id],
            "label": m.name,
            "memory": m.ratings.memory,
            "speed": m.ratings.speed,
            "quality": m.ratings.quality,
            "best_for": m.use_when[0].get(lang),
            "trainable_share": m.trainable_share.text if m.trainable_share else None,
        }
        for m in methods
    ]


def guide_disagreements(catalog: Catalog) -> list[str]:
    """Where ft-atlas rates a method differently from the guide's §4 row that names it: the
    table stays the guide's, verbatim, and these notes say where ft-atlas (and its cards) differ."""
    notes = []
    for row in catalog.kb.guide.comparison:
        for method in (catalog.methods[m] for m in row.methods if m in catalog.methods):
            for aspect in ("memory", "speed", "quality"):
                ours, guide = getattr(method.ratings, aspect), getattr(row, aspect)
                if ours != guide:
                    notes.append(
                        f"ft-atlas rates {method.name} {aspect} {ours} (the guide's '{row.label}': "
                        f"{guide}); ft-atlas show {method.id} says why."
                    )
    return notes


def scoring_notes(catalog: Catalog, rows: list[CompareRowJson]) -> list[str]:
    """For the methods in the rows that ft-atlas scores differently: what it uses and why."""
    notes = []
    for method_id in dict.fromkeys(m for row in rows for m in row["methods"]):
        method = catalog.methods[method_id]
        if method.scoring is None:
            continue
        guide, used = method.ratings, method.scored_ratings
        changed = [
            f"{name} {getattr(used, name)} (not {getattr(guide, name)})"
            for name in ("memory", "speed", "quality")
            if getattr(used, name) != getattr(guide, name)
        ]
        if not changed:
            continue
        notes.append(
            f"ft-atlas scores {method.name} with {', '.join(changed)}: {method.scoring.because.en} "
            f"({method.scoring.source})"
        )
    return notes


def compare_json(rows: list[CompareRowJson], from_guide: bool, notes: list[str] | None = None) -> CompareJson:
    source = "atlas-v1.4 §4" if from_guide else "knowledge base"
    return {"schema_version": SCHEMA_VERSION, "source": source, "rows": rows, "notes": notes or []}


def compare_grid(rows: list[CompareRowJson], from_guide: bool, notes: list[str] | None = None) -> Grid:
    title = "Comparison of methods (the guide's §4 table)" if from_guide else "Comparison"
    columns = ["method", "memory", "speed", "quality", "best for"]
    if not from_guide:
        columns.insert(4, "trainable share")
    scale = (
        "memory: very-low < low < medium < high · "
        "speed: slow < medium < fast < instant · quality: moderate < high < near-full < excellent"
    )
    grid = Grid(
        title,
        columns,
        caption="\n".join([scale, *(notes or [])]),  # each note its own line
        drop_order=("trainable share", "best for"),
    )
    for row in rows:
        cells = [row["label"], row["memory"], row["speed"], row["quality"], row["best_for"]]
        if not from_guide:
            cells.insert(4, row["trainable_share"] or "—")
        grid.rows.append(cells)
    return grid


def categories_grid(catalog: Catalog, lang: Lang) -> Grid:
    grid = Grid(
        "Categories of adaptation (guide §2)",
        ["id", "category", "what changes", "examples", "when", "methods"],
    )
    for c in catalog.kb.categories:
        grid.rows.append(
            [
                c.id,
                c.name.get(lang),
                c.changes.get(lang),
                ", ".join(c.examples),
                c.when.get(lang),
                ", ".join(c.methods),
            ]
        )
    return grid


def tools_grid(catalog: Catalog, lang: Lang) -> Grid:
    grid = Grid("Tools (guide §6)", ["goal", "library", "features", "methods", "note"])
    for t in catalog.kb.guide.tools:
        grid.rows.append(
            [
                t.goal.get(lang),
                t.library,
                t.features.get(lang),
                ", ".join(t.methods),
                t.note.get(lang) if t.note else "",
            ]
        )
    return grid


LINK_NAMES = {"nvlink": "NVLink", "pcie": "PCIe", "xgmi": "xGMI", "unified": "one chip"}


def _link(g: Gpu) -> tuple[str, str]:
    """The kind of link between GPUs, and its GB/s."""
    if g.interconnect is None:
        return "—", "—"
    gbs = g.interconnect.gbs
    return LINK_NAMES[g.interconnect.kind], "—" if gbs is None else f"{gbs:g}"


def _tflops(g: Gpu) -> str:
    if g.tflops_bf16 is None:
        return "—"
    return f"{g.tflops_bf16:g}" + ("*" if g.tflops_basis == "derived" else "")


def gpus_grid(catalog: Catalog) -> Grid:
    columns = ["id", "GiB", "usable", "bf16/fp8", "TFLOPS", "GB/s", "link"]
    grid = Grid(
        "GPUs",
        [*columns, "link GB/s", "architecture", "name", "aliases"],
        caption="GiB: advertised. usable: GB (10^9 bytes) the driver reports, which fit checks use. "
        "TFLOPS: dense 16-bit, FP32 accumulate (* derived). GB/s: memory. link: GPU to GPU.",
        compact=(*columns, "link GB/s"),
        wide_only=("link GB/s", "architecture", "name", "aliases"),
    )
    for g in catalog.kb.gpus:
        grid.rows.append(
            [
                g.id,
                f"{g.memory_gib:g}",
                f"{gib_to_gb(g.usable_gib):g}",
                f"{'yes' if g.bf16 else 'no'}/{'yes' if g.fp8 else 'no'}",
                _tflops(g),
                "—" if g.memory_bandwidth_gbs is None else f"{g.memory_bandwidth_gbs:g}",
                *_link(g),
                g.architecture,
                g.name,
                ", ".join(g.aliases),
            ]
        )
    return grid


def models_grid(catalog: Catalog) -> Grid:
    columns = ["id", "params (active)", "layers", "heads (kv)", "variant"]
    grid = Grid(
        "Models",
        [*columns, "arch", "hidden", "bias", "name"],
        caption="Parameters as published (active: per token, mixture of experts); ft-atlas model ID "
        "shows a model's whole shape.",
        compact=(*columns, "arch", "hidden", "bias"),
        wide_only=("arch", "hidden", "bias", "name"),
    )
    for m in catalog.kb.models:
        active = f" ({m.active_params_b:g}B)" if m.active_params_b is not None else ""
        grid.rows.append(
            [
                m.id,
                f"{m.params_b:g}B{active}",
                str(m.layers + (m.decoder_layers or 0)),
                f"{m.attention_heads} ({m.kv_heads})",
                m.variant,
                m.architecture,
                str(m.hidden_size),
                "yes" if m.has_bias else "no",
                m.name,
            ]
        )
    return grid


def _billions(value: float | None) -> str:
    return "—" if value is None else f"{value:g}B"


def _experts_text(doc: ModelJson) -> str | None:
    e = doc["experts"]
    if e is None:
        return None
    shared = f", {e['shared']} shared" if e["shared"] else ""
    dense = f"; {e['dense_layers']} dense layer(s)" if e["dense_layers"] else ""
    return (
        f"{e['routed']} routed, {e['active']} active per token{shared} "
        f"(width {e['expert_intermediate_size']}) in {e['moe_layers']} layers{dense}"
    )


def _attention_text(doc: ModelJson) -> str:
    heads = f"{doc['attention_heads']} heads, {doc['kv_heads']} key/value, head dim {doc['head_dim']}"
    mla = doc["latent_attention"]
    if mla is None:
        return heads
    query = f"query rank {mla['q_lora_rank']}, " if mla["q_lora_rank"] else ""
    return (
        f"{doc['attention_heads']} heads, latent attention: {query}key/value rank "
        f"{mla['kv_lora_rank']}, head dims {mla['qk_nope_head_dim']}+{mla['qk_rope_head_dim']} "
        f"(values {mla['v_head_dim']})"
    )


def model_grid(doc: ModelJson) -> Grid:
    """`ft-atlas model`: the resolved shape, one property per row."""
    source = doc["model"]
    total = _billions(doc["params_b"])
    if doc["published_params_b"] is not None:
        total += f" (published: {doc['published_params_b']:g}B)"
    layers = str(doc["layers"])
    if doc["decoder_layers"]:
        layers += f" encoder + {doc['decoder_layers']} decoder"
    rows: list[tuple[str, str | None]] = [
        ("source", f"{source['source']}: {source['where'] or '—'}"),
        ("variant", source["variant"] or "unknown"),
        ("parameters", total),
        ("active per token", _billions(doc["active_params_b"]) if doc["experts"] else None),
        ("architecture", f"{doc['architecture']} ({doc['family']})"),
        ("layers", layers),
        ("hidden size", str(doc["hidden_size"])),
        ("attention", _attention_text(doc)),
        ("MLP", f"{'gated' if doc['gated_mlp'] else 'plain'}, width {doc['intermediate_size']}"),
        ("experts", _experts_text(doc)),
        ("vocabulary", str(doc["vocab_size"])),
        ("embeddings", "tied to the LM head" if doc["tied_embeddings"] else "untied"),
        ("biases", doc["bias"] or "none"),
        ("stored as", doc["weights_dtype"]),
        ("context length", "—" if doc["context_length"] is None else str(doc["context_length"])),
        ("loads as", doc["repo"]),
    ]
    rows += [("note", note) for note in source["notes"]]
    rows += [("warning", warning) for warning in source["warnings"]]
    grid = Grid(
        source["name"],
        ["property", "value"],
        caption="Parameters counted from the shape; docs/models.md says what is counted.",
        compact=("property",),
    )
    grid.rows.extend([name, value] for name, value in rows if value is not None)
    return grid
