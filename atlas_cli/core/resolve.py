"""Turn the names and sizes a user typed into what the estimator and engine need."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from typing import Final, Literal, NamedTuple

from atlas_cli.core.estimates import PROMPT_CONTEXT, Estimate, EstimateSettings, billions
from atlas_cli.core.memory import default_checkpointing, default_seq_len, gib_to_gb
from atlas_cli.core.memory.activations import EAGER_STACKS
from atlas_cli.core.memory.estimate import (
    ONLINE_SEQ_LEN,
    THINKING_ONLINE_SEQ_LEN,
    generation_per_gpu,
    offloads_activations,
    served_by_vllm,
    shard_by_shard_load_bytes,
)
from atlas_cli.core.memory.parallel import loads_whole_base, resolved_sharding
from atlas_cli.core.memory.search import Change
from atlas_cli.core.memory.states import frozen_base_bytes, plan_experts_quantized
from atlas_cli.core.models import FoundModel, SourceKind, find_model, names_other_variant, variant_checkpoint
from atlas_cli.core.names import looks_instruct
from atlas_cli.core.nodes import network_per_gpu
from atlas_cli.core.profile import MAX_GPUS, Profile, check_gpu_text, check_server_stack, parse_vram
from atlas_cli.core.shapes import VISION_TEXT_ONLY, Shape, bare_model, describe, shape_of
from atlas_cli.core.throughput.step import (
    ASSUMED_PCIE_GEN,
    DESKTOP_INTER_NODE_GBS,
    INTER_NODE_GBS,
    PCIE_X16_GBS,
    Device,
)
from atlas_cli.core.throughput.timing import Rate
from atlas_cli.errors import UnknownName, UsageError, echoed
from atlas_cli.i18n import N_, number, pt, t
from atlas_cli.kb.catalog import Catalog, Objective, api_name, free_tier_named, is_laptop_gpu
from atlas_cli.kb.records import ChipConfiguration, Gpu, LlmModel
from atlas_cli.kb.vocabulary import (
    GB_WORDS,
    NO_CLASSIFIER_STACKS,
    OPTIMIZERS,
    PRECISIONS,
    PREQUANTIZED,
    STACK_VENDORS,
    STORED_BITS,
    ModelVariant,
    means_no_gpu,
)

DEFAULT_MODEL_SIZE_B = 7.0
DEFAULT_LORA_RANK = 16


class Hardware(NamedTuple):
    gpu_id: str | None  # None with --vram or without a GPU
    has_gpu: bool
    memory_gib: float | None  # as advertised, per GPU
    capacity_gb: float | None  # the same in 10^9 bytes
    bf16: bool
    gpus: int
    note: str
    vendor: str | None = None  # nvidia, amd or apple; None when only the memory is known
    cuda: bool | None = None
    device: Device | None = None  # peak throughput and links, for training time
    price: Rate | None = None  # the catalog's reference cloud price of one GPU-hour
    unified: bool = False  # the GPU shares the machine's memory (Gpu.unified: Apple silicon)
    fp8: bool = False  # FP8 tensor cores (Gpu.fp8); unknown with --vram alone
    desktop: bool = False  # a desktop (GeForce) card (Gpu.desktop)
    gpu_link: str | None = None  # pcie or nvlink between the GPUs of a node (resolve.gpu_link)
    # A Mac named without its memory, sized at the least its chip is sold with: the note says so.
    memory_assumed: bool = False
    free_tier: str | None = None  # the free notebook tier named (Gpu.free_tier_aliases): no charge

    @property
    def total_capacity_gb(self) -> float | None:
        return None if self.capacity_gb is None else round(self.capacity_gb * self.gpus, 2)


ModelSource = SourceKind | Literal["bare size", "api"]


# How a GPU without CUDA is sized: PyTorch (ROCm on AMD), or on Apple silicon mlx-lm (training_stack).
NO_CUDA_PYTORCH: Final = N_(" (no CUDA: estimates assume PyTorch on it)")
NO_CUDA_MLX: Final = N_(" (no CUDA: a decoder is sized for mlx-lm unless --stack names another trainer)")
INTEGER_QUANTIZED_RECIPE: Final = N_(
    "this checkpoint is stored in 4 or 8 bits by {method}, whose kernels (gptqmodel, autoawq) PEFT "
    "trains LoRA through and ft-atlas recipes do not set up: pass its 16-bit original with --model "
    "(QLoRA quantizes it with bitsandbytes as it loads), or a bitsandbytes 4-bit copy"
)


def training_stack(
    asked: str | None, hardware: Hardware, model: ModelInfo, stages: tuple[Objective, ...] = ()
) -> str:
    """The training stack memory is sized for: the one asked for (--stack), else mlx-lm for a
    decoder on Apple silicon where it trains every stage (its cards' training.mlx_lm: the trainer
    the rules point to and the recipes use there), else TRL's."""
    runs_on = STACK_VENDORS.get(asked or "")
    # A GPU known by its memory alone (--vram) may run a Triton stack, but is no Mac: mlx-lm's
    # chips are named (--gpu 'M3 Max 36GB').
    unknown = hardware.vendor is None and not (asked == "mlx" and hardware.has_gpu)
    if runs_on is not None and not unknown and hardware.vendor not in runs_on:
        raise UsageError(
            t(
                "--stack {stack} does not run on {gpu}: mlx-lm trains on Apple silicon only",
                stack=asked,
                gpu=hardware.gpu_id or t("a GPU known by its memory alone"),
            )
            if asked == "mlx"
            else t(
                "--stack {stack} does not run on {gpu}: its kernels are Triton's, which runs on NVIDIA and "
                "AMD GPUs; use --stack mlx or trl",
                stack=asked,
                gpu=hardware.gpu_id,
            )
        )
    mlx = hardware.vendor == "apple" and model.architecture in ("decoder", None)
    return asked or ("mlx" if mlx and all(o.training.mlx_lm for o in stages) else "trl")


def integer_quantized(spec: LlmModel | None) -> bool:
    """Stored in 4 or 8 bits by a quantizer other than bitsandbytes (GPTQ, AWQ): adapters train on
    it through that quantizer's kernels, which the recipes do not set up (INTEGER_QUANTIZED_RECIPE);
    a bitsandbytes checkpoint loads as QLoRA's base does."""
    return spec is not None and spec.weights_dtype in STORED_BITS and spec.quant_method != "bitsandbytes"


