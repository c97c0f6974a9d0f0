"""Model shapes from config.json: every fixture's parameter count against its published figure,
the families' particular keys, pre-quantized checkpoints, and the architectures refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from atlas_cli.core.engine import Engine
from atlas_cli.core.hfconfig import TRAINED_POSITIONS, model_id_for, parse_config
from atlas_cli.core.names import looks_instruct
from atlas_cli.core.profile import build_profile
from atlas_cli.core.shapes import Shape, shape_of
from atlas_cli.errors import UsageError
from atlas_cli.kb.catalog import Catalog
from tests.conftest import Runner, fails, ok

FIXTURES = Path(__file__).parent / "fixtures" / "configs"
INDEX: dict[str, Any] = json.loads((FIXTURES / "index.json").read_text(encoding="utf-8"))["configs"]
SIZED = sorted(name for name, entry in INDEX.items() if "refused" not in entry)
REFUSED = sorted(name for name, entry in INDEX.items() if "refused" in entry)
MOE = [name for name in SIZED if INDEX[name]["published"]["active_b"] is not None]
TOLERANCE = 0.02


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return data


def parsed(name: str) -> Any:
    return parse_config(fixture(name), INDEX[name]["repo"], f"fixtures/{name}")


# --- the fixtures and their published counts --------------------------------------------------


def test_every_fixture_is_indexed_with_its_source() -> None:
    on_disk = {p.name for p in FIXTURES.glob("*.json")} - {"index.json"}
    assert on_disk == set(INDEX)
    for name, entry in INDEX.items():
        assert entry["repo"].count("/") == 1, name
        assert entry["copied_from"], name
        assert ("published" in entry) != ("refused" in entry), name
        assert name.endswith(".partial.json") == entry["partial"], name
        if "published" in entry:
            assert entry["published"]["source"], name


@pytest.mark.parametrize("name", SIZED)
def test_total_parameters_within_2_percent_of_published(name: str) -> None:
    published = INDEX[name]["published"]["total_b"]
    counted = shape_of(parsed(name).model).params / 1e9
    assert counted == pytest.approx(published, rel=TOLERANCE), (name, counted, published)


def _active_as_published(name: str) -> float:
    """ft-atlas's active count, less what the publisher leaves out of theirs."""
    model = parsed(name).model
    shape = shape_of(model)
    leaves_out = INDEX[name]["published"]["active_counts"]
    embedding = model.vocab_size * model.hidden_size
    if leaves_out == "without the input embedding":
        return (shape.active_params - embedding) / 1e9
    if leaves_out == "without embeddings":
        return (shape.active_params - shape.embedding_params) / 1e9
    assert leaves_out == "all", leaves_out
    return shape.active_params / 1e9


@pytest.mark.parametrize("name", MOE)
def test_active_parameters_within_2_percent_of_published(name: str) -> None:
    published = INDEX[name]["published"]["active_b"]
    assert _active_as_published(name) == pytest.approx(published, rel=TOLERANCE), name
    assert parsed(name).model.moe is not None


def test_the_mixture_of_experts_fixtures_cover_every_family() -> None:
    families = {parsed(name).model.family for name in MOE}
    assert families >= {"mixtral", "qwen2_moe", "qwen3_moe", "deepseek_v3", "gpt_oss", "llama4", "glm4_moe"}


@pytest.mark.parametrize("name", REFUSED)
def test_unmodelled_architectures_are_refused_naming_what_is_missing(name: str) -> None:
    with pytest.raises(UsageError) as caught:
        parsed(name)
    message = str(caught.value)
    assert INDEX[name]["refused"].lower() in message.lower()
    assert "does not model" in message and "--model-size" in message


# --- what each family's keys mean ---------------------------------------------------------------


def test_explicit_head_dim_is_read() -> None:
    model = parsed("Qwen--Qwen3-32B.json").model
    assert model.hidden_size // model.attention_heads == 80
    assert model.head_dim == 128


def test_gemma_ties_embeddings_by_default_and_fills_class_defaults() -> None:
    gemma2 = parsed("google--gemma-2-9b-it.json").model
    assert "tie_word_embeddings" not in fixture("google--gemma-2-9b-it.json")
    assert gemma2.tied_embeddings
    gemma3 = parse_config(fixture("google--gemma-3-4b-it.json"), "google/gemma-3-4b-it", "x")
    m = gemma3.model
    # Read from Gemma3TextConfig's defaults: the nested text_config omits them.
    assert (m.attention_heads, m.kv_heads, m.head_dim, m.vocab_size) == (8, 4, 256, 262_208)
    assert (m.hidden_size, m.layers, m.family) == (2560, 34, "gemma3")
    assert any("vision tower" in note and "counted, not trained" in note for note in gemma3.notes)


def test_soft_capping_is_read_from_the_config() -> None:
    """Gemma 2 caps its attention scores and logits (the memory they keep: test_memory.py);
    Gemma 3 sets both caps to null."""
    gemma2 = parsed("google--gemma-2-9b-it.json").model
    assert gemma2.attention_softcapping and gemma2.logit_softcapping
    gemma3 = parsed("google--gemma-3-1b-it.json").model
    assert not gemma3.attention_softcapping and not gemma3.logit_softcapping
    config = {**fixture("google--gemma-2-9b-it.json"), "attn_logit_softcapping": None}
    uncapped = parse_config(config, "google/gemma-2-9b-it", "x").model  # null: transformers caps nothing
    assert not uncapped.attention_softcapping and uncapped.logit_softcapping


def test_qwen2_biases_are_on_q_k_v_only() -> None:
    m = parsed("Qwen--Qwen2.5-7B.json").model
    assert (m.has_bias, m.bias_scope) == (True, "qkv")
    assert not parsed("Qwen--Qwen3-8B.json").model.has_bias


def test_phi_2_has_a_plain_mlp_and_biases_on_every_linear_layer() -> None:
    """A review: model_type 'phi' (Phi-1, 1.5, 2) was read as Llama-style, gated and without
    biases, 30 % too large, and BitFit was left out for biases it has (transformers
    models/phi/modeling_phi.py: q, k, v and dense with bias=True; PhiMLP is fc1 and fc2)."""
    keys = {"hidden_size": 2560, "intermediate_size": 10240, "num_hidden_layers": 32}
    config = {"model_type": "phi", "num_attention_heads": 32, "vocab_size": 51200, **keys}
    model = parse_config(config, "microsoft/phi-2", "x").model
    assert not model.gated_mlp and (model.has_bias, model.bias_scope) == (True, "all-linear")
    h, f = 2560, 10240
    per_layer = 4 * h * h + 2 * h * f  # q, k, v, dense; fc1, fc2 (biases and norms are ~0.1 %)
    expected = 32 * per_layer + 2 * 51200 * h  # an untied LM head, as PhiConfig defaults
    assert shape_of(model).params == pytest.approx(expected, rel=0.002)


def test_gpt2_counts_learned_positions_and_bert_its_positions_types_and_pooler() -> None:
    gpt2 = parsed("openai-community--gpt2.json").model
    assert gpt2.extra_params == 1024 * 768
    assert gpt2.intermediate_size == 4 * 768  # n_inner is null
    assert not gpt2.gated_mlp and gpt2.tied_embeddings and gpt2.weights_dtype == "fp32"
    bert = parsed("google-bert--bert-base-uncased.json").model
    assert bert.architecture == "encoder"
    assert bert.extra_params == (512 + 2) * 768 + 768 * 768 + 768
    assert parsed("answerdotai--ModernBERT-base.json").model.gated_mlp  # GeGLU


