"""The closed sets of names that the knowledge base, the profile and the estimator share, each
defined once: method kinds, the estimator's memory models, precisions, optimizers, the answers a
profile takes (goals, data kinds, priorities, model access), and the words for "no GPU" and
yes/no. Everything else (flags, questions, JSON Schemas, fact types, CLI choices) is derived.
"""

from __future__ import annotations

import re
from typing import Final, Literal, NamedTuple, get_args

from atlas_cli.i18n import LANGS, N_, Lang

KB_SCHEMA_VERSION: Final = 1  # the knowledge base's own format
OUTPUT_SCHEMA_VERSION: Final = 2  # every JSON document ft-atlas prints (docs/json.md)
MAX_TOP: Final = 100  # the most plans `recommend --top` shows
DEFAULT_TOP: Final = 5  # the plans it shows unless --top says otherwise
# The longest name, path or answer a profile takes: a path is at most PATH_MAX (4,096 bytes on
# Linux); an API model's name of 100,000 characters was repeated into 307 KB of output, and a
# 2 MB piped answer echoed whole (an attacker's review).
MAX_NAME_CHARS: Final = 4096

__all__ = ["LANGS", "Lang"]  # the output languages, defined with the catalog in i18n.py

# How a checkpoint stores its weights: a float type, or a pre-quantized format.
WeightsDtype = Literal["fp32", "bf16", "fp16", "fp8", "mxfp4", "int8", "int4"]
# Checkpoints stored in a quantization of their own (gpt-oss's MXFP4, DeepSeek-V3's FP8):
# transformers loads them with their quantization_config and refuses a second one of another
# kind (AutoHfQuantizer.merge_quantization_configs), so QLoRA cannot quantize them with
# bitsandbytes; to train in 16 bit they load through the config of their own kind with
# dequantize=True (OpenAI's gpt-oss guide; LLaMA-Factory's model_utils/quantization.py does the
# same for both). A bitsandbytes checkpoint (int4/int8) is QLoRA's usual input and loads as it is.
PREQUANTIZED: dict[WeightsDtype, str] = {"mxfp4": "Mxfp4Config", "fp8": "FineGrainedFP8Config"}
# Checkpoints stored in integers (GPTQ, AWQ, bitsandbytes), by their bits: QLoRA's base as stored.
STORED_BITS: dict[str, int] = {"int4": 4, "int8": 8}
# Every way a checkpoint is stored quantized: it loads by its own quantization config.
STORED_QUANTIZED: Final = frozenset(STORED_BITS) | frozenset(PREQUANTIZED)
MethodKind = Literal["parameterization", "objective", "no-training"]
METHOD_KINDS: Final[tuple[MethodKind, ...]] = get_args(MethodKind)

# Where a method runs: on the user's own GPUs (or CPU), or as a provider's hosted service (a
# tuning or embedding API): a hosted method needs no local memory and sends the data away.
Runs = Literal["local", "hosted"]

# What a provider's hosted service does with your data.
HostedService = Literal["supervised", "preference", "reinforcement", "continued-pretraining", "embeddings"]
HostedStatus = Literal["available", "closing", "closed"]
# ... in words, as cards show them (translated there)
HOSTED_SERVICE_WORDS: Final[dict[HostedService, str]] = {
    "supervised": N_("supervised"),
    "preference": N_("preference"),
    "reinforcement": N_("reinforcement"),
    "continued-pretraining": N_("continued pre-training"),
    "embeddings": N_("embeddings"),
}
HOSTED_STATUS_WORDS: Final[dict[HostedStatus, str]] = {  # an available offer says nothing
    "closing": N_("CLOSING"),
    "closed": N_("CLOSED"),
}

# The objectives a training plan runs when no pipeline rule matches the profile: the KB must
# define them (validate checks it).
DEFAULT_PIPELINE: Final[tuple[str, ...]] = ("sft",)
# The objectives that learn from given text by next-token loss (no pairs, no sampling): their
# learning rate is a method's own, and the loaders that document FSDP-QLoRA train them.
SUPERVISED_STAGES: Final[tuple[str, ...]] = ("sft", "continued-pretraining")
# A sequence classifier trains by supervised fine-tuning alone (core.profile.trains_classifier).
CLASSIFIER_PIPELINE: Final[tuple[str, ...]] = ("sft",)