class ModelInfo(NamedTuple):
    model_id: str | None  # the catalog id; None for a model read from a config, a size or an API
    label: str
    shape: Shape | None  # None for a model behind an API: it is never sized
    template: str | None  # the assumed shape of a bare size, in words
    source: ModelSource = "catalog"
    where: str | None = None  # the catalog id, the config.json's path or its Hub URL
    repo: str | None = None  # what a recipe loads: a Hub id, or the model's local directory
    loads_elsewhere: str | None = None  # why `repo` is not the directory given (it has no weights)
    variant: ModelVariant | None = None  # None when unknown (a bare size)
    spec: LlmModel | None = None
    given: str | None = None  # the --model text, as typed
    notes: tuple[str, ...] = ()  # what is counted and what is not
    warnings: tuple[str, ...] = ()  # assumptions made reading the config
    api_tuning: str | None = None  # a hosted model: can its provider still tune it (hosted-ft offers)
    api_services: frozenset[str] | None = None  # ... and with which services (None: no offer names it)
    api_provider: str | None = None  # ... and whose offer that is
    # ... and, when no offer names it, whether it is an open-weights model (a catalog model, by its
    # id, name or Hub id) that hosts of open models tune, not the providers of their own models
    api_open_weights: bool | None = None
    # The decoder layer FSDP wraps where a trainer loads the model's 4-bit base shard by shard
    # (families.yaml fsdp_qlora_layer); None: none documents it for this model.
    fsdp_qlora_layer: str | None = None
    # PEFT on transformers 5 reads "all-linear" as the family's fused routed experts and router
    # (families.yaml peft_remaps_experts): LoRA names the attention instead (settings_for).
    peft_remaps_experts: bool = False
    # Unsloth patches the model's LoRA layers with its fused kernels (families.yaml
    # unsloth_fast_lora; a bare size is Llama-shaped, which it patches).
    unsloth_fast_lora: bool = True

    @property
    def api_name(self) -> str | None:
        """A model used through an API, named as the offers match it (kb.catalog.api_name)."""
        return api_name(self.given) if self.source == "api" and self.given else None

    @property
    def sized(self) -> Shape:
        """The shape estimates need; an API model has none."""
        if self.shape is None:
            raise UsageError(
                t("{model} is used through an API: it has no weights here to estimate", model=self.label)
            )
        return self.shape

    @property
    def context_length(self) -> int | None:
        """The positions the model was trained with (None: not known, or a bare size)."""
        return None if self.spec is None else self.spec.context_length

    @property
    def params_b(self) -> float | None:
        return None if self.shape is None else billions(self.shape.params)

    @property
    def active_params_b(self) -> float | None:
        """Parameters one token uses (all of them for a dense model)."""
        return None if self.shape is None else billions(self.shape.active_params)

    @property
    def weights_dtype(self) -> str | None:
        """How the checkpoint stores its weights (None: a bare size, or an API model)."""
        return None if self.spec is None else self.spec.weights_dtype

    @property
    def prequantized(self) -> bool:
        """Stored in a quantization bitsandbytes cannot quantize again (PREQUANTIZED)."""
        return self.weights_dtype in PREQUANTIZED

    @property
    def integer_quantized(self) -> bool:
        return integer_quantized(self.spec)

    @property
    def is_moe(self) -> bool | None:
        return None if self.shape is None else self.shape.is_moe

    @property
    def family(self) -> str | None:
        """The model's family, its config's model_type (None: a bare size, or an API model)."""
        return None if self.spec is None else self.spec.family

    @property
    def fp16_overflows(self) -> bool | None:
        """Its activations overflow fp16 (LlmModel.fp16_overflows); None: a bare size or an API model."""
        return None if self.spec is None else self.spec.fp16_overflows

    @property
    def reasons(self) -> bool | None:
        """A reasoning model (LlmModel.reasons); None: a bare size, or an API model. Reasoning
        is taught in post-training: the base checkpoint of a post-trained reasoning entry
        (Qwen/Qwen3-8B-Base for qwen3-8b) has no thinking to lose or to cut (an expert's review).
        A config's own entry is judged by its name (hfconfig._reasons): that no chat template lies
        beside it says little."""
        if self.spec is None:
            return None
        return self.spec.reasons and not (self.variant == "base" and self.spec.variant == "instruct")

    @property
    def online_seq_len(self) -> int:
        """What online RL samples within by default, prompt + completion: TRL's 512 + 512, or
        room for a thought when the model thinks (THINKING_ONLINE_SEQ_LEN), within its window."""
        length = THINKING_ONLINE_SEQ_LEN if self.reasons else ONLINE_SEQ_LEN
        window = self.context_length
        return min(length, window) if window else length

    @property
    def has_bias(self) -> bool | None:
        return None if self.shape is None else self.shape.has_bias

    @property
    def architecture(self) -> str | None:
        return None if self.shape is None else self.shape.architecture

    @property
    def reference(self) -> str | None:
        """How the profile names the model: its catalog id, else what was typed."""
        return self.model_id or self.given

    @property
    def other_checkpoint(self) -> str | None:
        """The checkpoint a catalog entry stands for when the plan takes its other variant
        (gemma-3-4b-it as google/gemma-3-4b-pt): the entry's name says the variant it lists."""
        if self.spec is None or self.variant is None:
            return None
        if self.variant == self.spec.variant and not names_other_variant(self.spec, self.repo, self.variant):
            return None
        return variant_checkpoint(self.spec, self.variant)

    @property
    def origin(self) -> str:
        """Which source the model came from, in words."""
        if self.source == "catalog":
            checkpoint = self.other_checkpoint
            if checkpoint is not None and self.variant is not None:
                return t(
                    "{repo}, the {variant} checkpoint of catalog entry {where}",
                    where=self.where,
                    variant=pt("checkpoint variant", self.variant),
                    repo=checkpoint,
                )
            return t("catalog entry {where}", where=self.where)
        if self.source == "file":
            return t("config file {where}", where=self.where)
        if self.source == "cache":
            return t("Hugging Face cache: {where}", where=self.where)
        if self.source == "hub":
            return t("config.json fetched from the Hub: {where}", where=self.where)
        if self.source == "api":
            return t("used through an API: not sized")
        return t("a bare size: {shape}", shape=self.template or t("an assumed shape"))


# A count of GPUs written into the name: "2x4090", "4090 x2", "8 × H100".
_COUNT_FIRST: Final = re.compile(r"^\s*(\d+)\s*[x×*]\s*(.+?)\s*$", re.IGNORECASE)
_COUNT_LAST: Final = re.compile(r"^\s*(.+?)\s*[x×*]\s*(\d+)\s*$", re.IGNORECASE)
# "two 4090s", «две 3090»: a count in words before the GPU's name.
# A GPU count said in words, as `ask` and a "две 3090" read it.
COUNT_WORDS: Final = {"one": 1, "two": 2, "three": 3, "four": 4, "eight": 8}
COUNT_WORDS.update({"один": 1, "одна": 1, "одну": 1, "два": 2, "две": 2, "три": 3, "четыре": 4, "восемь": 8})
_COUNT_IN_WORDS: Final = re.compile(rf"^\s*({'|'.join(COUNT_WORDS)})\s+(.+?)(?:(?<=\d)s)?\s*$", re.IGNORECASE)


def _named_gpu(catalog: Catalog, gpu: str, vram: float | None) -> tuple[Gpu, float | None]:
    """chip_and_memory, with a hint where the name holds a count of GPUs the catalog knows."""
    try:
        return chip_and_memory(catalog, gpu, vram)
    except UnknownName:
        hint = _count_apart(catalog, gpu)
        if hint is None:
            raise
        raise UsageError(hint) from None


def _count_apart(catalog: Catalog, text: str) -> str | None:
    found = counted_gpu(catalog, text)
    if found is None:
        return None
    gpu, count = found
    return t(
        "--gpu '{text}': give the count apart: --gpu {gpu} --gpus {count}",
        text=echoed(text),
        gpu=gpu.id,
        count=count,
    )


def counted_gpu(catalog: Catalog, text: str) -> tuple[Gpu, int] | None:
    """("rtx-4090", 2) for "2x4090" or "4090 x2": a GPU the catalog knows and a count --gpus
    takes; None otherwise (a Mac is one GPU)."""
    checked = check_gpu_text(text)
    first, last = _COUNT_FIRST.match(checked), _COUNT_LAST.match(checked)
    words = _COUNT_IN_WORDS.match(checked)
    readings = ([(first[1], first[2])] if first else []) + ([(last[2], last[1])] if last else [])
    readings += [(str(COUNT_WORDS[words[1].casefold()]), words[2])] if words else []
    for count, name in readings:
        try:  # "2x4090 24gb": the card named with the memory it has
            known, memory = chip_and_memory(catalog, name, None)
        except (UnknownName, UsageError):
            continue
        if known.unified or memory is not None or not 1 <= int(count) <= MAX_GPUS:
            return None
        return known, int(count)
    return None