def test_configs_say_which_eager_attention_keeps_dropout_masks_or_bf16_probabilities(
    catalog: Catalog,
) -> None:
    """BERT's attention dropout (0.1) and gpt-oss's sinks set what its eager attention keeps
    (activations.eager_kept_bytes): read from a config.json as the catalog entries say them."""
    bert = parsed("google-bert--bert-base-uncased.json").model
    assert bert.attention_dropout == catalog.models["bert-base"].attention_dropout == 0.1
    oss = parsed("openai--gpt-oss-20b.json").model
    assert oss.attention_sinks and catalog.models["gpt-oss-20b"].attention_sinks
    qwen = parsed("Qwen--Qwen3-8B.json").model
    assert not qwen.attention_sinks and qwen.attention_dropout == 0


@pytest.mark.parametrize("value", [False, "0.1", 1.0, None])
def test_an_attention_dropout_that_is_no_probability_sizes_the_model_as_none(value: Any) -> None:
    """A diff review: `"attention_dropout": false` (configs written from Python) refused the whole
    model; it only sizes eager attention, and counts as none."""
    config = {**fixture("Qwen--Qwen3-8B.json"), "attention_dropout": value}
    assert parse_config(config, "Qwen/Qwen3-8B", "test").model.attention_dropout == 0


T5_SMALL = {
    "model_type": "t5",
    "d_model": 512,
    "d_ff": 2048,
    "d_kv": 64,
    "num_layers": 6,
    "num_heads": 8,
    "vocab_size": 32128,
    "feed_forward_proj": "relu",
}


def test_t5_has_a_decoder_with_cross_attention_and_ties_embeddings() -> None:
    m = parse_config(T5_SMALL, "google-t5/t5-small", "x").model
    assert (m.architecture, m.layers, m.decoder_layers, m.tied_embeddings) == ("encoder-decoder", 6, 6, True)
    shape = shape_of(m)
    assert any(g.group == "cross-attention" and g.count == 6 for g in shape.matrices)
    assert shape.params / 1e9 == pytest.approx(0.0605, rel=TOLERANCE)  # T5 card: 60M


def test_t5_v1_1_is_gated_and_untied() -> None:
    flan = {**T5_SMALL, "d_ff": 1024, "feed_forward_proj": "gated-gelu", "tie_word_embeddings": False}
    m = parse_config(flan, "google/flan-t5-small", "x").model
    assert m.gated_mlp and not m.tied_embeddings
    assert parse_config({**flan, "model_type": "mt5"}, "google/mt5-small", "x").model.gated_mlp


def test_t5_overflows_fp16_when_gated_or_from_large_up() -> None:
    """transformers#9295 and #23918: every gated T5 (v1.1, Flan-T5, mT5) and the original from
    Large up train to NaN in fp16; the original Small and Base keep `wo` in fp32 and train."""
    assert not parse_config(T5_SMALL, "google-t5/t5-small", "x").model.fp16_overflows
    large = {**T5_SMALL, "d_model": 1024, "d_ff": 4096, "num_heads": 16, "num_layers": 24}
    assert parse_config(large, "google-t5/t5-large", "x").model.fp16_overflows
    flan = {**T5_SMALL, "d_ff": 1024, "feed_forward_proj": "gated-gelu"}
    assert parse_config(flan, "google/flan-t5-small", "x").model.fp16_overflows


def test_deepseek_reads_latent_attention_dense_layers_and_says_mtp_is_not_counted() -> None:
    result = parsed("deepseek-ai--DeepSeek-V3.json")
    m = result.model
    assert m.latent_attention is not None and m.latent_attention.q_lora_rank == 1536
    assert m.moe is not None
    assert (m.moe.experts, m.moe.active, m.moe.shared_experts, m.moe.dense_layers) == (256, 8, 1, 3)
    assert m.intermediate_size == 18432 and m.moe.intermediate_size == 2048
    assert any("multi-token-prediction" in n and "not counted" in n for n in result.notes)
    assert m.weights_dtype == "fp8"


def test_deepseek_without_a_query_rank_projects_queries_directly() -> None:
    config = {**fixture("deepseek-ai--DeepSeek-V3.json"), "q_lora_rank": None}
    m = parse_config(config, "lite", "x").model
    assert m.latent_attention is not None and m.latent_attention.q_lora_rank is None
    # A direct query projection is hidden x heads * (128 + 64), larger than the two low-rank ones.
    direct = 7168 * 128 * 192 - (7168 * 1536 + 1536 * 128 * 192)
    v3 = shape_of(parsed("deepseek-ai--DeepSeek-V3.json").model).params
    assert shape_of(m).params - v3 == direct * 61


def test_llama4_interleaves_moe_layers_with_wider_dense_ones() -> None:
    scout = parsed("meta-llama--Llama-4-Scout-17B-16E-Instruct.partial.json").model
    maverick = parsed("meta-llama--Llama-4-Maverick-17B-128E-Instruct.partial.json").model
    assert scout.moe is not None and maverick.moe is not None
    assert scout.moe.dense_layers == 0 and maverick.moe.dense_layers == 24
    assert maverick.intermediate_size == 16384 and maverick.moe.intermediate_size == 8192
    assert maverick.moe.shared_experts == 1
    assert scout.variant == "instruct"
    # transformers' Llama4TextExperts multiplies every expert by every token; others run grouped.
    assert scout.moe.every_token and maverick.moe.every_token
    qwen = parsed("Qwen--Qwen3-30B-A3B.json").model.moe
    assert qwen is not None and not qwen.every_token


def test_qwen_moe_sparse_step_and_mlp_only_layers_make_dense_layers() -> None:
    config = {**fixture("Qwen--Qwen3-30B-A3B.json"), "decoder_sparse_step": 2, "mlp_only_layers": [1, 2]}
    m = parse_config(config, "q", "x").model
    assert m.moe is not None
    # Odd layers are sparse at step 2; layer 1 is listed dense: 24 sparse less one.
    assert m.moe.dense_layers == 48 - 23
    shared = parsed("Qwen--Qwen1.5-MoE-A2.7B-Chat.partial.json").model.moe
    assert shared is not None and (shared.shared_experts, shared.shared_intermediate_size) == (1, 5632)


@pytest.mark.parametrize(
    ("name", "coefficient"),
    [
        ("openai--gpt-oss-20b.json", 0.9),
        ("mistralai--Mixtral-8x7B-v0.1.json", 0.02),
        ("Qwen--Qwen3-30B-A3B.json", 0.001),
    ],
)
def test_a_mixture_reads_its_router_loss_weight(name: str, coefficient: float) -> None:
    """The routers' load-balancing weight is the checkpoint's own (a recipe that trains the routers
    writes it); a value the schema would refuse is not read."""
    moe = parsed(name).model.moe
    assert moe is not None and moe.router_aux_loss_coef == coefficient
    hostile = parse_config({**fixture(name), "router_aux_loss_coef": "1e999"}, "q", "x").model.moe
    assert hostile is not None and hostile.router_aux_loss_coef is None


def _lora_params(shape: Shape, rank: int, experts: bool) -> float:
    return sum(rank * (m.d_in + m.d_out) * m.count for m in shape.targets("all-linear", experts))


