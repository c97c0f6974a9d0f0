"""The converters that build every JSON document a command prints, in the shapes
render/contracts.py defines (the contract `ft-atlas schema` publishes)."""

from __future__ import annotations

import functools
import json
import re
import sys
from typing import TYPE_CHECKING, Any

from atlas_cli.core.estimates import Estimate, EstimateSettings, billions, loads_quantized_shards
from atlas_cli.core.memory.activations import eager_attention_counted
from atlas_cli.core.memory.estimate import (
    hierarchical,
    offloads_activations,
    sampled_apart,
    served_by_vllm,
    vllm_server_fit,
    vllm_server_gb,
)
from atlas_cli.core.memory.parallel import unshardable_base
from atlas_cli.core.memory.search import Change
from atlas_cli.core.memory.states import plan_experts_quantized
from atlas_cli.core.names import trains_thinking_away
from atlas_cli.core.nodes import GPUS_PER_NODE, node_layout
from atlas_cli.core.plans import EXPERIMENTAL_STAGES_TRAINER, Plan, Recommendation, RuleHit
from atlas_cli.core.profile import command_line
from atlas_cli.core.resolve import INTEGER_QUANTIZED_RECIPE
from atlas_cli.core.throughput.plans import Timed
from atlas_cli.core.throughput.step import efficiency
from atlas_cli.core.throughput.timing import (
    FAST_FACTOR,
    HOUR,
    SLOW_FACTOR,
    PlanTime,
    Rate,
    StageTime,
)
from atlas_cli.i18n import N_, language, t, translated
from atlas_cli.kb.records import Advice, KnowledgeBase, LlmModel, Method
from atlas_cli.kb.vocabulary import (
    FIT_MARGIN,
    GENERATIVE_GOALS,
    MEMORY_MODELS,
    OUTPUT_SCHEMA_VERSION,
    STACKS,
    Lang,
)

STACK_HELP = {c.value: c.help for c in STACKS}

if TYPE_CHECKING:
    from atlas_cli.core.profile import Profile
    from atlas_cli.core.resolve import ModelInfo
    from atlas_cli.core.shapes import Shape
    from atlas_cli.render.contracts import (
        AdviceJson,
        AssumptionsJson,
        ChangeJson,
        CostJson,
        CountsJson,
        EstimateJson,
        ExpertsJson,
        GlobalAttentionJson,
        InvalidJson,
        LinearAttentionJson,
        MethodRowJson,
        MethodsJson,
        ModelJson,
        ModelSourceJson,
        NextStepsJson,
        PlanJson,
        RecipeJson,
        RecipeMemoryJson,
        RecommendationJson,
        StageJson,
        TimeAssumptionsJson,
        TimedJson,
        TimeJson,
        TraceJson,
        ValidJson,
    )

SCHEMA_VERSION = OUTPUT_SCHEMA_VERSION


# Characters json.dumps leaves raw that still break lines or drive a terminal: Python's
# str.splitlines() (and JavaScript before ES2019) end a line at U+0085, U+2028 and U+2029, C1
# controls (U+0080-U+009F) such as U+009B (CSI) are escape sequences to some terminals, and the
# bidirectional overrides and isolates reorder the text around them for whoever reads it with
# `cat` (an attacker's review; the tables escape them too: errors.printable).
_RAW_BREAKS = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def escape_breaks(encoded: str) -> str:
    """JSON text with those characters written as \\uXXXX escapes, as ensure_ascii would."""
    if encoded.isascii() and "\x7f" not in encoded:  # most text: nothing to look for
        return encoded
    return _RAW_BREAKS.sub(lambda found: f"\\u{ord(found.group()):04x}", encoded)


def dumps(data: Any, ascii_only: bool = False) -> str:
    return escape_breaks(json.dumps(data, ensure_ascii=ascii_only, indent=2))


def write_json(data: Any) -> None:
    """Indented JSON on stdout; non-ASCII is escaped unless stdout is UTF-8."""
    utf8 = (sys.stdout.encoding or "").lower().replace("-", "") == "utf8"
    sys.stdout.write(dumps(data, ascii_only=not utf8) + "\n")