def resolve_hardware(
    catalog: Catalog, gpu: str | None, vram: float | None, gpus: int, network_gbps: float | None = None
) -> Hardware:
    """The GPUs a profile names; `network_gbps` (--network-gbps, per node) replaces the catalog's
    network between nodes."""
    found = _hardware(catalog, gpu, vram, gpus)
    if network_gbps is None or found.device is None:
        return found
    return found._replace(device=found.device._replace(network_gbs=network_per_gpu(network_gbps)))


def _hardware(catalog: Catalog, gpu: str | None, vram: float | None, gpus: int) -> Hardware:
    check_gpu_count(catalog, gpus)
    if gpu is not None and means_no_gpu(gpu):
        return Hardware(None, False, None, None, False, 1, t("no local GPU"))
    laptop = laptop_memory(gpu, vram)
    if laptop is not None:
        note = t(
            "a laptop GPU with {gb:g} GB: sized by its memory; laptop cards are not in the catalog (their "
            "clocks and power limits vary), so training time and cost are not estimated",
            gb=laptop,
        )
        return _memory_only(laptop, gpus, note)
    if gpu is not None:
        g, chosen = _named_gpu(catalog, gpu, vram)
        unified = g.unified
        if unified and gpus > 1:
            raise UsageError(
                t(
                    "--gpus {gpus}: {name} is one GPU sharing its memory with the CPU, and the trainers "
                    "ft-atlas sizes do not train one model over several Macs; leave --gpus at 1",
                    gpus=gpus,
                    name=g.chip_name if chosen is None else chip_label(g, chosen),  # not its largest
                )
            )
        # A Mac named without its memory is sized at the least its chip is sold with: the most would
        # say a plan fits where most such Macs cannot hold it (ask's question defaults to it too).
        assumed = unified and chosen is None
        if assumed:
            chosen = min(g.memory_sizes_gb)
        # Fit is checked against what the driver reports a program can use (data/gpus.yaml).
        memory = g.memory_gib if chosen is None else chosen
        usable_memory = usable_gib(catalog, g, memory)
        usable = t(" ({gib:.4g} GiB usable)", gib=usable_memory) if round(usable_memory, 2) != memory else ""
        note = t("{name}, {gib:g} GiB{usable}", name=chip_label(g, chosen), gib=memory, usable=usable) + (
            "" if g.cuda else t(NO_CUDA_MLX if g.vendor == "apple" else NO_CUDA_PYTORCH)
        )
        if unified:
            note += memory_origin(g, gpu, vram, None if assumed else chosen)
        # "A100" is sold with 40 and 80 GB: say which was assumed; with its memory given, only the
        # other form factors of that memory (a review: --gpu 3080 --vram 12 named the card chosen).
        siblings = [
            s
            for s in catalog.gpu_siblings(gpu)
            if s.id != g.id and (vram is None or s.memory_gib == g.memory_gib)
        ]
        if siblings:
            note += t(
                "; '{query}' also names {others}: give --gpu {first} if that is yours",
                query=gpu,
                others=", ".join(s.name for s in siblings),
                first=siblings[0].id,
            )
        reference = catalog.reference_price(g.id, gpus)
        free = free_tier_named(g, gpu)
        if free is not None:
            _check_free_tier(free, gpus)
            reference = (
                0.0,
                t("'{name}' is a free tier: no charge (a paid plan: give --price-per-hour)", name=free),
            )
        return Hardware(
            g.id,
            True,
            memory,
            gib_to_gb(usable_memory),
            g.bf16,
            gpus,
            note,
            g.vendor,
            g.cuda,
            device_of(catalog, g, gpus),
            None if reference is None else Rate(*reference),
            unified,
            g.fp8,
            g.desktop,
            gpu_link(g, gpus),
            assumed,
            free,
        )
    if vram is not None:
        return _memory_only(vram, gpus, t("{gb:.4g} GB GPU", gb=vram))
    return Hardware(None, True, None, None, True, gpus, t("GPU not given: fit is not checked"))


# The most GPUs a free notebook tier gives one session: Kaggle's "GPU T4 x2" (kaggle.com/docs/
# notebooks); Colab's free tier gives one.
FREE_TIER_GPUS: Final = 2


def _check_free_tier(name: str, gpus: int) -> None:
    if gpus > FREE_TIER_GPUS:
        raise UsageError(
            t(
                "--gpus {gpus}: '{name}' is a free notebook tier, which gives one T4 (Colab) or two "
                "(Kaggle's T4 x2); for more GPUs give the card itself (--gpu t4) and its price",
                gpus=gpus,
                name=name,
            )
        )


# A GPU's name followed by a memory size: "M3 Max 36GB", "m4-pro 24gb".
# The memory is a number of its own: "laptop 1e9GB" names no 9 GB.
_NAME_AND_MEMORY: Final = re.compile(
    rf"^(.*?)[\s_-]*(?<![0-9.,])(?<![0-9][eE])([0-9]+(?:[.,][0-9]+)?\s*{GB_WORDS})\s*$", re.IGNORECASE
)


def _memory_only(gib: float, gpus: int, note: str) -> Hardware:
    """A GPU known by its memory alone: bf16 cannot be known, so a current (Ampere+) card is assumed."""
    return Hardware(None, True, gib, gib_to_gb(gib), True, gpus, note)


def _memory_once(gpu: str, memory: float, vram: float | None) -> None:
    """--gpu named with its memory and --vram agree, or one of them is refused."""
    if vram is not None and vram != memory:
        raise UsageError(
            t(
                "--gpu '{gpu}' says {memory:g} GB and --vram {vram:g}: give the memory once",
                gpu=gpu,
                memory=memory,
                vram=vram,
            )
        )


def laptop_memory(gpu: str | None, vram: float | None, flag: str = "--gpu") -> float | None:
    """The memory of a laptop GPU named with it ("RTX 4060 Laptop 8GB", or --vram 8); None for any
    other GPU, and for a laptop GPU without it (refused by the catalog with what to give)."""
    if gpu is None or not is_laptop_gpu(gpu):
        return None
    # "RTX 4060 Laptop 8GB", or the memory anywhere else: "rtx 4060 8gb laptop", NVIDIA's "RTX 4060
    # 8GB Laptop GPU" (a newcomer's and a diff review); one size, or none is read.
    found = name_and_memory(gpu)
    sizes = [found[1]] if found is not None else _MEMORY_WITHIN.findall(check_gpu_text(gpu))
    if len(sizes) != 1:
        return vram
    memory = parse_vram(sizes[0], flag)
    _memory_once(gpu, memory, vram)
    return memory


# A memory size within a laptop GPU's name, a number of its own ("8 GB)", not "1e9GB").
_MEMORY_WITHIN: Final = re.compile(
    rf"(?<![0-9.,])(?<![0-9][eE])([0-9]+(?:[.,][0-9]+)?\s*{GB_WORDS})(?![a-zа-я0-9])", re.IGNORECASE
)


def name_and_memory(text: str) -> tuple[str, str] | None:
    """("M3 Max", "36GB") for "M3 Max 36GB"; None when no memory follows a name."""
    match = _NAME_AND_MEMORY.match(check_gpu_text(text))
    return None if match is None or not match.group(1) else (match.group(1), match.group(2))