# "24GB", "48 GB", "80gib", "24 ГБ": a GPU named by its memory (GB as advertised, as --vram takes
# it): --gpu reads such a value as the memory, so no GPU can be named so (validate checks).
# Russian writes "8 ГБ", "8 гигов" or "8 гигабайт"; the alternatives are tried longest first.
RUSSIAN_GB: Final = r"(?:гигабайт(?:а|ов)?|гиг(?:а|ов)?|гб)"
RUSSIAN_GB_WORDS: Final = rf"(?:гиб|{RUSSIAN_GB}|г)"  # and ГиБ, and a bare г
# "24 gigs", "24 gigabytes": a newcomer's words, refused in English where "24 гига" was read.
GB_WORDS: Final = rf"(?:gb|gib|gigs?|gigabytes?|g|{RUSSIAN_GB_WORDS})"
# MiB, as nvidia-smi prints a card's memory ("24564MiB"): a newcomer pasted it (a review).
MIB_WORDS: Final = r"(?:mib|миб)"
# One way to split the digits only (no nested repetition): linear on a long string of digits.
# "24GB VRAM", "24 gb of vram": what the memory is may follow it.
OF_VIDEO_MEMORY: Final = r"(?:\s+(?:of\s+)?(?:vram|video\s+memory|gpu\s+memory|видеопамяти))?"
GPU_MEMORY: Final = re.compile(
    rf"^\s*([0-9]+(?:[.,][0-9]+)?|[.,][0-9]+)\s*({GB_WORDS}|{MIB_WORDS}){OF_VIDEO_MEMORY}\s*$", re.IGNORECASE
)

# A Hugging Face Hub repository id: owner/name of letters, digits, '-', '_' and '.'.
HUB_ID_PATTERN: Final = r"^[A-Za-z0-9][\w.\-]{0,95}/[A-Za-z0-9][\w.\-]{0,95}$"

# A model as published: base (pre-trained only), or post-trained to follow instructions.
ModelVariant = Literal["base", "instruct"]
MODEL_VARIANTS: Final[tuple[ModelVariant, ...]] = get_args(ModelVariant)

# --- the estimator's memory models ------------------------------------------------------------

Family = Literal["weights", "lora", "adalora", "ia3", "prompt", "bottleneck", "none"]


class MemoryModelInfo(NamedTuple):
    """What the estimator and the recipes need to know about one way of training."""

    family: Family  # how a recipe trains it
    frozen_base: bool  # the base stays frozen: its adapter-disabled self is the reference model
    subset: bool = False  # trains a subset of the model's own weights (no second copy)
    quantized_base: bool = False  # the frozen base is stored in 4 or 8 bits
    # Runs with plain data parallel only: GaLore's projected optimizer needs each weight's whole
    # gradient (LLaMA-Factory refuses it with DeepSpeed: "GaLore and APOLLO are incompatible with
    # DeepSpeed yet"; galore-torch documents DDP only).
    data_parallel_only: bool = False
    # PEFT refuses gradient checkpointing with prefix tuning (and through TRL the attention mask
    # misses the prefix): such a way of training is sized, and written, without it.
    checkpointing: bool = True
    # Its virtual tokens join every sequence as input embeddings (PEFT's prompt tuning and
    # P-tuning: peft_model.py concatenates them to inputs_embeds), so every layer's activations
    # grow with them; prefix tuning passes them as past keys and values only.
    prepends_tokens: bool = False
    # Unsloth trains it (FastLanguageModel.get_peft_model builds a LoraConfig, DoRA through use_dora;
    # full_finetuning=True; GaLore is a transformers optimizer): --stack unsloth may be suggested.
    # The rule unsloth-trains-lora-and-full-weights leaves the others out under that stack.
    on_unsloth: bool = False

    @property
    def low_rank(self) -> bool:
        """Low-rank adapters on linear layers (LoRA, QLoRA, DoRA, AdaLoRA): a rank, a dropout, and
        modules PEFT wraps."""
        return self.family in ("lora", "adalora")


# Each name is one way of training that the memory estimator (core/memory/) sizes; a method in the
# KB names the one it follows.
MEMORY_MODELS: Final[dict[str, MemoryModelInfo]] = {
    "full": MemoryModelInfo("weights", frozen_base=False, on_unsloth=True),
    "galore": MemoryModelInfo("weights", frozen_base=False, data_parallel_only=True, on_unsloth=True),
    "partial": MemoryModelInfo("weights", frozen_base=False, subset=True),
    "bitfit": MemoryModelInfo("weights", frozen_base=False, subset=True),
    "adapters": MemoryModelInfo("bottleneck", frozen_base=True),
    "prefix": MemoryModelInfo("prompt", frozen_base=True, checkpointing=False),
    "prompt": MemoryModelInfo("prompt", frozen_base=True, prepends_tokens=True),
    "p-tuning": MemoryModelInfo("prompt", frozen_base=True, prepends_tokens=True),
    "lora": MemoryModelInfo("lora", frozen_base=True, on_unsloth=True),
    "qlora": MemoryModelInfo("lora", frozen_base=True, quantized_base=True, on_unsloth=True),
    "dora": MemoryModelInfo("lora", frozen_base=True, on_unsloth=True),
    "adalora": MemoryModelInfo("adalora", frozen_base=True),
    "ia3": MemoryModelInfo("ia3", frozen_base=True),
    "inference": MemoryModelInfo("none", frozen_base=True),
}