def _strategy(s: EstimateSettings, memory_model: str) -> str:
    if s.on_cpu:
        placement = t("on the CPU, without a GPU: every figure is RAM")
    elif s.gpus == 1:
        placement = t("one GPU")
    elif memory_model == "inference":
        placement = t(
            "split over {gpus} GPUs: each holds its share of the layers and of the KV cache "
            "(accelerate's device_map='auto')",
            gpus=s.gpus,
        )
    elif s.sharding == "zero3" and unshardable_base(memory_model, s):
        placement = t(
            "ZeRO-3/FSDP across {gpus} GPUs: gradients and optimizer states sharded, the 8-bit base whole "
            "on each",
            gpus=s.gpus,
        )
    elif s.sharding == "zero3" and s.sharded_loading:
        placement = t(
            "FSDP across {gpus} GPUs: the 4-bit base, loaded shard by shard (Answer.AI's loader; axolotl's "
            "qlora_sharded_model_loading), gradients and optimizer states sharded",
            gpus=s.gpus,
        )
    elif s.sharding == "zero3":
        placement = t(
            "ZeRO-3/FSDP across {gpus} GPUs: the 4-bit base, gradients and optimizer states sharded"
            if memory_model == "qlora"
            else "ZeRO-3/FSDP across {gpus} GPUs: parameters, gradients and optimizer states sharded",
            gpus=s.gpus,
        )
    elif s.sharding == "zero2":
        placement = t(
            "ZeRO-2 across {gpus} GPUs: gradients and optimizer states sharded, a whole model each",
            gpus=s.gpus,
        )
    else:
        placement = t("data parallel across {gpus} GPUs: a whole copy of the model on each", gpus=s.gpus)
    if s.sequence_parallel > 1:
        placement += t(
            "; each sequence split over {split} GPUs (DeepSpeed Ulysses sequence parallelism)",
            split=s.sequence_parallel,
        )
    if hierarchical(s):
        placement += t(
            "; a second copy of the weights sharded within each node of {per_node} (DeepSpeed "
            "ZeRO++ hierarchical partitioning), so that gathers stay on the node's links",
            per_node=node_layout(s.gpus)[1],
        )
    offload = {
        "optimizer": N_("; optimizer states in CPU RAM"),
        "params": N_("; parameters and optimizer states in CPU RAM"),
    }
    return placement + (t(offload[s.offload]) if s.offload in offload else "")


def _attention(e: Estimate) -> str:
    if eager_attention_counted(e.shape, e.settings) and e.settings.attention_kernel:
        return t(
            "eager: Unsloth runs soft-capped attention (Gemma 2) as plain matmuls unless flash-attn "
            "2.6.3 or newer is installed, so an s x s matrix per head is counted; --stack trl loads "
            "flex attention instead"
        )
    if eager_attention_counted(e.shape, e.settings):
        return t(
            "eager (transformers has no SDPA kernel for this model, or --attention eager asks for its eager "
            "attention, and no other kernel runs it here): an s x s matrix per head, counted; on NVIDIA and "
            "AMD GPUs the Python recipes (--stack trl) load SDPA or flex attention instead (FlashAttention 3 "
            "for gpt-oss on Hopper), and --stack unsloth avoids it"
        )
    if e.shape.eager_heads and e.settings.stack == "trl":
        return t(
            "flex attention (FlashAttention 3 for gpt-oss on Hopper), as the Python recipes load this "
            "model, which has no SDPA kernel: no s x s attention matrix"
        )
    return t("memory-efficient (SDPA / FlashAttention): no s x s attention matrix")


def _logits(e: Estimate) -> str:
    """How the loss is computed: the stack's way over the vocabulary, or a classifier's head."""
    if e.shape.architecture == "encoder":
        return t("an encoder's classifier head: a few scores per sequence, no vocabulary logits")
    if e.settings.classifier_head:
        return t(
            "a sequence classifier's head (AutoModelForSequenceClassification: the last token's "
            "scores over the labels): no vocabulary logits"
        )
    if e.settings.stack == "trl" and not e.settings.objective.training.fused_logits:
        return t(
            "TRL runs {objective} without its fused LM head: the whole bf16 logits, their log-softmax "
            "and its gradient",
            objective=e.settings.objective.id.upper(),
        )
    if e.settings.stack == "liger" and not e.settings.objective.training.liger_fuses_loss:
        return t(
            "Liger fuses the next-token loss of SFT and pre-training (LLaMA-Factory asks it for the logits "
            "of the other offline stages): {objective} takes the whole logits, their fp32 log-softmax and "
            "its gradient",
            objective=e.settings.objective.id.upper(),
        )
    return t(STACK_HELP[e.settings.stack])