def check_chip_memory(chip: Gpu, gb: float, flag: str, others: Iterable[Gpu] = ()) -> float:
    """`gb` of memory given for `chip`: an Apple chip's unified memory in the sizes Apple sells it
    with (a 16 GB M2 Max was never made: sizing one would advise for a Mac nobody has); another
    card with memory the catalog does not list is refused with --vram as the way (a newcomer's
    review: "3080 12GB", before the catalog had it, was told only Apple silicon comes in several
    sizes). `others`: the chips of its generation, one of which may come with `gb` (a newcomer's
    review: "Mac M3 36GB" was told what an M3 comes with, not that 36 GB is an M3 Pro or Max)."""
    if not chip.unified:
        raise UsageError(
            t(
                "{flag}: the catalog knows {name} with {gib:g} GiB only; for a card of that name with "
                "other memory (an RTX 3060 8GB), give its memory alone: --vram N (training time and "
                "cost are then not estimated)",
                flag=flag,
                name=chip.name,
                gib=chip.memory_gib,
            )
        )
    if gb not in chip.memory_sizes_gb:
        given = repr(gb).removesuffix(".0")  # as given: 36.0000001 is not 36
        said = t(
            "{flag}: {gb} GB, but the {chip} comes with {sizes} GB of unified memory",
            flag=flag,
            gb=given,
            chip=chip.chip_name,
            sizes=sold_sizes(chip),
        )
        sold = [
            o for o in others if o.unified and o.architecture == chip.architecture and gb in o.memory_sizes_gb
        ]
        if sold:
            names = t(" or ").join(o.chip_name for o in sold)
            example = f"{sold[0].chip_name.removeprefix('Apple ')} {given}GB"
            said += t("; {gb} GB is an {chips}: --gpu '{example}'", gb=given, chips=names, example=example)
        raise UsageError(said)
    return gb


def assumed_memory_note(hardware: Hardware) -> list[str]:
    """The memory a Mac named without it is sized for, where a command shows no hardware line."""
    if not hardware.memory_assumed or hardware.memory_gib is None:
        return []
    return [
        t(
            "sized for the least unified memory this Mac's chip is sold with, {gb:g} GB; give yours with "
            "--vram N (GB) if it has more",
            gb=hardware.memory_gib,
        )
    ]


def memory_origin(chip: Gpu, gpu: str, vram: float | None, chosen: float | None) -> str:
    """Where an Apple chip's memory size in the header comes from: --vram, the --gpu value that
    names it ("M3 Pro 18GB": no --vram was typed), or nowhere (the chip's smallest is assumed)."""
    if chosen is None:
        return t(
            "; the {chip} comes with {sizes} GB: sized for the least, {gb:g} GB; give yours with --vram N "
            "(GB) if it has more",
            chip=chip.chip_name,
            sizes=sold_sizes(chip),
            gb=min(chip.memory_sizes_gb),
        )
    if vram is None:
        return t("; --gpu '{text}': the chip with that much unified memory", text=gpu)
    return t("; --vram {gib}: the chip with that much unified memory", gib=f"{vram:g}")


def chip_label(chip: Gpu, memory: float | None) -> str:
    """The GPU as the header names it. An Apple entry's name describes the chip's largest
    configuration ("Apple M3 Max (128 GB unified, 40-core GPU)"): with its memory given, the
    chip is named with what that size tells of its GPU and bandwidth, and no more (the 36 GB M3
    Max is the 30-core, 300 GB/s chip; an 18 GB M3 Pro may have either GPU)."""
    if memory is None or not chip.unified:
        return chip.name
    sold = configurations_for(chip, memory)
    if not sold:
        return chip.chip_name
    cores = [str(c) for c in sorted({c.gpu_cores for c in sold})]
    rates = sorted({c.memory_bandwidth_gbs for c in sold})
    return t(
        "{chip} ({cores}-core GPU, {bandwidth} GB/s)",
        chip=chip.chip_name,
        cores=cores[0]
        if len(cores) == 1
        else t("{some}- or {last}", some="-, ".join(cores[:-1]), last=cores[-1]),
        bandwidth=t(" or ").join(number(rate, "g") for rate in rates),
    )


def configurations_for(chip: Gpu, memory: float) -> list[ChipConfiguration]:
    """The configurations of `chip` sold with `memory`: those that list it, or all of them
    when none does (its configuration was not found: any may be the one)."""
    return [c for c in chip.configurations if memory in c.memory_sizes_gb] or chip.configurations


def sold_sizes(chip: Gpu) -> str:
    """The memory sizes a chip is sold with, in words: "36, 48, 64, 96 or 128"."""
    sizes = [f"{gb:g}" for gb in chip.memory_sizes_gb]
    if len(sizes) == 1:
        return sizes[0]
    return t("{sizes} or {last}", sizes=", ".join(sizes[:-1]), last=sizes[-1])


def _card_with_memory(catalog: Catalog, named: Gpu, name: str, gib: float) -> Gpu | None:
    """Another card the catalog lists under `name` with `gib` of memory ("3080 12gb" beside the
    10 GB card "3080" names); None for an Apple chip, whose memory is chosen, not a card, and for
    the named card itself (--gpu and --vram stay alternatives)."""
    if named.unified:
        return None
    try:
        card = catalog.gpu(f"{name} {gib:g}gb")
    except UnknownName:
        return None
    return card if card.id != named.id and card.memory_gib == gib and not card.unified else None


def chip_and_memory(
    catalog: Catalog, gpu: str, vram: float | None, flag: str = "--gpu"
) -> tuple[Gpu, float | None]:
    """The GPU a --gpu value names, and the memory chosen for it: an Apple chip comes with
    several sizes, so "M3 Max 36GB" is read as --gpu apple-m3-max --vram 36, and --vram may
    repeat it (any other name keeps the catalog's own answer, and its error); a --vram given with
    a plain name is checked against the chip."""
    try:
        named = catalog.gpu(gpu)
    except UnknownName:
        split = name_and_memory(gpu)
        try:
            chip = None if split is None else catalog.gpu(split[0])
        except UnknownName:
            chip = None
        if split is None or chip is None:
            raise
    else:
        if vram is not None and vram == named.memory_gib and not named.unified:
            # The memory it has, said twice (as `recommend --json` echoes a profile, and as
            # --gpu 3080 --vram 12 picks the 12 GB card): taken, not refused.
            return named, None
        if vram is not None:
            card = _card_with_memory(catalog, named, gpu, vram)
            if card is not None:
                return card, None  # --gpu 3080 --vram 12: the 12 GB card
            check_chip_memory(named, vram, t("--gpu and --vram"), catalog.gpus.values())
        return named, vram
    given = parse_vram(split[1], flag)
    if given == chip.memory_gib and not chip.unified:
        return chip, vram  # "4090 24gb": the card, named with the memory it has
    card = _card_with_memory(catalog, chip, split[0], given)
    if card is not None:
        return card, vram  # "3080 12GiB": the catalog's 12 GB card of that name
    memory = check_chip_memory(chip, given, flag, catalog.gpus.values())
    _memory_once(gpu, memory, vram)
    return chip, memory