def test_moe_lora_counts_match_peft_on_transformers_5() -> None:
    """Unsloth's notebooks print PEFT's own counts (unslothai/notebooks@bdda2efc): routers are
    nn.Parameters that all-linear skips, and a fused gate_up_proj expert is one adapter."""
    qwen = shape_of(parsed("Qwen--Qwen3-30B-A3B.json").model)
    assert _lora_params(qwen, 32, experts=True) == 1_285_029_888  # nb/Qwen3_MoE.ipynb, r32 with experts
    oss = shape_of(parsed("openai--gpt-oss-20b.json").model)
    assert _lora_params(oss, 8, experts=False) == 3_981_312  # nb/gpt-oss-(20B)-Fine-tuning.ipynb, r8


def test_router_biases_count_though_all_linear_skips_the_routers() -> None:
    config = {**fixture("mistralai--Mixtral-8x7B-v0.1.json"), "mlp_bias": True}  # biases everywhere
    shape = shape_of(parse_config(config, "m", "x").model)
    adapted = sum(m.d_out * m.count for m in shape.targets())
    assert "router" not in {m.group for m in shape.targets()}
    assert shape.bias_params == adapted + 8 * 32  # and each of 32 routers' 8 biases


def test_gpt_oss_has_biased_experts_and_mxfp4_weights() -> None:
    result = parsed("openai--gpt-oss-20b.json")
    m = result.model
    assert m.moe is not None and m.moe.expert_bias and (m.moe.experts, m.moe.active) == (32, 4)
    assert (m.has_bias, m.bias_scope) == (True, "attention")
    assert m.weights_dtype == "mxfp4"
    assert any("dequantize" in n and "bf16" in n for n in result.notes)
    assert m.eager_attention and shape_of(m).eager_heads == 64  # no SDPA kernel for its sinks
    assert not parsed("Qwen--Qwen3-30B-A3B.json").model.eager_attention


@pytest.mark.parametrize(
    ("quantization", "stored"),
    [
        ({"quant_method": "gptq", "bits": 4}, "int4"),
        ({"quant_method": "awq", "bits": 4}, "int4"),
        ({"quant_method": "gptq", "bits": 8}, "int8"),
        ({"quant_method": "bitsandbytes", "load_in_4bit": True}, "int4"),
        ({"quant_method": "bitsandbytes", "load_in_8bit": True}, "int8"),
        ({"quant_method": "fp8"}, "fp8"),
        ({"quant_method": "mxfp4"}, "mxfp4"),
    ],
)
def test_pre_quantized_checkpoints_set_the_stored_dtype(quantization: dict[str, Any], stored: str) -> None:
    config = {**fixture("meta-llama--Llama-3.1-8B.json"), "quantization_config": quantization}
    result = parse_config(config, "q", "x")
    assert result.model.weights_dtype == stored
    assert result.notes and not result.warnings
    # The count is the model's, however it is stored.
    assert result.model.params_b == parsed("meta-llama--Llama-3.1-8B.json").model.params_b


def test_a_bitsandbytes_flag_that_is_no_boolean_quantizes_nothing() -> None:
    """An attacker's review: "load_in_4bit": "yes" was read as a 4-bit checkpoint."""
    quantization = {"quant_method": "bitsandbytes", "load_in_4bit": "yes", "load_in_8bit": 1}
    config = {**fixture("meta-llama--Llama-3.1-8B.json"), "quantization_config": quantization}
    assert parse_config(config, "q", "x").model.weights_dtype not in ("int4", "int8")


def test_a_gptq_checkpoints_note_says_what_its_plans_are_sized_for(run: Runner, tmp_path: Path) -> None:
    """A review: a GPTQ checkpoint was said to train adapters 'as stored' while its LoRA plan was
    sized in 16 bits and its recipe refused it: the note says the plans are sized for the 16-bit
    original the recipe asks for."""
    gptq = {"quant_method": "gptq", "bits": 4}
    config = {**fixture("meta-llama--Llama-3.1-8B.json"), "quantization_config": gptq}
    (tmp_path / "config.json").write_text(json.dumps(config), encoding="utf-8")
    args = ("--model", str(tmp_path), "--gpu", "rtx-4090")
    said = " ".join(ok(run("recommend", *args)).stdout.split())
    assert "as stored" not in said and "adapter plans are sized for its 16-bit original" in said
    lora = ok(run("estimate", *args, "--method", "lora", "--json")).json()
    assert lora["breakdown"]["weights_gb"] > 16  # 8B parameters in 16 bits, as the note says


def test_an_unknown_quantization_is_a_warning_and_16_bit() -> None:
    config = {**fixture("meta-llama--Llama-3.1-8B.json"), "quantization_config": {"quant_method": "exl2"}}
    result = parse_config(config, "q", "x")
    assert result.model.weights_dtype == "bf16"
    # Named by its key, never echoed: a batch line may name any JSON file (a diff review).
    assert any("quantization_config is not one ft-atlas reads" in w for w in result.warnings)


# --- unknown and broken configs -------------------------------------------------------------------


def test_unknown_model_type_with_the_usual_fields_works_with_a_warning() -> None:
    config = {**fixture("meta-llama--Llama-3.1-8B.json"), "model_type": "brand_new"}
    del config["tie_word_embeddings"]
    result = parse_config(config, "lab/brand-new-8b", "x")
    assert result.model.params_b == pytest.approx(8.03, rel=0.01)
    assert any("model_type is not one ft-atlas knows" in w for w in result.warnings)
    assert any("tie_word_embeddings" in w for w in result.warnings)


def test_unknown_model_type_with_experts_is_read_as_a_mixture() -> None:
    config = {**fixture("mistralai--Mixtral-8x7B-v0.1.json"), "model_type": "new_moe"}
    m = parse_config(config, "lab/new-moe", "x").model
    assert m.moe is not None and m.moe.experts == 8


def test_missing_essential_fields_are_named() -> None:
    config = {"model_type": "llama", "hidden_size": 4096, "num_attention_heads": 32}
    with pytest.raises(UsageError) as caught:
        parse_config(config, "lab/broken", "x")
    message = str(caught.value)
    for key in ("num_hidden_layers", "intermediate_size", "vocab_size"):
        assert key in message
    assert "hidden_size" not in message.split("lacks", 1)[1]
    assert "--model-size" in message


@pytest.mark.parametrize(
    "change",
    [
        {"hidden_size": "4096"},
        {"num_hidden_layers": -1},
        {"num_hidden_layers": 2.5},
        {"tie_word_embeddings": "no"},
        {"num_key_value_heads": 7},
        {"hidden_size": 10**12},
        {"num_hidden_layers": 10**12},  # refused, not counted layer by layer
    ],
)
def test_bad_values_are_clear_errors(change: dict[str, Any]) -> None:
    config = {**fixture("mistralai--Mixtral-8x7B-v0.1.json"), **change}
    with pytest.raises(UsageError) as caught:
        parse_config(config, "lab/bad", "x")
    assert "lab/bad" in str(caught.value)


def test_a_config_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(UsageError, match="not a JSON object"):
        parse_config([1, 2], "lab/list", "x")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("keys", "named"),
    [
        ({"layer_types": ["linear_attention", "full_attention"]}, "linear_attention"),
        ({"hidden_size_per_layer_input": 256}, "per-layer embeddings"),
        ({"num_kv_shared_layers": 10}, "key/value sharing"),
        ({"index_topk": 2048}, "sparse attention"),
        ({"ssm_state_size": 128}, "state-space"),
    ],
)
def test_special_layers_are_refused_whatever_the_model_type(keys: dict[str, Any], named: str) -> None:
    config = {**fixture("meta-llama--Llama-3.1-8B.json"), "model_type": "renamed", **keys}
    with pytest.raises(UsageError, match=named):
        parse_config(config, "lab/odd", "x")