def assumptions_json(e: Estimate) -> AssumptionsJson:
    s = e.settings
    apart = sampled_apart(e.memory_model, s)
    return {
        "seq_len": s.seq_len,
        "batch_size": s.batch_size,
        "precision": s.precision,
        "optimizer": s.optimizer,
        "gradient_checkpointing": s.gradient_checkpointing,
        "lora_rank": s.lora_rank,
        "lora_targets": s.lora_targets,
        "lora_experts": s.lora_experts,
        "lora_dropout": s.lora_dropout,
        "quant_bits": s.quant_bits,
        "quantized_experts": plan_experts_quantized(e),
        "serving_bits": s.serving_bits,
        "weights": e.weights_words,
        "gpus": s.gpus,
        "on_cpu": s.on_cpu,
        "sharding": s.sharding,
        "offload": s.offload,
        "stack": s.stack,
        "vllm": served_by_vllm(e.memory_model, s),
        "vllm_server_gpus": s.vllm_server_gpus if apart else 0,
        "vllm_server_gb": vllm_server_gb(e.memory_model, e.shape, s) if apart else None,
        "vllm_server_fit": vllm_server_fit(e.memory_model, e.shape, s) if apart else None,
        "activation_offloading": offloads_activations(s),
        "tiled_mlp": s.tiled_mlp,
        "reference_precomputed": s.reference_precomputed,
        "sequence_parallel": s.sequence_parallel,
        "hierarchical": hierarchical(s),
        "sharded_loading": loads_quantized_shards(e.memory_model, s),
        "strategy": _strategy(s, e.memory_model),
        "attention": _attention(e),
        "logits": _logits(e),
        "margin": t(
            "fit 'yes' within {margin} % of the usable memory, 'tight' up to 100 %",
            margin=round(FIT_MARGIN * 100),
        ),
        "gb": t("10^9 bytes"),
    }


def estimate_json(
    e: Estimate,
    label: str,
    warnings: list[str],
    timed: Timed,
    most: tuple[str, int | None, int | None] | None = None,
    to_fit: list[Change] | None = None,
) -> EstimateJson:
    out: EstimateJson = {
        "schema_version": SCHEMA_VERSION,
        "method": e.method,
        "label": label,
        "objective": e.objective,
        "model_params_b": e.model_params_b,
        "trainable_params_b": e.trainable_params_b,
        "total_gb": e.total_gb,
        "per_gpu_gb": e.per_gpu_gb,
        "breakdown": e.breakdown.copy(),
        "host": e.host.copy(),
        "ram_gb": e.ram_gb,
        "assumptions": assumptions_json(e),
        "capacity_gb": e.capacity_gb,
        "fits": e.fits,
        "fit": e.fit,
        "headroom_gb": e.headroom_gb,
        "warnings": warnings,
    }
    add_time(out, timed, e.shape.is_moe)
    if most is not None:
        key, value, tight = most
        if key == "seq_len":
            out["max_seq_len"], out["max_seq_len_tight"] = value, tight
        else:
            out["max_batch_size"], out["max_batch_size_tight"] = value, tight
    if to_fit is not None:
        out["to_fit"] = changes_json(to_fit)
    return out


def changes_json(changes: list[Change]) -> list[ChangeJson]:
    return [{"change": c.change, "value": c.value, "per_gpu_gb": c.per_gpu_gb} for c in changes]


def _trace(hit: RuleHit) -> TraceJson:
    return {
        "rule": hit.rule,
        "action": hit.action,
        "weight": hit.weight,
        "because": hit.because,
        "source": hit.source,
        "facts": dict(hit.facts),
    }


def _hours(seconds: float) -> float:
    return round(seconds / HOUR, 3)


def time_json(tokens: float, seconds: float, generation: float) -> TimeJson:
    return {
        "tokens": round(tokens),
        "tokens_per_second": round(tokens / seconds, 1) if seconds else 0.0,
        "hours": _hours(seconds),
        "hours_low": _hours(seconds * FAST_FACTOR),
        "hours_high": _hours(seconds * SLOW_FACTOR),
        "generation_hours": _hours(generation),
    }


def cost_json(gpu_hours: float, price: Rate | None) -> CostJson:
    rate = None if price is None else price.usd_per_gpu_hour

    def usd(factor: float) -> float | None:
        return None if rate is None else round(gpu_hours * factor * rate, 2)

    return {
        "usd": usd(1.0),
        "usd_low": usd(FAST_FACTOR),
        "usd_high": usd(SLOW_FACTOR),
        "usd_per_gpu_hour": rate,
        "price_source": None if price is None else price.source,
        "gpu_hours": round(gpu_hours, 3),
    }