# --- precisions and optimizers ---------------------------------------------------------------------


class PrecisionInfo(NamedTuple):
    weight_bytes: float  # bytes per trained weight (and per gradient)
    master_copy: bool  # mixed precision keeps an fp32 master copy in the optimizer
    needs_bf16: bool  # refused on GPUs without bf16 (V100, T4)
    label: str
    torch_dtype: str  # the torch dtype the weights are served in (no-training plans' recipes)


PRECISIONS: Final[dict[str, PrecisionInfo]] = {
    "bf16": PrecisionInfo(2.0, True, True, "bf16 mixed precision (AMP)", "bfloat16"),
    "fp16": PrecisionInfo(2.0, True, False, "fp16 mixed precision (AMP)", "float16"),
    "fp32": PrecisionInfo(4.0, False, False, "fp32", "float32"),
    "pure-bf16": PrecisionInfo(2.0, False, True, "pure bf16 (no fp32 master copy)", "bfloat16"),
}


class OptimizerInfo(NamedTuple):
    state_bytes: float  # optimizer state per trainable parameter, without the master copy
    transformers_name: str  # TrainingArguments(optim=...)
    label: str
    full_precision_states: bool = True  # fp32 states (halved to bf16 under pure bf16)
    bitsandbytes: bool = False  # one of bitsandbytes' optimizers
    torchao: bool = False  # one of torchao's (transformers imports torchao to build it)
    # Runs on Apple silicon (MPS): bitsandbytes 0.50 has no 8-bit or paged optimizers there, and
    # torchao's low-bit optimizers need torch.compile and are "only tested on CPU and CUDA"
    # (torchao/optim/README.md).
    mps: bool = True
    optim_args: str = ""  # TrainingArguments(optim_args=...)
    # States in CUDA unified memory (bitsandbytes get_paged: cudaMallocManaged), which pages to
    # CPU RAM what does not fit instead of running out of memory.
    paged: bool = False
    # bitsandbytes' 32-bit optimizers keep fp32 states whatever the weights' dtype
    # (Optimizer2State.init_state: get_state_buffer(p, dtype=torch.float32)), not torch's bf16 ones.
    fp32_states_always: bool = False
    # torch.optim's foreach kernels: the step makes ~20 passes over parameter-sized tensors where
    # the fused kernel makes 7, and holds a copy of the second moment's square root
    # (_multi_tensor_adam: exp_avg_sq_sqrt = torch._foreach_sqrt(exp_avg_sqs)) at its peak.
    foreach: bool = False


# EleutherAI "Transformer Math 101": AdamW 8 (two fp32 moments), 8-bit AdamW 2, SGD with momentum 4.
OPTIMIZERS: Final[dict[str, OptimizerInfo]] = {
    # The fused kernel: transformers' default from torch 2.8, and what the time model assumes.
    "adamw": OptimizerInfo(8.0, "adamw_torch_fused", "AdamW"),
    # torch.optim.AdamW as constructed by default (foreach on CUDA): transformers' default optim
    # before torch 2.8 (training_args.py default_optim), torchtune's and torchtitan's configs.
    "adamw-foreach": OptimizerInfo(8.0, "adamw_torch", "AdamW (foreach)", foreach=True),
    "adamw-8bit": OptimizerInfo(
        2.0, "adamw_bnb_8bit", "8-bit AdamW", full_precision_states=False, bitsandbytes=True, mps=False
    ),
    "paged-adamw-8bit": OptimizerInfo(
        2.0,
        "paged_adamw_8bit",
        "paged 8-bit AdamW",
        full_precision_states=False,
        bitsandbytes=True,
        paged=True,
        mps=False,
    ),
    "paged-adamw-32bit": OptimizerInfo(
        8.0,
        "paged_adamw_32bit",
        "paged 32-bit AdamW",
        bitsandbytes=True,
        paged=True,
        fp32_states_always=True,
        mps=False,
    ),
    "sgd": OptimizerInfo(4.0, "sgd", "SGD with momentum"),
    # What pure bf16 needs: a bf16 weight of 0.02 moves in steps of 1.2e-4, so a plain AdamW update
    # of lr ~1e-5 mostly rounds away (Zamirai et al., arXiv 2010.06192). torchao's 8-bit AdamW
    # (transformers' optim="adamw_torch_8bit") rounds bf16 weights stochastically instead, so
    # updates survive on average, with no fp32 copy or compensation buffer.
    "adamw-8bit-sr": OptimizerInfo(
        2.0,
        "adamw_torch_8bit",
        "8-bit AdamW with bf16 stochastic rounding (torchao)",
        full_precision_states=False,
        optim_args="bf16_stochastic_round=True",
        mps=False,
        torchao=True,
    ),
}

