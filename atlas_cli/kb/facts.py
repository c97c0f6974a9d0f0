"""The facts a rule's condition may read, defined once: name, type, allowed values, meaning, and
where the engine reads it. `validate` checks every condition against these definitions, the
engine computes exactly these facts (core/facts.py), and docs/rules.md's table of facts is
generated from them (tests/test_docs.py fails when it is stale).

A fact's `source` is where the engine reads it: an attribute path on the profile, the resolved
hardware or the resolved model; for a per-method fact, an attribute of that method's memory
estimate; for a plan fact, an attribute of the plan. Adding a fact is one line here (plus the
attribute, if it does not exist yet).
"""

from __future__ import annotations

from typing import Final, Literal, NamedTuple, get_args

from atlas_cli.kb.vocabulary import (
    DATA_KINDS,
    GOALS,
    METHOD_KINDS,
    MODEL_ACCESS,
    MODEL_VARIANTS,
    PRECISIONS,
    PRIORITIES,
    SFT_DATA_CHOICES,
    SHARDINGS,
    STACKS,
    HostedStatus,
    WeightsDtype,
    values_of,
)

FactType = Literal["bool", "number", "string"]


class FactSpec(NamedTuple):
    name: str
    type: FactType
    description: str
    source: str  # attribute path on the fact context
    values: tuple[str, ...] | None = None  # the allowed strings of a closed set
    # ids of a KB section (providers: the hosted offers' provider names)
    refers_to: Literal["gpus", "models", "methods", "categories", "providers"] | None = None
    per_method: bool = False  # `name.<method id>`: one fact for every candidate method
    per_plan: bool = False  # the candidate plan's own fact: read once per plan, not per profile
    per_stage: bool = False  # `name.<objective id>`: one fact for every objective of the KB
    per_pipeline: bool = False  # read once the pipeline is chosen, as stage.<objective> facts are

    @property
    def family(self) -> bool:
        """`name.<id>` names one fact of a family (per method or per objective)."""
        return self.per_method or self.per_stage


ARCHITECTURES: Final = ("decoder", "encoder", "encoder-decoder")
GPU_VENDORS: Final = ("nvidia", "amd", "apple")
GPU_LINKS: Final = ("pcie", "nvlink")
FIT_VERDICTS: Final = ("yes", "tight", "no")
HOSTED_STATUSES: Final = get_args(HostedStatus)
PRECISION_NAMES: Final = tuple(PRECISIONS)