def stage_json(stage: StageTime, gpus: int, price: Rate | None) -> StageJson:
    return {
        "objective": stage.objective.id,
        "micro_batch": stage.micro_batch,
        "sampled_at_once": stage.sampled_at_once or None,
        "time": time_json(stage.tokens, stage.seconds, stage.generation_seconds),
        "cost": cost_json(stage.seconds / HOUR * gpus, price),
    }


def time_assumptions_json(time: PlanTime, moe: bool) -> TimeAssumptionsJson | None:
    if not time.stages:
        return None
    first = time.stages[0].workload
    share = efficiency(time.stack, time.device)
    return {
        "examples": first.examples,
        "tokens_per_example": first.tokens_per_example,
        "epochs": {s.objective.id: s.workload.epochs for s in time.stages},
        "packing": time.stages[0].packed,
        "global_batch": max(s.global_batch for s in time.stages),
        "efficiency": round(share, 3),
        "peak_tflops": time.device.tflops,
        "memory_bandwidth_gbs": time.device.bandwidth_gbs,
        "link": time.device.link,
        # Past one node the network sets the gradients' pace (link_gbs): say what it is assumed to be.
        "network_gbs": time.device.network_gbs if time.gpus > GPUS_PER_NODE else None,
        "model": t(
            "FLOPs per token (6N full, 4N frozen base, +2N recomputed, attention 6·L·s·q) over peak x "
            "efficiency, plus weight, gradient and optimizer traffic over memory bandwidth, "
            "collectives over the link, CPU offload, and sampling at memory bandwidth (docs/time.md)"
        ),
    }


def add_time(out: TimedJson, timed: Timed, moe: bool) -> None:
    """Time, cost, stages and their assumptions; nulls and a note when they cannot be known."""
    time, cost = timed.time, timed.cost
    out["time_note"] = None if timed.note is None else t(timed.note)
    if time is None or cost is None:
        out.update({"time": None, "cost": None, "stages": [], "time_assumptions": None})
        return
    out["time"] = time_json(time.tokens, time.seconds, sum(s.generation_seconds for s in time.stages))
    out["cost"] = cost_json(cost.gpu_hours, cost.price)
    out["stages"] = [stage_json(s, time.gpus, cost.price) for s in time.stages]
    out["time_assumptions"] = time_assumptions_json(time, moe)


def untimed_plan_json(plan: Plan) -> PlanJson:
    """A plan's document without rank, time and trace: what every amount of data shares."""
    e = plan.estimate
    return {
        "method": plan.method,
        "name": plan.name,
        "variant": plan.variant,
        "kind": plan.kind,
        "pipeline": list(plan.pipeline),
        "score": plan.score,
        "fits": plan.fits,
        "fit": plan.fit,
        "memory_gb": plan.memory_gb,
        "headroom_gb": None if e is None else e.headroom_gb,
        "gpus": None if e is None else e.settings.all_gpus,
        "host_gb": None if e is None else e.host["offload_gb"],
        "ram_gb": plan.ram_gb,
        "assumptions": None if e is None else assumptions_json(e),
        "to_fit": changes_json(plan.to_fit()),
        "reasons": list(plan.reasons),
        "rules": list(plan.rules),
        "caveats": list(plan.caveats),
        "tools": [{"library": t.library, "entry": t.entry} for t in plan.tools],
    }


def plan_time_json(plan: Plan) -> TimedJson:
    """A plan's time and cost fields, which follow its untimed document."""
    out: TimedJson = {}
    add_time(out, plan.timed, plan.estimate is not None and plan.estimate.shape.is_moe)
    return out


def plan_json(plan: Plan, rank: int | None, trace: tuple[RuleHit, ...] | None) -> PlanJson:
    """A plan's document; with `trace` (--explain), the rules that fired and what they saw."""
    out = untimed_plan_json(plan)
    add_time(out, plan.timed, plan.estimate is not None and plan.estimate.shape.is_moe)
    if rank is not None:
        out = {"rank": rank, **out}
    if trace is not None:
        out["trace"] = [_trace(h) for h in trace]
    return out


def grouped_tools(plan: Plan) -> list[str]:
    """The plan's library entries that apply to it, repeats removed (Engine._collect_tools), one
    `library: entry` line each: short lines that paste as they are."""
    return [f"{tool.library}: {translated(tool.entry)}" for tool in plan.tools]