# --- how training runs: software stack, multi-GPU strategy, CPU offload ---------------------------


class Choice(NamedTuple):
    value: str
    help: str  # English; shown translated (i18n.t)
    # Other names a flag, a batch key or an answer may use, whole or abbreviated: the Russian ones.
    aliases: tuple[str, ...] = ()
    # Everyday words `ask` finds within an answer in words ("a customer support chatbot"); never
    # abbreviated, and not read from flags, where a typo should be refused rather than guessed.
    words: tuple[str, ...] = ()
    # Words that settle an answer naming this choice and one other, by everyday words only, for
    # this one: a task said with the data it works on ("summarize documents" is a task, not
    # documents to answer from; "rag over documents with summaries" names knowledge itself).
    decisive: tuple[str, ...] = ()
    # Choices this one settles an answer with, when everyday words name just the two: a chatbot
    # over documents answers from them ("a chatbot on my company docs" is knowledge, not chat).
    over: tuple[str, ...] = ()


STACKS: Final = (
    Choice("hf", "transformers' own loss (plain Trainer, LLaMA-Factory, axolotl): full fp32 logits"),
    Choice("trl", "TRL 1.x trainers: a fused LM head, the logits are never materialised"),
    Choice("liger", "Liger kernels: fused linear cross-entropy, RMSNorm and SwiGLU"),
    Choice("unsloth", "Unsloth: chunked cross-entropy, checkpoints offloaded to the CPU"),
    Choice("mlx", "mlx-lm (Apple silicon): bf16 logits, their log-sum-exp and its gradient"),
)
# Unsloth runs outside DeepSpeed ("do not use deepspeed together with unsloth", hiyouga/LlamaFactory
# #3425; "Deepspeed is not yet supported", unslothai/unsloth#919): no ZeRO sharding or offload
# under it. On several GPUs it runs DDP, a whole model on each (loader_utils.prepare_device_map:
# device_map {"": local_rank}; unsloth-cli.py: ddp_find_unused_parameters=False); its main branch
# has no FSDP or ZeRO path (unslothai/unsloth@015bdef0).
NO_DEEPSPEED_STACKS: Final = frozenset({"unsloth"})
# Unsloth samples with its own vLLM on the training GPU (fast_inference), never with a server.
NO_VLLM_SERVER_STACKS: Final = frozenset({"unsloth"})
# Stacks that train language models only: no sequence-classifier head (mlx_lm.lora trains a
# causal LM; its recipes turn labels into answers to generate, recipes/settings.py
# LABELS_AS_ANSWERS), so labelled examples are sized and timed with the vocabulary's logits.
NO_CLASSIFIER_STACKS: Final = frozenset({"mlx"})
# The GPU vendors each stack runs on, where not every one: mlx-lm is Apple's (Metal); Liger's and
# Unsloth's kernels are Triton's, which has no Metal backend (triton-lang/triton: NVIDIA and AMD).
STACK_VENDORS: Final = {
    "mlx": frozenset({"apple"}),
    "liger": frozenset({"nvidia", "amd"}),
    "unsloth": frozenset({"nvidia", "amd"}),
}
# The optimizer a stack's own examples train with where it is not AdamW: Unsloth's notebooks set
# optim="adamw_8bit" (unslothai/notebooks nb/*.ipynb).
STACK_OPTIMIZERS: Final = {"unsloth": "adamw-8bit"}
SHARDINGS: Final = (
    Choice("ddp", "data parallel: every GPU holds the whole model and its states"),
    Choice("zero2", "ZeRO-2: gradients and optimizer states sharded"),
    Choice("zero3", "ZeRO-3 / FSDP: parameters sharded too (a 4-bit base as well)"),
)
OFFLOADS: Final = (
    Choice("none", "everything on the GPUs"),
    Choice("optimizer", "optimizer states (and fp32 gradients) in CPU RAM: ZeRO-Offload / FSDP"),
    Choice("params", "parameters too (ZeRO-3 / FSDP CPU offload): the GPUs hold one layer at a time"),
)
# How attention runs, as `estimate --attention` sets it: as the stack loads it (auto: a kernel, or
# eager for a family without SDPA on LLaMA-Factory's and axolotl's transformers), transformers'
# eager attention for every family (attn_implementation="eager": an s x s matrix per head), or a
# memory-efficient kernel whatever the stack's default (FlashAttention 3 from the kernels hub).
ATTENTIONS: Final = (
    Choice("auto", "as the stack loads it"),
    Choice("eager", "transformers' eager attention: an s x s matrix per head"),
    Choice(
        "kernel",
        "a memory-efficient kernel (SDPA, FlashAttention, flex)",
        # transformers' attn_implementation names, and what people call them
        ("sdpa", "flash", "flash_attention_2", "flash_attention_3", "fa2", "fa3", "flex_attention", "flex"),
    ),
)
# Which linear layers LoRA adapts: every one ('all-linear', PEFT's and TRL's recommendation), the
# attention projections, or only queries and values (PEFT's built-in default for Llama-style models).
LORA_TARGETS: Final = ("all-linear", "attention", "qv")
MAX_GENERATIONS: Final = 1024  # completions per prompt: far above any published run (GRPO: 8-64)
# Completions each GPU samples in one generation round unless --generation-batch says otherwise:
# TRL samples generation_batch_size = per_device_train_batch_size x GPUs x steps_per_generation
# (its gradient accumulation) at once, one optimizer step's worth
# (GRPOConfig.__post_init__, trl@f2cd577 grpo_config.py L1077-1079): ft-atlas's recipes write
# 1 x 16 per GPU, two prompts' groups of 8 (throughput.workload.global_batch).
GENERATION_BATCH: Final = 16
# The largest group an online objective's card samples by default (GRPO's num_generations 8; RLOO
# 2): what a --generation-batch is checked against before the objective is known (a test holds it
# to the bundled cards).
GROUPS_AT_MOST: Final = 8
FIT_MARGIN: Final = 0.90  # "yes" within 90 % of usable memory; docs/memory.md says why
# The longest --seq-len taken, and the longest `estimate --max seq-len` searches.
MAX_SEQ_LEN: Final = 10_000_000
# The most memory one GPU may have (--vram, "--gpu 24gb"), and the largest GPU a plan is told to
# get: twice the largest single GPU today (a 512 GB Mac Studio). "--gpu 3080gb" and "--vram
# 3080gb" are a card's name with a unit typed after it, not 3,080 GB (reviews found both sized).
MAX_GPU_MEMORY_GB: Final = 1_024.0
# The least: no GPU a model trains on has less (the catalog's smallest has 8 GiB); "--vram 0.01"
# was sized as a GPU of 10 MB (a review).
MIN_GPU_MEMORY_GB: Final = 1.0