def check_gpu_count(catalog: Catalog, gpus: int, asked: bool = False) -> None:
    """A GPU's model number given as the count ("How many GPUs? 4090", a newcomer's review: sized
    over 4,090 GPUs without a word) is refused, naming the card; counts below 1,000 are not.
    `asked`: answered to ask's question, whose answer the flags' advice does not fit."""
    if gpus < 1000:
        return
    card = next((g for g in catalog.gpus.values() if re.search(rf"(?<!\d){gpus}(?!\d)", g.id)), None)
    if card is None:
        return
    said = (
        N_(
            "{gpus} is the model number of {name}, not a number of GPUs: answer how many (1, 2, 8); "
            "the GPU is the question before this one"
        )
        if asked
        else N_(
            "--gpus {gpus}: that is the model number of {name}, not a number of GPUs: give the card "
            "with --gpu {id} and how many with --gpus N"
        )
    )
    raise UsageError(t(said, gpus=gpus, name=card.name, id=card.id))


def mac_memory_for(catalog: Catalog, usable_gib: int) -> float | None:
    """The least unified memory a Mac is sold with whose GPU share (Metal's default working set)
    holds `usable_gib`; None past the largest."""
    sizes = sorted({size for g in catalog.gpus.values() if g.unified for size in g.memory_sizes_gb})
    return next((s for s in sizes if s * metal_share(catalog, s) >= usable_gib), None)


def on_a_mac(catalog: Catalog, change: Change) -> Change:
    """A larger GPU, said of a Mac: the least unified memory a Mac is sold with that holds the plan
    (a Mac owner told 'gpu_memory = 22' was told of a size no Mac has); else unchanged."""
    mac = mac_memory_for(catalog, int(change.value)) if change.change == "gpu_memory" else None
    return change if mac is None else Change("mac_memory", round(mac), change.per_gpu_gb)


# Metal's default working set on the Macs of up to 32 GB measured in data/gpus.yaml: two thirds.
UNMEASURED_METAL_SHARE = 2 / 3


def metal_share(catalog: Catalog, memory_gib: float) -> float:
    """The share of a Mac's unified memory the GPU may use by default (Metal's
    recommendedMaxWorkingSetSize): the share the catalog records for the Apple machine of the
    nearest size (the smaller share on a tie) - two thirds up to 32 GB, three quarters from 36 GB,
    as measured (data/gpus.yaml). Only measured shares count: a Mac without one (the 512 GB M3
    Ultra) takes its nearest measured neighbour's, not all of its memory."""
    macs = [g for g in catalog.gpus.values() if g.unified and g.reported_memory_mib is not None]
    if not macs:  # a knowledge base that measured none: the smaller of the shares measured here
        return UNMEASURED_METAL_SHARE
    nearest = min(macs, key=lambda g: (abs(g.memory_gib - memory_gib), g.usable_gib / g.memory_gib))
    return nearest.usable_gib / nearest.memory_gib


def usable_gib(catalog: Catalog, gpu: Gpu, memory_gib: float | None = None) -> float:
    """What a program may allocate on the catalog's GPU: a Mac's Metal share of its memory (the
    `memory_gib` it was bought with, else the entry's), else what the driver reports
    (Gpu.usable_gib). A card's memory said again ("4090 24gb" with --vram 24) is no Mac's: it was
    given the Metal share, 16 of its 24 GiB."""
    if not gpu.unified:
        return gpu.usable_gib
    memory = gpu.memory_gib if memory_gib is None else memory_gib
    return memory * metal_share(catalog, memory)


def device_of(catalog: Catalog, gpu: Gpu, gpus: int) -> Device | None:
    """What the time model needs of a GPU; None without a published peak (Apple, A10G)."""
    if gpu.tflops_bf16 is None or gpu.memory_bandwidth_gbs is None:
        return None
    matmul = gpu.tflops_bf16_measured
    if gpu.matmul_share_from is not None:  # validated: a card with a measured rate
        like = catalog.gpus[gpu.matmul_share_from]
        matmul = gpu.tflops_bf16 * (like.tflops_bf16_measured or 0.0) / (like.tflops_bf16 or 1.0)
    link = gpu.interconnect
    gen = ASSUMED_PCIE_GEN if link is None or link.pcie_gen is None else link.pcie_gen
    lanes = 16 if link is None else link.pcie_lanes
    pcie = PCIE_X16_GBS[gen] * lanes / 16
    host = pcie if link is None or link.host_gbs is None else link.host_gbs
    # Collectives over PCIe go through the host on GeForce cards, which have no peer-to-peer.
    through_pcie = t("PCIe {gen}.0 x{lanes}", gen=gen, lanes=lanes)
    if link is not None and link.bridged is not None and gpus > link.bridged:
        # An NVLink bridge joins a few PCIe cards; a ring over more GPUs crosses PCIe.
        over = pcie
        detail = t("{pcie} (NVLink bridges join {count} GPUs only)", pcie=through_pcie, count=link.bridged)
    elif link is not None and link.gbs is not None:
        over, detail = link.gbs / 2, link.detail or link.kind
    else:
        over, detail = pcie, through_pcie
    return Device(
        gpu.tflops_bf16,
        gpu.memory_bandwidth_gbs,
        over,
        detail,
        matmul,
        gpu.architecture,
        host,
        gpu.tflops_fp32,
        _network_gbs(gpu),
        gpu.mfu_vs_a100,
        gpu.desktop,
    )


def _network_gbs(gpu: Gpu) -> float:
    """Between nodes, per GPU, one way: the catalog's figure, else a DGX's InfiniBand for a data
    centre card, 100 Gb Ethernet per node for a desktop one."""
    link = gpu.interconnect
    if link is not None and link.network_gbs is not None:
        return link.network_gbs
    return DESKTOP_INTER_NODE_GBS if gpu.desktop else INTER_NODE_GBS


def gpu_link(gpu: Gpu, gpus: int) -> str | None:
    """How `gpus` of this GPU exchange data within a node, as the time model times it: nvlink where
    the catalog gives the link's bandwidth (and its bridges join that many), else pcie; None for one."""
    if gpus < 2 or gpu.unified:
        return None
    link = gpu.interconnect
    fast = link is not None and link.gbs is not None and (link.bridged is None or gpus <= link.bridged)
    return "nvlink" if fast else "pcie"


def fsdp_qlora_layer(catalog: Catalog, model: LlmModel) -> str | None:
    """The decoder layer FSDP wraps when the model's 4-bit base loads shard by shard (families.yaml
    fsdp_qlora_layer, looked up by the model_type the trainers see); None: no loader documents it."""
    family = catalog.model_families.get(model.checkpoint_type)
    return None if family is None else family.fsdp_qlora_layer


def unsloth_fast_lora(catalog: Catalog, model: LlmModel) -> bool:
    """Whether Unsloth's FastLanguageModel patches the model's LoRA layers with its fused kernels
    (families.yaml unsloth_fast_lora), looked up by the model_type it dispatches on: a
    vision-language wrapper's loads through FastModel."""
    family = catalog.model_families.get(model.checkpoint_type)
    return family is not None and family.unsloth_fast_lora


def peft_remaps_experts(catalog: Catalog, model: LlmModel) -> bool:
    """Whether PEFT turns "all-linear" into the model's routed experts (families.yaml
    peft_remaps_experts), looked up by the model_type PEFT reads, its wrapper's where it has one
    (peft utils/transformers_weight_conversion.py reads model.config.model_type)."""
    family = catalog.model_families.get(model.checkpoint_type) or catalog.model_families.get(model.family)
    return family is not None and family.peft_remaps_experts


