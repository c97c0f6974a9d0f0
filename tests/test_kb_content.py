"""What the bundled knowledge base must contain: every part of the source guide ("Fine-Tuning
Atlas" v1.4, Russian) with its `source` tag and its own Russian wording, the methods, GPUs and
models the advice needs, and a paper (arXiv id) behind every method that has one."""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from atlas_cli.kb.catalog import Catalog
from atlas_cli.kb.records import GuideRule, KnowledgeBase
from atlas_cli.kb.schema import Training
from tests.conftest import REPO

SOURCE = "atlas-v1.4"
ARXIV = re.compile(r"^\d{4}\.\d{4,5}$")

# --- the guide, as the KB must render it (emoji and ** markers dropped) ----------------------------

SECTION_TITLES_RU = {
    1: "Введение",
    2: "Основные категории адаптации",
    3: "Как выбрать метод",
    4: "Сравнение методов",
    5: "Поведенческое обучение (RLHF)",
    6: "Основные инструменты",
    7: "Практические рекомендации",
    8: "Заключение",
}

# §2: category -> (name, what changes, examples, when to apply)
CATEGORIES_RU = [
    (
        "full-ft",
        "Full Fine-Tuning",
        "Все веса модели",
        ["BERT", "GPT-2", "T5"],
        "Есть мощный GPU и много данных",
    ),
    (
        "partial-ft",
        "Partial Fine-Tuning",
        "Только верхние слои",
        ["BERT + Linear Head"],
        "Малый датасет, дообучение классификатора",
    ),
    (
        "peft",
        "Adapters / LoRA / Prefix / QLoRA",
        "Добавляем обучаемые модули",
        ["PEFT", "bitsandbytes"],
        "Ограниченные ресурсы, быстрый transfer",
    ),
    (
        "prompt-retrieval",
        "Prompt / Retrieval-based",
        "Контекст и запросы",
        ["RAG", "In-Context Learning"],
        "Без обучения модели",
    ),
    (
        "reinforcement",
        "Reinforcement-based",
        "Поведенческое дообучение",
        ["RLHF", "PPO", "DPO"],
        'Нужна "человечность", контроль ответов',
    ),
]

# §3: the seven "how to choose" lines and the methods each names
CHOOSE_RU = [
    ("Есть мощная GPU и достаточно данных → Full Fine-Tuning", ["full-ft"]),
    ("Нужно обучить только часть модели → Partial Fine-Tuning", ["partial-ft"]),
    ("Ограниченные ресурсы → LoRA / QLoRA / Adapters", ["lora", "qlora", "adapters"]),
    ("Хотите дообучить только смещения → BitFit", ["bitfit"]),
    ("Требуется ассистент или чат-бот → SFT + RLHF", ["sft", "rlhf-ppo"]),
    ("Нужно обновлять знания без обучения → RAG", ["rag"]),
    ("Минимальные ресурсы, быстрое внедрение → In-Context Learning", ["icl"]),
]

# §4: label, methods, memory, speed, quality, best for
COMPARISON = [
    ("Full Fine-Tuning", ["full-ft"], "high", "medium", "excellent", "При полном обучении модели"),
    ("Partial Fine-Tuning", ["partial-ft"], "medium", "fast", "moderate", "Для небольших задач"),
    ("LoRA / QLoRA", ["lora", "qlora"], "low", "fast", "near-full", "При ограниченных ресурсах"),
    ("Adapters / Prefix", ["adapters", "prefix-tuning"], "low", "fast", "moderate", "Быстрый перенос"),
    ("BitFit", ["bitfit"], "very-low", "instant", "moderate", "Минимальные вычисления"),
    ("RAG / ICL", ["rag", "icl"], "low", "instant", "context-dependent", "Для обновляемых знаний"),
    ("RLHF / SFT / DPO", ["rlhf-ppo", "sft", "dpo"], "high", "slow", "high", "Диалоговые модели"),
]

# §5: the three stages
STAGES_RU = [
    ("SFT", "SFT (Supervised Fine-Tuning) — обучение на примерах инструкций.", {"sft"}),
    (
        "RLHF",
        "RLHF (Reinforcement Learning from Human Feedback) — улучшение модели на основе оценок людей.",
        {"rlhf-ppo"},
    ),
    (
        "PPO / DPO",
        "PPO / DPO — оптимизация поведения модели под человеческие предпочтения.",
        {"rlhf-ppo", "dpo"},
    ),
]