# --- what a profile can say ---------------------------------------------------------------------

MODEL_VARIANT_CHOICES: Final = (
    Choice("base", "pre-trained only: no instruction tuning (e.g. Llama-3.1-8B, Qwen3-8B-Base)"),
    Choice("instruct", "already post-trained to follow instructions (-Instruct, -it, -chat)"),
)


SFT_DATA_CHOICES: Final = (
    Choice(
        "yes",
        "demonstrations (prompt -> ideal answer) besides the preference pairs, for an SFT stage",
        ("y", "да", "д"),
    ),
    Choice("no", "only the preference pairs: no separate demonstrations", ("n", "нет", "н")),
)


MODEL_ACCESS: Final = (
    # The question asks "can you access the weights?": yes and no answer it too (a bare "no" in
    # `ask` is asked again: a newcomer who has not downloaded a model yet says it).
    Choice(
        "weights",
        "you can download and train the weights",
        ("yes", "y", "веса", "да", "д"),
        # An open model named is one whose weights can be downloaded.
        ("llama", "qwen", "mistral", "gemma", "phi", "hugging face", "huggingface", "open model", "открытую"),
    ),
    Choice(
        "api",
        "only a hosted API: prompting, retrieval and the provider's own fine-tuning",
        ("no", "n", "апи", "только api", "нет", "н"),
        ("openai", "chatgpt", "anthropic", "claude", "gemini", "azure", "bedrock", "vertex", "провайдера"),
    ),
)
GOALS: Final = (
    Choice(
        "classify",
        "assign labels or scores (sentiment, topic; a reward model)",
        ("классификация", "классифицировать"),
        (
            *("classification", "classifier", "labels", "sentiment", "tagging", "categories", "categorize"),
            *("categorise", "route", "routing", "triage", "категории", "категориям"),
            # A filter keeps or drops by a label (a newcomer's review: "spam filter" was refused).
            *("spam filter", "filter spam", "spam detection", "фильтр спама", "спам фильтр"),
            *("тональность", "тональности", "по отделам", "распределять", "сортировать", "сортировка"),
        ),
        # A classifier said with what it reads: "classify long legal documents" labels documents,
        # not answers from them (an expert's review was asked to pick classify or knowledge).
        (
            *("classify", "classification", "classifier", "categorize", "categorise"),
            *("классифицировать", "классификация", "классифицирует"),
        ),
    ),
    Choice(
        "adapt",
        "follow a domain's style, format or task",
        ("адаптация", "адаптировать"),
        # Russian words are whole words: each case form is a word of its own
        (
            *("style", "format", "house style", "tone"),
            *("стиль", "стиля", "стилю", "стилем", "стиле", "формат", "формата", "формату"),
            *("тон", "манера", "манеру"),
        ),
        (
            *("summarize", "summarise", "summarization", "summaries", "extract", "extraction"),
            *("translate", "translation", "суммаризация", "суммаризировать", "резюмировать"),
            *("извлечение", "извлекать", "перевод", "переводить"),
        ),
    ),
    Choice(
        "chat",
        "a chat assistant",
        ("чат", "чат-бот", "диалог", "ассистент"),
        (
            *("chatbot", "assistant", "dialogue", "customer support", "support bot"),
            *("бот", "чатбот", "бот поддержки", "чат бот поддержки", "ассистента", "помощник"),
        ),
    ),
    Choice(
        "align",
        "behave as people prefer (helpful, safe, on-policy)",
        ("согласование", "выравнивание", "alignment"),
        ("rlhf",),
    ),
    Choice(
        "knowledge",
        "answer from facts and documents",
        ("знания",),
        (
            *("faq", "documents", "docs", "documentation", "manuals", "wiki", "pdfs"),
            *("документы", "документам", "документов", "документах", "документация", "документацию"),
            "документации",
        ),
        # Retrieval named outright, a knowledge base, or a bot that knows the documents: a task or a
        # bot beside it does not make it adapt or chat ("бот для базы знаний" answers from the base;
        # "a chatbot that knows my company docs" too, where a newcomer was asked to pick one).
        (
            *("rag", "knowledge base", "knows", "знает"),
            *("база знаний", "базы знаний", "базе знаний", "базу знаний", "базой знаний"),
        ),
        # A newcomer's review: "a chatbot on my company docs" was asked to pick chat or knowledge.
        over=("chat",),
    ),
    Choice("reasoning", "solve checkable problems (math, code)", ("рассуждения", "рассуждение"), ("math",)),
    Choice("prototype", "try an idea quickly and cheaply", ("прототип",), ("demo", "poc")),
)
# Goals that need generated text: an encoder (BERT) cannot serve them, whatever trains it.
GENERATIVE_GOALS: Final = frozenset({"chat", "align", "reasoning"})
DATA_KINDS: Final = (
    # Said whole: an answer that denies something is otherwise not read for a choice (questionnaire).
    Choice(
        "none",
        "no training data",
        ("нет", "нет данных", "без данных", "данных нет", "ничего", "пока ничего", "пока нет"),
        ("no data", "no data yet", "nothing", "nothing yet", "none yet", "not yet"),
    ),
    Choice(
        "text",
        "raw domain text (documents, code, papers)",
        ("текст", "тексты"),
        (
            *("raw text", "documents", "docs", "documentation", "manuals", "pdfs", "corpus", "wiki"),
            *("pdf", "pdf manual", "user manual", "product manual"),
            *("wiki pages", "документы", "документов", "документация", "статьи"),
        ),
    ),
    Choice(
        "labeled",
        "labelled examples for a fixed set of labels",
        ("размеченные", "разметка", "метки"),
        ("labelled", "labels", "размеченных", "размеченный", "с метками", "категориями"),
        # Labelled by category: the labels of a classifier, whatever the examples are ("support
        # tickets labelled by category"; "conversations labeled good or bad" stays undecided).
        ("by category", "by categories", "by topic", "by class", "по категориям", "по темам"),
    ),
    Choice(
        "demonstrations",
        "prompt -> answer pairs",
        ("демонстрации", "инструкции"),
        # Support tickets with their replies are prompts with their answers: a newcomer's data is
        # said so, not "demonstrations" ("tickets with labels" stays labeled: labels decide it).
        (
            "q&a",
            "q&a pairs",
            "qa pairs",
            "question answer pairs",
            "question and answer pairs",
            "question and answer",
            "questions with answers",
            "questions with their answers",
            "questions and answers",
            # An FAQ is its questions with their answers (a newcomer's review: "FAQ" was refused).
            "faq",
            "faqs",
            "prompt response pairs",
            "instructions",
            "conversations",
            "support tickets",
            # Said without "support" or with other words for the answers (a newcomer's review:
            # "3000 tickets and our answers", "emails with replies" were refused). Whole phrases:
            # "answers" alone is also what is rated, labelled or rewarded.
            "tickets and our answers",
            "tickets and answers",
            "tickets with answers",
            "tickets with replies",
            "tickets with staff answers",
            "emails with replies",
            "emails and replies",
            "agent replies",
            "chat logs",
            "chats",
            "chat history",
            "chat transcripts",
            "transcripts",
            "вопрос ответ",
            "пары вопрос ответ",
            # Russian counts inflect the noun: "2 000 тикетов поддержки", "500 диалогов".
            "вопросы и ответы",
            "вопросов и ответов",
            "тикеты поддержки",
            "тикетов поддержки",
            "тикеты с ответами",
            "тикетов с ответами",
            "обращения с ответами",
            "обращений с ответами",
            "обращения в поддержку",
            "обращений в поддержку",
            "ответы операторов",
            "ответами операторов",
            "диалоги",
            "диалогов",
            "переписка",
        ),
    ),
    Choice(
        "preferences",
        "chosen / rejected answer pairs",
        ("предпочтения",),
        ("chosen rejected", "dpo", "comparisons", "предпочтений", "пары предпочтений"),
        # Answers said to be chosen or rejected are pairs, whatever else names them ("chosen and
        # rejected answers" is no set of demonstrations).
        ("chosen", "preferred", "выбранные", "выбранный"),
    ),
    Choice(
        "ratings",
        "unpaired thumbs-up / thumbs-down answers",
        ("оценки", "лайки"),
        ("thumbs", "thumbs up", "likes", "kto"),
        ("thumbs", "thumbs up", "thumbs down", "likes", "лайки", "лайками", "дизлайки", "дизлайками"),
    ),
    Choice(
        "reward-function",
        "a program that checks or scores answers",
        ("функция награды", "функция вознаграждения", "награда"),
        (
            "reward",
            "verifier",
            "grader",
            "unit tests",
            "test cases",
            "answer checker",
            "checks answers",
            "checks the answers",
            "scores answers",
            # Not "numeric answers" nor "checker" alone: "math problems with worked solutions and
            # numeric answers" are demonstrations, "grammar checker corrections" too (a review).
            "проверяет ответы",
            "проверка ответов",
        ),
    ),
)
PRIORITIES: Final = (
    Choice("quality", "the best result, cost is secondary", ("качество",), ("best quality", "лучше всего")),
    Choice("balanced", "a sensible trade-off", ("баланс",)),
    Choice(
        "cost",
        "the least hardware and money",
        ("стоимость", "цена", "дешевизна"),
        ("cheap", "cheaper", "cheapest", "дешевле", "подешевле", "дёшево", "дешево", "минимум денег"),
    ),
    Choice(
        "speed",
        "results soon: quick to set up and train",
        ("скорость",),
        ("fast", "faster", "fastest", "quickly", "быстрее", "побыстрее", "быстро"),
    ),
)

