"""Estimates for one model across methods and their variants: `ft-atlas estimate` with or without
--method. The variants (8-bit AdamW, pure bf16, 4- or 8-bit QLoRA, ...) are declared next to each
method in the knowledge base."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from atlas_cli.core.estimates import Estimate, EstimateSettings
from atlas_cli.core.memory import trainable_params
from atlas_cli.core.memory.search import estimator, fitting_prompt, placed, with_experts_quantized
from atlas_cli.core.resolve import Hardware, ModelInfo, choose_precision
from atlas_cli.errors import UsageError, closest_name, echoed, meaning
from atlas_cli.i18n import N_, t
from atlas_cli.kb.catalog import Catalog
from atlas_cli.kb.records import Method, Variant
from atlas_cli.kb.vocabulary import (
    MEMORY_MODELS,
    OPTIMIZERS,
    PRECISIONS,
    PREQUANTIZED,
    STORED_BITS,
    STORED_QUANTIZED,
)

# The card's hyperparameters that size what a method trains, as its recipe writes them: the LoRA
# rank (AdaLoRA's starting rank, init_r, which its recipe sets) and the soft prompt's length.
# The card's key for the rank a method trains at, by memory-model family; else "r". A full-weight
# method with a rank is GaLore: the rank its gradients are projected to (the estimate's
# lora_rank carries it, and --lora-rank sets it).
RANK_KEY = {"adalora": "init_r", "weights": "rank"}
VIRTUAL_TOKENS_KEY = "num_virtual_tokens"
T = TypeVar("T")


def _card_whole(method: Method, key: str) -> int | None:
    """A whole number from the method's card (64 or 64.0), or None."""
    entry = method.hyperparameters.get(key)
    value = None if entry is None else entry.value
    if isinstance(value, bool) or not isinstance(value, int | float) or not float(value).is_integer():
        return None
    return int(value)


def card_rank(method: Method) -> int | None:
    """The LoRA rank the method's card gives its recipe (None: the card names none)."""
    family = MEMORY_MODELS[method.memory_model or "inference"].family
    return _card_whole(method, RANK_KEY.get(family, "r"))


def with_method(method: Method, settings: EstimateSettings, rank_given: bool = False) -> EstimateSettings:
    """`settings` with the method's own rank (unless the user gave --lora-rank) and soft-prompt
    length from its card: a card that says r: 64 is estimated, and written, at 64; without
    gradient checkpointing where its way of training refuses it (prefix tuning); a method that
    trains nothing (prompting, retrieval) serves on every GPU, with no vLLM server beside it."""
    rank = None if rank_given else card_rank(method)
    tokens = _card_whole(method, VIRTUAL_TOKENS_KEY)
    refused = method.memory_model is not None and not MEMORY_MODELS[method.memory_model].checkpointing
    changes = {
        **({"lora_rank": rank} if rank is not None and rank != settings.lora_rank else {}),
        **({"virtual_tokens": tokens} if tokens is not None and tokens != settings.virtual_tokens else {}),
        **({"gradient_checkpointing": False} if refused and settings.gradient_checkpointing else {}),
        **(
            {"gpus": settings.all_gpus, "vllm_server_gpus": 0}
            if method.kind == "no-training" and settings.vllm_server_gpus
            else {}
        ),
    }
    return settings._replace(**changes) if changes else settings  # type: ignore[arg-type]


def trainable_method(catalog: Catalog, query: str) -> Method:
    method = catalog.method(query)
    if method.embeds_only:  # "hosted" by its embedding API, yet it may as well embed here
        raise UsageError(
            t(
                "--method: '{id}' trains no language model: an embedding model turns each text into a "
                "vector (a provider's embedding API, or sentence-transformers on this machine, on its GPU "
                "or CPU) and a small classifier fits them in seconds, so there is nothing on your GPUs to "
                "size. `ft-atlas recommend --goal classify --data-kind labeled` ranks it, and `ft-atlas "
                "recipe --plan N` writes it for the rank N it has there",
                id=method.id,
            )
        )
    if method.runs == "hosted":
        raise UsageError(
            t(
                "--method: '{id}' runs at a provider: nothing is held on your GPUs to estimate "
                "(ft-atlas show {id} lists what each provider charges)",
                id=method.id,
            )
        )
    if method.kind == "objective":
        raise UsageError(
            t(
                "--method: '{id}' is an objective; pass it as --objective {id} with a parameterization "
                "such as --method lora",
                id=method.id,
            )
        )
    return method