def test_special_keys_switched_off_are_not_refused() -> None:
    config = {**fixture("meta-llama--Llama-3.1-8B.json"), "hidden_size_per_layer_input": 0}
    config["layer_types"] = ["sliding_attention", "full_attention"] * 16
    assert parse_config(config, "lab/fine", "x").model.layers == 32


@pytest.mark.parametrize(
    ("name", "instruct"),
    [
        ("meta-llama/Llama-3.1-8B-Instruct", True),
        ("google/gemma-2-9b-it", True),
        ("meta-llama/Llama-2-7b-chat-hf", True),
        ("Qwen/Qwen1.5-MoE-A2.7B-Chat", True),
        ("mistralai/Mistral-Small-3.1-24B-Instruct-2503", True),
        ("meta-llama/Llama-3.1-8B", False),
        ("openai/gpt-oss-20b", False),
        ("lab/italian-bert", False),
    ],
)
def test_instruct_names(name: str, instruct: bool) -> None:
    assert looks_instruct(name) is instruct


def test_model_ids_from_names_fit_the_catalog_pattern() -> None:
    assert model_id_for("Qwen/Qwen3-30B-A3B") == "qwen-qwen3-30b-a3b"
    assert model_id_for("../ My Model!/") == "my-model"
    assert len(model_id_for("x" * 100)) == 64
    assert model_id_for("///") == "config"


# --- the catalog: published figures agree with the shapes ------------------------------------------


def test_catalog_published_counts_agree_with_their_shapes(catalog: Catalog) -> None:
    for m in catalog.kb.models:
        shape = shape_of(m)
        assert shape.params / 1e9 == pytest.approx(m.params_b, rel=TOLERANCE), m.id
        if m.moe is not None:
            assert m.active_params_b is not None, m.id
        if m.active_params_b is not None:
            assert m.moe is not None, m.id


def test_todays_fine_tuning_targets_resolve_offline(run: Runner) -> None:
    """Gemma 3 12B/27B, R1's distillations and Qwen3's 2507 releases need no config.json."""
    for hub_id, catalog_id in (
        ("google/gemma-3-27b-it", "gemma-3-27b-it"),
        ("deepseek-ai/DeepSeek-R1-Distill-Qwen-7B", "deepseek-r1-distill-qwen-7b"),
        ("Qwen/Qwen3-4B-Instruct-2507", "qwen3-4b-instruct-2507"),
        ("mistralai/Mistral-Small-3.2-24B-Instruct-2506", "mistral-small-3.2-24b"),
    ):
        data = ok(run("model", hub_id, "--json")).json()
        assert data["model"]["catalog_id"] == catalog_id and data["model"]["variant"] == "instruct"
    thinking = ("--model", "Qwen/Qwen3-4B-Thinking-2507", "--method", "lora", "--seq-len", "64k", "--json")
    assert not any("positions" in w for w in ok(run("estimate", *thinking)).json()["warnings"])  # 262,144


def test_the_models_doc_lists_the_catalog_and_every_fixture(catalog: Catalog) -> None:
    doc = (Path(__file__).parent.parent / "docs" / "models.md").read_text(encoding="utf-8")
    for m in catalog.kb.models:
        assert f"`{m.id}`" in doc, m.id
    for name in SIZED:
        assert f"| {INDEX[name]['repo']}" in doc, name


# Where the model cards give a shorter context than the config's positions: Qwen2.5-1.5B's
# config allows 131,072, its base and Instruct cards say 32,768 (the Instruct config too); the 7B
# to 72B configs allow 131,072, their Instruct configs 32,768, and the cards reach 131,072 only with
# YaRN (yarn_context: an expert's review saw vLLM refuse 49,152 positions of Qwen2.5-7B-Instruct).
CARD_CONTEXT = {"qwen2.5-1.5b": 32768} | {f"qwen2.5-{size}b": 32768 for size in (7, 14, 32, 72)}


def test_catalog_context_lengths_are_the_configs_positions(catalog: Catalog) -> None:
    """Each catalog model with a fixture config says how many positions it was trained with, as
    its config's max_position_embeddings does (Qwen3's 40,960 reserve room to generate past its
    native 32,768: TRAINED_POSITIONS), so that a longer --seq-len is warned about."""
    checked = 0
    for name, entry in INDEX.items():
        model = catalog.model_or_none(entry["repo"])
        config = fixture(name)
        text = config.get("text_config", config)
        positions = text.get("max_position_embeddings")
        if model is None or positions is None or model.architecture != "decoder":
            continue
        trained = TRAINED_POSITIONS.get((text.get("model_type", ""), positions), positions)
        assert model.context_length == CARD_CONTEXT.get(model.id, trained), (name, model.id)
        checked += 1
    assert checked >= 20
    # Llama 3 (8,192 positions) is not Llama 3.1 (131,072), though they share a shape.
    assert catalog.model("meta-llama/Meta-Llama-3-8B-Instruct").context_length == 8192


def test_a_hub_configs_vision_tower_is_sized_to_be_frozen() -> None:
    """A multimodal config's vision tower (its blocks, about) is what the recipes freeze and keep
    LoRA off, and what memory holds: Gemma 3 4B's SigLIP comes out within 3 % of its 0.417B."""
    found = parsed("google--gemma-3-4b-it.json")
    assert found.model.vision_params_b == pytest.approx(0.417, rel=0.03)
    assert parsed("google--gemma-3-1b-it.json").model.vision_params_b is None  # text only
    # Counted, so said as counted (the note said "not counted") and as trained on text only.
    notes = " ".join(found.notes)
    assert "vision tower (~0.4" in notes and "not counted" not in notes and "image-text data" in notes


def test_a_catalog_vision_language_model_says_it_trains_on_text(catalog: Catalog) -> None:
    """An expert's review: Gemma-3-12B-it trained on text without a word about its images."""
    rec = Engine(catalog).recommend(
        build_profile({"gpu": "rtx-4090", "model": "gemma-3-12b-it", "examples": "5k"})
    )
    assert any("vision tower (~0.42B)" in note for note in rec.notes)


def test_the_model_list_says_how_active_parameters_are_counted(run: Runner) -> None:
    """gpt-oss-20b's 4.19B active counts the input embedding that OpenAI's 3.6B leaves out: the
    list must not call that figure "as published"."""
    out = ok(run("models", "--format", "markdown")).stdout
    assert "as published (active" not in out and "input embedding included" in out


@pytest.mark.parametrize(
    ("name", "change", "warning"),
    [
        ("meta-llama--Llama-3.1-8B.json", {"head_dim": 0}, "head_dim 0: sized as hidden_size"),
        ("meta-llama--Llama-3.1-8B.json", {"torch_dtype": "float128"}, "torch_dtype is not a dtype"),
    ],
)
def test_a_config_value_read_otherwise_than_written_is_warned(
    name: str, change: dict[str, Any], warning: str
) -> None:
    """An attacker's review: these were sized from other values without a word."""
    config = {**fixture(name), **change}
    assert any(warning in w for w in parse_config(config, "x/y", "x").warnings)
    assert not any(warning in w for w in parsed(name).warnings)


