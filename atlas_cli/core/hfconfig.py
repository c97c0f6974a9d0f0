"""Read a Hugging Face `config.json` into an LlmModel: the same shape a catalog entry gives, so
parameters are counted from structure the same way (core/shapes.py).

Key names differ per family (n_embd for GPT-2, d_model for T5, n_routed_experts for DeepSeek); a
key a config leaves out takes the default of its transformers configuration class, as
transformers itself would (Gemma's config.json omits tie_word_embeddings: Gemma2Config ties by
default). Architectures whose layers ft-atlas does not model (linear attention, state-space
layers, per-layer embeddings, DeepSeek's sparse-attention indexer) are refused with a message
naming what is missing: sizing them as a plain decoder would be silently wrong. docs/models.md
lists what is read and counted for each architecture.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal, NoReturn

from pydantic import ValidationError

from atlas_cli.core.names import looks_instruct
from atlas_cli.core.shapes import VISION_TEXT_ONLY, shape_of
from atlas_cli.errors import UsageError, echoed
from atlas_cli.i18n import N_, nt, t
from atlas_cli.kb.behaviour import MAX_LAYERS
from atlas_cli.kb.records import LlmModel, from_model

# A config.json is validated by the models (this module is not on a cached `recommend`'s path).
from atlas_cli.kb.schema import GatedDeltaNet, LatentAttention, MixtureOfExperts
from atlas_cli.kb.schema import LlmModel as ValidatedModel
from atlas_cli.kb.vocabulary import WeightsDtype

Config = Mapping[str, Any]
# Families whose attention transformers runs without SDPA (_supports_sdpa False: gpt-oss's learned
# attention sinks, Gemma 2's soft-capping): the default attn_implementation is then "eager".
EAGER_ATTENTION_TYPES = frozenset({"gpt_oss", "gemma2"})
# kb.schema.LlmModel.attention_sinks: modeling_gpt_oss's learned per-head sink logits.
SINK_ATTENTION_TYPES = frozenset({"gpt_oss"})
# kb.schema.LlmModel.fp16_overflows: Gemma 3 and 4's activations pass fp16's range; the MoE models
# give NaN gradient norms in float16 (unslothai/unsloth@015bdef models/loader.py FORCE_FLOAT32).
# Unsloth's loader matches that list as substrings of the comma-joined model types, so its
# "qwen3_5" entry takes Qwen3.5-MoE (qwen3_5_moe) too; Qwen3-Next is on no list.
FP16_OVERFLOW_TYPES = frozenset(
    {"gemma3", "gemma3_text", "gemma4", "gemma4_text", "qwen3_moe", "qwen3_5", "qwen3_5_moe", "gpt_oss"}
    | {"glm4_moe"}
)
T5_LARGE_WIDTH = 1024  # d_model of t5-large: the first original T5 that overflows fp16 (_t5)
# kb.schema.LlmModel.norms_per_layer and qk_norm, as transformers' modeling code builds each block
# (modeling_gemma2/3: four RMSNorms; modeling_qwen3, qwen3_moe, gemma3, olmo2: q_norm and k_norm).
SANDWICH_NORM_TYPES = frozenset({"gemma2", "gemma3", "gemma3_text", "gemma4_text"})
QK_NORM_TYPES = frozenset(
    {"qwen3", "qwen3_moe", "gemma3", "gemma3_text", "olmo2", "gemma4_text"}
    | {"qwen3_5", "qwen3_5_moe", "qwen3_next"}
)
# Decoders whose MLP is two plain projections (modeling_phi's PhiMLP: fc1, GELU, fc2, with biases);
# every other decoder family here has a gated (SwiGLU/GeGLU) one.
UNGATED_TYPES = frozenset({"phi"})
# kb.schema.LlmModel.fused_projections: modeling_phi3 builds qkv_proj and gate_up_proj.
FUSED_PROJECTION_TYPES = frozenset({"phi3"})
# Qwen3 (April 2025) sets max_position_embeddings to 40,960 for generation, "32,768 tokens for
# outputs and 8,192 tokens for typical prompts", but natively supports 32,768 (its model card):
# the positions it was trained on, past which YaRN is needed. The 2507 releases say 262,144.
TRAINED_POSITIONS = {("qwen3", 40_960): 32_768, ("qwen3_moe", 40_960): 32_768}
BiasScope = Literal["all-linear", "qkv", "attention"]

# --- defaults of the transformers configuration classes ---------------------------------------
# Only the keys that published configs omit and that change the count. From the __init__
# defaults of transformers' configuration_<model_type>.py (PretrainedConfig itself ties
# embeddings; most decoder classes override that to False).
# The defaults Qwen3.5's, Qwen3.5-MoE's and Qwen3-Next's config classes share (their hybrid
# Gated DeltaNet layout), and the two MoE ones' expert widths.
_GATED_DELTANET_DEFAULTS: Final[dict[str, Any]] = {
    "head_dim": 256,
    "linear_conv_kernel_dim": 4,
    "linear_key_head_dim": 128,
    "linear_value_head_dim": 128,
    "linear_num_key_heads": 16,
    "linear_num_value_heads": 32,
    "full_attention_interval": 4,
}
_SHARED_EXPERT_DEFAULTS: Final[dict[str, Any]] = {
    "moe_intermediate_size": 512,
    "shared_expert_intermediate_size": 512,
}
# BertConfig's defaults, which RoBERTa's and XLM-R's configs share.
BERT_DEFAULTS: Final[dict[str, Any]] = {
    "tie_word_embeddings": True,
    "type_vocab_size": 2,
    "max_position_embeddings": 512,
    "attention_probs_dropout_prob": 0.1,
}
CLASS_DEFAULTS: Final[dict[str, dict[str, Any]]] = {
    "llama": {"tie_word_embeddings": False},
    "mistral": {"tie_word_embeddings": False},
    "mixtral": {"tie_word_embeddings": False},
    "qwen2": {"tie_word_embeddings": False},
    "qwen2_moe": {"tie_word_embeddings": False, "decoder_sparse_step": 1},
    "qwen3": {"tie_word_embeddings": False},
    "qwen3_moe": {"tie_word_embeddings": False, "decoder_sparse_step": 1},
    # Qwen3_5TextConfig (configuration_qwen3_5.py): a full-attention layer every
    # full_attention_interval (popped with 4 as its default) where layer_types is not given.
    "qwen3_5": {"tie_word_embeddings": False, **_GATED_DELTANET_DEFAULTS},
    # Qwen3_5MoeTextConfig and Qwen3NextConfig (configuration_qwen3_5_moe.py, _qwen3_next.py): the
    # same hybrid layout, every layer's MLP a mixture of experts beside one shared expert.
    "qwen3_5_moe": {
        "tie_word_embeddings": False,
        "vocab_size": 248_320,
        **_GATED_DELTANET_DEFAULTS,
        **_SHARED_EXPERT_DEFAULTS,
        "num_experts": 256,
        "num_experts_per_tok": 8,
    },
    "qwen3_next": {
        "tie_word_embeddings": False,
        "vocab_size": 151_936,
        **_GATED_DELTANET_DEFAULTS,
        **_SHARED_EXPERT_DEFAULTS,
        "decoder_sparse_step": 1,
        "num_experts": 512,
        "num_experts_per_tok": 10,
    },
    "phi3": {"tie_word_embeddings": False},
    "phi": {"tie_word_embeddings": False},  # Phi-1, 1.5 and 2 (PhiConfig)
    "gemma": {"tie_word_embeddings": True, "head_dim": 256},
    "gemma2": {
        "tie_word_embeddings": True,
        "head_dim": 256,
        "attn_logit_softcapping": 50.0,
        "final_logit_softcapping": 30.0,
    },
    # Gemma3TextConfig: gemma-3-4b-it's text_config gives only four keys and relies on these.
    "gemma3_text": {
        "tie_word_embeddings": True,
        "vocab_size": 262_208,
        "hidden_size": 2304,
        "intermediate_size": 9216,
        "num_hidden_layers": 26,
        "num_attention_heads": 8,
        "num_key_value_heads": 4,
        "head_dim": 256,
        "max_position_embeddings": 131_072,
    },
    # Gemma4TextConfig (configuration_gemma4.py): global_head_dim is popped with 512 as its default.
    "gemma4_text": {
        "tie_word_embeddings": True,
        "vocab_size": 262_144,
        "head_dim": 256,
        "global_head_dim": 512,
        "sliding_window": 512,
        "max_position_embeddings": 131_072,
    },
    "llama4_text": {
        "tie_word_embeddings": False,
        "interleave_moe_layer_step": 1,
        "intermediate_size_mlp": 16384,
        "num_local_experts": 16,
        "num_experts_per_tok": 1,
        "head_dim": 128,
    },
    "deepseek_v2": {
        "tie_word_embeddings": False,
        "first_k_dense_replace": 0,
        "q_lora_rank": 1536,
        "n_shared_experts": 2,
        "moe_layer_freq": 1,
    },
    "deepseek_v3": {
        "tie_word_embeddings": False,
        "first_k_dense_replace": 3,
        "q_lora_rank": 1536,
        "n_shared_experts": 1,
        "moe_layer_freq": 1,
    },
    "glm4_moe": {"tie_word_embeddings": False, "first_k_dense_replace": 1, "n_shared_experts": 1},
    "gpt_oss": {"tie_word_embeddings": False},
    "gpt2": {
        "tie_word_embeddings": True,
        "n_inner": None,
        "n_positions": 1024,
        "vocab_size": 50257,
        "attn_pdrop": 0.1,
    },
    "bert": BERT_DEFAULTS,
    "roberta": BERT_DEFAULTS,
    "xlm-roberta": BERT_DEFAULTS,
    "modernbert": {"tie_word_embeddings": True},
    "t5": {
        "tie_word_embeddings": True,
        "d_kv": 64,
        "feed_forward_proj": "relu",
        "relative_attention_num_buckets": 32,
    },
    # mT5 and UMT5 are T5 v1.1 models: gated-GELU MLP and an untied LM head.
    "mt5": {"tie_word_embeddings": False, "d_kv": 64, "feed_forward_proj": "gated-gelu"},
    "umt5": {"tie_word_embeddings": False, "d_kv": 64, "feed_forward_proj": "gated-gelu"},
}
KNOWN_DECODERS: Final = frozenset(
    {"llama", "mistral", "qwen2", "qwen3", "phi", "phi3", "gemma", "gemma2", "gemma3_text"}
    | {"mixtral", "qwen2_moe", "qwen3_moe", "deepseek_v2", "deepseek_v3", "gpt_oss", "llama4_text"}
    | {"glm4_moe"}
    | {"gemma4_text"}
    | {"qwen3_5", "qwen3_5_moe", "qwen3_next"}
)
# Vision-language checkpoints whose language model is one of the decoders above (transformers'
# Qwen2-VL / Qwen2.5-VL text models are Qwen2's, with q/k/v biases; Qwen3-VL's are Qwen3's).
TEXT_MODEL_OF: Final = {
    **dict.fromkeys(("qwen2_vl", "qwen2_vl_text", "qwen2_5_vl", "qwen2_5_vl_text"), "qwen2"),
    **dict.fromkeys(("qwen3_vl", "qwen3_vl_text"), "qwen3"),
    **dict.fromkeys(("qwen3_vl_moe", "qwen3_vl_moe_text"), "qwen3_moe"),
    # Qwen3.5 checkpoints are vision-language ones (Qwen3_5Config) around a Qwen3_5TextConfig.
    "qwen3_5_text": "qwen3_5",
    "qwen3_5_moe_text": "qwen3_5_moe",
}
# Families whose Gated DeltaNet layers ft-atlas models (kb.schema.GatedDeltaNet): their linear-
# attention keys and layer types are read, not refused.
HYBRID_LINEAR_TYPES: Final = frozenset(
    {"qwen3_5", "qwen3_5_text", "qwen3_5_moe", "qwen3_5_moe_text", "qwen3_next"}
)
# Those whose every MLP is a mixture of experts beside a shared expert, whatever
# decoder_sparse_step or mlp_only_layers say: Qwen3_5MoeDecoderLayer builds Qwen3_5MoeSparseMoeBlock
# in every layer (Qwen3-Next honours both keys, as Qwen2-MoE does).
ALL_MOE_TYPES: Final = frozenset({"qwen3_5_moe"})
# Those whose shared expert's output is scaled by sigmoid(shared_expert_gate(x)), an nn.Linear of
# hidden_size -> 1 (Qwen3NextSparseMoeBlock, Qwen3_5MoeSparseMoeBlock).
SHARED_EXPERT_GATE_TYPES: Final = frozenset({"qwen3_next", "qwen3_5_moe"})
BERT_LIKE: Final = frozenset({"bert", "roberta", "xlm-roberta"})
T5_LIKE: Final = frozenset({"t5", "mt5", "umt5"})
KNOWN: Final = KNOWN_DECODERS | BERT_LIKE | T5_LIKE | {"gpt2", "modernbert"}

# --- what ft-atlas does not model -----------------------------------------------------------------

_HYBRID_LINEAR = N_("hybrid attention: Gated DeltaNet linear-attention layers between full-attention layers")
_STATE_SPACE = N_("state-space (Mamba) or linear-recurrent layers")
_SSM_TYPES = ("mamba", "mamba2", "falcon_mamba", "falcon_h1", "jamba", "zamba", "zamba2", "bamba")
_RECURRENT_TYPES = ("nemotron_h", "granitemoehybrid", "lfm2", "rwkv", "recurrent_gemma")
_SPARSE = N_("DeepSeek sparse attention (the lightning indexer that picks the attended tokens)")
NOT_MODELLED: Final[dict[str, str]] = {
    "gemma3n": N_("per-layer embeddings, AltUp, LAuReL and key/value sharing across layers"),
    "deepseek_v32": _SPARSE,
    "minimax": N_("lightning (linear) attention layers"),
    "kimi_linear": N_("Kimi Delta Attention (linear attention) layers"),
    **dict.fromkeys((*_SSM_TYPES, *_RECURRENT_TYPES), _STATE_SPACE),
}
# Keys that switch on such layers whatever the model_type says (a fine-tune may rename it).
# A key with a false value (0, null, []) is present but unused: gemma-4-26B-A4B sets
# hidden_size_per_layer_input to 0.
SPECIAL_KEYS: Final[dict[str, str]] = {
    "linear_num_value_heads": _HYBRID_LINEAR,
    "linear_key_head_dim": _HYBRID_LINEAR,
    "full_attention_interval": _HYBRID_LINEAR,
    "hidden_size_per_layer_input": N_("per-layer embeddings"),
    "num_kv_shared_layers": N_("key/value sharing across layers"),
    "index_topk": _SPARSE,
    "mamba_d_state": _STATE_SPACE,
    "ssm_state_size": _STATE_SPACE,
    "mamba_expand": _STATE_SPACE,
}
# Layer types that are ordinary softmax attention, only over a window or chunk.
ATTENTION_LAYER_TYPES: Final = frozenset({"full_attention", "sliding_attention", "chunked_attention"})
# Nested configs of multimodal checkpoints: the language model is sized, the rest is not.
OTHER_TOWERS: Final = ("vision_config", "audio_config", "speech_config")
# Vision-language model types transformers' AutoModelForCausalLM loads as a text-only model
# (modeling_auto: ("qwen3_5", "Qwen3_5ForCausalLM") and ("qwen3_5_moe", "Qwen3_5MoeForCausalLM"),
# "VLM compatibility"; Qwen3_5MoeForCausalLM ignores ^model.visual.* on load), dropping the towers'
# weights: the recipes load them so, so the towers are not in memory and not counted.
TEXT_ONLY_CAUSAL_LM: Final = frozenset({"qwen3_5", "qwen3_5_moe"})

# --- pre-quantized checkpoints ----------------------------------------------------------------

DTYPES: Final[dict[str, WeightsDtype]] = {"float32": "fp32", "float16": "fp16", "bfloat16": "bf16"}
QUANT_NOTES: Final[dict[str, str]] = {
    "fp8": N_("stored in FP8: trainers load FP8 checkpoints dequantized to bf16 to train them"),
    "mxfp4": N_(
        "experts stored in MXFP4: trainers dequantize them to bf16 to train "
        "(transformers Mxfp4Config(dequantize=True))"
    ),
    "int4": N_(
        "pre-quantized to 4 bits: adapters train on it as stored; full fine-tuning needs 16-bit weights"
    ),
    "int8": N_("pre-quantized to 8 bits: train adapters on it; full fine-tuning needs the 16-bit weights"),
}

_ID_CHARS = re.compile(r"[^a-z0-9.\-]+")


@dataclass(frozen=True, slots=True)
class ParsedConfig:
    model: LlmModel
    notes: tuple[str, ...]  # what is counted and what is not (a vision tower, an MTP module)
    warnings: tuple[str, ...]  # assumptions to check (an unknown model_type, a partial config)


def model_id_for(name: str) -> str:
    """A KB-style id for a model read from a config (lower case, [a-z0-9.-], at most 64)."""
    slug = _ID_CHARS.sub("-", name.casefold().rstrip("/")).strip("-.")
    return slug[:64].rstrip("-.") or "config"


# --- reading values -------------------------------------------------------------------------------


@dataclass
class _Reader:
    """Values of one (text) config, falling back to its class defaults; remembers what is missing."""

    config: Config
    defaults: Mapping[str, Any]
    name: str
    missing: list[str] = field(default_factory=list)

    def has(self, key: str) -> bool:
        return self.config.get(key) is not None or self.defaults.get(key) is not None

    def given(self, key: str) -> Any:
        """The config's value, an explicit null included (a cap of null is no cap); the class
        default only where the key is absent."""
        return self.config[key] if key in self.config else self.defaults.get(key)

    def raw(self, key: str) -> Any:
        value = self.config.get(key)
        return self.defaults.get(key) if value is None else value

    def whole(self, *keys: str, default: int | None = None) -> int:
        """The first of `keys` that is set; a missing one is recorded (reported all at once)."""
        for key in keys:
            value = self.raw(key)
            if value is not None:
                return self._whole(key, value)
        if default is not None:
            return default
        self.missing.append(keys[0])
        return 1

    def optional(self, *keys: str) -> int | None:
        return next((self._whole(k, self.raw(k)) for k in keys if self.raw(k) is not None), None)

    def flag(self, key: str, default: bool) -> bool:
        value = self.raw(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise UsageError(
                t(
                    "{name}: config.json's {key} is {value}, not true or false",
                    name=self.name,
                    key=key,
                    value=_described(value),
                )
            )
        return value

    def _whole(self, key: str, value: Any) -> int:
        infinite = isinstance(value, float) and not math.isfinite(value)  # 1e400; a 10^400 int is whole
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or infinite
            or value != int(value)
            or value < 0
        ):
            raise UsageError(
                t(
                    "{name}: config.json's {key} is {value}, not a whole number of 0 or more",
                    name=self.name,
                    key=key,
                    value=_described(value),
                )
            )
        return int(value)


def _described(value: Any) -> str:
    """A config value in an error message: a number as it is, anything else by its JSON type only.
    A batch line may name any JSON file its user can read as a model (an attacker's review: a
    credentials file's string came back in the error record)."""
    if isinstance(value, bool | int | float):
        return repr(value)
    kinds = {str: N_("a string"), list: N_("a list"), dict: N_("an object")}
    return t(next((kind for cls, kind in kinds.items() if isinstance(value, cls)), N_("null")))


def _tied(r: _Reader, warnings: list[str], known: bool) -> bool:
    if not known and not r.has("tie_word_embeddings"):
        warnings.append(t("tie_word_embeddings not given: assumed untied (an LM head of its own)"))
        return False
    return r.flag("tie_word_embeddings", False)


# --- the parts of a decoder -----------------------------------------------------------------------


def _latent_attention(r: _Reader) -> LatentAttention | None:
    """DeepSeek's multi-head latent attention, when the config has its low-rank key/value."""
    if not r.has("kv_lora_rank"):
        return None
    # An explicit null (DeepSeek-V2-Lite) means no query compression; only a missing key
    # takes the class default.
    q_lora = r.config["q_lora_rank"] if "q_lora_rank" in r.config else r.raw("q_lora_rank")
    return LatentAttention(
        q_lora_rank=r.whole("q_lora_rank") if q_lora else None,
        kv_lora_rank=r.whole("kv_lora_rank"),
        qk_nope_head_dim=r.whole("qk_nope_head_dim"),
        qk_rope_head_dim=r.whole("qk_rope_head_dim"),
        v_head_dim=r.whole("v_head_dim"),
    )


def _coefficient(value: Any) -> float | None:
    """A loss weight as the schema takes it; anything else (a string, a huge or negative number)
    is not read: it only decides a recipe setting."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
        return None
    return float(value)


def _moe_layers(r: _Reader, layers: int) -> int:
    """How many layers route to experts. Each family says it differently; none conflict:
    DeepSeek/GLM dense first layers (first_k_dense_replace, moe_layer_freq), Qwen-MoE's
    decoder_sparse_step and mlp_only_layers, Llama 4's interleave_moe_layer_step or moe_layers."""
    if isinstance(r.raw("moe_layers"), list):
        return sum(1 for i in r.raw("moe_layers") if isinstance(i, int) and 0 <= i < layers)
    first_dense = r.whole("first_k_dense_replace", default=0)
    freq = max(1, r.whole("moe_layer_freq", default=1))
    sparse_step = max(1, r.whole("decoder_sparse_step", "interleave_moe_layer_step", default=1))
    only_mlp = r.raw("mlp_only_layers")
    dense_listed = {i for i in only_mlp if isinstance(i, int)} if isinstance(only_mlp, list) else set()
    # Past MAX_LAYERS the model is refused when validated; do not count a typo's 10^12 layers.
    return sum(
        1
        for i in range(min(layers, MAX_LAYERS + 1))
        if i >= first_dense and i % freq == 0 and (i + 1) % sparse_step == 0 and i not in dense_listed
    )


def _refuse_routing(r: _Reader, active: int, experts: int) -> NoReturn:
    """transformers' routers pick a token's experts with torch.topk, which refuses k above the
    experts (none at all included)."""
    raise UsageError(
        t(
            "{name}: config.json routes each token to {active} experts of {experts}: no model "
            "loads so (its router picks the top {active} of {experts}); check num_experts_per_tok",
            name=r.name,
            active=active,
            experts=experts,
        )
    )


def _experts(
    r: _Reader, layers: int, model_type: str, warnings: list[str]
) -> tuple[MixtureOfExperts | None, int]:
    """The routed MLP, and the width of the dense MLP its dense layers use."""
    experts = r.optional("num_local_experts", "num_experts", "n_routed_experts")
    if model_type == "gemma4_text" and not r.flag("enable_moe_block", False):
        experts = None  # Gemma 4 builds its experts only with enable_moe_block
    routed = ("num_experts_per_tok", "experts_per_token", "num_selected_experts", "top_k_experts")
    if not experts:
        picked = r.optional(*routed)
        if experts == 0 and picked:
            _refuse_routing(r, picked, 0)
        return None, r.whole("intermediate_size")
    active = r.whole(*routed)
    expert_width = r.optional("moe_intermediate_size") or r.whole("intermediate_size")
    # Llama 4 names its dense MLP's width intermediate_size_mlp (intermediate_size is the expert's).
    dense_width = r.optional("intermediate_size_mlp") or r.optional("intermediate_size") or expert_width
    shared, shared_width = 0, None
    layers_routed = layers if model_type in ALL_MOE_TYPES else _moe_layers(r, layers)
    if r.optional("shared_expert_intermediate_size"):  # Qwen2-MoE: one shared expert of its own width
        shared, shared_width = 1, r.whole("shared_expert_intermediate_size")
    elif r.optional("n_shared_experts"):  # DeepSeek, GLM: n experts as wide as the routed ones
        shared = r.whole("n_shared_experts")
    elif model_type == "llama4_text":  # Llama 4: one shared expert beside the routed one
        shared = 1
    if active > experts:
        _refuse_routing(r, active, experts)
    moe = MixtureOfExperts(
        experts=experts,
        active=active,
        intermediate_size=expert_width,
        shared_experts=shared,
        shared_intermediate_size=shared_width,
        dense_layers=layers - layers_routed,
        shared_expert_gate=shared > 0 and model_type in SHARED_EXPERT_GATE_TYPES,
        expert_bias=model_type == "gpt_oss",
        every_token=model_type == "llama4_text",
        router_aux_loss_coef=_coefficient(r.raw("router_aux_loss_coef")),
        beside_dense_mlp=model_type == "gemma4_text",
    )
    return moe, dense_width


def _bias(r: _Reader, model_type: str) -> tuple[bool, BiasScope]:
    if model_type in UNGATED_TYPES:
        return True, "all-linear"  # Phi-1/1.5/2: q, k, v, dense, fc1 and fc2 keep nn.Linear's bias
    if model_type in ("qwen2", "qwen2_moe"):
        return True, "qkv"  # Qwen2 hard-codes bias=True on q/k/v (no key in its config)
    attention, mlp = r.flag("attention_bias", False), r.flag("mlp_bias", False)
    if model_type == "gpt_oss":
        return True, "attention"  # and on the experts (MixtureOfExperts.expert_bias)
    if model_type == "glm4_moe":
        return attention, "qkv"  # GLM-4 MoE: attention_bias adds q/k/v biases; o_proj has none
    if mlp:
        return True, "all-linear"
    return attention, "attention"


def _decoder(r: _Reader, model_type: str, known: bool, warnings: list[str]) -> dict[str, Any]:
    hidden = r.whole("hidden_size")
    layers = r.whole("num_hidden_layers")
    heads = r.whole("num_attention_heads")
    moe, dense_width = _experts(r, layers, model_type, warnings)
    has_bias, scope = _bias(r, model_type)
    head_dim = r.optional("head_dim")
    if head_dim == 0:
        warnings.append(t("head_dim 0: sized as hidden_size / num_attention_heads"))
    return {
        "architecture": "decoder",
        "layers": layers,
        "hidden_size": hidden,
        "attention_heads": heads,
        "kv_heads": r.whole("num_key_value_heads", default=heads),
        "head_dim": head_dim if head_dim and head_dim * heads != hidden else None,
        "intermediate_size": dense_width,
        "vocab_size": r.whole("vocab_size"),
        "has_bias": has_bias,
        "bias_scope": scope,
        "gated_mlp": model_type not in UNGATED_TYPES,
        "tied_embeddings": _tied(r, warnings, known),
        "moe": moe,
        "latent_attention": _latent_attention(r),
        "eager_attention": model_type in EAGER_ATTENTION_TYPES,
        "fp16_overflows": model_type in FP16_OVERFLOW_TYPES,
        "norms_per_layer": 4 if model_type in SANDWICH_NORM_TYPES else 2,
        # GLM-4.5's config says it (use_qk_norm); the others' modeling code does.
        "qk_norm": model_type in QK_NORM_TYPES or r.given("use_qk_norm") is True,
        "fused_projections": model_type in FUSED_PROJECTION_TYPES,
        "attention_softcapping": r.given("attn_logit_softcapping") is not None,
        "attention_sinks": model_type in SINK_ATTENTION_TYPES,
        "attention_dropout": _attention_dropout(r),
        "logit_softcapping": r.given("final_logit_softcapping") is not None,
        "context_length": _trained_positions(model_type, r.optional("max_position_embeddings")),
        "reasons": _reasons(model_type, r.name),
        **_sliding(r, model_type, layers),
        **_gemma4_attention(r, model_type),
        **_gated_delta_net(r, model_type, layers),
    }


def _gated_delta_net(r: _Reader, model_type: str, layers: int) -> dict[str, Any]:
    """Qwen3.5's linear-attention layers (modeling_qwen3_5 Qwen3_5DecoderLayer: linear_attn where
    layer_types says linear_attention; Qwen3_5TextConfig fills layer_types from
    full_attention_interval), and the output gate its full-attention layers' q_proj always emits
    (Qwen3_5Attention: num_attention_heads * head_dim * 2, whatever attn_output_gate says).
    Qwen3.5-MoE's and Qwen3-Next's are the same (Qwen3_5MoeGatedDeltaNet, Qwen3NextGatedDeltaNet;
    their configs fill layer_types alike), Qwen3-Next's with fused input projections."""
    if model_type not in ("qwen3_5", "qwen3_5_moe", "qwen3_next"):
        return {}
    layer_types = r.raw("layer_types")
    if isinstance(layer_types, list) and layer_types:
        linear = sum(1 for kind in layer_types[:layers] if kind == "linear_attention")
    else:
        interval = max(1, r.whole("full_attention_interval"))
        linear = sum(1 for i in range(min(layers, MAX_LAYERS + 1)) if (i + 1) % interval)
    gdn = None
    if linear:
        gdn = GatedDeltaNet(
            layers=linear,
            key_heads=r.whole("linear_num_key_heads"),
            value_heads=r.whole("linear_num_value_heads"),
            key_head_dim=r.whole("linear_key_head_dim"),
            value_head_dim=r.whole("linear_value_head_dim"),
            conv_kernel=r.whole("linear_conv_kernel_dim"),
            fused_projections=model_type == "qwen3_next",
        )
    return {"linear_attention": gdn, "attention_output_gate": True}


def _gemma4_attention(r: _Reader, model_type: str) -> dict[str, Any]:
    """Gemma 4's full-attention layers (modeling_gemma4 Gemma4TextAttention): heads of
    global_head_dim, num_global_key_value_heads of them where attention_k_eq_v is set (values are
    then k_proj's output: no v_proj), and on every layer v_norm, an RMSNorm without weight."""
    if model_type != "gemma4_text":
        return {}
    keys_are_values = r.flag("attention_k_eq_v", False)
    global_kv = r.optional("num_global_key_value_heads") if keys_are_values else None
    return {
        "global_head_dim": r.optional("global_head_dim"),
        "global_kv_heads": global_kv,
        "global_keys_are_values": keys_are_values,
        "v_norm": True,
    }


def _reasons(model_type: str, name: str) -> bool:
    """A reasoning model, as far as a config and its name tell: gpt-oss; a Thinking or R1 release;
    Qwen3's first releases, hybrid thinking models (not the Instruct-2507 ones, nor -Base); Qwen3.5,
    whose cards say "Qwen3.5 models operate in thinking mode by default" (but the 0.8B and 2B ones,
    non-thinking by default; not -Base)."""
    lowered = name.lower()
    if model_type == "gpt_oss" or "thinking" in lowered or "-r1" in lowered:
        return True
    if model_type in ("qwen3_5", "qwen3_5_moe"):
        return not any(w in lowered for w in ("base", "-0.8b", "-2b"))
    return model_type in ("qwen3", "qwen3_moe") and not any(
        w in lowered for w in ("instruct", "base", "2507")
    )


# Families whose configs leave their layer pattern to the transformers class: every other layer
# slides (Gemma2Config: sliding where (i + 1) % 2), or all but every sliding_window_pattern-th
# (Gemma3TextConfig, pattern 6: five local layers to one global).
SLIDING_EVERY = {"gemma2": 2, "gemma3": 6, "gemma3_text": 6, "gemma4_text": 6}  # Gemma4TextConfig: 5:1


def _sliding(r: _Reader, model_type: str, layers: int) -> dict[str, int]:
    """The layers attending within a sliding window (their layer_types, else the family's
    pattern), and the window: they cache at most that many tokens."""
    window = r.optional("sliding_window")
    kinds = r.raw("layer_types")
    if isinstance(kinds, list):
        count = sum(1 for kind in kinds if kind == "sliding_attention")
    elif model_type in SLIDING_EVERY:
        pattern = r.optional("sliding_window_pattern") or SLIDING_EVERY[model_type]
        count = layers - layers // pattern
    else:
        count = 0
    return {"sliding_window": window, "sliding_layers": count} if window and count else {}


def _attention_dropout(r: _Reader) -> float:
    """The dropout training applies to the attention probabilities (BERT's
    attention_probs_dropout_prob, GPT-2's attn_pdrop, the decoders' attention_dropout). It only
    sizes eager attention: a value that is no probability (false, "0.1", 1.0: a diff review saw
    such configs refused whole) counts as none."""
    keys = ("attention_probs_dropout_prob", "attn_pdrop", "attention_dropout")
    value = next((found for k in keys if (found := r.raw(k)) is not None), 0.0)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1:
        return 0.0
    return float(value)


def _trained_positions(model_type: str, positions: int | None) -> int | None:
    """The positions a model was trained on: its max_position_embeddings, except where the config
    reserves more for generation (TRAINED_POSITIONS)."""
    return TRAINED_POSITIONS.get((model_type, positions or 0), positions)


# --- the older families ---------------------------------------------------------------------------


def _gpt2(r: _Reader) -> dict[str, Any]:
    hidden = r.whole("n_embd", "hidden_size")
    heads = r.whole("n_head", "num_attention_heads")
    positions = r.whole("n_positions", "max_position_embeddings")
    return {
        "architecture": "decoder",
        "layers": r.whole("n_layer", "num_hidden_layers"),
        "hidden_size": hidden,
        "attention_heads": heads,
        "kv_heads": heads,
        "intermediate_size": r.optional("n_inner") or 4 * hidden,  # n_inner null: 4 x n_embd
        "vocab_size": r.whole("vocab_size"),
        "has_bias": True,
        "gated_mlp": False,
        "tied_embeddings": r.flag("tie_word_embeddings", True),
        "extra_params": positions * hidden,  # learned position embeddings (wpe)
        "context_length": positions,
        "attention_dropout": _attention_dropout(r),
    }


def _bert(r: _Reader) -> dict[str, Any]:
    hidden = r.whole("hidden_size")
    heads = r.whole("num_attention_heads")
    positions = r.whole("max_position_embeddings")
    token_types = r.whole("type_vocab_size")
    return {
        "architecture": "encoder",
        "layers": r.whole("num_hidden_layers"),
        "hidden_size": hidden,
        "attention_heads": heads,
        "kv_heads": heads,
        "intermediate_size": r.whole("intermediate_size"),
        "vocab_size": r.whole("vocab_size"),
        "has_bias": True,
        "gated_mlp": False,
        "tied_embeddings": r.flag("tie_word_embeddings", True),
        # Learned positions, token types and the pooler (BertModel's dense layer on [CLS]).
        "extra_params": (positions + token_types) * hidden + hidden * hidden + hidden,
        "context_length": positions,
        "attention_dropout": _attention_dropout(r),
    }


def _modernbert(r: _Reader) -> dict[str, Any]:
    heads = r.whole("num_attention_heads")
    attention, mlp = r.flag("attention_bias", False), r.flag("mlp_bias", False)
    return {
        "architecture": "encoder",
        "layers": r.whole("num_hidden_layers"),
        "hidden_size": r.whole("hidden_size"),
        "attention_heads": heads,
        "kv_heads": heads,
        "intermediate_size": r.whole("intermediate_size"),  # GeGLU: Wi is hidden x 2 * intermediate
        "vocab_size": r.whole("vocab_size"),
        "has_bias": attention or mlp,
        "bias_scope": "all-linear" if mlp else "attention",
        "gated_mlp": True,
        "tied_embeddings": r.flag("tie_word_embeddings", True),
        "context_length": r.optional("max_position_embeddings"),
    }


def _t5(r: _Reader) -> dict[str, Any]:
    layers = r.whole("num_layers")
    heads = r.whole("num_heads")
    projection = str(r.raw("feed_forward_proj") or "relu")
    hidden = r.whole("d_model")
    return {
        "architecture": "encoder-decoder",
        "layers": layers,
        "decoder_layers": r.whole("num_decoder_layers", default=layers),
        "hidden_size": hidden,
        "attention_heads": heads,
        "kv_heads": heads,
        "head_dim": r.whole("d_kv"),
        # T5 was trained in bf16, and its feed-forward outputs pass fp16's range: in fp16 every
        # gated (v1.1, Flan-T5, mT5) model and the original from Large up train to NaN; the
        # original Small and Base keep `wo` in fp32 and train (transformers#9295, #14189, #23918).
        "fp16_overflows": projection.startswith("gated") or hidden >= T5_LARGE_WIDTH,
        "intermediate_size": r.whole("d_ff"),
        "vocab_size": r.whole("vocab_size"),
        "has_bias": False,
        "gated_mlp": projection.startswith("gated"),  # T5 v1.1 / Flan-T5: gated-gelu
        "tied_embeddings": r.flag("tie_word_embeddings", True),
        # Relative position biases: one table per stack, in its first layer's attention.
        "extra_params": 2 * r.whole("relative_attention_num_buckets", default=32) * heads,
    }


# --- what the checkpoint stores -------------------------------------------------------------------


def _quantized(quant: Config, warnings: list[str]) -> WeightsDtype | None:
    method = str(quant.get("quant_method", "")).lower()
    if method in ("fp8", "fbgemm_fp8"):
        return "fp8"
    if method == "mxfp4":
        return "mxfp4"
    if method == "bitsandbytes":
        # Only JSON's true sets them, as BitsAndBytesConfig reads them ("yes" is no boolean: a review).
        return (
            "int4"
            if quant.get("load_in_4bit") is True
            else "int8"
            if quant.get("load_in_8bit") is True
            else None
        )
    bits = quant.get("bits") or quant.get("w_bit") or quant.get("weight_bits")
    if isinstance(bits, int) and not isinstance(bits, bool):
        if bits not in (4, 8):
            warnings.append(t("config.json's quantization of {bits} bits: sized as 4-bit", bits=bits))
        return "int8" if bits == 8 else "int4"
    warnings.append(t("config.json's quantization_config is not one ft-atlas reads: weights sized as 16-bit"))
    return None


def _refuse_two_bit_widths(name: str, quant: Config | None) -> None:
    """transformers' BitsAndBytesConfig refuses load_in_4bit and load_in_8bit together ("only one
    can be used at the same time"): no such checkpoint loads."""
    if quant is not None and quant.get("load_in_4bit") is True and quant.get("load_in_8bit") is True:
        raise UsageError(
            t(
                "{name}: config.json's quantization_config sets both load_in_4bit and load_in_8bit: "
                "transformers loads neither (BitsAndBytesConfig: only one can be used at the same time)",
                name=name,
            )
        )


def _quantization_config(configs: list[Config]) -> Config | None:
    """The first quantization_config among the configs (the text model's, then the top one's)."""
    for config in configs:
        quant = config.get("quantization_config")
        if isinstance(quant, Mapping):
            return quant
    return None


def _quant_method(quant: Config | None) -> str | None:
    """The quantization_config's quant_method, as the config spells it (lower case)."""
    if quant is not None and isinstance(quant.get("quant_method"), str):
        return str(quant["quant_method"]).lower()[:40]
    return None


def _integer_note(dtype: WeightsDtype, method: str) -> str:
    """A GPTQ or AWQ checkpoint: what its plans are sized for (resolve.integer_quantized: no
    recipe trains it as stored, so its adapter plans are sized for what the recipes load)."""
    return t(
        "pre-quantized to {bits} bits by {method}: PEFT trains adapters on it through {method}'s kernels, "
        "which ft-atlas neither sizes nor writes recipes for; adapter plans are sized for its 16-bit "
        "original (give that with --model), QLoRA for a bitsandbytes 4-bit copy of it; full fine-tuning "
        "needs the 16-bit weights",
        bits=8 if dtype == "int8" else 4,
        method=method,
    )


def _stored_dtype(
    configs: list[Config], quant: Config | None, notes: list[str], warnings: list[str]
) -> WeightsDtype:
    """How the checkpoint stores its weights: quantization_config, else torch_dtype (older
    configs without one are float32 checkpoints, which transformers loads as such)."""
    found = None if quant is None else _quantized(quant, warnings)
    if found is not None:
        method = _quant_method(quant)
        if found in ("int4", "int8") and method != "bitsandbytes":
            notes.append(_integer_note(found, method or "?"))
        elif found in QUANT_NOTES:
            notes.append(t(QUANT_NOTES[found]))
        else:
            notes.append(t("stored as {dtype}", dtype=found))
        return found
    for config in configs:
        dtype = config.get("torch_dtype") or config.get("dtype")
        if isinstance(dtype, str) and dtype in DTYPES:
            return DTYPES[dtype]
        if dtype is not None:
            warnings.append(t("config.json's torch_dtype is not a dtype transformers loads: sized as fp32"))
            return "fp32"
    return "fp32"


# --- refusals and the parts not counted -----------------------------------------------------------


def _refuse(name: str, what: str, model_type: str) -> UsageError:
    kind = t("model_type '{type}'", type=echoed(model_type)) if model_type else t("this config")
    return UsageError(
        t(
            "{name}: {kind} uses {what}, which ft-atlas does not model; sizing it as a plain decoder would "
            "be wrong. Give --model-size for a rough dense-model estimate instead.",
            name=name,
            kind=kind,
            what=what,
        )
    )


def _check_modelled(name: str, configs: list[Config]) -> None:
    for config in configs:
        model_type = str(config.get("model_type") or "")
        if model_type in NOT_MODELLED:
            raise _refuse(name, t(NOT_MODELLED[model_type]), model_type)
        hybrid = model_type in HYBRID_LINEAR_TYPES
        for key, what in SPECIAL_KEYS.items():
            if config.get(key) and not (hybrid and what == _HYBRID_LINEAR):
                raise _refuse(name, f"{t(what)} ({key})", model_type)
        layer_types = config.get("layer_types")
        if isinstance(layer_types, list):
            allowed = ATTENTION_LAYER_TYPES | ({"linear_attention"} if hybrid else set())
            odd = sorted({str(kind) for kind in layer_types} - allowed)
            if odd:
                # echoed cut short: a config's strings are anyone's (an attacker's 3 MB layer type)
                raise _refuse(name, t("layers of type {types}", types=echoed(", ".join(odd))), model_type)


def _vision_params_b(top: Config) -> float | None:
    """A vision tower's parameters, in billions, about: its blocks' attention and MLP matrices, two
    or, SiLU-gated (Qwen2.5-VL's Qwen2_5_VLMLP, Pixtral's: gate, up, down), three; Qwen-VL's
    patch embedding and patch merger (a Linear of the merged patches' width to itself, and one to
    the language model's), which Qwen2.5-VL-7B's 0.677B includes (an expert's review: read as
    0.49B); no other embeddings or projector (Gemma 3's SigLIP comes out at 0.41 of its 0.42). The
    recipes freeze it and keep LoRA off it, and memory holds its weights."""
    vision = top.get("vision_config")
    if not isinstance(vision, Mapping):
        return None
    if vision.get("model_type") == "gemma4_vision":
        return _gemma4_vision_params_b(top, vision)
    layers = _plausible(vision.get("num_hidden_layers") or vision.get("depth"), MAX_TOWER_LAYERS)
    width = _plausible(vision.get("embed_dim") or vision.get("hidden_size"), MAX_TOWER_WIDTH)
    if layers is None or width is None:
        return None
    # Llama 3.2 Vision's global encoder runs after the local one, with gated blocks of the same shape.
    layers += _plausible(vision.get("num_global_layers") or 0, MAX_TOWER_LAYERS) or 0
    ratio = _plausible(vision.get("mlp_ratio") or 4, MAX_TOWER_WIDTH)
    given = vision.get("intermediate_size")
    mlp = _plausible(given, MAX_TOWER_WIDTH) if given else None if ratio is None else width * ratio
    if mlp is None:  # a text, a list, a huge number: no tower is read
        return None
    act = vision.get("hidden_act")  # a list or a mapping here is not an activation (an attacker's review)
    matrices = 3 if isinstance(act, str) and act in GATED_VISION_ACTIVATIONS else 2
    blocks = layers * (4 * width * width + matrices * width * mlp)
    extras = _qwen_vision_extras(vision, width) + _mllama_vision_extras(top, vision, width)
    return round((blocks + extras) / 1e9, 3)


GATED_VISION_ACTIVATIONS = frozenset({"silu", "swish"})


def _qwen_vision_extras(vision: Config, width: float) -> float:
    """Qwen2-VL's, Qwen2.5-VL's and Qwen3-VL's Conv3d patch embedding (channels x temporal patch x
    patch^2 x width) and PatchMerger (spatial_merge_size^2 patches of `width` concatenated, a
    Linear to the same width and one to the language model's, out_hidden_size; Qwen2-VL's vision
    config names it hidden_size beside its own embed_dim): modeling_qwen2_5_vl.py,
    modeling_qwen3_vl.py (Qwen3-VL-8B's tower comes out at 0.576B)."""
    merge = _plausible(vision.get("spatial_merge_size"), MAX_TOWER_WIDTH)
    out = vision.get("out_hidden_size") or (vision.get("hidden_size") if vision.get("embed_dim") else None)
    language = _plausible(out, MAX_TOWER_WIDTH)
    if merge is None or language is None:
        return 0.0
    merged = width * merge * merge
    patch = _plausible(vision.get("patch_size") or 14, MAX_TOWER_WIDTH) or 14
    frames = _plausible(vision.get("temporal_patch_size") or 1, MAX_TOWER_WIDTH) or 1
    channels = _plausible(vision.get("in_chans") or vision.get("in_channels") or 3, MAX_TOWER_WIDTH) or 3
    # Qwen3-VL: a merger more for each layer whose features feed the language model's early layers
    # (deepstack_visual_indexes) and a learned position table (num_position_embeddings x width).
    deepstack = vision.get("deepstack_visual_indexes")
    mergers = 1 + (len(deepstack) if isinstance(deepstack, list) and len(deepstack) < MAX_TOWER_LAYERS else 0)
    positions = _plausible(vision.get("num_position_embeddings") or 0, MAX_TOWER_WIDTH * MAX_TOWER_WIDTH) or 0
    embedding = channels * frames * patch * patch * width + positions * width
    return embedding + mergers * (merged * merged + merged * language)


def _mllama_vision_extras(top: Config, vision: Config, width: float) -> float:
    """Llama 3.2 Vision's tile position table (an embedding per aspect ratio of every tile's
    patches: (ratios + 1) x max_num_tiles x patches x width, ~74M for the 11B) and its projector
    from the tower's concatenated layer outputs (vision_output_dim) to the language model's width
    (modeling_mllama.py MllamaPrecomputedPositionEmbedding, multi_modal_projector): the 11B's tower
    comes out at ~0.89B, 9.78B of language model beside it making Meta's 10.6B."""
    if vision.get("model_type") != "mllama_vision_model":
        return 0.0
    tiles = int(_plausible(vision.get("max_num_tiles") or 4, MAX_TOWER_LAYERS) or 4)
    image = _plausible(vision.get("image_size") or 560, MAX_TOWER_WIDTH) or 560
    patch = _plausible(vision.get("patch_size") or 14, MAX_TOWER_WIDTH) or 14
    patches = (image // patch) ** 2 + 1  # and the class token
    # transformers' get_all_supported_aspect_ratios: every grid of w x h <= max_num_tiles tiles
    ratios = sum(tiles // w for w in range(1, tiles + 1))
    text = top.get("text_config")
    language = _plausible(text.get("hidden_size"), MAX_TOWER_WIDTH) if isinstance(text, Mapping) else None
    output = _plausible(vision.get("vision_output_dim"), MAX_TOWER_WIDTH * MAX_TOWER_LAYERS)
    projector = output * language if output and language else 0.0
    return (ratios + 1) * tiles * patches * width + projector


def _gemma4_vision_params_b(top: Config, vision: Config) -> float | None:
    """Gemma 4's vision tower as modeling_gemma4 builds it, in billions: per encoder layer q, k, v
    and o of hidden_size and a gated MLP (Gemma4VisionMLP: gate, up, down) plus q_norm and k_norm
    of a head's width and four RMSNorms; the patch embedder (3 x patch_size^2 -> hidden_size) and
    its two position tables (position_embedding_size x hidden_size each); and embed_vision's
    projection into the text model (Gemma4MultimodalEmbedder, no bias)."""
    text = top.get("text_config")
    text_width = _plausible(text.get("hidden_size"), MAX_TOWER_WIDTH) if isinstance(text, Mapping) else None
    layers = _plausible(vision.get("num_hidden_layers"), MAX_TOWER_LAYERS)
    width = _plausible(vision.get("hidden_size"), MAX_TOWER_WIDTH)
    mlp = _plausible(vision.get("intermediate_size"), MAX_TOWER_WIDTH)
    head = _plausible(vision.get("head_dim") or 64, MAX_TOWER_WIDTH)
    patch = _plausible(vision.get("patch_size") or 16, MAX_TOWER_WIDTH)
    positions = _plausible(vision.get("position_embedding_size") or 10_240, MAX_TOWER_WIDTH)
    if None in (text_width, layers, width, mlp, head, patch, positions):
        return None
    assert text_width and layers and width and mlp and head and patch and positions  # for mypy
    block = 4 * width * width + 3 * width * mlp + 2 * head + 4 * width
    embedder = 3 * patch * patch * width + 2 * positions * width
    return round((layers * block + embedder + width * text_width) / 1e9, 3)


# Far past any vision tower (SigLIP: 27 layers of 1,152): a config beyond them is not read as one.
MAX_TOWER_LAYERS = 10_000
MAX_TOWER_WIDTH = 1_000_000


def _plausible(value: Any, limit: float) -> float | None:
    """`value` if it is a positive number (not a bool) of at most `limit`, else None."""
    number = isinstance(value, int | float) and not isinstance(value, bool) and 0 < value <= limit
    return float(value) if number else None


def _not_counted(top: Config, text: Config, notes: list[str], vision_b: float | None) -> None:
    towers = [k.removesuffix("_config") for k in OTHER_TOWERS if isinstance(top.get(k), Mapping)]
    if vision_b:  # read from the config: counted (Shape.tower_params)
        notes.append(t(VISION_TEXT_ONLY, params=vision_b))
        towers.remove("vision")
    if towers:
        notes.append(
            t(
                "the {towers} tower is not counted: only the language model is sized",
                towers=t(" and ").join(towers),
            )
        )
    mtp = text.get("num_nextn_predict_layers") or text.get("mtp_num_hidden_layers")
    if isinstance(mtp, int) and mtp > 0:
        notes.append(
            t(
                "the multi-token-prediction module ({layers}) is not counted: fine-tuning does not "
                "train it, and published totals leave it out (DeepSeek-V3: 671B + 14B MTP)",
                layers=nt("{n} extra layer", "{n} extra layers", mtp, n=mtp),
            )
        )


# --- the whole config -----------------------------------------------------------------------------


def _text_config(config: Config) -> tuple[Config, str]:
    """The language model's config (nested under text_config in multimodal checkpoints)."""
    text = config.get("text_config")
    if isinstance(text, Mapping):
        merged = {k: v for k, v in config.items() if k not in ("text_config", *OTHER_TOWERS)}
        merged.update(text)
        # A text_config without its own model_type belongs to the wrapper's family.
        return merged, str(text.get("model_type") or config.get("model_type") or "")
    return config, str(config.get("model_type") or "")


_READERS: Final[dict[str, Callable[[_Reader], dict[str, Any]]]] = {
    "gpt2": _gpt2,
    "modernbert": _modernbert,
    **dict.fromkeys(BERT_LIKE, _bert),
    **dict.fromkeys(T5_LIKE, _t5),
}
_FAMILY_NAMES: Final = {
    "gemma3_text": "gemma3",
    "gemma4_text": "gemma4",
    "llama4_text": "llama4",
    "xlm-roberta": "roberta",
}


def parse_config(config: Config, name: str, source: str) -> ParsedConfig:
    """The model a config.json describes. `name` labels it (a Hub id or a directory name);
    `source` is where the config came from. Raises UsageError when it cannot be sized."""
    if not isinstance(config, Mapping):
        raise UsageError(t("{name}: config.json is not a JSON object", name=name))
    text, model_type = _text_config(config)
    for given in (model_type, str(config.get("model_type") or "")):
        _check_model_type(name, given)
    model_type = TEXT_MODEL_OF.get(model_type, model_type)
    _check_modelled(name, [config, text])
    notes: list[str] = []
    warnings: list[str] = []
    known = model_type in KNOWN
    if not known:
        warnings.append(
            t(
                "config.json's model_type is not one ft-atlas knows: read as a Llama-style decoder (gated "
                "MLP, no biases) from its usual fields; check the counts",
            )
        )
    reader = _Reader(text, CLASS_DEFAULTS.get(model_type, {}), name)
    try:
        fields = (
            _READERS[model_type](reader)
            if model_type in _READERS
            else _decoder(reader, model_type, known, warnings)
        )
        if reader.missing:
            raise UsageError(
                t(
                    "{name}: config.json lacks {keys}, needed to size the model; give --model-size instead",
                    name=name,
                    keys=", ".join(dict.fromkeys(reader.missing)),
                )
            )
        outer = str(config.get("model_type") or "")
        fields["vision_params_b"] = None if outer in TEXT_ONLY_CAUSAL_LM else _vision_params_b(config)
        fields["wrapper_type"] = outer if outer and outer != model_type and "text_config" in config else None
        _not_counted(config, text, notes, fields["vision_params_b"])
        quant = _quantization_config([text, config])
        _refuse_two_bit_widths(name, quant)
        fields["weights_dtype"] = _stored_dtype([text, config], quant, notes, warnings)
        fields["quant_method"] = _quant_method(quant)
        model = _model(name, source, model_type, fields)
    except ValidationError as error:
        problems = "; ".join(_problem(e["loc"], e["msg"]) for e in error.errors(include_url=False))
        raise UsageError(
            t(
                "{name}: config.json does not describe a model ft-atlas can size ({problems})",
                name=name,
                problems=problems,
            )
        ) from None
    return ParsedConfig(model, tuple(notes), tuple(warnings))


# What transformers' model types look like (qwen3_moe, xlm-roberta, gpt_oss): a config whose
# model_type is anything else is refused before it is echoed in a warning (an attacker's review: a
# model_type of 3,000,000 characters printed 37,595 lines).
MODEL_TYPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}")


def _check_model_type(name: str, model_type: str) -> None:
    if model_type and not MODEL_TYPE.fullmatch(model_type):
        raise UsageError(
            t(
                "{name}: config.json's model_type is not a model type (letters, digits, '_', '.' and '-', "
                "at most 64)",
                name=name,
            )
        )


# The config.json key each size the catalog's schema names was read from (what the user can fix:
# an attacker's review was told "kv_heads: Input should be greater than 0").
CONFIG_KEYS = {
    "layers": "num_hidden_layers",
    "attention_heads": "num_attention_heads",
    "kv_heads": "num_key_value_heads",
}


def _problem(where: tuple[int | str, ...], message: str) -> str:
    """One of pydantic's errors, named by the config.json key it was read from, without its
    "Value error, " prefix, which a model-wide check (no field to name) showed as "value: Value
    error, attention_heads must be ..." (a review)."""
    message = message.removeprefix("Value error, ")
    keys = [CONFIG_KEYS.get(str(part), str(part)) for part in where]
    return f"{'.'.join(keys)}: {message}" if where else message


def _model(name: str, source: str, model_type: str, fields: dict[str, Any]) -> LlmModel:
    family = _FAMILY_NAMES.get(model_type, model_type or "unknown")
    # params_b is a placeholder until the shape is counted just below.
    draft: LlmModel = from_model(
        ValidatedModel(id=model_id_for(name), name=name, family=family, params_b=1, source=source, **fields)
    )
    shape = shape_of(draft)
    active = round(shape.active_params / 1e9, 3) if shape.is_moe else None
    variant = "instruct" if looks_instruct(name) else "base"
    # Validated again with the counts: a config of tiny or huge sizes gives a count outside the
    # schema's bounds, which model_copy would let through (shown as "0B", or 4e10 billion).
    counted = {"params_b": _billions(shape.params), "active_params_b": active, "variant": variant}
    model: LlmModel = from_model(ValidatedModel.model_validate({**draft.model_dump(), **counted}))
    return model


def _billions(params: float) -> float:
    """A parameter count in billions, to the million, or to four figures below one million."""
    billions = params / 1e9
    return round(billions, 3) if billions >= 1e-3 else float(f"{billions:.4g}")