def objective_id(catalog: Catalog, query: str) -> str:
    ids = [m.id for m in catalog.kb.methods if m.kind == "objective"]
    objectives = ", ".join(ids)
    try:
        method = catalog.method(query)
    except UsageError:
        message = t(
            "--objective: unknown objective '{query}'; choose from {ids}", query=echoed(query), ids=objectives
        )
        meant = closest_name(query.casefold(), ids)  # --objective dop: dpo (a newcomer's review)
        raise UsageError(meaning(message, meant)) from None
    if method.kind != "objective":
        raise UsageError(
            t("--objective: '{id}' is not an objective; choose from {ids}", id=method.id, ids=objectives)
        )
    return method.id


def applies(
    variant: Variant,
    hardware: Hardware,
    online: bool = False,
    stored: str | None = None,
    experts: bool = False,
) -> bool:
    """A variant whose precision needs bf16 does not exist on a GPU without it (V100, T4);
    layer-wise GaLore runs without gradient accumulation, which online RL's generation batch (a
    multiple of num_generations, TRL) takes at the micro-batches ft-atlas sizes: not for `online`
    stages; bitsandbytes' 8-bit and paged optimizers and torchao's do not run on Apple silicon
    (OptimizerInfo.mps). A checkpoint `stored` in 4 or 8 bits is QLoRA's base as stored (and is served so): no
    variant of other bits. Variants that run on one GPU only take one of several (with_variant)."""
    bits = STORED_BITS.get(stored or "")
    if variant.quant_bits and bits and variant.quant_bits != bits:
        return False
    if variant.serving_bits and bits and variant.serving_bits != bits:
        return False
    if variant.serving_bits and stored in SERVED_AS_STORED and not serves_stored(stored, hardware):
        return False
    if variant.layerwise and online:
        return False
    # Nor for online stages (GRPO, RLOO, PPO): no trainer writes them with quantized experts here
    # (axolotl's GRPO refuses a thinking model's chat_template_kwargs, and samples with vLLM, which
    # loads the 16-bit experts).
    if variant.quantized_experts and online:
        return False
    # `experts`: the model has routed experts, in 16 bits (a checkpoint stored quantized loads
    # by its own config: gpt-oss's MXFP4 experts); axolotl quantizes them on CUDA only
    # (check_quantize_moe_experts); a GPU known by its memory alone is taken for a CUDA one.
    if variant.quantized_experts and (
        not experts or stored in STORED_QUANTIZED or hardware.vendor not in ("nvidia", None)
    ):
        return False
    if variant.optimizer and not OPTIMIZERS[variant.optimizer].mps and hardware.vendor == "apple":
        return False
    return variant.precision is None or hardware.bf16 or not PRECISIONS[variant.precision].needs_bf16


def estimated_variants(method: Method, stored: str | None) -> list[Variant]:
    """The method's variants to estimate. A no-training method serves a checkpoint stored in 4 or
    8 bits (AWQ, GPTQ, bitsandbytes) as it is stored: only the variant of its bits. One stored in
    a quantization of its own loads by its own config, which a BitsAndBytesConfig does not
    replace: gpt-oss's MXFP4 experts as stored where the GPU runs them (applies), else dequantized
    to 16 bit; FP8 in 16 bit (an upper bound)."""
    variants = method.estimated_variants()
    if method.kind != "no-training" or not (stored in PREQUANTIZED or stored in STORED_BITS):
        return variants
    if stored in SERVED_AS_STORED:  # as stored first: transformers keeps it wherever it can
        bits = SERVED_AS_STORED[stored][0]
        return sorted(
            (v for v in variants if v.serving_bits in (None, bits)), key=lambda v: v.serving_bits != bits
        )
    return [v for v in variants if v.serving_bits == STORED_BITS.get(stored or "")] or variants