@pytest.mark.parametrize(
    ("model_type", "text_type", "bias"),
    [("qwen2_5_vl", None, True), ("qwen2_vl", None, True), ("qwen3_vl", "qwen3_vl_text", False)],
)
def test_a_qwen_vision_language_config_is_read_as_its_language_model(
    model_type: str, text_type: str | None, bias: bool
) -> None:
    """Qwen2.5-VL was read as an unknown Llama-style decoder "with no biases", so BitFit was left
    out although its q/k/v projections have them (an expert's review). The figures are
    Qwen2.5-VL-7B-Instruct's (text model: Qwen2.5-7B's shape, 7.6B)."""
    text = {
        "hidden_size": 3584,
        "intermediate_size": 18944,
        "num_attention_heads": 28,
        "num_hidden_layers": 28,
        "num_key_value_heads": 4,
        "vocab_size": 152064,
        "tie_word_embeddings": False,
        "torch_dtype": "bfloat16",
    }
    vision = {"depth": 32, "hidden_size": 1280, "intermediate_size": 3420, "num_heads": 16}
    config: dict[str, Any] = {"model_type": model_type, "vision_config": vision}
    config |= {"text_config": {**text, "model_type": text_type}} if text_type else text
    parsed = parse_config(config, "vl", "test")
    assert not parsed.warnings  # a known family, not a guessed one
    assert parsed.model.has_bias is bias and parsed.model.params_b == pytest.approx(7.6, abs=0.05)


def test_a_gated_vision_tower_and_its_merger_are_counted() -> None:
    """An expert's review: Qwen2.5-VL-7B's vision tower read ~0.49B, where the model built from its
    config has 0.677B: its MLP is SiLU-gated (gate, up, down) and its patch merger (~45M) was left
    out. Its published vision_config."""
    vision = {"depth": 32, "hidden_act": "silu", "hidden_size": 1280, "intermediate_size": 3420}
    vision |= {"num_heads": 16, "in_chans": 3, "out_hidden_size": 3584, "patch_size": 14}
    vision |= {"spatial_merge_size": 2, "spatial_patch_size": 14, "temporal_patch_size": 2}
    text = {"hidden_size": 3584, "intermediate_size": 18944, "num_attention_heads": 28}
    text |= {"num_hidden_layers": 28, "num_key_value_heads": 4, "vocab_size": 152064}
    config = {"model_type": "qwen2_5_vl", "vision_config": vision, **text}
    assert parse_config(config, "vl", "test").model.vision_params_b == pytest.approx(0.677, rel=0.01)
    # Qwen3-VL-8B: three deepstack mergers and a learned position table more (a diff review: read
    # 0.453B of its ~0.576B, 8.77B in all less the 8.19B language model).
    vision = {"depth": 27, "hidden_act": "gelu_pytorch_tanh", "hidden_size": 1152, "in_channels": 3}
    vision |= {"intermediate_size": 4304, "num_heads": 16, "num_position_embeddings": 2304}
    vision |= {"out_hidden_size": 4096, "patch_size": 16, "spatial_merge_size": 2, "temporal_patch_size": 2}
    vision |= {"deepstack_visual_indexes": [8, 16, 24]}
    text = {"hidden_size": 4096, "intermediate_size": 12288, "num_attention_heads": 32, "head_dim": 128}
    text |= {
        "num_hidden_layers": 36,
        "num_key_value_heads": 8,
        "vocab_size": 151936,
        "model_type": "qwen3_vl_text",
    }
    qwen3 = parse_config(
        {"model_type": "qwen3_vl", "vision_config": vision, "text_config": text}, "vl", "test"
    )
    assert qwen3.model.vision_params_b == pytest.approx(0.576, rel=0.01)
    # Llama 3.2 11B Vision (an expert's review: read ~0.63B): 8 global layers after the 32 local
    # ones, a tile position table and a projector to the language model; ~0.89B, which with its
    # 9.78B language model makes Meta's published 10.6B.
    vision = {"model_type": "mllama_vision_model", "hidden_size": 1280, "num_hidden_layers": 32}
    vision |= {"num_global_layers": 8, "intermediate_size": 5120, "image_size": 560, "patch_size": 14}
    vision |= {"max_num_tiles": 4, "vision_output_dim": 7680, "hidden_act": "gelu"}
    text = {"model_type": "mllama_text_model", "hidden_size": 4096, "intermediate_size": 14336}
    text |= {"num_attention_heads": 32, "num_hidden_layers": 40, "num_key_value_heads": 8}
    text |= {"vocab_size": 128256}
    mllama = parse_config({"model_type": "mllama", "vision_config": vision, "text_config": text}, "v", "test")
    assert mllama.model.vision_params_b == pytest.approx(0.89, rel=0.01)
    # SigLIP's MLP (gelu_pytorch_tanh) has two matrices: Gemma 3's tower stays at ~0.42B.
    assert parsed("google--gemma-3-4b-it.json").model.vision_params_b == pytest.approx(0.417, rel=0.03)


def test_a_hub_configs_norms_follow_its_model_type() -> None:
    """The norms a block keeps for its backward (test_memory.py): four in Gemma 2 and 3, q_norm
    and k_norm in Qwen3 (dense and MoE) and Gemma 3, two and none in Llama."""
    gemma3 = parsed("google--gemma-3-1b-it.json").model
    assert (gemma3.norms_per_layer, gemma3.qk_norm) == (4, True)
    assert parsed("google--gemma-2-9b-it.json").model.norms_per_layer == 4
    llama = parsed("meta-llama--Llama-3.1-8B.json").model
    assert (llama.norms_per_layer, llama.qk_norm) == (2, False)
    for name in ("Qwen--Qwen3-8B.json", "Qwen--Qwen3-30B-A3B.json"):
        qwen = parsed(name).model
        assert (qwen.norms_per_layer, qwen.qk_norm) == (2, True)


def test_the_catalog_and_a_hub_config_size_llama_4_alike(catalog: Catalog) -> None:
    """Scout's config normalises queries and keys (use_qk_norm), Maverick's does not: the catalog
    entry said false for Scout while its config.json said true (a review)."""
    scout = parsed("meta-llama--Llama-4-Scout-17B-16E-Instruct.partial.json").model
    maverick = parsed("meta-llama--Llama-4-Maverick-17B-128E-Instruct.partial.json").model
    assert scout.qk_norm and not maverick.qk_norm
    models = {m.id: m for m in catalog.kb.models}
    assert models["llama-4-scout"].qk_norm and not models["llama-4-maverick"].qk_norm


@pytest.mark.parametrize(("size", "layers"), [(1, 1), (1_000_000, 10_000)])
def test_a_count_outside_the_schemas_bounds_is_refused_not_shown(size: int, layers: int) -> None:
    """A config of all-1 sizes read as "parameters 0B", and a huge one as 4e10 billion, past the
    schema's 100,000 (an attacker's review): the counted model is validated again."""
    config = {
        "model_type": "llama",
        "hidden_size": size,
        "num_hidden_layers": layers,
        "num_attention_heads": 1,
        "num_key_value_heads": 1,
        "intermediate_size": size,
        "vocab_size": size,
    }
    with pytest.raises(UsageError, match="params_b"):
        parse_config(config, "odd", "x")


@pytest.mark.parametrize("name", ["gpt-4o", "gemini", "claude-sonnet-4"])
def test_a_hosted_model_named_without_api_access_says_how_to_use_it(run: Runner, name: str) -> None:
    """--model gpt-4o answered "did you mean gpt2, gpt2-large?" (a newcomer's review): a model
    only a provider serves is said to be one, with the flag that plans for it."""
    result = fails(
        run("recommend", "--model", name), 2, "names a model served only through", "--model-access api"
    )
    assert "did you mean" not in result.stderr
    # estimate takes no --model-access: the way out names the command that does (a newcomer's review)
    fails(
        run("estimate", "--model", name, "--gpu", "rtx-4090"),
        2,
        "names a model served only through",
        "ft-atlas recommend",
    )