# The data a goal usually comes with: assumed when the data kind is not given.
TYPICAL_DATA: Final = {
    "classify": "labeled",
    "adapt": "demonstrations",
    "chat": "demonstrations",
    "align": "preferences",
    "knowledge": "text",
    "reasoning": "demonstrations",
    "prototype": "demonstrations",
}

# The average example length assumed for training time when --tokens-per-example is not given
# (ft-atlas's round figures, docs/time.md): a text chunk; a short labelled text; an instruction
# with its answer; a prompt with one answer (each of a pair); a prompt with a sampled completion.
TYPICAL_TOKENS: Final = {
    "none": 0,
    "text": 1024,
    "labeled": 128,
    "demonstrations": 512,
    "preferences": 512,
    "ratings": 512,
    "reward-function": 768,
}

# The longest sequence memory is sized for when labelled examples (classification) do not say
# --seq-len: the length classification fine-tuning has used since BERT (its position limit), four
# times the typical labelled example above. Other data keep the model's usual length.
LABELED_SEQ_LEN: Final = 512

# Words that mean "no local GPU" wherever a GPU is asked for (flag, question, batch key), compared
# without case, spaces or dashes ("no GPU", "нет GPU").
NO_GPU_WORDS: Final = frozenset(
    {"none", "no", "cpu", "api", "nogpu", "нет", "нетgpu", "безgpu", "нетвидеокарты", "безвидеокарты"}
)
# The same said in a sentence, where the questionnaire reads free text ("no gpu, just a laptop"):
# checked before a laptop's name, which would otherwise be read as a laptop GPU.
NO_GPU_PHRASE: Final = re.compile(
    r"\bno\s+(?:gpu|graphics\s+card|video\s+card)\b|\bwithout\s+(?:a\s+|any\s+)?gpu\b"
    r"|\b(?:just|only)\s+(?:a\s+)?cpu\b|\bcpu\s+only\b"
    r"|нет\s+(?:gpu|видеокарт|графическ)|без\s+(?:gpu|видеокарт)|только\s+(?:cpu|процессор)",
    re.IGNORECASE,
)
# The computer's own memory, which a newcomer gives for the GPU's ("my laptop has 16GB RAM"); an
# Apple chip's unified memory is the GPU's, so a Mac's answer is not read as this.
_RAM_WORDS = r"\b(?:ram|system\s+memory)\b|оператив\w*|\bозу\b"
SYSTEM_RAM: Final = re.compile(_RAM_WORDS, re.IGNORECASE)
# The RAM said beside a GPU ("3090 24gb, 64gb ram"): left out, the rest is read as the GPU. The
# words are SYSTEM_RAM's, whole ("vram" holds no "ram").
SYSTEM_RAM_CLAUSE: Final = re.compile(
    rf"[,;]?\s*(?:\d+(?:[.,]\d+)?\s*(?:gb|гб|g)?\s*(?:of\s+)?)?(?:{_RAM_WORDS})", re.IGNORECASE
)
YES_WORDS: Final = frozenset({"true", "yes", "y", "1", "on", "да", "д"})
NO_WORDS: Final = frozenset({"false", "no", "n", "0", "off", "нет", "н"})