def encoder_for_generation(rec: Recommendation, plan: Plan) -> bool:
    """A training plan for an encoder and a goal that needs generated text: `recipe` refuses it
    (it would write a classifier), so no recipe command is offered."""
    generative = rec.request is not None and rec.request.goal in GENERATIVE_GOALS
    encoder = rec.model is not None and rec.model.architecture == "encoder"
    return generative and encoder and plan.kind != "no-training"


def offloaded_quantized_base(rec: Recommendation, plan: Plan) -> bool:
    """A QLoRA plan with its quantized base in CPU RAM, ranked with the Python recipes' own stack
    (`trl`): FSDP-QLoRA, which `recipe` writes only for axolotl, for the families whose decoder
    layer it wraps (Plan.loads_shard_by_shard), and otherwise names the scripts that run
    (recipes/writer.py). Ranked with another stack, the recipe's own estimate may fit on the GPUs
    alone and drop the offload (recipes/estimate.py), so the command is offered."""
    e = plan.estimate
    offloaded = e is not None and e.memory_model == "qlora" and plan.offload == "params"
    return offloaded and e is not None and e.settings.stack == "trl" and not _written_shard_loaded(rec, plan)


def requantized_checkpoint(rec: Recommendation, plan: Plan) -> bool:
    """A QLoRA plan on a checkpoint stored in another quantization (gpt-oss's MXFP4), ranked with
    --stack unsloth, whose bitsandbytes copy of the model makes it possible: `recipe` loads the
    given checkpoint with transformers, which refuses to quantize it again (recipes/writer.py)."""
    e = plan.estimate
    return e is not None and e.memory_model == "qlora" and rec.model is not None and rec.model.prequantized


def apple_quantized_base(rec: Recommendation, plan: Plan) -> bool:
    """A QLoRA plan on Apple silicon, which the PyTorch recipes refuse (recipes/writer.py
    _check_hardware: bitsandbytes' 4-bit base and paged optimizer are CUDA's and ROCm's) and
    `--trainer mlx` writes as mlx-lm's LoRA on a quantized model. Other plans never assume a
    bitsandbytes optimizer there (variants.applies)."""
    e = plan.estimate
    return e is not None and e.memory_model == "qlora" and rec.facts.get("gpu_vendor") == "apple"


# What mlx-lm trains, as recipes/formats/mlx.py writes it: one supervised stage, its length in
# iterations counted from --examples. Stated here because `recommend` does not load the recipe
# formats.
MLX_STAGES = frozenset({"sft", "continued-pretraining"})


def _apple_quantized_note(rec: Recommendation, plan: Plan) -> str | None:
    """Why a QLoRA plan on Apple silicon has no recipe line, or None: `--trainer mlx` writes it."""
    if not set(plan.pipeline) <= MLX_STAGES:
        return t(
            "none on Apple silicon: bitsandbytes has no paged or 8-bit optimizers and no optimized 4-bit "
            "kernels on MPS, and mlx-lm, which trains QLoRA there, trains one SFT or continued "
            "pre-training stage on one Mac; --plan N writes another plan."
        )
    if rec.request is not None and rec.request.examples is None:
        return t(
            "none without --examples: on Apple silicon QLoRA is mlx-lm's (bitsandbytes has no paged or "
            "8-bit optimizers and no optimized 4-bit kernels on MPS), and mlx-lm counts its training in "
            "iterations, so its config needs the number of examples; with --examples N, `ft-atlas recipe "
            "... --trainer mlx` writes it."
        )
    return None


def shard_loaded_elsewhere(rec: Recommendation, plan: Plan) -> bool:
    """The plan fits only with its 4-bit base loaded shard by shard, and ft-atlas does not write it
    so (Plan.loads_shard_by_shard)."""
    e = plan.estimate
    return e is not None and e.settings.sharded_loading and not _written_shard_loaded(rec, plan)


def _written_shard_loaded(rec: Recommendation, plan: Plan) -> bool:
    """axolotl writes the plan with its 4-bit base loaded shard by shard (Plan.loads_shard_by_shard),
    unless the model's template drops its answers' reasoning, which axolotl's recipe refuses."""
    layer = None if rec.model is None else rec.model.fsdp_qlora_layer
    return plan.loads_shard_by_shard(layer) and not drops_answers_thinking(rec, plan)


def drops_answers_thinking(rec: Recommendation, plan: Plan) -> bool:
    """The plan trains generated answers of a model whose template drops their reasoning, which
    axolotl and mlx-lm refuse (names.trains_thinking_away, as the recipes check it; labelled data
    trains labels)."""
    labels = rec.profile.get("data_kind") == "labeled"
    return trains_thinking_away(str(rec.profile.get("model") or ""), plan.pipeline, labels)