# §6: goal, library, features
TOOLS_RU = [
    ("Модели и токенизация", "transformers", "Универсальный стандарт"),
    ("Лёгкое дообучение", "peft", "LoRA, QLoRA, Prefix, BitFit"),
    ("Поведенческое обучение", "trl", "RLHF, PPOTrainer, DPO"),
    ("Квантование", "bitsandbytes", "8-bit и 4-bit оптимизация"),
    ("Датасеты", "datasets", "Простое подключение"),
    ("Мониторинг", "wandb / tensorboard", "Логи и графики"),
]

# §7: the five practical recommendations and the methods each names
RECOMMENDATIONS_RU = [
    ("Если у вас V100 / A100 / RTX 4090 → используйте Full Fine-Tuning", ["full-ft"]),
    ("Для одной RTX 3090 (24GB) → QLoRA или Adapters", ["qlora", "adapters"]),
    ("Для диалогов и ассистентов → SFT + RLHF", ["sft", "rlhf-ppo"]),
    ("Для обновления знаний без обучения → RAG", ["rag"]),
    ("Для быстрых прототипов → LoRA или BitFit", ["lora", "bitfit"]),
]

REQUIRED_METHODS = [
    "full-ft", "partial-ft", "bitfit", "adapters", "prefix-tuning", "prompt-tuning", "p-tuning",
    "lora", "qlora", "dora", "adalora", "ia3", "galore", "continued-pretraining", "sft",
    "reward-model", "rlhf-ppo", "dpo", "orpo", "kto", "simpo", "grpo", "rag", "icl",
]  # fmt: skip

REQUIRED_GPUS = {  # id -> advertised memory (GiB)
    "v100-16gb": 16, "v100-32gb": 32, "t4": 16, "a10g": 24, "l4": 24, "rtx-3090": 24,
    "rtx-4090": 24, "rtx-5090": 32, "rtx-a6000": 48, "l40s": 48, "a100-40gb": 40,
    "a100-80gb": 80, "h100-80gb": 80, "h200": 141, "mi300x": 192,
}  # fmt: skip

# The paper that introduced each method (arXiv id); every method here has one.
PAPERS = {
    "full-ft": "1810.04805",  # BERT's fine-tuning recipe
    "partial-ft": "1911.03090",
    "bitfit": "2106.10199",
    "adapters": "1902.00751",
    "prefix-tuning": "2101.00190",
    "prompt-tuning": "2104.08691",
    "p-tuning": "2103.10385",
    "lora": "2106.09685",
    "qlora": "2305.14314",
    "dora": "2402.09353",
    "adalora": "2303.10512",
    "ia3": "2205.05638",
    "galore": "2403.03507",
    "continued-pretraining": "2004.10964",
    "sft": "2203.02155",
    "reward-model": "2009.01325",
    "rlhf-ppo": "2203.02155",
    "dpo": "2305.18290",
    "orpo": "2403.07691",
    "kto": "2402.01306",
    "simpo": "2405.14734",
    "grpo": "2402.03300",
    "rag": "2005.11401",
    "icl": "2005.14165",
}
# Methods without a paper to cite (none today: even RAG and in-context learning have one).
# Hosted services cite their providers' documentation (each offer's source), not a paper.
NO_PAPER: frozenset[str] = frozenset({"hosted-ft", "embeddings-classifier"})


@pytest.fixture(scope="module")
def kb(catalog: Catalog) -> KnowledgeBase:
    return catalog.kb


def _methods_with_source(kb: KnowledgeBase, tag: str) -> set[str]:
    return {m.id for m in kb.methods if tag in m.source}


# --- the guide ------------------------------------------------------------------------------------


def test_guide_identity(kb: KnowledgeBase) -> None:
    assert kb.guide.version == "1.4"
    assert "Fine-Tuning Atlas" in kb.guide.title


def test_every_guide_section_is_there(kb: KnowledgeBase) -> None:
    sections = {s.number: s for s in kb.guide.sections}
    assert sorted(sections) == list(range(1, 9))
    for number, title in SECTION_TITLES_RU.items():
        assert sections[number].title.ru == title
        assert sections[number].title.en
        assert sections[number].summary.en and sections[number].summary.ru


def test_conclusion_keeps_the_guide_wording(kb: KnowledgeBase) -> None:
    conclusion = next(s for s in kb.guide.sections if s.number == 8).summary.ru or ""
    assert "навигационная карта для разработчика" in conclusion
    assert "«что выбрать, когда ресурсов мало, а качество всё ещё важно»" in conclusion