# Answers the questionnaire reads as "take the default" (compared without case, apostrophes,
# punctuation or spaces, so "I don't know." and "dont know" agree), as "show what this question
# means", and as "go back to the previous question"; in English and in Russian.
DONT_KNOW_WORDS: Final = frozenset(
    {"idk", "dontknow", "idontknow", "notsure", "unknown", "noidea", "unsure", "dunno", "default", "skip"}
    | {"незнаю", "неуверен", "неуверена", "понятиянеимею", "хз", "поумолчанию", "пропустить", "неизвестно"}
)
# ... and said at the start of a longer answer ("I don't know which model", "не знаю, какую
# модель"), or left to ft-atlas ("whatever you recommend"): a newcomer's review.
DONT_KNOW_OPENINGS: Final = (
    *("idontknow", "dontknow", "notsure", "noidea", "whateveryou", "youchoose", "youdecide", "youpick"),
    *("незнаю", "безпонятия", "понятиянеимею", "навашвыбор", "решайте", "выберите"),
)
HELP_WORDS: Final = frozenset({"?", "help", "помощь", "справка"})
# Words that say a goal or the data are images (ask says that only text training is planned):
# "scanned invoice images", "фото товаров", "скриншоты". Whole words, and the beginnings of words
# no other word shares: a prefix "photo" or "scan" read "photosynthesis" and "Scandinavian" (a
# diff review).
IMAGE_WORDS: Final = frozenset({
    "image", "images", "photo", "photos", "picture", "pictures", "scan", "scans", "scanned",
    "screenshot", "screenshots", "фото", "скан", "сканы", "сканов", "снимок",
})  # fmt: skip
IMAGE_STEMS: Final = (
    "photograph",
    "изображен",
    "картинк",
    "фотограф",
    "отсканир",
    "сканирован",
    "скриншот",
    "снимк",
)
BACK_WORDS: Final = frozenset({"<", "back", "назад"})