def recipe_note(rec: Recommendation, plan: Plan) -> str | None:
    """Why there is no `ft-atlas recipe ...` line for the plan (recipe_command is None), in
    words a user can act on; None when there is one."""
    if encoder_for_generation(rec, plan):
        return t("none: an encoder does not generate text; choose a decoder model with --model.")
    if rec.model is not None and rec.model.architecture == "encoder-decoder":
        return t(
            "none: recipes write decoder models and encoder classifiers; an encoder-decoder (T5) trains "
            "with transformers' Seq2SeqTrainer and DataCollatorForSeq2Seq."
        )
    if requantized_checkpoint(rec, plan):
        return t(
            "none for this checkpoint: it is stored as {stored}, which bitsandbytes cannot quantize "
            "again; pass a bitsandbytes 4-bit copy with --model (Unsloth's, e.g. "
            "unsloth/gpt-oss-20b-unsloth-bnb-4bit for gpt-oss-20b), or --plan N writes another plan.",
            stored=rec.model.weights_dtype if rec.model is not None else "",
        )
    if plan.kind != "no-training" and rec.model is not None and rec.model.integer_quantized:
        method = rec.model.spec.quant_method if rec.model.spec is not None else None
        return t("none: {why}.", why=t(INTEGER_QUANTIZED_RECIPE, method=method or "?"))
    apple = _apple_quantized_note(rec, plan) if apple_quantized_base(rec, plan) else None
    if apple is not None:
        return apple
    if shard_loaded_elsewhere(rec, plan):
        return t(
            "none: QLoRA with its base loaded shard by shard under FSDP runs with axolotl's "
            "qlora_sharded_model_loading (FSDP1) or Answer.AI's fsdp_qlora train.py, which document "
            "Llama and Mistral models and supervised training; `ft-atlas recipe` says why and how, "
            "--plan N writes another plan."
        )
    if _quantized_sampled_by_vllm(plan):
        return t(
            "none: QLoRA sampled with vLLM is Unsloth's (its vLLM serves the 4-bit model itself), in its "
            "own FastLanguageModel scripts, which ft-atlas does not write; the recipes train with TRL, "
            "which cannot yet (huggingface/trl#4973). --plan N writes a 16-bit LoRA plan."
        )
    if _server_across_nodes(plan):
        return t(
            "none: a vLLM server beside training is written on one node only (its last GPUs serve); "
            "across nodes run `trl vllm-serve` on a node of its own and set vllm_server_host to it, or "
            "give --gpus {most} or fewer.",
            most=GPUS_PER_NODE,
        )
    if offloaded_quantized_base(rec, plan):
        return t(
            "none: FSDP-QLoRA (the quantized base in CPU RAM) runs with PEFT's examples/sft/"
            "run_peft_qlora_fsdp.sh or axolotl's examples/llama-3/qlora-fsdp-70b.yaml; `ft-atlas "
            "recipe` says why, --plan N writes another plan."
        )
    # A hosted plan that trains nothing embeds texts: its Python recipe embeds them here.
    if rec.request is not None and (plan.runs != "hosted" or plan.kind == "no-training"):
        return None
    if plan.kind != "no-training":
        return t("none to write; the provider runs the training (see its card).")
    return t("none to write; the card's example code is the whole program (see its card).")


def _quantized_sampled_by_vllm(plan: Plan) -> bool:
    """A QLoRA plan whose online stage samples with vLLM (--stack unsloth: recipes/writer.py
    _check_quantized_sampling refuses it)."""
    e = plan.estimate
    if e is None or not MEMORY_MODELS[e.memory_model].quantized_base:
        return False
    return any(served_by_vllm(e.memory_model, stage.settings) for stage in (e, *e.other_stages))


def _server_across_nodes(plan: Plan) -> bool:
    """A plan sampling on a vLLM server that spans nodes with its training (recipes refuse it)."""
    e = plan.estimate
    return e is not None and e.settings.vllm_server_gpus > 0 and node_layout(e.settings.all_gpus)[0] > 1