# Checkpoints stored in a quantization of their own, by their served bits and the NVIDIA
# architectures whose GPUs transformers serves them on as stored (it dequantizes to bf16
# elsewhere: Volta, MPS): Mxfp4HfQuantizer from compute capability 7.5 (with triton >= 3.4 and
# the kernels package), FineGrainedFP8HfQuantizer from 8.9 (4090, L4, H100).
_FP8_ARCHITECTURES = frozenset({"Ada Lovelace", "Hopper", "Blackwell", "Blackwell Ultra"})
SERVED_AS_STORED: dict[str, tuple[int, frozenset[str]]] = {
    "mxfp4": (4, _FP8_ARCHITECTURES | {"Turing", "Ampere"}),
    "fp8": (8, _FP8_ARCHITECTURES),
}


def serves_stored(stored: str, hardware: Hardware) -> bool:
    """Whether transformers serves a checkpoint stored so (SERVED_AS_STORED) as stored on this GPU
    (a GPU known by its memory alone is taken for a recent CUDA one)."""
    if hardware.vendor is None:
        return hardware.has_gpu
    architecture = "" if hardware.device is None else hardware.device.architecture.split(" (")[0]
    return hardware.vendor == "nvidia" and architecture in SERVED_AS_STORED[stored][1]


def variant_of(method: Method, result: Estimate | None) -> Variant | None:
    """The variant of `method` an estimate was sized with (the first, its default setup, when no
    other's settings match); None without an estimate or variants."""
    if result is None or not method.variants:
        return None
    s = result.settings
    for variant in method.variants[1:]:
        if (
            (variant.optimizer is None or variant.optimizer == s.optimizer)
            and (variant.precision is None or variant.precision == s.precision)
            and (variant.quant_bits is None or variant.quant_bits == s.quant_bits)
            and (variant.serving_bits is None or variant.serving_bits == s.serving_bits)
            and variant.layerwise == s.optimizer_in_backward
            and variant.quantized_experts == s.quantized_experts
        ):
            return variant
    return method.variants[0]


def with_variant(
    variant: Variant, settings: EstimateSettings, hardware: Hardware
) -> tuple[EstimateSettings, list[str]]:
    changes: dict[str, object] = {}
    warnings: list[str] = []
    if variant.optimizer:
        changes["optimizer"] = variant.optimizer
    if variant.precision:
        precision, warning = choose_precision(variant.precision, hardware)
        changes["precision"] = precision
        warnings += [warning] if warning else []
    if variant.quant_bits:
        changes["quant_bits"] = variant.quant_bits
    if variant.serving_bits:
        changes["serving_bits"] = variant.serving_bits
    if variant.layerwise:
        changes["optimizer_in_backward"] = True
    if variant.layerwise and settings.gpus > 1:
        changes["gpus"] = 1
        warnings.append(t(LAYERWISE_ONE_GPU, gpus=settings.gpus))
    elif variant.precision == "pure-bf16" and settings.gpus > 1:
        warnings.append(t(PURE_BF16_DATA_PARALLEL, gpus=settings.gpus))
    varied = settings._replace(**changes)  # type: ignore[arg-type]
    return with_experts_quantized(varied) if variant.quantized_experts else varied, warnings