FACTS: Final[tuple[FactSpec, ...]] = (
    # hardware
    FactSpec(
        "has_gpu",
        "bool",
        "A local GPU is available: false for --gpu none; true when no GPU is given (fit unknown).",
        "hardware.has_gpu",
    ),
    FactSpec(
        "gpu",
        "string",
        "Catalog id of the GPU (null with --vram or no GPU).",
        "hardware.gpu_id",
        refers_to="gpus",
    ),
    FactSpec(
        "gpu_vendor", "string", "Vendor of the GPU (null when unknown).", "hardware.vendor", GPU_VENDORS
    ),
    FactSpec(
        "cuda", "bool", "The GPU runs CUDA (false on Apple and AMD; null when unknown).", "hardware.cuda"
    ),
    FactSpec("gpus", "number", "Number of GPUs.", "hardware.gpus"),
    FactSpec(
        "gpu_link",
        "string",
        "How the GPUs of a node exchange data: pcie (no NVLink, or more GPUs than its bridges join) or "
        "nvlink; null for one GPU or a GPU the catalog does not know.",
        "hardware.gpu_link",
        GPU_LINKS,
    ),
    FactSpec(
        "gpu_desktop",
        "bool",
        "A desktop (GeForce) card, which multi-GPU boards often give fewer PCIe lanes than x16 (false "
        "when not a catalog GPU).",
        "hardware.desktop",
    ),
    FactSpec("gpu_memory_gib", "number", "Memory of one GPU as advertised, in GiB.", "hardware.memory_gib"),
    FactSpec("vram_gb", "number", "Usable memory of one GPU in GB (10^9 bytes).", "hardware.capacity_gb"),
    FactSpec(
        "total_vram_gb", "number", "Usable memory of all GPUs together, in GB.", "hardware.total_capacity_gb"
    ),
    FactSpec("bf16", "bool", "The GPU supports bf16 (Ampere or newer).", "hardware.bf16"),
    FactSpec(
        "fp8",
        "bool",
        "The GPU has FP8 tensor cores (NVIDIA Ada, Hopper, Blackwell; AMD CDNA 3 or newer); false when "
        "only its memory is known.",
        "hardware.fp8",
    ),
    # model
    FactSpec(
        "model",
        "string",
        "Catalog id of the model (null for a config.json, a bare size or an API model).",
        "model.model_id",
        refers_to="models",
    ),
    FactSpec(
        "model_params_b",
        "number",
        "Total parameters of the model, in billions (null for an API model).",
        "model.params_b",
    ),
    FactSpec(
        "model_active_params_b",
        "number",
        "Parameters one token uses, in billions: the total for a dense model, the active experts' "
        "share for a mixture of experts.",
        "model.active_params_b",
    ),
    FactSpec("model_is_moe", "bool", "The model is a mixture of experts.", "model.is_moe"),
    FactSpec(
        "model_family",
        "string",
        "The model's family, as its config's model_type names it (llama, qwen3, gemma3, ...); null "
        "for a bare size or an API model.",
        "model.family",
    ),
    FactSpec(
        "model_fp16_overflows",
        "bool",
        "The model's activations pass fp16's range (Gemma 3; T5 from Large up, and every gated T5): on a "
        "GPU without bf16 its plans are sized in fp32; null for a bare size or an API model.",
        "model.fp16_overflows",
    ),
    FactSpec(
        "model_weights_dtype",
        "string",
        "How the checkpoint stores its weights: fp32, bf16, fp16, or pre-quantized (fp8, mxfp4, "
        "int8, int4); null for a bare size or an API model.",
        "model.weights_dtype",
        get_args(WeightsDtype),
    ),
    FactSpec(
        "model_variant",
        "string",
        "base, or instruct (post-trained: -Instruct, -it, -chat, a chat template, or an API model "
        "a known provider serves); null when unknown.",
        "model.variant",
        MODEL_VARIANTS,
    ),
    FactSpec(
        "model_reasons",
        "bool",
        "A reasoning model: it writes its reasoning before its answer (Qwen3's thinking mode, DeepSeek-R1 "
        "and its distillations, gpt-oss); null when unknown.",
        "model.reasons",
    ),
    FactSpec(
        "model_has_bias",
        "bool",
        "The model's linear layers have bias terms (BitFit).",
        "model.has_bias",
    ),
    FactSpec(
        "model_architecture",
        "string",
        "decoder, encoder or encoder-decoder.",
        "model.architecture",
        ARCHITECTURES,
    ),
    FactSpec(
        "api_model_name",
        "string",
        "A model used through an API: its name as the hosted-ft offers match it (lower case, without "
        "an organisation, words joined by hyphens: 'ChatGPT' is chatgpt, 'Claude Sonnet 4.5' is "
        "claude-sonnet-4.5); null for local weights.",
        "model.api_name",
    ),
    FactSpec(
        "api_model_tuning",
        "string",
        "A model used through an API: whether its provider still tunes it (available, closing, closed; "
        "from the hosted-ft offers in data/methods.yaml); null when unknown or not an API model.",
        "model.api_tuning",
        HOSTED_STATUSES,
    ),
    FactSpec(
        "api_model_provider",
        "string",
        "A model used through an API: the provider whose hosted-ft offer decides its tuning (one that "
        "tunes it, else one that serves it), as data/methods.yaml names it; null when no offer names "
        "the model, or for local weights.",
        "model.api_provider",
        refers_to="providers",
    ),
    FactSpec(
        "api_model_open_weights",
        "bool",
        "A model used through an API that no hosted-ft offer names: whether it is an open-weights "
        "model of the catalog (by its id, name or Hub id, such as Qwen/Qwen2.5-7B-Instruct), which "
        "hosts of open models tune (Together, Fireworks) and no provider of its own models does; "
        "null when an offer names the model, or for local weights.",
        "model.api_open_weights",
    ),
    FactSpec(
        "api_model_tunes_pipeline",
        "bool",
        "A model used through an API: whether the providers that serve it tune it with every stage "
        "of the chosen pipeline as a provider runs it (each objective's hosted_service in "
        "data/methods.yaml: supervised for sft, preference for dpo, reinforcement for grpo, ...; "
        "an objective no provider runs is replaced by its hosted_as objectives, ORPO by SFT then "
        "DPO; the offers' tunes lists); null when no offer names the model, or for local weights.",
        "model.api_services",
        per_pipeline=True,
    ),
    # profile
    FactSpec("model_access", "string", "weights or api.", "profile.model_access", values_of(MODEL_ACCESS)),
    FactSpec(
        "data_kind",
        "string",
        "The training data (the goal's usual data when not given).",
        "profile.data_kind_or_typical",
        values_of(DATA_KINDS),
    ),
    FactSpec("data_kind_given", "bool", "The user stated the data kind.", "profile.data_kind_given"),
    FactSpec("examples", "number", "Number of training examples (null when not given).", "profile.examples"),
    FactSpec(
        "dataset_tokens_b",
        "number",
        "Training tokens in the dataset, in billions: examples x average length (--tokens-per-example, "
        "else the data kind's typical length); null when the examples are not given.",
        "profile.dataset_tokens_b",
    ),
    FactSpec(
        "sft_data",
        "string",
        "yes or no: besides preference pairs, the user has demonstrations for an SFT stage "
        "(--sft-data); null when not said.",
        "profile.sft_data",
        values_of(SFT_DATA_CHOICES),
    ),
    FactSpec(
        "completion_tokens",
        "number",
        "Tokens an online stage (GRPO, RLOO) samples per completion: --seq-len less the prompt's share "
        "(up to 512), else TRL's default 512.",
        "completion_tokens",
    ),
    FactSpec("goal", "string", "What the model should do better.", "profile.goal", values_of(GOALS)),
    FactSpec(
        "knowledge_changes", "bool", "The facts change often (weekly or faster).", "profile.knowledge_changes"
    ),
    FactSpec("many_tasks", "bool", "One base model serves many tasks.", "profile.many_tasks"),
    FactSpec("priority", "string", "What matters most.", "profile.priority", values_of(PRIORITIES)),
    FactSpec(
        "stack",
        "string",
        "The training stack memory is sized for (--stack; else trl, mlx for a decoder on Apple silicon).",
        "stack",
        values_of(STACKS),
    ),
    FactSpec(
        "lora_experts",
        "bool",
        "LoRA is asked to adapt a mixture of experts' routed experts too (--lora-experts).",
        "profile.lora_experts",
    ),
    FactSpec(
        "vllm", "bool", "Online stages sample with vLLM (--vllm, or --vllm-server-gpus).", "profile.vllm"
    ),
    FactSpec(
        "vllm_server",
        "bool",
        "Online stages sample with a vLLM server on GPUs of its own (--vllm-server-gpus).",
        "profile.vllm_server",
    ),
    # memory, one fact per candidate method
    FactSpec(
        "fits",
        "bool",
        "fits.<method>: that method's plan fits within the safety margin (null: no capacity known).",
        "fits",
        per_method=True,
    ),
    FactSpec(
        "fit",
        "string",
        "fit.<method>: yes (within the safety margin), tight (within capacity) or no.",
        "fit",
        FIT_VERDICTS,
        per_method=True,
    ),
    FactSpec(
        "memory_gb",
        "number",
        "memory_gb.<method>: that method's plan needs this much per GPU, in GB.",
        "per_gpu_gb",
        per_method=True,
    ),
    FactSpec(
        "offload",
        "string",
        "offload.<method>: what that method's plan offloads to CPU RAM to fit: none, optimizer or params.",
        "settings.offload",
        ("none", "optimizer", "params"),
        per_method=True,
    ),
    FactSpec(
        "sharding",
        "string",
        "sharding.<method>: how that method's plan shares its states across GPUs: ddp, zero2 or zero3.",
        "settings.sharding",
        values_of(SHARDINGS),
        per_method=True,
    ),
    FactSpec(
        "gathers_across_nodes",
        "bool",
        "gathers_across_nodes.<method>: that method's plan shards its parameters (ZeRO-3 / FSDP) over "
        "GPUs on more than one node, so every step gathers them over the links between nodes.",
        "gathers_across_nodes",
        per_method=True,
    ),
    # the pipeline the profile's pipeline rule chose
    FactSpec(
        "stage",
        "bool",
        "stage.<objective>: the chosen pipeline runs that objective (stage.dpo, stage.grpo, ...).",
        "stage",
        per_stage=True,
    ),
    # the candidate plan itself
    FactSpec(
        "plan.method", "string", "The candidate's method id.", "method", refers_to="methods", per_plan=True
    ),
    FactSpec("plan.kind", "string", "The candidate's method kind.", "kind", METHOD_KINDS, per_plan=True),
    FactSpec(
        "plan.category",
        "string",
        "The candidate's category.",
        "category",
        refers_to="categories",
        per_plan=True,
    ),
    FactSpec(
        "plan.fits",
        "bool",
        "The candidate fits within the safety margin (null when no capacity is known).",
        "fits",
        per_plan=True,
    ),
    FactSpec(
        "plan.fit", "string", "The candidate's verdict: yes, tight or no.", "fit", FIT_VERDICTS, per_plan=True
    ),
    FactSpec(
        "plan.memory_gb", "number", "The candidate's memory per GPU, in GB.", "memory_gb", per_plan=True
    ),
    FactSpec(
        "plan.offload",
        "string",
        "What the candidate offloads to CPU RAM to fit: none, optimizer or params.",
        "offload",
        ("none", "optimizer", "params"),
        per_plan=True,
    ),
    FactSpec(
        "plan.host_gb",
        "number",
        "CPU RAM the candidate's offloaded states need, in GB.",
        "host_gb",
        per_plan=True,
    ),
    FactSpec(
        "plan.sharding",
        "string",
        "How the candidate shares its states across GPUs: ddp, zero2 or zero3 (null: nothing trains on a "
        "local GPU).",
        "sharding",
        values_of(SHARDINGS),
        per_plan=True,
    ),
    FactSpec(
        "plan.ram_gb",
        "number",
        "CPU RAM per node the candidate needs when it offloads, in GB: its offloaded states, or with the "
        "parameters offloaded the 16-bit checkpoint loading holds, if larger; for a 4-bit base loaded "
        "shard by shard, the quantized base and a checkpoint file per GPU it holds while loading (null: "
        "neither).",
        "ram_gb",
        per_plan=True,
    ),
    FactSpec(
        "plan.precision",
        "string",
        "The precision the candidate's estimate uses: bf16, fp16, fp32 or pure-bf16 (no fp32 master copy).",
        "precision",
        PRECISION_NAMES,
        per_plan=True,
    ),
    FactSpec(
        "plan.serving_bits",
        "number",
        "The bits a no-training candidate's weights are served in: 16, or 8 / 4 quantized by bitsandbytes "
        "where wider weights do not fit, or as a checkpoint stored quantized holds them (null for training "
        "plans).",
        "serving_bits",
        per_plan=True,
    ),
    FactSpec(
        "plan.quantized_experts",
        "bool",
        "QLoRA on a mixture of experts: its routed experts load in 4 bits too (QLoRA's variant that "
        "axolotl's quantize_moe_experts writes, or Unsloth); null for any other candidate.",
        "quantized_experts",
        per_plan=True,
    ),
    FactSpec(
        "plan.reference_precomputed",
        "bool",
        "DPO or KTO on a base that trains (full, GaLore, partial, BitFit) computes its reference "
        "log-probabilities before training and loads no reference copy (TRL's "
        "precompute_ref_log_probs=True), where the copy kept the plan past the margin (null: nothing "
        "runs on a local GPU).",
        "reference_precomputed",
        per_plan=True,
    ),
    FactSpec(
        "plan.gpus",
        "number",
        "GPUs the candidate uses: the fastest count of yours (fewer where all would take within 5 % as "
        "long); with --priority cost the cheapest, the fastest of the counts within 5 % of its cost; "
        "within any time or budget limit (null: no local GPU).",
        "gpus",
        per_plan=True,
    ),
    FactSpec(
        "plan.spare_gpus",
        "number",
        "Of your GPUs, how many the candidate leaves free (0 when it uses them all; null: no local GPU).",
        "spare_gpus",
        per_plan=True,
    ),
)

FACTS_BY_NAME: Final = {f.name: f for f in FACTS}
PLAN_FACTS: Final = tuple(f for f in FACTS if f.per_plan)


def fact_spec(name: str) -> FactSpec | None:
    """The definition behind a fact name (`fits.lora` is the `fits` fact of method `lora`)."""
    found = FACTS_BY_NAME.get(name)
    if found is not None:
        return None if found.family else found
    prefix, dot, _ = name.partition(".")
    family = FACTS_BY_NAME.get(prefix)
    return family if dot and family is not None and family.family else None