def resolve_model(
    catalog: Catalog, model: str | None, size_b: float | None, *, api: bool = False
) -> ModelInfo:
    """The model a profile names: found by core/models.find_model (path, catalog, HF cache, Hub),
    or a bare size. A model used through an API is only named: it needs no shape."""
    if model is not None and api:
        if size_b is not None:  # a hosted model has no size of ours to check it against
            raise UsageError(t("--model and --model-size are alternatives: give one"))
        tuning = catalog.api_tuning(model)
        # A model a known provider serves (gpt-, gemini-, claude-, ...) is a post-trained chat
        # model: its tuning APIs (OpenAI's DPO, Vertex's preference tuning) start from it.
        instruct = looks_instruct(model) or tuning is not None
        variant: ModelVariant | None = "instruct" if instruct else None
        status, services, provider = (None, None, None) if tuning is None else tuning
        open_weights = None if tuning is not None else catalog.model_or_none(model) is not None
        return ModelInfo(
            None,
            model,
            None,
            None,
            "api",
            variant=variant,
            given=model,
            api_tuning=status,
            api_services=services,
            api_provider=provider,
            api_open_weights=open_weights,
        )
    if api and size_b is None:
        # A hosted model nobody named: no size to assume, and no layers for a rule to read (a
        # Llama-shaped 7B would say it has no biases for BitFit, a method an API rules out anyway).
        return ModelInfo(None, t("a hosted model"), None, None, "api")
    if model is not None:
        found = _open_model(catalog, model)
        m = found.model
        _check_size(model, size_b, shape_of(m).params)
        return ModelInfo(
            m.id if found.kind == "catalog" else None,
            m.name,
            shape_of(m),
            None,
            found.kind,
            where=found.where,
            repo=found.repo,
            loads_elsewhere=found.loads_elsewhere,
            variant=found.variant,
            spec=m,
            given=model,
            notes=_with_vision(found.notes, m),
            warnings=found.warnings,
            fsdp_qlora_layer=fsdp_qlora_layer(catalog, m),
            peft_remaps_experts=peft_remaps_experts(catalog, m),
            unsloth_fast_lora=unsloth_fast_lora(catalog, m),
        )
    bare = bare_model((size_b if size_b is not None else DEFAULT_MODEL_SIZE_B) * 1e9)
    return ModelInfo(None, bare.name, shape_of(bare), describe(bare), "bare size", bare.source, spec=bare)


def _check_size(model: str, size_b: float | None, params: float) -> None:
    """--model-size beside --model: the model's own size, as a document's `profile` echoes it (so
    that the echo is fed back as a batch line: a newcomer's review), else refused."""
    if size_b is not None and billions(params) != size_b:
        raise UsageError(
            t(
                "--model and --model-size are alternatives: give one ({model} has {size:g}B parameters, "
                "not {given:g}B)",
                model=model,
                size=billions(params),
                given=size_b,
            )
        )


def _open_model(catalog: Catalog, model: str) -> FoundModel:
    """find_model, where a name only a provider's API serves ("gpt-4o", "gemini") is told apart
    from a typo: the catalog's nearest names (gpt2 for gpt-4o) would mislead a newcomer."""
    try:
        return find_model(catalog, model)
    except UnknownName:
        hosted = catalog.api_tuning(model)
        # A family the catalog holds open weights of ("gpt-oss", "mistral") is a name to complete,
        # not an API model (an attacker's review): its did-you-mean names them.
        stem = re.sub(r"[\s_]+", "-", model.strip().casefold())
        if hosted is None or any(name.startswith(stem) for name in catalog.models):
            raise
        raise UsageError(
            t(
                "'{model}' names a model served only through {provider}: without its weights nothing "
                "here can be sized or trained. Use `ft-atlas recommend --model-access api --model {model}` "
                "for prompting, retrieval and the provider's own tuning; with the weights of an open model, "
                "give its catalog id (ft-atlas models), Hub id or config.json.",
                model=model,
                provider=hosted.provider,
            )
        ) from None


def _with_vision(notes: tuple[str, ...], model: LlmModel) -> tuple[str, ...]:
    """A catalog entry's vision tower said as a config's is (hfconfig: read from its config, the
    note is there already)."""
    said = t(VISION_TEXT_ONLY, params=model.vision_params_b or 0.0)
    if not model.vision_params_b or said in notes:
        return notes
    return (*notes, said)


def choose_precision(
    requested: str | None, hardware: Hardware, fp16_overflows: bool = False, stack: str = "trl"
) -> tuple[str, str | None]:
    """bf16 where the GPU supports it, else fp16 (V100/T4 have no bf16), with a warning; fp32 for
    a model whose activations overflow fp16 (Gemma 3, T5) on such a GPU, or asked for in fp16
    under Unsloth, which then trains it in fp32 itself (UNSLOTH_FORCE_FLOAT32); fp32 without a
    GPU, as the recipes then train."""
    if not hardware.has_gpu:
        return "fp32", None if requested in (None, "fp32") else t(
            "--precision {precision}: without a GPU the recipes train in fp32 (mixed precision needs a "
            "GPU there); sized in fp32",
            precision=requested,
        )
    fallback = "fp32" if fp16_overflows else "fp16"
    if requested is None:
        return ("bf16", None) if hardware.bf16 else (fallback, None)
    if PRECISIONS[requested].needs_bf16 and not hardware.bf16:
        return fallback, t(
            "{precision}: this GPU has no tensor cores for it (Ampere and newer have them); PyTorch "
            "emulates it here, several times slower, and TRL's configs turn bf16 on unless fp16=True "
            "is set; using {fallback}",
            precision=requested,
            fallback=fallback,
        )
    if requested == "fp16" and fp16_overflows and stack == "unsloth":
        # unslothai/unsloth@015bdef models/loader.py: a FORCE_FLOAT32 model type asked for in
        # float16, or on a GPU without bf16, sets UNSLOTH_FORCE_FLOAT32=1.
        return "fp32", t(
            "--precision fp16: Unsloth trains this model in fp32 when asked for fp16 (its activations "
            "overflow fp16: UNSLOTH_FORCE_FLOAT32); sized in fp32"
        )
    if requested == "fp16" and fp16_overflows:
        return requested, t(
            "--precision fp16: this model's activations overflow fp16 (Gemma 3, T5: losses and gradients "
            "turn to inf or NaN); train in fp32, as Unsloth does by itself, or on a GPU with bf16"
        )
    return requested, None


def strategy_warnings(e: Estimate) -> list[str]:
    """What the multi-GPU strategy the estimate settled on means: a quantized base loads whole
    onto every GPU before ZeRO-3 shards it, a sharded mixture of experts gathers every expert, and
    for sampling, under ZeRO-3 TRL gathers the whole policy onto every GPU to generate (all
    counted by the estimate). Serving has no training strategy: nothing to say."""
    if e.memory_model == "inference":
        return []
    return _loading_warnings(e) + _expert_warnings(e) + _sampling_warnings(e) + _paging_warnings(e)


def _paging_warnings(e: Estimate) -> list[str]:
    """A paged optimizer whose states do not all fit: slower, not out of memory."""
    if not e.host["paged_gb"]:
        return []
    return [
        t(
            "{optimizer}: {gb:.2f} GB of its states do not fit beside the rest and page to CPU RAM "
            "(CUDA unified memory), in and out over PCIe at every optimizer step: slower, not out of "
            "memory (counted in time)",
            optimizer=OPTIMIZERS[e.settings.optimizer].label,
            gb=e.host["paged_gb"],
        )
    ]