@pytest.mark.parametrize(
    ("name", "meant"), [("gpt-oss", "gpt-oss-20b"), ("mistral", "mistral-7b"), ("Ministral", "ministral-8b")]
)
def test_an_open_weight_family_a_provider_also_serves_is_completed(
    run: Runner, name: str, meant: str
) -> None:
    """An attacker's review: --model gpt-oss and --model mistral were told the model is only an
    API's, while the catalog holds their open weights; recommend now completes the name as ask does."""
    result = fails(run("recommend", "--model", name), 2, "did you mean", meant)
    assert "names a model served only through" not in result.stderr


def test_popular_small_and_mid_models_resolve_offline(run: Runner) -> None:
    """Mistral NeMo, Ministral, Phi-3.5, Gemma 3 270M and SmolLM3 needed the Hub (an expert's list
    of today's fine-tuning targets); Phi-3.5 fuses its projections as Phi-3 does."""
    for hub_id, catalog_id, params in (
        ("mistralai/Mistral-Nemo-Instruct-2407", "mistral-nemo-12b", 12.248),
        ("mistralai/Ministral-8B-Instruct-2410", "ministral-8b-2410", 8.02),
        ("microsoft/Phi-3.5-mini-instruct", "phi-3.5-mini", 3.821),
        ("google/gemma-3-270m-it", "gemma-3-270m-it", 0.268),
        ("HuggingFaceTB/SmolLM3-3B", "smollm3-3b", 3.075),
    ):
        data = ok(run("model", hub_id, "--json")).json()["model"]
        assert (data["catalog_id"], data["params_b"]) == (catalog_id, params)
    gated = ok(run("recipe", "--model", "ministral-8b-2410", "--gpu", "4090", "--goal", "chat", "--out", "-"))
    assert "accept the Mistral AI Research License" in " ".join(gated.stdout.replace("#", " ").split())


def test_a_vision_language_wrapper_keeps_its_own_model_type_beside_the_text_family(catalog: Catalog) -> None:
    """Mistral Small 3.1 is a mistral3 checkpoint around a mistral text model: ft-atlas sizes the
    text model (family mistral), while the trainers' per-model-type lists (LLaMA-Factory's and
    Liger's) see mistral3, which neither patches (an expert's review); the catalog says the same."""
    read = parse_config(
        fixture("mistralai--Mistral-Small-3.1-24B-Instruct-2503.partial.json"), "mistralai/x", "x"
    ).model
    assert read.family == "mistral" and read.wrapper_type == "mistral3"
    listed = catalog.models["mistral-small-3.1-24b"]
    assert listed.family == "mistral" and listed.wrapper_type == "mistral3"
    gemma = parse_config(fixture("google--gemma-3-4b-it.json"), "google/gemma-3-4b-it", "x").model
    assert gemma.wrapper_type in (None, "gemma3")
    assert parse_config(fixture("Qwen--Qwen3-8B.json"), "Qwen/Qwen3-8B", "x").model.wrapper_type is None


def test_a_base_entry_named_as_its_instruct_model_loads_the_instruct_checkpoint(run: Runner) -> None:
    """A newcomer's review: `ft-atlas model "Llama 3.1 8B Instruct"` said instruct but "loads as
    meta-llama/Llama-3.1-8B" (the base), while its recipe loads the instruct checkpoint."""
    shown = ok(run("model", "Llama 3.1 8B Instruct", "--json")).json()
    assert shown["repo"] == "meta-llama/Llama-3.1-8B-Instruct" and shown["model"]["variant"] == "instruct"
    assert ok(run("model", "llama-3.1-8b", "--json")).json()["repo"] == "meta-llama/Llama-3.1-8B"


# --- Gemma 4 --------------------------------------------------------------------------------------


def test_gemma4_full_attention_layers_have_their_own_widths_and_no_v_proj() -> None:
    """modeling_gemma4 Gemma4TextAttention: the full-attention layers take global_head_dim and,
    under attention_k_eq_v, num_global_key_value_heads and no v_proj (values are k_proj's
    output); the sliding layers keep head_dim, num_key_value_heads and a v_proj."""
    dense = parsed("google--gemma-4-31B-it.partial.json").model
    assert (dense.family, dense.sliding_layers, dense.head_dim, dense.kv_heads) == ("gemma4", 50, 256, 16)
    assert (dense.global_head_dim, dense.global_kv_heads, dense.global_keys_are_values) == (512, 4, True)
    assert dense.v_norm and dense.qk_norm and dense.norms_per_layer == 4 and dense.logit_softcapping
    assert dense.fp16_overflows and not dense.eager_attention and not dense.attention_softcapping
    shape = shape_of(dense)
    attention = [(m.role, m.d_out, m.count) for m in shape.matrices if m.group == "attention"]
    assert attention == [
        ("q", 32 * 256, 50),
        ("k", 16 * 256, 50),
        ("v", 16 * 256, 50),
        ("o", 5376, 50),
        ("q", 32 * 512, 10),
        ("k", 4 * 512, 10),
        ("o", 5376, 10),
    ]
    assert shape.attention_kinds == ((50, 8192, 4096, 8192), (10, 16384, 2048, 4096))
    # Without attention_k_eq_v the full layers keep num_key_value_heads and their v_proj.
    config = fixture("google--gemma-4-31B-it.partial.json")
    config["text_config"] = {**config["text_config"], "attention_k_eq_v": False}
    plain = parse_config(config, "x/gemma4", "x").model
    assert (plain.global_head_dim, plain.global_kv_heads, plain.global_keys_are_values) == (512, None, False)
    assert sum(1 for m in shape_of(plain).matrices if m.role == "v") == 2


def test_gemma4_moe_runs_its_dense_mlp_beside_the_experts() -> None:
    """Gemma4TextDecoderLayer with enable_moe_block: the dense MLP (intermediate_size) in every
    layer plus 128 experts of moe_intermediate_size, top_k_experts of them per token, fused 3-D
    (gate_up_proj, down_proj); a router (nn.Linear hidden -> experts) with a scale of hidden_size
    and a per-expert scale; three more RMSNorms. 25.2B total, 3.8B active as published."""
    m = parsed("google--gemma-4-26B-A4B.json").model
    assert m.moe is not None and m.moe.beside_dense_mlp
    assert (m.moe.experts, m.moe.active, m.moe.intermediate_size, m.moe.dense_layers) == (128, 8, 704, 0)
    assert m.intermediate_size == 2112
    shape = shape_of(m)
    groups = {(g.group, g.role): (g.d_in, g.d_out, g.count) for g in shape.matrices if g.group != "attention"}
    assert groups == {
        ("mlp", "gate"): (2816, 2112, 30),
        ("mlp", "up"): (2816, 2112, 30),
        ("mlp", "down"): (2112, 2816, 30),
        ("router", "router"): (2816, 128, 30),
        ("expert", "gate_up"): (2816, 1408, 30 * 128),
        ("expert", "down"): (704, 2816, 30 * 128),
    }
    assert shape.mlp_width == 2112 + 8 * 704
    assert shape.params == 25_233_141_760 and shape.active_params == 3_822_530_560
    assert m.vision_params_b == pytest.approx(0.573, abs=0.001)
    # Gemma 4 builds no experts without enable_moe_block, whatever num_experts says.
    config = fixture("google--gemma-4-26B-A4B.json")
    config["text_config"] = {**config["text_config"], "enable_moe_block": False}
    assert parse_config(config, "x/gemma4", "x").model.moe is None


