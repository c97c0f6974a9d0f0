"""Catalog listings and comparison tables as Grids (rendered as rich tables or Markdown)."""

from __future__ import annotations

from atlas_cli.core.memory import gib_to_gb
from atlas_cli.core.resolve import usable_gib
from atlas_cli.i18n import N_, nt, number, parameters, pt, t, translated
from atlas_cli.kb.behaviour import MEMORY_SCALE, QUALITY_SCALE, SPEED_SCALE
from atlas_cli.kb.catalog import Catalog
from atlas_cli.kb.records import Gpu, Method
from atlas_cli.kb.vocabulary import Lang
from atlas_cli.render.contracts import CompareJson, CompareRowJson, ModelJson
from atlas_cli.render.documents import SCHEMA_VERSION
from atlas_cli.render.grid import Grid

SUMMARY_CHARS = 70


def headline(text: str) -> str:
    """The first sentence, cut at a word to fit a listing (a review: "with gradient descent o…");
    `ft-atlas show` has the rest."""
    first = text.split(". ")[0].rstrip(".")
    if len(first) <= SUMMARY_CHARS:
        return first
    room = first[:SUMMARY_CHARS]
    cut = room.rsplit(" ", 1)[0] if " " in room else room[:-1]
    return cut.rstrip(" ,;:(—-") + "…"