def means_no_gpu(text: str) -> bool:
    return re.sub(r"[\s_\-]+", "", text.casefold()) in NO_GPU_WORDS


def values_of(choices: tuple[Choice, ...]) -> tuple[str, ...]:
    return tuple(c.value for c in choices)


# --- hyperparameters that recipes read ---------------------------------------------------------

# What each hyperparameter a recipe reads (recipes/settings.py) may hold, so that a KB that
# validates cannot make a recipe crash or come out wrong: `ft-atlas validate` checks `value` and
# `with_peft` of these keys. Others are shown as written, never computed with.
HyperKind = Literal[
    "count", "whole", "number", "positive", "nonnegative", "fraction", "flag", "text", "texts", "alpha"
]
HYPER_KIND_WORDS: Final[dict[HyperKind, str]] = {
    "count": "a whole number of at least 1",
    "whole": "a whole number of at least 0",
    "number": "a number",
    "positive": "a number greater than 0",
    "nonnegative": "a number of at least 0",
    "fraction": "a number from 0 to 1",
    "flag": "true or false",
    "text": "a string",
    "texts": "a string or a list of strings",
    "alpha": "a whole number of at least 1, or 'r' or '2r'",
}
RECIPE_HYPERPARAMETERS: Final[dict[str, HyperKind]] = {
    "r": "count",
    "lora_alpha": "alpha",
    "target_modules": "texts",
    "lora_dropout": "fraction",
    "use_dora": "flag",
    "bnb_4bit_quant_type": "text",
    "bnb_4bit_use_double_quant": "flag",
    "init_r": "count",
    "target_r": "count",
    "tinit": "whole",
    "tfinal": "whole",
    "deltaT": "count",
    "orth_reg_weight": "nonnegative",
    "num_virtual_tokens": "count",
    "prefix_projection": "flag",
    "prompt_tuning_init": "text",
    "encoder_hidden_size": "count",
    "encoder_num_layers": "count",
    "encoder_reparameterization_type": "text",
    "trainable_layers": "fraction",
    "rank": "count",
    "update_proj_gap": "count",
    "scale": "positive",
    "optim_target_modules": "texts",
    "optim": "text",
    "learning_rate": "positive",  # torch's optimizers refuse a negative one ("Invalid learning rate")
    "beta": "nonnegative",  # GRPO's 0.0 drops the KL term
    "desirable_weight": "positive",
    "undesirable_weight": "positive",
    "num_generations": "count",
    "max_completion_length": "count",
    "dataset_text_field": "text",
    "per_device_train_batch_size": "count",
}