def recipe_command(rec: Recommendation, rank: int) -> str | None:
    """The `ft-atlas recipe ...` line that writes the recipe of the plan ranked `rank` for this
    profile (None where there is no script to write: a hosted plan, an encoder asked to generate,
    FSDP-QLoRA: offloaded_quantized_base, QLoRA of a pre-quantized checkpoint). QLoRA on Apple
    silicon names --trainer mlx: no PyTorch recipe writes it there."""
    plan = rec.plans[rank - 1]
    if rec.request is None or recipe_note(rec, plan) is not None:
        return None
    line = _recipe_line(rec.request)
    if rank != 1:
        line += f" --plan {rank}"
    if apple_quantized_base(rec, plan):
        return f"{line} --trainer mlx"
    # TRL trains these stages only in trl.experimental; Python recipes use stable APIs only.
    return f"{line} --trainer {EXPERIMENTAL_STAGES_TRAINER}" if plan.experimental_stages else line


@functools.lru_cache(maxsize=4096)
def _recipe_line(profile: Profile) -> str:
    """Batch files repeat profiles: the line is built once per distinct profile."""
    return command_line(profile.to_dict(), command="recipe")


def advice_json(advice: tuple[Advice, ...]) -> list[AdviceJson]:
    return [{"text": a.text.get(), "source": a.source} for a in advice]


def next_steps_json(rec: Recommendation, with_lists: bool = True) -> NextStepsJson | None:
    """What to do with the top plan (`with_lists=False`: without its tools and advice, which
    batch mode encodes once and reuses)."""
    if not rec.plans:
        return None
    best = rec.plans[0]
    return {
        "plan": 1,
        "method": best.method,
        "tools": grouped_tools(best) if with_lists else [],
        "recipe": recipe_command(rec, 1),
        "recipe_note": recipe_note(rec, best),
        "example": " · ".join(f"ft-atlas show {m}" for m in (best.method, *best.pipeline) if m != "sft"),
        "evaluation": advice_json(rec.evaluation) if with_lists else [],
    }


def recommendation_json(rec: Recommendation, top: int, explain: bool) -> RecommendationJson:
    out: RecommendationJson = {
        "schema_version": SCHEMA_VERSION,
        "profile": rec.profile,
        "notes": list(rec.notes),
        "next_steps": next_steps_json(rec),
        "recommendations": [
            plan_json(p, i, rec.trace(p) if explain else None) for i, p in enumerate(rec.shown(top), start=1)
        ],
    }
    if explain:
        out["excluded"] = [plan_json(p, None, rec.trace(p)) for p in rec.excluded]
        out["facts"] = dict(rec.facts)
    return out


def method_json(method: Method) -> dict[str, Any]:
    return {"schema_version": SCHEMA_VERSION, "method": _dump(method)}


def _dump(item: Any) -> Any:
    """A KB entry as stored; in Russian, every text's `ru` holds its translation (kb/schema.py Text)."""
    return item.model_dump(mode="json", by_alias=True, context={"lang": language()})


def model_source_json(info: ModelInfo) -> ModelSourceJson:
    return {
        "name": info.label,
        "catalog_id": info.model_id,
        "source": info.source,
        "where": info.where,
        "variant": info.variant,
        "checkpoint": info.other_checkpoint,
        "params_b": info.params_b,
        "active_params_b": info.active_params_b,
        "is_moe": info.is_moe,
        "notes": list(info.notes),
        "warnings": list(info.warnings),
    }


def _global_attention_json(m: LlmModel, shape: Shape) -> GlobalAttentionJson | None:
    """Gemma 4's full-attention layers, where their widths are their own."""
    if not shape.global_layers:
        return None
    return {
        "layers": shape.global_layers,
        "kv_heads": shape.global_kv_heads,
        "head_dim": shape.global_q_dim // m.attention_heads,
        "keys_are_values": m.global_keys_are_values,
    }


def _linear_attention_json(m: LlmModel) -> LinearAttentionJson | None:
    """Qwen3.5's Gated DeltaNet layers."""
    gdn = m.linear_attention
    if gdn is None:
        return None
    return {
        "layers": gdn.layers,
        "key_heads": gdn.key_heads,
        "value_heads": gdn.value_heads,
        "key_head_dim": gdn.key_head_dim,
        "value_head_dim": gdn.value_head_dim,
        "conv_kernel": gdn.conv_kernel,
        "fused_projections": gdn.fused_projections,
    }