# Layer-wise GaLore steps each layer's optimizer inside its backward hook, which transformers and
# LLaMA-Factory refuse under DDP. Pure bf16 saves memory only where nothing shards: DeepSpeed's
# ZeRO, which multi-GPU recipes shard with, keeps fp32 master weights whatever the model's dtype,
# so it runs plain data parallel (search.unsharded_only), each GPU holding what one would.
LAYERWISE_ONE_GPU = N_(
    "Layer-wise GaLore runs on one GPU (transformers and LLaMA-Factory refuse it under DDP): this plan "
    "uses 1 of your {gpus} GPUs."
)
PURE_BF16_DATA_PARALLEL = N_(
    "Pure bf16 saves memory only unsharded (DeepSpeed's ZeRO keeps fp32 master weights): this plan runs "
    "plain data parallel on {gpus} GPUs, each holding what one GPU would."
)


def sweep(
    catalog: Catalog,
    info: ModelInfo,
    hardware: Hardware,
    settings: EstimateSettings,
    auto_sharding: bool,
    rank_given: bool = False,
) -> list[tuple[str, Estimate, list[str]]]:
    """Every variant of every method that trains or serves this model, smallest memory first.
    A method that would train nothing here (BitFit on a bias-free model) is left out. With
    `auto_sharding`, each takes the multi-GPU strategy with the least communication that fits;
    each is sized with its card's rank (unless `rank_given`) and soft-prompt length."""
    rows = []
    experts = info.sized.expert_params > 0
    for method in catalog.kb.methods:
        model = method.memory_model
        if model is None or (
            model != "inference" and not trainable_params(model, info.sized, settings.lora_rank)
        ):
            continue
        run = estimator(method.id, model, info.sized)
        for variant in estimated_variants(method, info.weights_dtype):
            if not applies(variant, hardware, settings.objective.online, info.weights_dtype, experts):
                continue
            if variant.quantized_experts and settings.sixteen_bit_experts:
                continue  # --no-quantize-experts: the experts are asked 16-bit
            varied, warnings = with_variant(variant, with_method(method, settings, rank_given), hardware)
            result = placed(run, varied, auto_sharding)
            rows.append((variant.label, result, warnings))
    return sorted(rows, key=lambda row: (row[1].per_gpu_gb, row[0]))


def single(
    method: Method,
    info: ModelInfo,
    settings: EstimateSettings,
    hardware: Hardware,
    auto_sharding: bool,
    rank_given: bool = False,
) -> tuple[str, Estimate]:
    """One method's estimate at the user's settings. A method served quantized when 16 bits do not
    fit (RAG, ICL: serving_bits variants) takes the variant `recommend` would."""
    assert method.memory_model is not None
    settings = with_method(method, settings, rank_given)
    label = method.name
    if method.memory_model == "qlora":
        label = f"{method.name} {settings.quant_bits}-bit"  # a name: the same in every language
    run = estimator(method.id, method.memory_model, info.sized)
    stored = info.weights_dtype
    variants = [v for v in estimated_variants(method, stored) if applies(v, hardware, stored=stored)]
    if not any(v.serving_bits for v in variants):
        return label, placed(run, settings, auto_sharding)
    tried = [
        (
            v.label if v.serving_bits else label,
            placed(run, with_variant(v, settings, hardware)[0], auto_sharding),
        )
        for v in variants
    ]
    label, found = preferred(tried, lambda row: row[1].fit, lambda row: row[1].per_gpu_gb)
    tokens = fitting_prompt(run, found, auto_sharding)  # as recommend serves it
    if tokens is None:
        return label, found
    return label, placed(run, found.settings._replace(seq_len=tokens, prompt_len=tokens), auto_sharding)


def preferred(
    tried: Sequence[T], fit: Callable[[T], str | None], smallest: Callable[[T], float] | None = None
) -> T:
    """Of the setups tried (the preferred first), the first that fits within the margin, else the
    first that fits at all, else the first; or, given `smallest` (a serving width: what matters
    when none fits is how far the least is from fitting), the one needing least memory."""
    for wanted in ("yes", "tight"):
        found = next((row for row in tried if fit(row) == wanted), None)
        if found is not None:
            return found
    # Without a GPU's capacity nothing is known to miss: the preferred setup stands.
    if smallest is None or any(fit(row) is None for row in tried):
        return tried[0]
    return min(tried, key=smallest)