def _expert_warnings(e: Estimate) -> list[str]:
    """Expert parallelism, which keeps each GPU's experts in place, is not modelled: say so where
    ZeRO-3/FSDP is timed gathering them all. Unsloth's 4-bit experts need a recent release."""
    s = e.settings
    if s.stack == "unsloth" and plan_experts_quantized(e):
        # Unsloth 2026.4's Gemma-4-26B-A4B notebook still held its fused experts in bf16 (48.99 GB
        # peak, unslothai/notebooks@bdda2efc; unsloth#5344): an expert's review.
        return [
            t(
                "Routed experts sized 4-bit, as Unsloth loads them from its 2026.6 releases "
                "(unsloth#4032); earlier ones left the fused experts 16-bit (estimate --no-quantize-experts "
                "sizes that, as --stack trl does)"
            )
        ]
    if not e.shape.is_moe or s.gpus < 2 or resolved_sharding(s, e.memory_model) != "zero3":
        return []
    return [
        t(
            "A mixture of experts under ZeRO-3/FSDP: every GPU gathers each layer's experts in every "
            "pass (counted in time and memory). Expert parallelism, not modelled here, keeps each GPU's "
            "experts in place: with fused kernels it runs several times faster on many GPUs (NeMo "
            "AutoModel with DeepEP: Qwen3-30B-A3B full fine-tuning at 12,040 tokens/s per H100 on 8), "
            "while TRL's (transformers' DistributedConfig enable_expert_parallel) shares one batch "
            "across the expert-parallel group and reports ~5 % MFU at 3.35B active parameters, "
            "about what is timed here"
        )
    ]


def _loading_warnings(e: Estimate) -> list[str]:
    whole = frozen_base_bytes(e.memory_model, e.shape, e.settings) / 1e9
    if e.settings.sharded_loading:
        return [
            t(
                "QLoRA fits here only loaded shard by shard under FSDP, as axolotl's "
                "qlora_sharded_model_loading (FSDP1, with cpu_ram_efficient_loading; ft-atlas's axolotl "
                "recipes write it for Llama and Mistral models) and Answer.AI's fsdp_qlora train.py "
                "(2024: Llama and Mistral layers) load it: transformers loads a bitsandbytes model whole "
                "onto each GPU first ({gb:.1f} GB), under DeepSpeed ZeRO-3 and FSDP alike",
                gb=whole,
            )
        ]
    if not loads_whole_base(e.memory_model, e.settings):
        return []
    said = [
        t(
            "QLoRA under ZeRO-3: transformers loads a bitsandbytes model whole onto every GPU before "
            "DeepSpeed shards it, so each GPU holds the whole quantized base ({gb:.1f} GB) while loading "
            "(counted here); torchtune loads it shard by shard (its Llama-3.1-405B QLoRA on 8 A100 80GB "
            "peaked at 44.8 GB per GPU)",
            gb=whole,
        )
    ]
    ram = e.settings.host_ram_gb
    load = shard_by_shard_load_bytes(e.memory_model, e.shape, e.settings) / 1e9
    if ram is not None and load > ram and not e.shape.is_moe:
        said.append(
            t(
                "Loaded shard by shard under FSDP instead, the 4-bit base would hold {gb:.1f} GB in CPU "
                "RAM first (the quantized base and a checkpoint file per process), more than the {ram:g} "
                "GB --ram gives",
                gb=load,
                ram=ram,
            )
        )
    return said


def _sampling_warnings(e: Estimate) -> list[str]:
    s = e.settings
    if not s.objective.online:
        return []
    can_vllm = s.objective.training.vllm
    name = s.objective.id.upper()
    said = []
    if s.vllm and not can_vllm:
        said.append(
            t(
                "--vllm: TRL's {objective} samples with transformers' generate, not vLLM: estimated "
                "without it",
                objective=name,
            )
        )
    elif s.vllm and not served_by_vllm(e.memory_model, s):
        said.append(
            t(
                '--vllm: vLLM cannot load an 8-bit bitsandbytes base (TRL raises "vLLM does not support '
                "in-flight 8-bit quantization\"): estimated with transformers' generate; 4-bit QLoRA samples "
                "with vLLM"
            )
        )
    if s.sharding != "zero3" or served_by_vllm(e.memory_model, s):
        return said
    gathers = (
        "{objective} under ZeRO-3 samples with the whole model: TRL gathers it onto every GPU first "
        "({config} ds3_gather_for_generation, True by default; counted here); setting it to False "
        "samples layer by layer, slower, and --vllm samples with vLLM"
        if can_vllm
        else "{objective} under ZeRO-3 samples with the whole model: TRL gathers it onto every GPU first "
        "({config} ds3_gather_for_generation, True by default; counted here); setting it to False "
        "samples layer by layer, slower"
    )
    config = s.objective.training.config or t("its config")
    return [*said, t(gathers, objective=name, config=config)]


def check_vllm_server(info: ModelInfo, server: int) -> None:
    """A vLLM server splits the attention heads evenly over its tensor-parallel GPUs."""
    shape = info.sized
    if shape.heads and not shape.splits_heads(server):
        raise UsageError(
            t(
                "--vllm-server-gpus {server}: vLLM splits the attention heads evenly over its "
                "tensor-parallel GPUs, and {model}'s {heads} query and {kv} key/value heads do not "
                "split over {server}",
                server=server,
                model=info.label,
                heads=shape.heads,
                kv=shape.kv_heads or shape.heads,
            )
        )


def run_server_gpus(profile: Profile, stages: tuple[Objective, ...]) -> int:
    """The GPUs a vLLM server takes from a run (--vllm-server-gpus): where a stage samples with
    vLLM, for every stage (one launch runs them all, on the GPUs the server leaves)."""
    if profile.vllm_server_gpus is None or not any(o.online and o.training.vllm for o in stages):
        return 0
    return profile.vllm_server_gpus


def with_attention(
    info: ModelInfo, settings: EstimateSettings, attention: str
) -> tuple[ModelInfo, EstimateSettings]:
    """The model and settings as `attention` (kb.vocabulary.ATTENTIONS) runs them. eager: every
    query head holds its s x s matrix, as in a family without an SDPA kernel (Shape.eager_heads),
    whatever the family (an accuracy review: LLaMA-Factory's wiki ran "Hugging Face" with eager
    attention, 1.36x faster estimated as a kernel); kernel: no matrix whatever the stack loads. A
    model with a shape has its spec (a catalog entry, a config.json or a bare size's template)."""
    if attention == "auto":
        return info, settings
    settings = settings._replace(attention_kernel=attention == "kernel")
    if attention == "eager" and info.shape is not None and info.spec is not None:
        info = info._replace(shape=replace(info.shape, eager_heads=info.spec.attention_heads))
    return info, settings