def model_json(info: ModelInfo) -> ModelJson:
    """A sized model's document (an API model has no shape: the caller refuses it)."""
    m, shape = info.spec, info.sized
    assert m is not None  # every sized model carries its LlmModel
    moe, mla = m.moe, m.latent_attention
    experts: ExpertsJson | None = None
    if moe is not None:
        experts = {
            "routed": moe.experts,
            "active": moe.active,
            "shared": moe.shared_experts,
            "expert_intermediate_size": moe.intermediate_size,
            "shared_intermediate_size": moe.shared_intermediate_size,
            "moe_layers": m.layers + (m.decoder_layers or 0) - moe.dense_layers,
            "dense_layers": moe.dense_layers,
            "beside_dense_mlp": moe.beside_dense_mlp,
            "shared_expert_gate": moe.shared_expert_gate,
        }
    return {
        "schema_version": SCHEMA_VERSION,
        "model": model_source_json(info),
        "family": m.family,
        "architecture": m.architecture,
        "params_b": billions(shape.params),
        "active_params_b": billions(shape.active_params),
        "published_params_b": m.params_b if info.source == "catalog" else None,
        "layers": m.layers,
        "decoder_layers": m.decoder_layers,
        "hidden_size": m.hidden_size,
        "attention_heads": m.attention_heads,
        "kv_heads": m.kv_heads,
        "head_dim": m.head_dim or m.hidden_size // m.attention_heads,
        "intermediate_size": m.intermediate_size,
        "gated_mlp": m.gated_mlp,
        "vocab_size": m.vocab_size,
        "tied_embeddings": m.tied_embeddings,
        "bias": m.bias_scope if m.has_bias else None,
        "experts": experts,
        "latent_attention": None
        if mla is None
        else {
            "q_lora_rank": mla.q_lora_rank,
            "kv_lora_rank": mla.kv_lora_rank,
            "qk_nope_head_dim": mla.qk_nope_head_dim,
            "qk_rope_head_dim": mla.qk_rope_head_dim,
            "v_head_dim": mla.v_head_dim,
        },
        "global_attention": _global_attention_json(m, shape),
        "linear_attention": _linear_attention_json(m),
        "attention_output_gate": m.attention_output_gate,
        "weights_dtype": m.weights_dtype,
        "context_length": m.context_length,
        "repo": info.repo,
    }


# --- catalog documents ---------------------------------------------------------------------------


def methods_json(methods: list[Method], lang: Lang) -> MethodsJson:
    rows: list[MethodRowJson] = [
        {
            "id": m.id,
            "name": m.name,
            "kind": m.kind,
            "category": m.category,
            "summary": m.summary.get(lang),
            "memory": m.ratings.memory,
            "speed": m.ratings.speed,
            "quality": m.ratings.quality,
        }
        for m in methods
    ]
    return {"schema_version": SCHEMA_VERSION, "methods": rows}


def validation_json(path: str, kb: KnowledgeBase) -> ValidJson:
    counts: CountsJson = {
        "methods": len(kb.methods),
        "rules": len(kb.rules),
        "pipelines": len(kb.pipelines),
        "gpus": len(kb.gpus),
        "models": len(kb.models),
    }
    return {"schema_version": SCHEMA_VERSION, "path": path, "valid": True, "counts": counts}


def problems_json(path: str, problems: list[str]) -> InvalidJson:
    return {"schema_version": SCHEMA_VERSION, "path": path, "valid": False, "problems": problems}


def dumped(items: Any) -> list[Any]:
    """KB entries as they are stored (the catalog documents)."""
    return [_dump(item) for item in items]


def recipe_memory_json(e: Estimate) -> RecipeMemoryJson:
    return {
        "objective": str(e.objective),
        "per_gpu_gb": e.per_gpu_gb,
        "capacity_gb": e.capacity_gb,
        "fits": e.fits,
        "fit": e.fit,
        "headroom_gb": e.headroom_gb,
        "assumptions": assumptions_json(e),
    }


def recipe_json(
    trainer: str,
    profile: dict[str, Any],
    rank: int,
    plan: Plan,
    settings: dict[str, tuple[Any, str]],
    estimates: list[Estimate],
    timed: Timed | None,
    files: list[tuple[str, str]],
    launch: str,
    notes: list[str],
) -> RecipeJson:
    out: RecipeJson = {
        "schema_version": SCHEMA_VERSION,
        "trainer": trainer,
        "profile": profile,
        "rank": rank,
        "method": plan.method,
        "name": plan.name,
        "pipeline": list(plan.pipeline),
        "settings": {key: {"value": value, "source": source} for key, (value, source) in settings.items()},
        "memory": [recipe_memory_json(e) for e in estimates],
        "files": [{"name": name, "text": text} for name, text in files],
        "launch": launch,
        "notes": notes,
    }
    moe = bool(estimates) and estimates[0].shape.is_moe
    add_time(out, timed if timed is not None else Timed(None, None, "no training"), moe)
    return out