def test_section_2_categories(kb: KnowledgeBase) -> None:
    assert len(kb.categories) == 5
    for category, (cid, name, changes, examples, when) in zip(kb.categories, CATEGORIES_RU, strict=True):
        assert category.id == cid
        assert category.source == f"{SOURCE} §2"
        assert (category.name.ru, category.changes.ru, category.examples, category.when.ru) == (
            name,
            changes,
            examples,
            when,
        )
        assert category.name.en and category.changes.en and category.when.en


def test_every_method_belongs_to_a_category_that_lists_it(kb: KnowledgeBase) -> None:
    listed = {m: c.id for c in kb.categories for m in c.methods}
    for method in kb.methods:
        assert listed.get(method.id) == method.category, method.id


def _check_guide_rules(
    kb: KnowledgeBase, rules: list[GuideRule], expected: list[tuple[str, list[str]]]
) -> None:
    engine_rules = {r.id: (r.source, r.because.ru) for r in [*kb.rules, *kb.pipelines]}
    assert len(rules) == len(expected)
    for rule, (ru, methods) in zip(rules, expected, strict=True):
        assert rule.text.ru == ru
        assert rule.text.en and "→" in rule.text.en
        assert rule.methods == methods
        for engine_rule in rule.engine_rules:
            source, because_ru = engine_rules[engine_rule]
            assert source.startswith(rule.source), (engine_rule, source)
            assert because_ru in (None, ru), engine_rule
        assert set(methods) <= _methods_with_source(kb, rule.source), rule.id


def test_section_3_how_to_choose(kb: KnowledgeBase) -> None:
    choose = kb.guide.choose
    assert [r.source for r in choose] == [f"{SOURCE} §3.{n}" for n in range(1, 8)]
    assert [r.id for r in choose] == [f"atlas-3.{n}" for n in range(1, 8)]
    _check_guide_rules(kb, choose, CHOOSE_RU)


def test_section_3_lines_are_cited_by_their_methods(kb: KnowledgeBase) -> None:
    for n, (_, methods) in enumerate(CHOOSE_RU, start=1):
        assert set(methods) <= _methods_with_source(kb, f"{SOURCE} §3.{n}"), n


def test_section_4_comparison_maps_exactly(kb: KnowledgeBase) -> None:
    rows = [
        (row.label, row.methods, row.memory, row.speed, row.quality, row.best_for.ru)
        for row in kb.guide.comparison
    ]
    assert rows == COMPARISON


def test_section_4_ratings_agree_with_the_methods(kb: KnowledgeBase) -> None:
    methods = {m.id: m for m in kb.methods}
    for _, ids, memory, speed, quality, _ in COMPARISON:
        for method_id in ids:
            ratings = methods[method_id].ratings
            assert (ratings.memory, ratings.speed, ratings.quality) == (memory, speed, quality), method_id
            assert f"{SOURCE} §4" in methods[method_id].source, method_id


def test_section_5_stages(kb: KnowledgeBase) -> None:
    stages = kb.guide.stages
    assert [s.step for s in stages] == [1, 2, 3]
    for stage, (name, ru, methods) in zip(stages, STAGES_RU, strict=True):
        assert stage.name == name
        assert stage.text.ru == ru
        assert methods <= set(stage.methods)
    assert {"sft", "rlhf-ppo", "dpo"} <= _methods_with_source(kb, f"{SOURCE} §5")


def test_section_6_tools(kb: KnowledgeBase) -> None:
    tools = [(t.goal.ru, t.library, t.features.ru) for t in kb.guide.tools]
    assert tools == TOOLS_RU
    assert {"lora", "qlora", "prefix-tuning", "bitfit", "rlhf-ppo", "dpo"} <= _methods_with_source(
        kb, f"{SOURCE} §6"
    )


def test_section_7_recommendations(kb: KnowledgeBase) -> None:
    recommendations = kb.guide.recommendations
    assert [r.source for r in recommendations] == [f"{SOURCE} §7"] * 5
    assert [r.id for r in recommendations] == [f"atlas-7.{n}" for n in range(1, 6)]
    _check_guide_rules(kb, recommendations, RECOMMENDATIONS_RU)
    named = {m for _, methods in RECOMMENDATIONS_RU for m in methods}
    assert named <= _methods_with_source(kb, f"{SOURCE} §7")