def idle_options(profile: Profile, shape: Shape | None, stages: tuple[Objective, ...]) -> list[str]:
    """Profile options that change nothing for these stages or this model: said, not dropped
    (an online stage that cannot use vLLM says so itself: _sampling_warnings)."""
    idle = []
    if profile.vllm and not any(o.online for o in stages):
        flag = "--vllm-server-gpus" if profile.vllm_server else "--vllm"
        idle.append(
            t("{flag}: nothing here samples completions with vLLM (GRPO and RLOO do): ignored", flag=flag)
        )
    groups = any(o.samples_groups for o in stages)
    for flag, given in (
        ("--num-generations", profile.num_generations),
        ("--generation-batch", profile.generation_batch),
    ):
        if given is not None and not groups:
            idle.append(
                t("{flag}: nothing here samples groups of completions (GRPO and RLOO do): ignored", flag=flag)
            )
    idle += _rounded_generation_batch(profile, stages)
    if profile.sft_data == "yes" and any(o.id == "continued-pretraining" for o in stages):
        # An expert's review: the flag was dropped without a word, leaving a model that continues text.
        idle.append(
            t(
                "--sft-data yes: continued pre-training leaves a model that continues text; train SFT on "
                "your demonstrations after it, as a recipe of its own (--data-kind demonstrations, --model "
                "the model it leaves, an adapter merged into it first)"
            )
        )
    if profile.lora_experts and shape is not None and not shape.is_moe:
        idle.append(t("--lora-experts: this model has no routed experts (a dense model): ignored"))
    if profile.activation_offloading and not all(o.training.activation_offloading for o in stages):
        idle.append(
            t(
                "--activation-offloading: the trainer of {stages} has no such option (TRL's "
                "activation_offloading): those stages keep their activations on the GPU",
                stages=", ".join(o.id for o in stages if not o.training.activation_offloading),
            )
        )
    return idle


def _rounded_generation_batch(profile: Profile, stages: tuple[Objective, ...]) -> list[str]:
    """--generation-batch as TRL would refuse it: said with the batch it is rounded up to."""
    given = profile.generation_batch
    notes = []
    for objective in (o for o in stages if o.samples_groups and given is not None):
        sampled = profile.sampling.apply(objective)
        gpus = profile.gpus - run_server_gpus(profile, stages)  # a vLLM server's GPUs do not train
        used = generation_per_gpu(sampled, gpus, profile.micro_batch) * gpus
        if used != given:
            notes.append(
                t(
                    "--generation-batch {given}: {objective} samples {used} at once, the least TRL accepts "
                    "from it (whole groups of {generations} completions, and whole micro-batches of "
                    "{batch} on each of {gpus} GPU(s))",
                    given=given,
                    objective=objective.id,
                    used=used,
                    generations=sampled.samples_per_prompt,
                    batch=profile.micro_batch,
                    gpus=gpus,
                )
            )
    return notes


def usual_seq_len(info: ModelInfo, objective: Objective) -> int:
    """Online objectives: ModelInfo.online_seq_len; else the model's usual length."""
    if objective.online:
        return info.online_seq_len
    return default_seq_len(info.sized, info.context_length)


def served_seq_len(info: ModelInfo, seq_len: int) -> int:
    """The prompt a no-training plan serves (served_prompt); an encoder's own length."""
    if info.sized.architecture != "decoder":
        return seq_len
    return served_prompt(seq_len, info.context_length)


def served_prompt(seq_len: int, window: int | None) -> int:
    """A decoder's served prompt: at least PROMPT_CONTEXT, room for a few dozen short examples or
    several passages (--seq-len is one training example's length, which a few-shot prompt holds
    many of), within the model's window."""
    served = max(seq_len, PROMPT_CONTEXT)
    return min(served, window) if window else served


def settings_for(
    info: ModelInfo,
    hardware: Hardware,
    *,
    objective: Objective,
    seq_len: int | None = None,
    batch_size: int = 1,
    precision: str | None = None,
    optimizer: str = "adamw",
    gradient_checkpointing: bool | None = None,
    lora_rank: int = DEFAULT_LORA_RANK,
    quant_bits: int | None = None,
    stack: str = "hf",
    offload: str = "none",
    lora_targets: str = "all-linear",
    lora_experts: bool = False,
    vllm: bool = False,
    vllm_server_gpus: int = 0,
    activation_offloading: bool = False,
    classifier_head: bool = False,
    host_ram_gb: float | None = None,
) -> tuple[EstimateSettings, list[str]]:
    """Fill every unset option with the documented default; return settings and warnings. The
    multi-GPU strategy is chosen later (memory.search.with_strategy), or given with `sharding`.
    `vllm_server_gpus` of the hardware's GPUs run a vLLM server, not training: the caller passes
    them for a run whose online stages sample with vLLM (run_server_gpus)."""
    # Unsloth trains these models in fp32 on a GPU without bf16 too (UNSLOTH_FORCE_FLOAT32), as its
    # measured gpt-oss-20b run on a T4 did ('Switching to float32 training', benchmarks/measured.py).
    chosen, warning = choose_precision(precision, hardware, info.sized.fp16_overflows, stack)
    warnings = [warning] if warning else []
    if quant_bits is None:
        # A checkpoint stored by bitsandbytes in 8 bits loads as it is stored: QLoRA's base is 8-bit.
        quant_bits = STORED_BITS.get(info.weights_dtype or "", 4)
    if quant_bits not in (4, 8):
        raise UsageError(t("--quant-bits: must be 4 or 8"))
    least, why = objective.training.min_batch, objective.training.min_batch_why
    if batch_size < least:
        warnings.append(
            t(
                "{objective} needs a per-device batch of at least {batch} ({why}): estimated at batch "
                "{batch}",
                objective=objective.id.upper(),
                batch=least,
                why=t("its trainer refuses fewer") if why is None else why.get(),
            )
        )
        batch_size = least
    length = seq_len if seq_len is not None else usual_seq_len(info, objective)
    if lora_targets == "all-linear" and info.peft_remaps_experts and stack != "mlx":
        # As the recipes write it (recipes/settings.py _attention_of_a_mixture): all-linear would
        # adapt the routed experts and router, ~75x the adapter, through PEFT's remapping.
        lora_targets = "attention"
    settings = EstimateSettings(
        objective=objective,
        seq_len=length,
        prompt_len=served_seq_len(info, length),
        batch_size=batch_size,
        precision=chosen,
        optimizer=optimizer,
        gradient_checkpointing=(
            default_checkpointing(info.sized) if gradient_checkpointing is None else gradient_checkpointing
        ),
        lora_rank=lora_rank,
        quant_bits=4 if quant_bits == 4 else 8,
        gpus=hardware.gpus,
        capacity_gb=hardware.capacity_gb,
        stack=stack,
        offload=offload,
        lora_targets=lora_targets,
        # mlx-lm's LoRA adapts a mixture of experts' SwitchLinear experts too (LoRASwitchLinear), as
        # its recipe writes it (recipes/formats/mlx.py).
        lora_experts=lora_experts or (stack == "mlx" and info.sized.is_moe),
        vllm=vllm,
        vllm_server_gpus=vllm_server_gpus,
        activation_offloading=activation_offloading,
        classifier_head=classifier_head and stack not in NO_CLASSIFIER_STACKS,
        # LLaMA-Factory and axolotl load transformers' default attention; the Python recipes load
        # flex attention, which Apple's MPS does not run (recipes/settings.py).
        attention_kernel=stack not in EAGER_STACKS and hardware.vendor != "apple",
        unified_memory=hardware.unified,
        on_cpu=not hardware.has_gpu,
        host_ram_gb=host_ram_gb,
        unsloth_fast_lora=info.unsloth_fast_lora,
    )
    if vllm_server_gpus:
        check_server_stack(stack)
        check_vllm_server(info, vllm_server_gpus)
        settings = settings._replace(gpus=hardware.gpus - vllm_server_gpus)
    if (
        activation_offloading
        and objective.training.activation_offloading
        and not offloads_activations(settings)
    ):
        warnings.append(
            t(
                "--activation-offloading: ignored here: it moves gradient checkpointing's checkpoints, "
                "which is off, or the stack offloads its own (Unsloth) or has no such switch (mlx-lm)"
            )
        )
    return settings, warnings