def methods_grid(methods: list[Method], lang: Lang) -> Grid:
    ratings_column = t("memory / speed / quality")
    grid = Grid(
        t("Methods"),
        ["id", t("kind"), ratings_column, t("summary")],
        caption=t("ft-atlas show ID prints a method's card."),
        compact=("id",),
        drop_order=(ratings_column, t("kind")),
    )
    for m in methods:
        r = m.ratings
        ratings = f"{pt('memory', r.memory)} / {pt('speed', r.speed)} / {pt('quality', r.quality)}"
        grid.rows.append([m.id, pt("method kind", m.kind), ratings, headline(m.summary.get(lang))])
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
    """The methods' rows, with the ratings ft-atlas scores them by (a newcomer's review: the table
    said QLoRA is fast, the note below it that ft-atlas scores it medium); the notes say where
    those differ from their cards' (scoring_notes)."""
    return [
        {
            "methods": [m.id],
            "label": m.name,
            "memory": m.scored_ratings.memory,
            "speed": m.scored_ratings.speed,
            "quality": m.scored_ratings.quality,
            "best_for": m.use_when[0].get(lang),
            "trainable_share": translated(m.trainable_share.text) if m.trainable_share else None,
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
                        t(
                            "ft-atlas rates {method} {aspect} {ours} (the guide's '{row}': {guide}); "
                            "ft-atlas show {id} says why.",
                            method=translated(method.name),
                            aspect=t(aspect),
                            ours=pt(aspect, ours),
                            row=row.label,
                            guide=pt(aspect, guide),
                            id=method.id,
                        )
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
            t(
                "{name} {value} (not {guide})",
                name=t(name),
                value=pt(name, getattr(used, name)),
                guide=pt(name, getattr(guide, name)),
            )
            for name in ("memory", "speed", "quality")
            if getattr(used, name) != getattr(guide, name)
        ]
        if not changed:
            continue
        notes.append(
            t(
                "ft-atlas scores {name} with {changed}: {because} ({source})",
                name=translated(method.name),
                changed=", ".join(changed),
                because=method.scoring.because.get(),
                source=translated(method.scoring.source),
            )
        )
    return notes


def compare_json(rows: list[CompareRowJson], from_guide: bool, notes: list[str] | None = None) -> CompareJson:
    source = "atlas-v1.4 §4" if from_guide else t("knowledge base")
    return {"schema_version": SCHEMA_VERSION, "source": source, "rows": rows, "notes": notes or []}


def rating_scales() -> str:
    """The three rating scales, lowest first, in the current language."""
    return " · ".join(
        f"{t(aspect)}: " + " < ".join(pt(aspect, value) for value in values)
        for aspect, values in (("memory", MEMORY_SCALE), ("speed", SPEED_SCALE), ("quality", QUALITY_SCALE))
    )


def compare_grid(rows: list[CompareRowJson], from_guide: bool, notes: list[str] | None = None) -> Grid:
    title = t("Comparison of methods (the guide's §4 table)") if from_guide else t("Comparison")
    share, best = t("trainable share"), t("best for")
    columns = [t("method"), t("memory"), t("speed"), t("quality"), best]
    if not from_guide:
        columns.insert(4, share)
    grid = Grid(
        title,
        columns,
        caption="\n".join([rating_scales(), *(notes or [])]),  # each note its own line
        drop_order=(share, best),
    )
    for row in rows:
        cells = [
            translated(row["label"]),
            pt("memory", row["memory"]),
            pt("speed", row["speed"]),
            pt("quality", row["quality"]),
            row["best_for"],
        ]
        if not from_guide:
            cells.insert(4, row["trainable_share"] or "—")
        grid.rows.append(cells)
    return grid


def categories_grid(catalog: Catalog, lang: Lang) -> Grid:
    grid = Grid(
        t("Categories of adaptation (guide §2)"),
        ["id", t("category"), t("what changes"), t("examples"), t("when"), t("methods")],
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
    grid = Grid(t("Tools (guide §6)"), [t("goal"), t("library"), t("features"), t("methods"), t("note")])
    for tool in catalog.kb.guide.tools:
        grid.rows.append(
            [
                tool.goal.get(lang),
                tool.library,
                tool.features.get(lang),
                ", ".join(tool.methods),
                tool.note.get(lang) if tool.note else "",
            ]
        )
    return grid


LINK_NAMES = {"nvlink": "NVLink", "pcie": "PCIe", "xgmi": "xGMI", "unified": N_("one chip")}


def _link(g: Gpu) -> tuple[str, str]:
    """The kind of link between GPUs, and its GB/s. PCIe cards an NVLink bridge joins in pairs (or
    fours) reach more GPUs over PCIe, as the time model has it: a review read "NVLink" for a 3090."""
    link = g.interconnect
    if link is None:
        return "—", "—"
    name = t(LINK_NAMES[link.kind])
    if link.bridged is not None:
        name = t("PCIe (+ NVLink bridge of {count})", count=link.bridged)
    return name, "—" if link.gbs is None else number(link.gbs, "g")


def _tflops(g: Gpu) -> str:
    if g.tflops_bf16 is None:
        return "—"
    return number(g.tflops_bf16, "g") + ("*" if g.tflops_basis == "derived" else "")


def _yes_no(value: bool) -> str:
    return t("yes") if value else t("no")


def gpus_grid(catalog: Catalog) -> Grid:
    columns = ["id", t("GiB"), t("usable"), "bf16/fp8", "TFLOPS", t("GB/s"), t("link")]
    wide = [t("link GB/s"), t("architecture"), t("name"), t("aliases")]
    grid = Grid(
        t("GPUs"),
        [*columns, *wide],
        caption=t(
            "GiB: advertised. usable: GB (10^9 bytes) the driver reports, which fit checks use. "
            "TFLOPS: dense 16-bit, FP32 accumulate (* derived). GB/s: memory. link: GPU to GPU."
        ),
        compact=(*columns, wide[0]),
        wide_only=tuple(wide),
    )
    for g in catalog.kb.gpus:
        grid.rows.append(
            [
                g.id,
                number(g.memory_gib, "g"),
                number(gib_to_gb(usable_gib(catalog, g)), "g"),
                f"{_yes_no(g.bf16)}/{_yes_no(g.fp8)}",
                _tflops(g),
                "—" if g.memory_bandwidth_gbs is None else number(g.memory_bandwidth_gbs, "g"),
                *_link(g),
                g.architecture,
                g.name,
                ", ".join(g.aliases),
            ]
        )
    return grid


def models_grid(catalog: Catalog) -> Grid:
    columns = ["id", t("params (active)"), t("layers"), t("heads (kv)"), t("variant")]
    wide = [t("arch"), t("hidden"), t("bias"), t("name")]
    grid = Grid(
        t("Models"),
        [*columns, *wide],
        caption=t(
            "Parameters: the total as published; active (mixture of experts): what one token runs "
            "through, input embedding included, which some publishers leave out (gpt-oss-20b: 3.6B "
            "published, 4.19B here); ft-atlas model ID shows a model's whole shape."
        ),
        compact=(*columns, *wide[:3]),
        wide_only=tuple(wide),
    )
    for m in catalog.kb.models:
        active = f" ({_billions(m.active_params_b)})" if m.active_params_b is not None else ""
        grid.rows.append(
            [
                m.id,
                _billions(m.params_b) + active,
                str(m.layers + (m.decoder_layers or 0)),
                f"{m.attention_heads} ({m.kv_heads})",
                pt("model variant", m.variant),
                pt("architecture", m.architecture),
                str(m.hidden_size),
                _yes_no(m.has_bias),
                m.name,
            ]
        )
    return grid


def _billions(value: float | None) -> str:
    return "—" if value is None else parameters(value)


def _mlp_text(doc: ModelJson) -> str:
    """The dense MLP's width, where layers have one: a model whose every layer routes (Qwen3-30B-A3B)
    keeps an intermediate_size in its config.json that no layer uses (a review read it as a dense
    MLP)."""
    kind, width, e = t("gated") if doc["gated_mlp"] else t("plain"), doc["intermediate_size"], doc["experts"]
    if e is None or e["beside_dense_mlp"]:
        return t("{kind}, width {width}", kind=kind, width=width)
    if e["dense_layers"]:
        return t("{kind}, width {width} in the dense layers", kind=kind, width=width)
    return t(
        "{kind}, in the experts only (config.json's intermediate_size, {width}, is unused)",
        kind=kind,
        width=width,
    )


def _experts_text(doc: ModelJson) -> str | None:
    e = doc["experts"]
    if e is None:
        return None
    shared = t(", {n} shared", n=e["shared"]) if e["shared"] else ""
    if e["shared"] and e["shared_expert_gate"]:
        shared += t(" behind a sigmoid gate")
    dense = (
        nt("; {n} dense layer", "; {n} dense layers", e["dense_layers"], n=e["dense_layers"])
        if e["dense_layers"]
        else ""
    )
    if e["beside_dense_mlp"]:
        dense = t("; beside the dense MLP in each")
    return t(
        "{routed} routed, {active} active per token{shared} (width {width}) in {layers} layers{dense}",
        routed=e["routed"],
        active=e["active"],
        shared=shared,
        width=e["expert_intermediate_size"],
        layers=e["moe_layers"],
        dense=dense,
    )


def _attention_text(doc: ModelJson) -> str:
    mla = doc["latent_attention"]
    if mla is None:
        return (
            t(
                "{heads} heads, {kv} key/value, head dim {dim}",
                heads=doc["attention_heads"],
                kv=doc["kv_heads"],
                dim=doc["head_dim"],
            )
            + _global_attention_text(doc)
            + _linear_attention_text(doc)
        )
    query = t("query rank {rank}, ", rank=mla["q_lora_rank"]) if mla["q_lora_rank"] else ""
    return t(
        "{heads} heads, latent attention: {query}key/value rank {rank}, head dims {nope}+{rope} "
        "(values {values})",
        heads=doc["attention_heads"],
        query=query,
        rank=mla["kv_lora_rank"],
        nope=mla["qk_nope_head_dim"],
        rope=mla["qk_rope_head_dim"],
        values=mla["v_head_dim"],
    )


def _global_attention_text(doc: ModelJson) -> str:
    """Gemma 4's full-attention layers, of widths of their own."""
    full = doc["global_attention"]
    if full is None:
        return ""
    values = t(", keys as values (no v_proj)") if full["keys_are_values"] else ""
    return t(
        "; in {layers} full-attention layers {kv} key/value, head dim {dim}{values}",
        layers=full["layers"],
        kv=full["kv_heads"],
        dim=full["head_dim"],
        values=values,
    )


def _linear_attention_text(doc: ModelJson) -> str:
    """Qwen3.5: its full-attention layers' output gate, and its Gated DeltaNet layers."""
    gate = t(", gated output") if doc["attention_output_gate"] else ""
    gdn = doc["linear_attention"]
    if gdn is None:
        return gate
    return (
        gate
        + t(
            "; {layers} of the layers are Gated DeltaNet linear attention instead: {k} key heads and "
            "{v} value heads of {kdim}/{vdim}, a fixed-size state",
            layers=gdn["layers"],
            k=gdn["key_heads"],
            v=gdn["value_heads"],
            kdim=gdn["key_head_dim"],
            vdim=gdn["value_head_dim"],
        )
        + (t(" (fused in_proj_qkvz and in_proj_ba)") if gdn["fused_projections"] else "")
    )


def model_grid(doc: ModelJson) -> Grid:
    """`ft-atlas model`: the resolved shape, one property per row."""
    source = doc["model"]
    total = _billions(doc["params_b"])
    if doc["published_params_b"] is not None:
        total += t(" (published: {b:g}B)", b=doc["published_params_b"])
    layers = str(doc["layers"])
    if doc["decoder_layers"]:
        layers += t(" encoder + {n} decoder", n=doc["decoder_layers"])
    rows: list[tuple[str, str | None]] = [
        (t("source"), f"{pt('model source', source['source'])}: {source['where'] or '—'}"),
        (t("variant"), pt("model variant", source["variant"]) if source["variant"] else t("unknown")),
        (t("parameters"), total),
        (t("active per token"), _billions(doc["active_params_b"]) if doc["experts"] else None),
        (t("architecture"), f"{pt('architecture', doc['architecture'])} ({doc['family']})"),
        (t("layers"), layers),
        (t("hidden size"), str(doc["hidden_size"])),
        (t("attention"), _attention_text(doc)),
        ("MLP", _mlp_text(doc)),
        (t("experts"), _experts_text(doc)),
        (t("vocabulary"), str(doc["vocab_size"])),
        (t("embeddings"), t("tied to the LM head") if doc["tied_embeddings"] else t("untied")),
        (t("biases"), doc["bias"] or t("none")),
        (t("stored as"), doc["weights_dtype"]),
        (t("context length"), "—" if doc["context_length"] is None else str(doc["context_length"])),
        (t("loads as"), doc["repo"]),
    ]
    rows += [(t("note"), note) for note in source["notes"]]
    rows += [(t("warning"), warning) for warning in source["warnings"]]
    grid = Grid(
        source["name"],
        [t("property"), t("value")],
        caption=t("Parameters counted from the shape; docs/models.md says what is counted."),
        compact=(t("property"),),
    )
    grid.rows.extend([name, value] for name, value in rows if value is not None)
    return grid