def test_section_2_methods_cite_it(kb: KnowledgeBase) -> None:
    named = {
        "full-ft",
        "partial-ft",
        "adapters",
        "prefix-tuning",
        "lora",
        "qlora",
        "rag",
        "icl",
        "rlhf-ppo",
        "dpo",
    }
    assert named <= _methods_with_source(kb, f"{SOURCE} §2")


def test_every_source_tag_names_a_real_section(kb: KnowledgeBase) -> None:
    tag = re.compile(rf"{re.escape(SOURCE)} §(\d+)(?:\.(\d+))?")
    tags = [s for m in kb.methods for s in m.source]
    tags += [c.source for c in kb.categories]
    tags += [r.source for r in [*kb.guide.choose, *kb.guide.recommendations, *kb.rules, *kb.pipelines]]
    seen: set[int] = set()
    for text in tags:
        for match in tag.finditer(text):
            section, item = int(match.group(1)), match.group(2)
            assert 1 <= section <= 8, text
            if item is not None:
                assert section == 3 and 1 <= int(item) <= 7, text
            seen.add(section)
    assert set(range(2, 8)) <= seen


def test_every_guide_rule_has_an_engine_rule(kb: KnowledgeBase) -> None:
    for rule in [*kb.guide.choose, *kb.guide.recommendations]:
        assert rule.engine_rules, rule.id


# --- the source guide itself (a copy is kept in docs/source/) ------------------------------------

SEED = REPO / "docs" / "source" / "fine-tuning-atlas-v1.4.ru.md"


def _plain(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("**", "")).strip()


def _seed_sections(text: str) -> dict[int, list[str]]:
    sections: dict[int, list[str]] = {}
    current = 0
    for line in text.splitlines():
        heading = re.match(r"^## \S+ (\d)\. (.+)$", line)
        if heading:
            current = int(heading.group(1))
            sections[current] = [heading.group(2).strip()]
        elif current:
            sections[current].append(line)
    return sections


def _table_rows(lines: list[str]) -> list[list[str]]:
    rows = [
        [_plain(cell) for cell in line.strip().strip("|").split("|")]
        for line in lines
        if line.startswith("|")
    ]
    return [row for row in rows[2:]]  # drop the header and the |---| line


def _without_emoji(cell: str) -> str:
    return re.sub(r"^[^\w\"«(]+", "", cell).strip()


@pytest.fixture(scope="module")
def seed() -> dict[int, list[str]]:
    return _seed_sections(SEED.read_text(encoding="utf-8"))


def test_seed_has_the_expected_shape(seed: dict[int, list[str]]) -> None:
    assert sorted(seed) == list(range(1, 9))
    assert {n: _without_emoji(lines[0]) for n, lines in seed.items()} == SECTION_TITLES_RU


def test_expectations_match_the_seed(seed: dict[int, list[str]]) -> None:
    """The expectations above are the seed's own words (guards against editing both sides)."""
    categories = [[_without_emoji(c) for c in row[:4]] for row in _table_rows(seed[2])]
    assert categories == [
        [name, changes, ", ".join(ex), when] for _, name, changes, ex, when in CATEGORIES_RU
    ]

    choose = [
        _plain(re.sub(r"^\d\ufe0f?\u20e3\s*", "", line))
        for line in seed[3]
        if re.match(r"^\d\ufe0f?\u20e3", line)
    ]
    assert choose == [ru for ru, _ in CHOOSE_RU]

    comparison = [[_without_emoji(c) for c in row] for row in _table_rows(seed[4])]
    assert [(row[0], row[4]) for row in comparison] == [(label, best) for label, *_, best in COMPARISON]

    stages = [_plain(re.sub(r"^\d\. \S+ ", "", line)) for line in seed[5] if re.match(r"^\d\. ", line)]
    assert stages == [ru for _, ru, _ in STAGES_RU]

    tools = [[_without_emoji(c) for c in row] for row in _table_rows(seed[6])]
    assert [tuple(row) for row in tools] == TOOLS_RU

    recommendations = [_plain(re.sub(r"^- \S+ ", "", line)) for line in seed[7] if line.startswith("- ")]
    assert recommendations == [ru for ru, _ in RECOMMENDATIONS_RU]


# --- methods ---------------------------------------------------------------------------------------


def test_required_methods(kb: KnowledgeBase) -> None:
    ids = [m.id for m in kb.methods]
    assert len(ids) >= 24
    assert set(REQUIRED_METHODS) <= set(ids)