def test_gemma4_small_models_stay_refused_for_their_per_layer_embeddings_and_kv_sharing() -> None:
    """E2B and E4B feed per-layer embeddings (hidden_size_per_layer_input) and share keys and
    values across their last layers (num_kv_shared_layers): not modelled, so refused by name."""
    config = fixture("google--gemma-4-26B-A4B.json")
    for key, value, what in (
        ("hidden_size_per_layer_input", 256, "per-layer embeddings"),
        ("num_kv_shared_layers", 20, "key/value sharing across layers"),
    ):
        small = {**config, "text_config": {**config["text_config"], key: value}}
        with pytest.raises(UsageError, match=what):
            parse_config(small, "google/gemma-4-E2B-it", "x")


def test_gemma4_catalog_entries_match_their_configs(catalog: Catalog) -> None:
    """The catalog's Gemma 4 entries are the shapes their config.json gives."""
    for entry, name in (
        ("gemma-4-31b-it", "google--gemma-4-31B-it.partial.json"),
        ("gemma-4-26b-a4b-it", "google--gemma-4-26B-A4B.json"),
    ):
        listed, read = shape_of(catalog.model(entry)), shape_of(parsed(name).model)
        assert listed.params == read.params and listed.active_params == read.active_params, entry
        assert listed.attention_kinds == read.attention_kinds, entry
        assert catalog.model(entry).base_checkpoint == INDEX[name]["repo"].removesuffix("-it")


def test_gemma4_without_layer_types_takes_its_config_class_pattern() -> None:
    """Gemma4TextConfig fills layer_types with five sliding layers to one full one."""
    text = {
        k: v for k, v in fixture("google--gemma-4-26B-A4B.json")["text_config"].items() if k != "layer_types"
    }
    model = parse_config(text, "x/gemma-4-text", "x").model
    assert (model.sliding_layers, model.params_b, model.wrapper_type) == (25, 25.233, None)


def test_qwen3_5_reads_gated_deltanet_layers_and_an_output_gate() -> None:
    """modeling_qwen3_5: Qwen3_5GatedDeltaNet in the layers layer_types calls linear_attention
    (in_proj_qkv to 2 x 16 x 128 + 48 x 128, in_proj_z to 48 x 128, in_proj_b and in_proj_a to 48,
    out_proj back; a depthwise conv1d of 4 taps, A_log, dt_bias and a gated RMSNorm of 128), and
    Qwen3_5Attention's q_proj of 24 x 256 x 2 (queries and their output gate) in the others."""
    model = parsed("Qwen--Qwen3.5-27B.json").model
    gdn = model.linear_attention
    assert gdn is not None and model.attention_output_gate and model.qk_norm
    assert (gdn.layers, gdn.key_heads, gdn.value_heads, gdn.conv_kernel) == (48, 16, 48, 4)
    shape = shape_of(model)
    rows = {(m.role, m.d_in, m.d_out): m.count for m in shape.matrices if m.group == "attention"}
    assert rows == {
        ("q", 5120, 2 * 24 * 256): 16,
        ("k", 5120, 4 * 256): 16,
        ("v", 5120, 4 * 256): 16,
        ("o", 24 * 256, 5120): 16,
        ("in_qkv", 5120, 2 * 2048 + 6144): 48,
        ("in_z", 5120, 6144): 48,
        ("in_b", 5120, 48): 48,
        ("in_a", 5120, 48): 48,
        ("out", 6144, 5120): 48,
    }
    conv_and_gates = 48 * (10240 * 4 + 2 * 48 + 128)
    norms = 2 * 5120 * 64 + 5120 + 2 * 256 * 16
    assert shape.other_params == conv_and_gates + norms
    assert shape.attention_kinds == ((16, 6144, 1024, 2048),)
    # AutoModelForCausalLM loads the text-only Qwen3_5ForCausalLM: its vision tower is neither
    # loaded nor counted (an expert's review: it was, 0.82 GB, and the note said it loads).
    parsed_config = parsed("Qwen--Qwen3.5-27B.json")
    assert model.vision_params_b is None and shape.tower_params == 0
    assert "the vision tower is not counted: only the language model is sized" in parsed_config.notes


def test_qwen3_5_without_layer_types_takes_one_full_attention_layer_in_four() -> None:
    """Qwen3_5TextConfig.__post_init__: layer_types from full_attention_interval (default 4),
    linear where (i + 1) % interval."""
    config = fixture("Qwen--Qwen3.5-27B.json")
    text = {
        k: v for k, v in config["text_config"].items() if k not in ("layer_types", "full_attention_interval")
    }
    model = parse_config({**config, "text_config": text}, "Qwen/Qwen3.5-27B", "x").model
    assert model.linear_attention is not None and model.linear_attention.layers == 48
    text["full_attention_interval"] = 2
    halves = parse_config({**config, "text_config": text}, "Qwen/Qwen3.5-27B", "x").model
    assert halves.linear_attention is not None and halves.linear_attention.layers == 32


def test_qwen3_5_linear_keys_are_refused_under_another_model_type() -> None:
    """Only qwen3_5's Gated DeltaNet is modelled: the same keys elsewhere are still refused."""
    text = dict(fixture("Qwen--Qwen3.5-27B.json")["text_config"], model_type="renamed")
    with pytest.raises(UsageError, match="linear-attention"):
        parse_config(text, "lab/odd", "x")


def test_the_catalog_and_the_hub_config_size_qwen3_5_27b_alike(catalog: Catalog) -> None:
    entry = catalog.model("qwen3.5-27b")
    hub = parsed("Qwen--Qwen3.5-27B.json").model
    assert shape_of(entry) == shape_of(hub)
    assert shape_of(entry).params / 1e9 == pytest.approx(26.896, abs=0.001)


# --- Qwen3.5-MoE and Qwen3-Next -----------------------------------------------------------------


def test_qwen3_5_moe_reads_hybrid_layers_and_a_gated_shared_expert() -> None:
    """modeling_qwen3_5_moe: Qwen3.5's Gated DeltaNet (30 of 40 layers) and gated full attention
    (q_proj of 16 x 256 x 2), and in every layer Qwen3_5MoeSparseMoeBlock: a router of 256 x 2048,
    256 experts of 512 fused into gate_up_proj and down_proj, one shared expert of 512 and its
    shared_expert_gate, an nn.Linear of 2048 -> 1. AutoModelForCausalLM loads the text-only
    Qwen3_5MoeForCausalLM: the vision tower is not counted, nor the MTP layer."""
    result = parsed("Qwen--Qwen3.5-35B-A3B.json")
    model = result.model
    gdn, moe = model.linear_attention, model.moe
    assert gdn is not None and moe is not None and model.attention_output_gate and model.qk_norm
    assert (model.family, gdn.layers, gdn.value_heads, gdn.fused_projections) == (
        "qwen3_5_moe",
        30,
        32,
        False,
    )
    assert (moe.experts, moe.active, moe.dense_layers, moe.shared_experts) == (256, 8, 0, 1)
    assert moe.shared_expert_gate and model.vision_params_b is None
    shape = shape_of(model)
    rows = {(m.group, m.role, m.d_in, m.d_out): m.count for m in shape.matrices if m.group != "attention"}
    assert rows == {
        ("router", "router", 2048, 256): 40,
        ("shared-expert", "gate", 2048, 512): 40,
        ("shared-expert", "up", 2048, 512): 40,
        ("shared-expert", "down", 512, 2048): 40,
        ("shared-expert", "shared_expert_gate", 2048, 1): 40,
        ("expert", "gate_up", 2048, 1024): 40 * 256,
        ("expert", "down", 512, 2048): 40 * 256,
    }
    assert ("attention", "q", 2048, 2 * 16 * 256) in {
        (m.group, m.role, m.d_in, m.d_out) for m in shape.matrices
    }
    assert shape.tower_params == 0 and shape.shared_gate
    assert "the vision tower is not counted: only the language model is sized" in result.notes
    assert (model.params_b, model.active_params_b) == (34.661, 3.455)


