"""The memory estimator: published tables, hand-computed components, properties, and the CLI.

Hand-computed figures use a toy shape of exactly 1e9 parameters whose activations are negligible
(one token, tiny hidden size), so each breakdown component equals bytes-per-parameter in GB.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from atlas_cli.core import memory
from atlas_cli.core.estimates import Estimate, EstimateSettings
from atlas_cli.core.memory import GB, estimate
from atlas_cli.core.resolve import (
    Hardware,
    ModelInfo,
    choose_precision,
    resolve_hardware,
    resolve_model,
    settings_for,
)
from atlas_cli.core.shapes import Matrices, Shape, bare_model, shape_of
from atlas_cli.errors import UsageError
from atlas_cli.kb.catalog import Catalog
from atlas_cli.kb.files import bundled_kb_path
from atlas_cli.kb.loading import load_knowledge_base
from atlas_cli.kb.vocabulary import MEMORY_MODELS
from benchmarks.published import (
    FULL_AMP,
    LLAMA_FACTORY,
    LLAMA_FACTORY_SIZES,
    LORA_16,
    QLORA_4,
    Setup,
    ours,
)
from tests.conftest import REPO, Runner

CATALOG = Catalog(load_knowledge_base(bundled_kb_path()))
NO_GPU = resolve_hardware(CATALOG, None, None, 1)

# A 1e9-parameter model whose embeddings are 64k parameters and whose blocks are tiny: with one
# token of context its activations are ~0, so weights/gradients/optimizer read as bytes per param.
_TOY_MATRICES = (
    Matrices("attention", 64, 64, 8),
    Matrices("mlp", 64, 256, 4),
    Matrices("mlp", 256, 64, 2),
)
TOY = Shape(
    architecture="decoder",
    layers=2,
    hidden=64,
    vocab=500,
    q_dim=64,
    kv_dim=64,
    kv_cache_width=128,
    mlp_width=256,
    gated_mlp=True,
    tied_embeddings=False,
    matrices=_TOY_MATRICES,
    embedding_params=64_000.0,
    other_params=1e9 - 64_000.0 - sum(m.params for m in _TOY_MATRICES),
    bias_params=0.0,
)


def shape_for_size(params: float) -> Shape:
    return shape_of(bare_model(params))


def cfg(**changes: Any) -> EstimateSettings:
    base = EstimateSettings(
        objective="sft",
        seq_len=1,
        batch_size=1,
        precision="bf16",
        optimizer="adamw",
        gradient_checkpointing=False,
        lora_rank=16,
        quant_bits=4,
        gpus=1,
        capacity_gb=None,
    )
    return replace(base, **changes)


def model_shape(model_id: str) -> Shape:
    return shape_of(CATALOG.model(model_id))


def states_gb(e: Estimate) -> float:
    b = e.breakdown
    return b["weights_gb"] + b["gradients_gb"] + b["optimizer_gb"]


# --- published tables -----------------------------------------------------------------------


@pytest.mark.parametrize("setup", [FULL_AMP, LORA_16, QLORA_4], ids=lambda s: s.label)
@pytest.mark.parametrize("size", LLAMA_FACTORY_SIZES, ids=lambda size: f"{size:g}B")
def test_default_estimates_within_35_percent_of_llama_factory(setup: Setup, size: float) -> None:
    theirs = LLAMA_FACTORY[setup][LLAMA_FACTORY_SIZES.index(size)]
    mine, _ = ours(CATALOG, setup, size)
    assert 0.65 <= mine.per_gpu_gb / theirs <= 1.35, (setup.label, size, mine.per_gpu_gb, theirs)


def test_published_comparison_script_prints_both_tables() -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "benchmarks/published.py"], cwd=REPO, capture_output=True, text=True, check=True
    )
    out = result.stdout
    assert "LLaMA-Factory" in out and "Unsloth" in out
    for label in ("Full FT (AMP, AdamW)", "Full FT (pure bf16)", "LoRA 16-bit", "QLoRA 8-bit", "QLoRA 4-bit"):
        assert f"| {label} |" in out
    assert "| Setup | 3B | 7B | 8B | 14B | 32B | 70B | 405B |" in out
    assert "| Setup | 7B | 14B | 30B | 70B |" in out


# --- bytes per parameter (ZeRO, EleutherAI) -------------------------------------------------


@pytest.mark.parametrize(
    ("precision", "optimizer", "expected"),
    [
        # ZeRO: 2 (16-bit weights) + 2 (16-bit gradients) + 12 (fp32 master, momentum, variance).
        ("bf16", "adamw", (2.0, 2.0, 12.0)),
        ("fp16", "adamw", (2.0, 2.0, 12.0)),
        # EleutherAI: 8-bit Adam keeps the fp32 master copy plus 1 + 1 bytes of state.
        ("bf16", "adamw-8bit", (2.0, 2.0, 6.0)),
        ("bf16", "paged-adamw-8bit", (2.0, 2.0, 6.0)),
        # EleutherAI: SGD with momentum = fp32 master 4 + momentum 4.
        ("bf16", "sgd", (2.0, 2.0, 8.0)),
        # LLaMA-Factory's pure bf16: everything in bf16, no master copy: 8 bytes per parameter.
        ("pure-bf16", "adamw", (2.0, 2.0, 4.0)),
        # fp32: no master copy needed, fp32 moments.
        ("fp32", "adamw", (4.0, 4.0, 8.0)),
    ],
)
def test_full_ft_bytes_per_parameter(
    precision: str, optimizer: str, expected: tuple[float, float, float]
) -> None:
    e = estimate("full-ft", "full", TOY, cfg(precision=precision, optimizer=optimizer))
    assert (e.breakdown["weights_gb"], e.breakdown["gradients_gb"], e.breakdown["optimizer_gb"]) == expected


def test_mixed_precision_adamw_is_16_bytes_per_parameter() -> None:
    e = estimate("full-ft", "full", TOY, cfg())
    assert states_gb(e) == 16.0
    assert memory.optimizer_bytes("adamw", "bf16") == 12.0
    assert memory.optimizer_bytes("adamw-8bit", "bf16") == 6.0
    assert memory.optimizer_bytes("sgd", "bf16") == 8.0


def test_nf4_double_quantization_costs_4_127_bits() -> None:
    # QLoRA §2: 4 bits + 8-bit constants per 64 weights + 32-bit constants per 64*256 weights.
    assert pytest.approx(4 + 8 / 64 + 32 / 16384) == memory.NF4_DOUBLE_QUANT_BITS
    assert round(memory.NF4_DOUBLE_QUANT_BITS, 3) == 4.127
    assert memory.frozen_bytes("qlora", 4, "bf16") == pytest.approx(4.127 / 8, abs=1e-4)
    assert memory.frozen_bytes("lora", 4, "bf16") == 2.0


def test_qlora_weights_quantized_except_embeddings() -> None:
    shape = model_shape("llama-3.1-8b")
    e = estimate("qlora", "qlora", shape, cfg())
    embeddings = 2 * 128256 * 4096  # input embedding + untied LM head, kept in bf16
    lora = 41_943_040
    expected = (8.03e9 - embeddings) * 4.12695 / 8 + embeddings * 2 + lora * 2
    assert e.breakdown["weights_gb"] == pytest.approx(expected / GB, abs=0.01)
    # 8-bit base: int8 plus a per-row scale.
    e8 = estimate("qlora", "qlora", shape, cfg(quant_bits=8))
    expected8 = (8.03e9 - embeddings) * 1 + embeddings * 2 + lora * 2
    assert e8.breakdown["weights_gb"] == pytest.approx(expected8 / GB, abs=0.01)


# --- trainable parameters (LoRA, BitFit, partial) ---------------------------------------------


def test_lora_r16_all_linear_on_llama_3_1_8b() -> None:
    # Per block: q 4096+4096, k 4096+1024, v 4096+1024, o 4096+4096, gate/up 4096+14336 (x2),
    # down 14336+4096 -> 81,920 * r=16 * 32 blocks.
    shape = model_shape("llama-3.1-8b")
    assert memory.lora_params(shape, 16) == 41_943_040
    assert memory.lora_params(shape, 32) == 2 * 41_943_040
    e = estimate("lora", "lora", shape, cfg())
    assert e.trainable_params_b == 0.041943


def test_lora_trains_only_the_adapters() -> None:
    e = estimate("lora", "lora", TOY, cfg())
    trainable = memory.lora_params(TOY, 16)
    assert e.breakdown["weights_gb"] == pytest.approx((1e9 * 2 + trainable * 2) / GB, abs=0.01)
    assert e.breakdown["gradients_gb"] == pytest.approx(trainable * 2 / GB, abs=0.01)
    assert e.breakdown["optimizer_gb"] == pytest.approx(trainable * 12 / GB, abs=0.01)


def test_bitfit_on_a_bias_free_model_trains_nothing() -> None:
    e = estimate("bitfit", "bitfit", model_shape("llama-3.1-8b"), cfg())
    assert e.trainable_params_b == 0
    assert e.breakdown["gradients_gb"] == 0
    assert e.breakdown["optimizer_gb"] == 0


def test_bitfit_counts_linear_biases() -> None:
    # BERT-base, per block: q, k, v, o biases 4*768, FFN 3072 + 768 -> 6,912 * 12 blocks.
    assert model_shape("bert-base").bias_params == 12 * (4 * 768 + 3072 + 768)


def test_partial_ft_does_not_count_the_trained_layers_twice() -> None:
    e = estimate("partial-ft", "partial", TOY, cfg())
    assert e.breakdown["weights_gb"] == 2.0  # every weight once, in bf16
    trained = TOY.linear_params * memory.PARTIAL_TRAINABLE_SHARE
    assert e.breakdown["optimizer_gb"] == pytest.approx(trained * 12 / GB, abs=0.01)


# --- activations, logits, KV cache ------------------------------------------------------------


def test_block_activations_match_korthikanti_without_dropout() -> None:
    # GPT-2: q_dim = kv_dim = h, f = 4h -> 32*h bytes per token (the paper's 34*h less two
    # 1-byte dropout masks), with memory-efficient attention (no s^2 term).
    gpt2 = model_shape("gpt2")
    assert memory.block_activation_bytes(gpt2, 1, "bf16") == 32 * 768
    assert memory.block_activation_bytes(gpt2, 100, "fp32") == 2 * 100 * 32 * 768
    # Llama 3.1 8B (gated MLP, GQA): 8h + 4*q_dim + 4*kv_dim + 8f.
    llama = model_shape("llama-3.1-8b")
    assert memory.block_activation_bytes(llama, 1, "bf16") == 12 * 4096 + 4 * 1024 + 8 * 14336


def test_checkpointing_keeps_each_block_input_plus_one_block() -> None:
    llama = model_shape("llama-3.1-8b")
    tokens = 2048
    full_block = memory.block_activation_bytes(llama, tokens, "bf16")
    kept = memory.activation_bytes(llama, tokens, 32, True, "bf16")
    assert kept == 32 * 2 * tokens * 4096 + full_block
    assert memory.activation_bytes(llama, tokens, 32, False, "bf16") == 32 * full_block
    assert memory.activation_bytes(llama, tokens, 0, True, "bf16") == 0


def test_logits_cost_10_bytes_per_vocabulary_entry_per_token() -> None:
    assert memory.logit_bytes(model_shape("llama-3.1-8b"), 2048) == 2048 * 128256 * 10
    assert memory.logit_bytes(model_shape("bert-base"), 512) == 0


def test_kv_cache() -> None:
    # Llama 3.1 8B: 2 (K, V) * 32 layers * 8 KV heads * 128 dims * 2 bytes = 128 KiB per token.
    llama = model_shape("llama-3.1-8b")
    assert memory.kv_cache_bytes(llama, 1) == 131_072
    assert memory.kv_cache_bytes(llama, 2048) == 268_435_456


def test_overhead_is_cuda_context_plus_allocator_slack() -> None:
    e = estimate("full-ft", "full", TOY, cfg())
    live = 16e9 + memory.activation_bytes(TOY, 1, 2, False, "bf16") + memory.logit_bytes(TOY, 1)
    assert e.breakdown["overhead_gb"] == pytest.approx((0.5e9 + 0.05 * live) / GB, abs=0.01)
    assert e.per_gpu_gb == pytest.approx((live * 1.05 + 0.5e9) / GB, abs=0.01)
    assert e.total_gb == e.per_gpu_gb


def test_gpu_capacity_is_advertised_gib_in_gb() -> None:
    assert memory.gib_to_gb(24) == 25.77
    assert memory.gib_to_gb(80) == 85.9


# --- objectives ---------------------------------------------------------------------------------


def test_dpo_full_ft_loads_a_reference_copy_lora_does_not() -> None:
    shape = model_shape("llama-3.1-8b")
    s = cfg(seq_len=2048, gradient_checkpointing=True)
    sft_full = estimate("full-ft", "full", shape, s)
    dpo_full = estimate("full-ft", "full", shape, replace(s, objective="dpo"))
    assert dpo_full.breakdown["weights_gb"] == pytest.approx(
        sft_full.breakdown["weights_gb"] + 16.06, abs=0.01
    )
    sft_lora = estimate("lora", "lora", shape, s)
    dpo_lora = estimate("lora", "lora", shape, replace(s, objective="dpo"))
    assert dpo_lora.breakdown["weights_gb"] == sft_lora.breakdown["weights_gb"]
    # Chosen + rejected: twice the sequences, so about twice the activations.
    assert dpo_lora.breakdown["activations_gb"] == pytest.approx(
        2 * sft_lora.breakdown["activations_gb"], abs=0.02
    )


@pytest.mark.parametrize("objective", ["orpo", "simpo"])
def test_reference_free_objectives(objective: str) -> None:
    shape = model_shape("llama-3.1-8b")
    sft = estimate("full-ft", "full", shape, cfg())
    e = estimate("full-ft", "full", shape, cfg(objective=objective))
    assert e.breakdown["weights_gb"] == sft.breakdown["weights_gb"]


@pytest.mark.parametrize(("method", "model"), [("full-ft", "full"), ("lora", "lora"), ("qlora", "qlora")])
def test_ppo_needs_more_than_dpo(method: str, model: str) -> None:
    shape = model_shape("llama-3.1-8b")
    s = cfg(seq_len=2048, gradient_checkpointing=True)
    dpo = estimate(method, model, shape, replace(s, objective="dpo"))
    ppo = estimate(method, model, shape, replace(s, objective="rlhf-ppo"))
    assert ppo.per_gpu_gb > dpo.per_gpu_gb


def test_ppo_full_ft_holds_four_models() -> None:
    e = estimate("full-ft", "full", TOY, cfg(objective="rlhf-ppo"))
    # policy + value: 2 + 2 + 12 each; reference and reward: 2 each.
    assert (e.breakdown["weights_gb"], e.breakdown["gradients_gb"], e.breakdown["optimizer_gb"]) == (
        8.0,
        4.0,
        24.0,
    )


def _rollout_activations_gb(shape: Shape, sequences: int, seq_len: int) -> float:
    """Peak of training on `sequences` sampled sequences (activations, completion logits) and
    of generating them (their KV cache)."""
    tokens = sequences * seq_len
    kept = memory.activation_bytes(shape, tokens, shape.layers, True, "bf16")
    logits = memory.logit_bytes(shape, tokens * memory.COMPLETION_SHARE, memory.ROLLOUT_LOGIT_BYTES)
    # Generation's KV cache is freed before the training pass: the peak is the larger.
    return max(kept + logits, memory.kv_cache_bytes(shape, tokens)) / GB


def test_grpo_adds_generation_memory() -> None:
    shape = model_shape("llama-3.1-8b")
    s = cfg(seq_len=2048, gradient_checkpointing=True)
    sft = estimate("lora", "lora", shape, s)
    grpo = estimate("lora", "lora", shape, replace(s, objective="grpo"))
    assert grpo.breakdown["weights_gb"] == sft.breakdown["weights_gb"]  # beta = 0: no reference
    expected = _rollout_activations_gb(shape, memory.GRPO_GENERATIONS, 2048)
    assert grpo.breakdown["activations_gb"] == pytest.approx(expected, abs=0.02)
    assert grpo.per_gpu_gb > sft.per_gpu_gb


def test_rloo_loads_a_reference_and_generates() -> None:
    shape = model_shape("llama-3.1-8b")
    s = cfg(seq_len=2048, gradient_checkpointing=True)
    sft = estimate("full-ft", "full", shape, s)
    rloo = estimate("full-ft", "full", shape, replace(s, objective="rloo"))
    assert rloo.breakdown["weights_gb"] == pytest.approx(2 * sft.breakdown["weights_gb"], abs=0.01)
    expected = _rollout_activations_gb(shape, memory.RLOO_GENERATIONS, 2048)
    assert rloo.breakdown["activations_gb"] == pytest.approx(expected, abs=0.02)


# --- precision choice and GPUs --------------------------------------------------------------------


@pytest.mark.parametrize("gpu", ["v100-16gb", "t4"])
def test_bf16_on_pre_ampere_gpus_falls_back_to_fp16(gpu: str) -> None:
    hardware = resolve_hardware(CATALOG, gpu, None, 1)
    assert choose_precision(None, hardware) == ("fp16", None)
    precision, warning = choose_precision("bf16", hardware)
    assert precision == "fp16"
    assert warning is not None and "bf16" in warning
    info = resolve_model(CATALOG, None, 7)
    s, warnings = settings_for(info, hardware, precision="bf16")
    assert s.precision == "fp16" and len(warnings) == 1
    assert choose_precision("bf16", resolve_hardware(CATALOG, "a100-80gb", None, 1)) == ("bf16", None)


def test_four_gpus_divide_full_ft_model_states() -> None:
    shape = model_shape("llama-3.1-8b")
    one = estimate("full-ft", "full", shape, cfg(seq_len=2048, gradient_checkpointing=True))
    four = estimate("full-ft", "full", shape, cfg(seq_len=2048, gradient_checkpointing=True, gpus=4))
    assert states_gb(four) == pytest.approx(states_gb(one) / 4, abs=0.02)
    assert four.breakdown["activations_gb"] == one.breakdown["activations_gb"]
    assert four.total_gb == one.total_gb


def test_qlora_is_not_sharded_across_gpus() -> None:
    shape = model_shape("llama-3.1-70b")
    one = estimate("qlora", "qlora", shape, cfg())
    four = estimate("qlora", "qlora", shape, cfg(gpus=4))
    assert four.per_gpu_gb == one.per_gpu_gb


def test_defaults() -> None:
    seven = resolve_model(CATALOG, None, 7)
    s, _ = settings_for(seven, NO_GPU)
    assert (s.seq_len, s.batch_size, s.precision, s.optimizer, s.lora_rank, s.quant_bits) == (
        2048,
        1,
        "bf16",
        "adamw",
        16,
        4,
    )
    assert s.gradient_checkpointing is True
    small, _ = settings_for(resolve_model(CATALOG, "gpt2", None), NO_GPU)
    assert small.gradient_checkpointing is False
    bert, _ = settings_for(resolve_model(CATALOG, "bert-base", None), NO_GPU)
    assert bert.seq_len == 512
    with pytest.raises(UsageError, match="--quant-bits"):
        settings_for(seven, NO_GPU, quant_bits=3)


def test_bare_size_gets_a_smooth_llama_style_shape() -> None:
    shape = shape_for_size(70e9)
    assert shape.params == pytest.approx(70e9, rel=0.02) and shape.vocab == 128_256 and shape.gated_mlp
    assert shape.hidden == 8192 and shape.kv_dim == 1024
    info = resolve_model(CATALOG, None, 0.125)
    assert info.params_b == pytest.approx(0.125, rel=0.1) and info.template is not None
    assert "hidden 576" not in info.template and "Llama-3-style shape" in info.template


def test_bare_sizes_of_the_published_tables_grow() -> None:
    for setup in (FULL_AMP, LORA_16, QLORA_4):
        figures = [ours(CATALOG, setup, size)[0].per_gpu_gb for size in (3, 7, 14, 30, 70, 405)]
        assert figures == sorted(figures), setup.label


# --- properties (hypothesis) -------------------------------------------------------------------

ALL_METHODS = [(m.id, m.memory_model) for m in CATALOG.kb.methods if m.memory_model is not None]
OBJECTIVES = [m.id for m in CATALOG.kb.methods if m.kind == "objective"]
MODEL_IDS = [m.id for m in CATALOG.kb.models]
GPU_IDS = [g.id for g in CATALOG.kb.gpus]

shapes = st.one_of(
    st.sampled_from(MODEL_IDS).map(model_shape),
    st.floats(0.01, 2000).map(lambda b: shape_for_size(b * 1e9)),
)
methods = st.sampled_from(ALL_METHODS)


@st.composite
def setups(draw: st.DrawFn, shape: Shape) -> EstimateSettings:
    info = ModelInfo(None, "model", shape, None)
    gpus = draw(st.integers(1, 64))
    hardware: Hardware = draw(
        st.one_of(
            st.just(resolve_hardware(CATALOG, None, None, gpus)),
            st.sampled_from(GPU_IDS).map(lambda g: resolve_hardware(CATALOG, g, None, gpus)),
            st.floats(1, 1000).map(lambda v: resolve_hardware(CATALOG, None, v, gpus)),
        )
    )
    s, _ = settings_for(
        info,
        hardware,
        objective=draw(st.sampled_from(OBJECTIVES)),
        seq_len=draw(st.integers(1, 16384)),
        batch_size=draw(st.integers(1, 16)),
        precision=draw(st.sampled_from([None, "bf16", "fp16", "fp32", "pure-bf16"])),
        optimizer=draw(st.sampled_from(["adamw", "adamw-8bit", "paged-adamw-8bit", "sgd"])),
        gradient_checkpointing=draw(st.sampled_from([None, True, False])),
        lora_rank=draw(st.integers(1, 512)),
        quant_bits=draw(st.sampled_from([4, 8])),
    )
    return s


@dataclass(frozen=True)
class Case:
    method: str
    model: str
    shape: Shape
    settings: EstimateSettings

    def run(self, **changes: Any) -> Estimate:
        """The estimate with some settings changed (and `params` to rescale the same shape)."""
        shape = self.shape
        if "params" in changes:
            shape = replace(shape, other_params=shape.other_params + changes.pop("params") - shape.params)
        return estimate(self.method, self.model, shape, replace(self.settings, **changes))

    def per_gpu(self, **changes: Any) -> float:
        return self.run(**changes).per_gpu_gb


@st.composite
def cases(draw: st.DrawFn) -> Case:
    method_id, model = draw(methods)
    shape = draw(shapes)
    return Case(method_id, model, shape, draw(setups(shape)))


PROPERTY = settings(max_examples=150, deadline=None)


@PROPERTY
@given(cases())
def test_never_negative(case: Case) -> None:
    e = case.run()
    b = e.breakdown
    assert min(b["weights_gb"], b["gradients_gb"], b["optimizer_gb"], b["activations_gb"]) >= 0
    assert b["overhead_gb"] >= 0.5
    assert e.trainable_params_b >= 0
    assert e.per_gpu_gb > 0 and e.total_gb >= e.per_gpu_gb - 0.01


@PROPERTY
@given(methods, st.floats(0.01, 1000), st.floats(1.5, 5.0))
def test_bare_sizes_grow_with_parameters(method: tuple[str, Any], size_b: float, factor: float) -> None:
    method_id, model = method
    settings = EstimateSettings("sft", 2048, 1, "bf16", "adamw", True, 16, 4, 1, None)
    smaller = estimate(method_id, model, shape_for_size(size_b * 1e9), settings)
    larger = estimate(method_id, model, shape_for_size(size_b * factor * 1e9), settings)
    assert larger.per_gpu_gb >= smaller.per_gpu_gb


@PROPERTY
@given(cases(), st.floats(1.0, 10.0))
def test_grows_with_parameters(case: Case, factor: float) -> None:
    # Same architecture, more parameters (bare sizes are covered by their own test above).
    assert case.per_gpu(params=case.shape.params * factor) >= case.per_gpu()


@PROPERTY
@given(cases(), st.integers(1, 16384))
def test_grows_with_sequence_length(case: Case, extra: int) -> None:
    assert case.per_gpu(seq_len=case.settings.seq_len + extra) >= case.per_gpu()


@PROPERTY
@given(cases(), st.integers(1, 16))
def test_grows_with_batch_size(case: Case, extra: int) -> None:
    assert case.per_gpu(batch_size=case.settings.batch_size + extra) >= case.per_gpu()


@PROPERTY
@given(cases(), st.integers(1, 512))
def test_grows_with_lora_rank(case: Case, extra: int) -> None:
    bigger = case.run(lora_rank=case.settings.lora_rank + extra)
    smaller = case.run()
    assert bigger.per_gpu_gb >= smaller.per_gpu_gb
    if MEMORY_MODELS[case.model].family in ("lora", "adalora"):
        assert bigger.trainable_params_b > smaller.trainable_params_b


@PROPERTY
@given(cases())
def test_gradient_checkpointing_saves_memory(case: Case) -> None:
    assert case.per_gpu(gradient_checkpointing=True) <= case.per_gpu(gradient_checkpointing=False)


@PROPERTY
@given(cases(), st.sampled_from(["adamw-8bit", "paged-adamw-8bit"]))
def test_8bit_optimizers_save_memory(case: Case, eight_bit: str) -> None:
    assert case.per_gpu(optimizer=eight_bit) <= case.per_gpu(optimizer="adamw")


@PROPERTY
@given(cases())
def test_fewer_bits_save_memory(case: Case) -> None:
    assert case.per_gpu(quant_bits=4) <= case.per_gpu(quant_bits=8)
    assert case.per_gpu(precision="pure-bf16") <= case.per_gpu(precision="bf16")
    assert case.per_gpu(precision="bf16") <= case.per_gpu(precision="fp32")


@PROPERTY
@given(cases(), st.integers(1, 512))
def test_more_gpus_shard_full_ft(case: Case, extra: int) -> None:
    more = case.settings.gpus + extra
    if case.model == "qlora":
        assert case.per_gpu(gpus=more) == case.per_gpu()
    else:
        assert case.per_gpu(gpus=more) <= case.per_gpu()
    full = Case("full-ft", "full", case.shape, case.settings)
    assert full.per_gpu(gpus=more) <= full.per_gpu()


@PROPERTY
@given(cases())
def test_fits_agrees_with_capacity(case: Case) -> None:
    e = case.run()
    assert e.capacity_gb == case.settings.capacity_gb
    if e.capacity_gb is None:
        assert e.fits is None
    else:
        assert e.fits == (e.per_gpu_gb <= e.capacity_gb)


# --- CLI -------------------------------------------------------------------------------------------

SINGLE_KEYS = {
    "schema_version",
    "method",
    "objective",
    "model_params_b",
    "total_gb",
    "per_gpu_gb",
    "breakdown",
    "assumptions",
    "capacity_gb",
    "fits",
}
BREAKDOWN_KEYS = {"weights_gb", "gradients_gb", "optimizer_gb", "activations_gb", "overhead_gb"}


def test_estimate_json_with_method(run: Runner) -> None:
    result = run("estimate", "--method", "qlora", "--model-size", "7b", "--json")
    assert result.exit_code == 0, result.stderr
    data = result.json()
    assert set(data) >= SINGLE_KEYS
    assert set(data["breakdown"]) == BREAKDOWN_KEYS
    assert data["schema_version"] == 1
    assert (data["method"], data["objective"], data["model_params_b"]) == ("qlora", "sft", 7.0)
    assert data["capacity_gb"] is None and data["fits"] is None
    assumptions = data["assumptions"]
    assert assumptions["seq_len"] == 2048 and assumptions["batch_size"] == 1
    assert assumptions["gradient_checkpointing"] is True
    assert (assumptions["lora_rank"], assumptions["quant_bits"]) == (16, 4)
    parts = sum(data["breakdown"].values())
    assert data["per_gpu_gb"] == pytest.approx(parts, abs=0.05)


def test_estimate_json_fits_on_a_gpu(run: Runner) -> None:
    result = run("estimate", "--method", "qlora", "--model-size", "7b", "--gpu", "rtx-4090", "--json")
    assert result.exit_code == 0, result.stderr
    data = result.json()
    assert data["capacity_gb"] == 25.76  # the 24564 MiB the driver reports (data/gpus.yaml)
    assert data["fits"] is True
    full = run("estimate", "--method", "full-ft", "--model-size", "7b", "--gpu", "rtx-4090", "--json").json()
    assert full["fits"] is False


def test_estimate_json_without_method(run: Runner) -> None:
    result = run("estimate", "--model", "llama-3.1-8b", "--json")
    assert result.exit_code == 0, result.stderr
    data = result.json()
    assert data["schema_version"] == 1
    rows = data["estimates"]
    assert rows and all(set(row) >= SINGLE_KEYS for row in rows)
    memory_per_gpu = [row["per_gpu_gb"] for row in rows]
    assert memory_per_gpu == sorted(memory_per_gpu)
    methods_listed = {row["method"] for row in rows}
    assert "bitfit" not in methods_listed  # Llama has no biases
    assert {"full-ft", "lora", "qlora", "rag"} <= methods_listed
    bert = run("estimate", "--model", "bert-base", "--json").json()
    assert "bitfit" in {row["method"] for row in bert["estimates"]}


@pytest.mark.parametrize(
    ("size", "params_b"), [("7b", 7.0), ("7B", 7.0), ("0.5b", 0.5), ("125m", 0.125), ("7e9", 7.0)]
)
def test_model_size_spellings(run: Runner, size: str, params_b: float) -> None:
    result = run("estimate", "--method", "lora", "--model-size", size, "--json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["model_params_b"] == params_b


@pytest.mark.parametrize("size", ["-5", "7x", "1e9b", "nan", "0", "inf"])
def test_bad_model_size_exits_2_naming_the_flag(run: Runner, size: str) -> None:
    result = run("estimate", "--method", "lora", f"--model-size={size}")
    assert result.exit_code == 2
    assert "--model-size" in result.stderr


def test_objective_as_method_exits_2(run: Runner) -> None:
    result = run("estimate", "--method", "dpo", "--model-size", "7b")
    assert result.exit_code == 2
    assert "objective" in result.stderr and "--objective" in result.stderr


def test_unknown_method_suggests(run: Runner) -> None:
    result = run("estimate", "--method", "lorra", "--model-size", "7b")
    assert result.exit_code == 2
    assert "lora" in result.stderr


def test_dpo_objective_via_cli(run: Runner) -> None:
    sft = run("estimate", "--method", "full-ft", "--model-size", "7b", "--json").json()
    dpo = run("estimate", "--method", "full-ft", "--model-size", "7b", "--objective", "dpo", "--json").json()
    assert dpo["objective"] == "dpo"
    assert dpo["breakdown"]["weights_gb"] == pytest.approx(2 * sft["breakdown"]["weights_gb"], abs=0.02)


def test_bf16_on_v100_warns_and_uses_fp16(run: Runner) -> None:
    args = ("estimate", "--method", "lora", "--model-size", "7b", "--gpu", "v100-16gb")
    result = run(*args, "--precision", "bf16", "--json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["assumptions"]["precision"] == "fp16"
    assert "bf16" in result.stderr and "fp16" in result.stderr
    default = run(*args, "--json")
    assert default.json()["assumptions"]["precision"] == "fp16"
    assert "warning" not in default.stderr


def test_docs_show_the_current_comparison_table() -> None:
    from benchmarks.published import load_catalog, report

    docs = (REPO / "docs" / "memory.md").read_text(encoding="utf-8")
    for line in report(load_catalog()).splitlines():
        assert line in docs, f"docs/memory.md is stale; paste `python benchmarks/published.py`: {line}"


def test_reward_model_has_no_vocabulary_logits() -> None:
    shape = model_shape("llama-3.1-8b")
    s = cfg(seq_len=2048, gradient_checkpointing=True)
    reward = estimate("lora", "lora", shape, replace(s, objective="reward-model"))
    pairs = memory.activation_bytes(shape, 2 * 2048, shape.layers, True, "bf16")
    assert reward.breakdown["activations_gb"] == pytest.approx(pairs / GB, abs=0.01)


def test_bitfit_counts_only_the_biases_a_model_has() -> None:
    qwen = model_shape("qwen2.5-7b")  # biases on q, k and v only
    assert qwen.bias_params == 28 * (3584 + 2 * 512)


def test_sweep_drops_pure_bf16_on_gpus_without_bf16(run: Runner) -> None:
    labels = [
        e["label"]
        for e in run("estimate", "--model-size", "7b", "--gpu", "v100-32gb", "--json").json()["estimates"]
    ]
    assert "Full FT (pure bf16)" not in labels and "Full FT (8-bit AdamW)" in labels


def test_unknown_objective_names_the_flag(run: Runner) -> None:
    result = run("estimate", "--model-size", "7b", "--objective", "nope")
    assert result.exit_code == 2 and "--objective: unknown objective 'nope'" in result.stderr