def test_method_kinds(kb: KnowledgeBase) -> None:
    kinds = {m.id: m.kind for m in kb.methods}
    assert {m for m in REQUIRED_METHODS if kinds[m] == "no-training"} == {"rag", "icl"}
    objectives = {
        "continued-pretraining",
        "sft",
        "reward-model",
        "rlhf-ppo",
        "dpo",
        "orpo",
        "kto",
        "simpo",
        "grpo",
    }
    assert {m for m in REQUIRED_METHODS if kinds[m] == "objective"} == objectives


def test_every_method_with_a_paper_cites_it_by_arxiv_id(kb: KnowledgeBase) -> None:
    for method in kb.methods:
        arxiv = [r.arxiv for r in method.references if r.arxiv]
        if method.id in NO_PAPER:
            continue
        assert arxiv, f"{method.id}: no reference with an arXiv id"
        assert all(ARXIV.match(a) for a in arxiv), method.id
    for method_id, paper in PAPERS.items():
        method = next(m for m in kb.methods if m.id == method_id)
        assert paper in {r.arxiv for r in method.references}, (method_id, paper)


def test_reference_years_agree_with_arxiv_ids(kb: KnowledgeBase) -> None:
    for method in kb.methods:
        for ref in method.references:
            assert ref.title and ref.first_author
            if ref.arxiv:
                assert ref.year == 2000 + int(ref.arxiv[:2]), (method.id, ref.title)


def test_every_method_is_actionable(kb: KnowledgeBase) -> None:
    for method in kb.methods:
        assert method.snippet.strip(), method.id
        assert method.libraries, method.id
        assert method.use_when and method.avoid_when, method.id
        share = method.trainable_share
        if share and share.low_pct is not None and share.high_pct is not None:
            assert share.low_pct <= share.high_pct, method.id


# --- GPUs ------------------------------------------------------------------------------------------


def test_required_gpus(kb: KnowledgeBase) -> None:
    gpus = {g.id: g for g in kb.gpus}
    assert len(gpus) >= 16
    for gpu_id, memory in REQUIRED_GPUS.items():
        assert gpus[gpu_id].memory_gib == memory, gpu_id


def test_gpu_capabilities(kb: KnowledgeBase) -> None:
    gpus = {g.id: g for g in kb.gpus}
    for old in ("v100-16gb", "v100-32gb", "t4"):
        assert not gpus[old].bf16, old
    for new in ("a10g", "l4", "rtx-3090", "rtx-4090", "a100-80gb", "h100-80gb", "h200", "mi300x"):
        assert gpus[new].bf16, new
    assert gpus["mi300x"].vendor == "amd" and not gpus["mi300x"].cuda


@pytest.mark.parametrize(
    ("query", "gpu_id"),
    [("3090", "rtx-3090"), ("RTX3090", "rtx-3090"), ("rtx 3090", "rtx-3090"), ("A100 80GB", "a100-80gb")],
)
def test_gpu_aliases_from_the_guide(catalog: Catalog, query: str, gpu_id: str) -> None:
    assert catalog.gpu(query).id == gpu_id


# --- models ----------------------------------------------------------------------------------------


def test_required_models(kb: KnowledgeBase) -> None:
    ids = {m.id for m in kb.models}
    families = {m.family for m in kb.models}
    assert len(ids) >= 20
    assert {
        "bert-base",
        "gpt2",
        "gpt2-medium",
        "gpt2-large",
        "gpt2-xl",
        "t5-small",
        "t5-base",
        "t5-large",
    } <= ids
    for family in ("llama", "mistral", "qwen", "gemma", "phi"):
        assert any(f.startswith(family) for f in families), family


def test_bias_terms(kb: KnowledgeBase) -> None:
    by_family: dict[str, set[bool]] = {}
    for model in kb.models:
        by_family.setdefault(model.family, set()).add(model.has_bias)
    assert by_family["llama"] == {False}
    assert by_family["mistral"] == {False}
    assert by_family["bert"] == {True}
    assert by_family["gpt2"] == {True}


def test_architectures(kb: KnowledgeBase) -> None:
    for model in kb.models:
        encoders = {"bert": "encoder", "modernbert": "encoder", "roberta": "encoder", "t5": "encoder-decoder"}
        expected = encoders.get(model.family, "decoder")
        assert model.architecture == expected, model.id
        assert model.attention_heads % model.kv_heads == 0, model.id
        if model.head_dim is None:
            assert model.hidden_size % model.attention_heads == 0, model.id