def test_qwen3_5_moe_routes_every_layer_whatever_decoder_sparse_step_says() -> None:
    """Qwen3_5MoeDecoderLayer builds the sparse block in every layer (its config has no
    decoder_sparse_step or mlp_only_layers); Qwen3-Next honours both, as Qwen2-MoE does."""
    config = fixture("Qwen--Qwen3.5-35B-A3B.json")
    text = {**config["text_config"], "decoder_sparse_step": 2, "mlp_only_layers": [0, 1]}
    model = parse_config({**config, "text_config": text}, "Qwen/Qwen3.5-35B-A3B", "x").model
    assert model.moe is not None and model.moe.dense_layers == 0
    nxt = {**fixture("Qwen--Qwen3-Next-80B-A3B-Thinking.json"), "mlp_only_layers": [0, 1]}
    dense = parse_config(nxt, "Qwen/Qwen3-Next-80B-A3B-Thinking", "x").model
    assert dense.moe is not None and dense.moe.dense_layers == 2 and dense.intermediate_size == 5120


def test_qwen3_next_fuses_its_gated_deltanet_projections() -> None:
    """modeling_qwen3_next Qwen3NextGatedDeltaNet: in_proj_qkvz to 2 x 16 x 128 + 2 x 32 x 128 and
    in_proj_ba to 2 x 32 (the parameters of Qwen3.5's four projections, in two nn.Linear layers),
    out_proj back; conv1d over 2 x 2048 + 4096 channels of 4 taps, A_log, dt_bias, a norm of 128."""
    model = parsed("Qwen--Qwen3-Next-80B-A3B-Thinking.json").model
    gdn = model.linear_attention
    assert (
        gdn is not None
        and gdn.fused_projections
        and (gdn.layers, gdn.key_heads, gdn.value_heads) == (36, 16, 32)
    )
    assert model.family == "qwen3_next" and model.reasons and model.vision_params_b is None
    shape = shape_of(model)
    rows = {(m.role, m.d_in, m.d_out): m.count for m in shape.matrices if m.group == "attention"}
    assert rows == {
        ("q", 2048, 2 * 16 * 256): 12,
        ("k", 2048, 2 * 256): 12,
        ("v", 2048, 2 * 256): 12,
        ("o", 16 * 256, 2048): 12,
        ("in_qkvz", 2048, 2 * 2048 + 2 * 4096): 36,
        ("in_ba", 2048, 2 * 32): 36,
        ("out", 4096, 2048): 36,
    }
    conv_and_gates = 36 * (8192 * 4 + 2 * 32 + 128)
    norms = 2 * 2048 * 48 + 2048 + 2 * 256 * 12
    assert shape.other_params == conv_and_gates + norms
    assert shape.linear_fused and shape.shared_gate and shape.experts == 512


@pytest.mark.parametrize(
    ("name", "counted", "published"),
    [
        # The cards count the vision encoder (~0.4B), which AutoModelForCausalLM does not load.
        ("Qwen--Qwen3.5-35B-A3B.json", 34.661, 35.0),
        ("Qwen--Qwen3.5-397B-A17B.json", 396.346, 397.0),
        ("Qwen--Qwen3-Next-80B-A3B-Thinking.json", 79.674, 80.0),
    ],
)
def test_qwen3_5_moe_and_qwen3_next_count_within_1_percent_of_published(
    name: str, counted: float, published: float
) -> None:
    shape = shape_of(parsed(name).model)
    assert shape.params / 1e9 == pytest.approx(counted, abs=0.001)
    assert counted == pytest.approx(published, rel=0.01)


def test_qwen3_next_counts_79b_without_embeddings_as_its_card_says() -> None:
    shape = shape_of(parsed("Qwen--Qwen3-Next-80B-A3B-Thinking.json").model)
    assert (shape.params - shape.embedding_params) / 1e9 == pytest.approx(79.0, rel=0.01)
    assert (shape.active_params - shape.embedding_params) / 1e9 == pytest.approx(3.253, abs=0.001)


@pytest.mark.parametrize(
    ("entry", "name"),
    [
        ("qwen3.5-35b-a3b", "Qwen--Qwen3.5-35B-A3B.json"),
        ("qwen3.5-397b-a17b", "Qwen--Qwen3.5-397B-A17B.json"),
        ("qwen3-next-80b-a3b-thinking", "Qwen--Qwen3-Next-80B-A3B-Thinking.json"),
    ],
)
def test_the_catalog_and_the_hub_config_size_the_hybrid_mixtures_alike(
    catalog: Catalog, entry: str, name: str
) -> None:
    assert shape_of(catalog.model(entry)) == shape_of(parsed(name).model)


def test_qwen3_next_is_recommended_plans(run: Runner) -> None:
    data = ok(
        run("recommend", "--model", "qwen3-next-80b-a3b", "--gpu", "h100", "--gpus", "8", "--json")
    ).json()
    assert data["recommendations"] and any(p["fit"] == "yes" for p in data["recommendations"])
    model = ok(run("model", "qwen3-next-80b-a3b", "--json")).json()
    assert model["linear_attention"]["fused_projections"] and model["experts"]["shared_expert_gate"]


def test_a_config_routing_to_more_experts_than_it_has_is_refused() -> None:
    """Sized "with all 8 active" behind a warning, exit 0 (two reviews): transformers' router
    (torch.topk) refuses it, so no such model loads."""
    config = {**fixture("mistralai--Mixtral-8x7B-v0.1.json"), "num_experts_per_tok": 9}
    with pytest.raises(UsageError, match="routes each token to 9 experts of 8: no model loads so"):
        parse_config(config, "x/y", "x")
    # None at all, with a top-k still asked for: sized as a dense model behind no warning (a review).
    none = {**config, "num_local_experts": 0, "num_experts_per_tok": 5}
    with pytest.raises(UsageError, match="routes each token to 5 experts of 0"):
        parse_config(none, "x/y", "x")


def test_a_config_quantized_to_four_and_eight_bits_at_once_is_refused() -> None:
    """transformers' BitsAndBytesConfig raises "load_in_4bit and load_in_8bit are both True";
    it was read as a 4-bit checkpoint (a review)."""
    both = {"quant_method": "bitsandbytes", "load_in_4bit": True, "load_in_8bit": True}
    config = {**fixture("mistralai--Mixtral-8x7B-v0.1.json"), "quantization_config": both}
    with pytest.raises(UsageError, match="sets both load_in_4bit and load_in_8bit"):
        parse_config(config, "x/y", "x")
    config["quantization_config"] = {**both, "load_in_8bit": False}
    assert parse_config(config, "x/y", "x").model.weights_dtype == "int4"