# Each entry's params_b against the count its shape gives: tests/test_models.py.


_STOP_WORDS = {
    "when",
    "are",
    "is",
    "the",
    "a",
    "an",
    "for",
    "of",
    "to",
    "with",
    "and",
    "you",
    "your",
    "guide",
}


def _content_words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+", text.lower())) - _STOP_WORDS


def test_use_when_lists_no_near_duplicates(kb: KnowledgeBase) -> None:
    """The guide says "limited resources" three ways; a card keeps its wording once, attributed."""
    for method in kb.methods:
        items = [_content_words(t.en) for t in method.use_when]
        for i, words in enumerate(items):
            for other in items[i + 1 :]:
                assert not (words <= other or other <= words), (method.id, words, other)


def test_the_cards_tags_agree_with_how_their_objectives_train(kb: KnowledgeBase) -> None:
    """RLOO loads a reference model (RLOOConfig's beta 0.05) and the estimator counts it, but its
    card lacked the tag (a maintainer's review): a card's tags say what its training block does."""
    for method in kb.methods:
        if method.training is None:
            continue
        assert ("reference-model" in method.tags) == method.training.reference_model, method.id
        assert ("online-rl" in method.tags) == method.training.online, method.id


def test_a_russian_reason_keeps_the_english_one_s_flags(kb: KnowledgeBase) -> None:
    """The assistant pipeline's Russian reason fell back to the guide's bare line (its catalog
    translation no longer matched the English), while the English one explained --sft-data,
    ORPO and DPO (a Russian reader's review): the Russian shown names every flag the English does."""
    flag = re.compile(r"--[a-z][a-z-]+")
    for rule in [*kb.rules, *kb.pipelines]:
        shown = rule.because.get("ru")
        assert set(flag.findall(rule.because.en)) <= set(flag.findall(shown)), rule.id


def test_grpo_says_why_vllm_is_colocated(kb: KnowledgeBase) -> None:
    """An expert's review: server mode (TRL's default before 0.18) was named and never sized; the
    card says what Hugging Face measured of colocate against a server, the reason ft-atlas sizes
    and writes colocate."""
    grpo = next(m for m in kb.methods if m.id == "grpo")
    said = " ".join(grpo.hardware.en.split())
    assert "1.43x" in said and "1.26x at 72B" in said and "huggingface/blog vllm-colocate.md" in said


def test_full_parameter_snippets_keep_fp32_weights(kb: KnowledgeBase) -> None:
    """An expert's review: `show dpo` (and KTO, GRPO, RLOO, the reward model, full SFT) loaded the
    model in bf16 for a full-parameter update at 5e-7, where plain AdamW keeps no master copy and
    most such updates round away; TRL loads fp32 unless told otherwise. Adapter snippets (a
    frozen base) keep bf16."""
    for method in kb.methods:
        if method.snippet is None or '"dtype": "bfloat16"' not in method.snippet:
            continue
        assert "peft_config" in method.snippet or "LoraConfig" in method.snippet, method.id
    dpo = next(m for m in kb.methods if m.id == "dpo")
    assert dpo.snippet is not None and "learning_rate=5e-7)" in dpo.snippet


def test_a_good_batch_reason_explains_a_batch_above_the_least(kb: KnowledgeBase) -> None:
    """good_batch_why is what the recipe's batch setting says (KTO's KL estimate); a reason for a good
    batch that is only the least one explains nothing and is refused."""
    kto = next(m for m in kb.methods if m.id == "kto").training
    assert kto is not None and kto.good_batch_why is not None and kto.good_batch > kto.min_batch
    with pytest.raises(ValidationError, match="good_batch_why: explains a good_batch above min_batch"):
        Training.model_validate(kto.model_dump() | {"good_batch": kto.min_batch})


def test_what_unsloth_trains_is_said_alike_by_the_rule_and_the_memory_models(kb: KnowledgeBase) -> None:
    """A diff review: the rule that leaves out what Unsloth does not train lists method ids, and
    MemoryModelInfo.on_unsloth (whether --stack unsloth is suggested) memory models: they agree."""
    from atlas_cli.kb.vocabulary import MEMORY_MODELS

    rule = next(r for r in kb.rules if r.id == "unsloth-trains-lora-and-full-weights")
    trained = {
        m.id
        for m in kb.methods
        if m.kind == "parameterization" and m.memory_model and MEMORY_MODELS[m.memory_model].on_unsloth
    }
    assert rule.methods is not None and set(rule.methods.except_) == trained
