"""mlx-lm YAML: one config for `mlx_lm.lora --config sft.yaml`, Apple's MLX trainer on Apple
silicon. LoRA, DoRA, QLoRA (LoRA on a model `mlx_lm.convert -q` quantizes first), full and
partial fine-tuning (`fine_tune_type: full` on every block, or on the top N), for SFT and
continued pre-training: mlx-lm has no preference or RL trainer.

Every key and default below was read from ml-explore/mlx-lm at COMMIT: mlx_lm/lora.py
(CONFIG_DEFAULTS, build_parser, train_model), mlx_lm/tuner/utils.py (build_schedule,
linear_to_lora_layers), mlx_lm/tuner/datasets.py (the text, completions and chat formats),
mlx_lm/tuner/trainer.py (iterations, evaluation, saving), mlx_lm/convert.py and mlx_lm/utils.py
(quantize_model), mlx_lm/LORA.md and mlx_lm/examples/lora_config.yaml."""

from __future__ import annotations

import hashlib
import math
import re
from typing import Any

from atlas_cli.core.shell import shell_word
from atlas_cli.errors import one_line
from atlas_cli.i18n import N_, nt, t, translated
from atlas_cli.kb.vocabulary import SUPERVISED_STAGES
from atlas_cli.recipes.registry import Rendered, TrainerFormat, register
from atlas_cli.recipes.settings import (
    DROPS_THINKING_GAP,
    MAX_HELD_SHARE,
    Recipe,
    Setting,
    held_out_rows,
    labels_as_answers,
    trains_answers_without_thinking,
    untrained_chat_tokens,
)
from atlas_cli.recipes.yamlout import yaml_block, yaml_files

# ml-explore/mlx-lm's main branch at 2026-08-22 (its mlx_lm/_version.py: 0.32.0).
VERSION = "0.32.0"
COMMIT = "d78bf58e217c904ec282ed8da9b947491f78c022"
MLX_LEARNING_RATE = 1e-5  # mlx_lm/lora.py CONFIG_DEFAULTS learning_rate
SOURCE = f"ml-explore/mlx-lm@{COMMIT[:10]}"
WRITTEN_FOR = N_(
    "Written for: mlx-lm {version} ({source}: the keys and defaults of mlx_lm/lora.py CONFIG_DEFAULTS "
    'and its argument parser), on Apple silicon: pip install "mlx-lm[train]".'
)

# mlx_lm.lora's --fine-tune-type for each way of training: QLoRA is LoRA on a quantized model
# ("If --model points to a quantized model, then the training will use QLoRA", LORA.md), and
# partial fine-tuning is full fine-tuning of the top --num-layers blocks (train_model unfreezes
# model.layers[-num_layers:]).
FINE_TUNE_TYPE = {"lora": "lora", "qlora": "lora", "dora": "dora", "full": "full", "partial": "full"}
# The optimizer every mlx recipe writes (and is estimated with: settings.ESTIMATOR_OPTIMIZER
# knows the name), with the arguments that make it run as the plan's AdamW does:
# mlx.optimizers.AdamW defaults to weight_decay 0.01 and no bias correction, where transformers'
# TrainingArguments gives weight_decay 0.0 and torch's AdamW corrects the bias (mlx-lm's
# examples/lora_config.yaml lists both keys under optimizer_config.adamw).
OPTIMIZER = "adamw"
OPTIMIZER_CONFIG: dict[str, Any] = {"weight_decay": 0.0, "bias_correction": True}
# mlx_lm/utils.py quantize_model: affine quantization in groups of 64 unless told otherwise.
GROUP_SIZE = 64
# Where the converted models go (mlx_lm.convert --mlx-path; it makes the parents).
CONVERTED = "mlx_models"

FP32_WEIGHTS = (
    "mlx-lm's optimizers update each weight in its own dtype, with no fp32 master copy (mlx.optimizers "
    "Adam.apply_single; mlx_lm/tuner/trainer.py): in bf16 an update of lr ~1e-5 rounds away, so the "
    "weights it trains load in fp32 (mlx_lm.convert --dtype float32); Apple GPUs run fp32 at their fp16 "
    "rate"
)
ADAMW = (
    "mlx-lm's adamw (mlx.optimizers.AdamW) with optimizer_config weight_decay 0.0 and bias_correction "
    "true: the maths of the plan's AdamW (transformers' TrainingArguments weight_decay 0.0; torch corrects "
    "the bias), with fp32 states for fp32 weights"
)
NO_PACKING = (
    "mlx-lm pads each example alone (tuner/trainer.py iterate_batches: to the batch's longest, a multiple "
    "of 32): it has no packing"
)
EXPERTS = (
    "mlx-lm adapts every linear layer of the blocks it converts, a mixture of experts' routed experts "
    "too (tuner/utils.py linear_to_lora_layers: LoRASwitchLinear), and the recipe's estimate counts them"
)
QUANT_GROUP = (
    f"mlx_lm.convert -q: affine quantization in groups of {GROUP_SIZE} with a bf16 scale and bias each "
    "(mlx_lm/utils.py quantize_model defaults), the embeddings and LM head too, not bitsandbytes' NF4"
)


def gap(recipe: Recipe) -> str | None:
    """What mlx_lm.lora cannot train, checked on the plan and again once it is settled."""
    other = sorted(set(recipe.stages) - set(SUPERVISED_STAGES))
    if other:
        return t(
            "mlx-lm has no preference or reinforcement-learning trainer: mlx_lm.lora trains SFT and "
            "continued pre-training only, not {stage}",
            stage=other[0].upper(),
        )
    if recipe.memory_model not in FINE_TUNE_TYPE:
        return t(
            "mlx_lm.lora trains LoRA, DoRA and full fine-tuning (of every block or the top N), and QLoRA "
            "on a quantized model; {name} is not among them",
            name=translated(recipe.plan.name),
        )
    if len(recipe.stages) > 1:
        return t("mlx_lm.lora trains one stage per run; this plan has {count}", count=len(recipe.stages))
    if trains_answers_without_thinking(recipe):  # mlx_lm/tuner/datasets.py: apply_chat_template
        return t(DROPS_THINKING_GAP, trainer="mlx-lm", also="")
    if recipe.stored_quantized:
        return t(
            "the checkpoint is stored as {stored}, which mlx-lm loads in a quantized form of its own that "
            "ft-atlas does not size; pass a 16-bit checkpoint with --model",
            stored=recipe.weights_dtype,
        )
    estimate = recipe.plan.estimate
    moe = estimate is not None and bool(estimate.shape.experts)
    if recipe.memory_model == "dora" and moe:
        return t(
            "mlx-lm's DoRA does not adapt a mixture of experts' routed experts (tuner/utils.py: "
            "'SwitchLinear doesn't support DoRA yet'), and adapts them whenever it adapts the blocks; pick "
            "LoRA with --plan"
        )
    if recipe.has("lora.targets") and recipe.value("lora.targets") != "all-linear":
        return t(
            "mlx-lm names the layers it adapts by their path in a block (lora_parameters.keys), which "
            "ft-atlas does not know for {targets}; use LoRA on all linear layers, or --trainer python",
            targets=str(recipe.value("lora.targets")),
        )
    if _examples(recipe) is None:
        return t(
            "mlx-lm counts training in iterations (batches), not epochs, so its config needs the size of "
            "the data: give --examples N, the rows of your training file"
        )
    return None


def _examples(recipe: Recipe) -> int | None:
    examples = recipe.profile.get("examples")
    return examples if isinstance(examples, int) and not isinstance(examples, bool) else None


def adjust(recipe: Recipe) -> None:
    """What mlx-lm runs differently from the plan's PyTorch settings, before the recipe is sized."""
    if recipe.family == "weights":
        recipe.set("precision", Setting("fp32", FP32_WEIGHTS))
    if recipe.has("optim"):
        recipe.set("optim", Setting(OPTIMIZER, ADAMW))
    for stage in recipe.stages:
        recipe.set(f"packing.{stage}", Setting(False, NO_PACKING))
    # PEFT's names and bitsandbytes' settings, which an mlx-lm config has no place for: mlx-lm
    # loads a vision-language model's text model only (its sanitize drops vision_tower).
    for key in ("lora.exclude", "lora.expert_parameters", "quant.type", "quant.double"):
        recipe.settings.pop(key, None)
    estimate = recipe.plan.estimate
    if recipe.family == "lora" and estimate is not None and estimate.shape.experts:
        recipe.lora_experts = True
        recipe.set("lora.experts", Setting(True, EXPERTS))
    if recipe.memory_model == "qlora":
        recipe.set("quant.group_size", Setting(GROUP_SIZE, QUANT_GROUP))


def _held_out(recipe: Recipe, examples: int, batch: int) -> int:
    """valid.jsonl's rows: the share every format holds out, but at least one batch, which
    mlx-lm's evaluation needs (iterate_batches: 'Dataset must have at least batch_size examples');
    none where that would be more than MAX_HELD_SHARE of the rows."""
    if not recipe.has("eval.share"):
        return 0
    held = held_out_rows(examples)
    if 0 < held < batch:
        held = batch if batch <= examples * MAX_HELD_SHARE else 0
    return held


def _schedule(recipe: Recipe, stage: str, examples: int) -> dict[str, Any]:
    """iters, the optimizer steps they make, the evaluation and save intervals and the warm-up, each
    set with its source (the header lists them)."""
    batch, accumulation = (
        int(recipe.stage_value("batch", stage)),
        int(recipe.stage_value("grad_accum", stage)),
    )
    epochs = float(recipe.stage_value("epochs", stage))
    held = _held_out(recipe, examples, batch)
    train = examples - held
    # iterate_batches makes len // batch_size batches of an epoch (a last partial one is dropped)
    # and loops over them; an optimizer step every grad_accumulation_steps iterations.
    batches = max(1, train // batch)
    steps = max(1, math.ceil(math.ceil(epochs * batches) / accumulation))
    iters = steps * accumulation
    recipe.set(
        f"iters.{stage}",
        Setting(
            iters,
            f"{epochs:g} epochs x {batches} batches of {batch} from {train} training rows (--examples "
            f"{examples}, {held} held out), rounded up to {steps} optimizer steps of {accumulation} "
            "batches: mlx-lm counts iterations, not epochs",
        ),
    )
    if held:
        recipe.set(
            f"eval.rows.{stage}", Setting(held, f"eval.share of --examples {examples}, at least one batch")
        )
        every = max(1, math.ceil(iters * float(recipe.value("eval.every"))))
        recipe.set(
            f"eval.steps.{stage}",
            Setting(every, "eval.every of the iterations; mlx-lm also evaluates at the first and the last"),
        )
    save = max(1, math.ceil(iters * float(recipe.value("save.every"))))
    recipe.set(f"save.steps.{stage}", Setting(save, "save.every of the iterations"))
    warmup = math.ceil(steps * float(recipe.value("warmup_ratio")))
    recipe.set(
        f"warmup.{stage}",
        Setting(warmup, "warmup_ratio of the optimizer steps, rounded up (transformers' get_warmup_steps)"),
    )
    return {"batch": batch, "accumulation": accumulation, "held": held, "iters": iters, "steps": steps}


def _lora_parameters(recipe: Recipe) -> dict[str, Any]:
    """lora_parameters, whole: the config's dict replaces mlx-lm's default one, and LoRALinear
    reads rank, scale and dropout from it. mlx-lm adds scale * (x @ A) @ B, A uniform in
    +-1/sqrt(in) and B zero (tuner/lora.py), as PEFT adds lora_alpha / r times the same product
    from the same start: scale = alpha / r."""
    rank = int(recipe.value("lora.r"))
    if recipe.has("lora.alpha"):
        alpha = float(recipe.value("lora.alpha"))
        recipe.set(
            "lora.scale",
            Setting(alpha / rank, f"lora.alpha / lora.r = {alpha:g} / {rank}: PEFT's lora_alpha / r scaling"),
        )
    else:
        recipe.set("lora.scale", Setting(20.0, "mlx-lm's default (lora.py CONFIG_DEFAULTS lora_parameters)"))
    dropout = float(recipe.value("lora.dropout")) if recipe.has("lora.dropout") else 0.0
    return {"rank": rank, "scale": recipe.value("lora.scale"), "dropout": dropout}


def _num_layers(recipe: Recipe) -> int:
    """-1 (every block: mlx-lm's default is the last 16) unless the plan trains the top blocks only."""
    if recipe.memory_model != "partial" or not recipe.has("partial.fraction"):
        return -1
    estimate = recipe.plan.estimate  # Apple GPUs always have one: the model's depth
    if estimate is None:
        return -1
    return max(1, round(estimate.shape.layers * float(recipe.value("partial.fraction"))))


def _conversion(recipe: Recipe) -> tuple[str, list[str], str] | None:
    """The model mlx_lm.convert makes first, its options and why: QLoRA's quantized model, the
    fp32 copy full fine-tuning updates, a bf16 copy of a checkpoint stored in fp32 or fp16
    (mlx-lm computes in the dtype it loads); None: mlx-lm loads the checkpoint as it is."""
    # The directory is ft-atlas's to name: the checkpoint's last path part, in safe characters, and
    # a digest of the whole of it, since the Run line converts only where the directory is missing
    # (an attacker's review: runs/a/model and runs/b/model, or meta-llama/X and unsloth/X, shared
    # one converted copy, and the second recipe trained the first model).
    last = recipe.model_hint.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    digest = hashlib.sha256(recipe.model_hint.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    name = f"{re.sub(r'[^A-Za-z0-9._-]+', '-', last).strip('-.') or 'model'}-{digest}"
    stored = recipe.weights_dtype
    bf16 = ["--dtype", "bfloat16"] if stored in ("fp32", "fp16") else []
    if recipe.memory_model == "qlora":
        bits = int(recipe.value("quant.bits")) if recipe.has("quant.bits") else 4
        options = ["-q", "--q-bits", str(bits), "--q-group-size", str(GROUP_SIZE), *bf16]
        why = "QLoRA is mlx-lm's LoRA on a quantized model (LORA.md)"
        return f"{CONVERTED}/{name}-{bits}bit", options, why
    if recipe.family == "weights":
        return (
            f"{CONVERTED}/{name}-fp32",
            ["--dtype", "float32"],
            "the weights it trains, in fp32 (precision)",
        )
    if bf16:
        why = f"mlx-lm computes in the dtype it loads, and the checkpoint is stored in {stored}"
        return f"{CONVERTED}/{name}-bf16", bf16, why
    return None


def _data(recipe: Recipe, stage: str) -> tuple[str, bool]:
    """The file the rows come from, and whether the prompt is masked: SFT trains the completion
    (the last message of a conversation), continued pre-training every token of its text, and a
    base model whose chat tokens never trained (Llama 3's) the whole of each joined row (_joined)."""
    if stage == "continued-pretraining":
        return "text.jsonl", False
    return "sft.jsonl", not _joined(recipe, stage)


def _joined(recipe: Recipe, stage: str) -> bool:
    """SFT rows joined into plain text: mlx-lm's completions format wraps prompt and completion in
    the tokenizer's chat template (tuner/datasets.py CompletionsDataset), whose special tokens a
    Llama 3 base never trained; the Python recipe swaps in a plain template and LLaMA-Factory's
    writes template: default (an expert's review: the mlx recipe only warned)."""
    return stage == "sft" and untrained_chat_tokens(recipe) is not None


def _split_command(source: str, held: int, joined: bool = False) -> str:
    """Python that writes data/train.jsonl and data/valid.jsonl from `source`, `held` rows held out
    (seeded): mlx-lm reads a directory of them and holds nothing out itself; `joined`, each
    prompt/completion row as one {"text": prompt + completion}. It stops before writing anything
    where either file is there already (a review: a half-written split, or a stale valid.jsonl
    beside the user's own train.jsonl), and opens them with 'x' besides."""
    valid = f"(d / 'valid.jsonl').open('x', encoding='utf-8').write(''.join(rows[:{held}])); " if held else ""
    row = (
        "json.dumps({'text': (j := json.loads(r))['prompt'] + j['completion']}) + '\\n'"
        if joined
        else "r.strip() + '\\n'"
    )
    modules = "json, pathlib, random, sys" if joined else "pathlib, random, sys"
    return (
        f'python -c "import {modules}; '
        f"rows = [{row} for r in open('{source}', encoding='utf-8') if r.strip()]; "
        "random.Random(0).shuffle(rows); d = pathlib.Path('data'); d.mkdir(exist_ok=True); "
        "any((d / n).exists() for n in ('train.jsonl', 'valid.jsonl')) and sys.exit('data/ holds "
        "train.jsonl or valid.jsonl already: move them away to split again'); "
        f"{valid}(d / 'train.jsonl').open('x', encoding='utf-8').write(''.join(rows[{held}:]))\""
    )


def _notes(recipe: Recipe, stage: str, source: str, plan: dict[str, Any]) -> None:
    held = plan["held"]
    recipe.notes.append(
        nt(
            "Data: mlx-lm reads data/train.jsonl and data/valid.jsonl and holds nothing out itself; the "
            "config's first comment makes them from {source}, {held} row held out (seeded).",
            "Data: mlx-lm reads data/train.jsonl and data/valid.jsonl and holds nothing out itself; the "
            "config's first comment makes them from {source}, {held} rows held out (seeded).",
            held,
            source=source,
            held=held,
        )
        if held
        else t(
            "Data: mlx-lm reads data/train.jsonl and data/valid.jsonl and holds nothing out itself; the "
            "config's first comment makes them from {source}, every row training.",
            source=source,
        )
    )
    seq_len = recipe.value("seq_len")
    if stage == "continued-pretraining":
        recipe.notes.append(
            t(
                'text.jsonl rows are {{"text": "..."}}: mlx-lm pads each document alone and cuts one longer '
                "than max_seq_length there, dropping the rest, so split documents into pieces of at most "
                "{seq_len} tokens first.",
                seq_len=seq_len,
            )
        )
    elif recipe.post_trained:
        recipe.notes.append(
            t(
                'SFT data for an instruct model: sft.jsonl holds conversations, {"messages": [{"role": '
                '"user", "content": "..."}, {"role": "assistant", "content": "..."}]}, rendered with the '
                "model's chat template; with mask_prompt mlx-lm trains the last message only "
                "(tuner/datasets.py ChatDataset), so give each reply to be learned a row ending with it."
            )
        )
    elif _joined(recipe, stage):
        recipe.notes.append(
            t(
                'sft.jsonl rows are {{"prompt": "...", "completion": "..."}}: this base model never trained '
                "the special tokens of its chat template ({family}'s), in which mlx-lm's completions format "
                'would wrap them, so the config\'s first comment joins each row into {{"text": prompt + '
                "completion}} and trains every token of it (mask_prompt: false): end each prompt with the "
                "words that lead into its answer.",
                family=untrained_chat_tokens(recipe),
            )
        )
    else:
        recipe.notes.append(
            t(
                'sft.jsonl rows are {"prompt": "...", "completion": "..."}: mlx-lm renders them as a user '
                "and an assistant turn with the tokenizer's chat template (tuner/datasets.py "
                "CompletionsDataset) and trains the completion (mask_prompt). A base checkpoint may lack a "
                "chat template ('chat_template is not set') or never have trained its special tokens "
                '(Llama 3\'s): then write rows as {"text": prompt + completion} and set mask_prompt: false.'
            )
        )
    recipe.notes += labels_as_answers(recipe, "mlx-lm")
    if held:
        recipe.notes.append(
            t(
                "Evaluation: mlx-lm evaluates the whole valid.jsonl (val_batches: -1) at the first iteration "
                "(a baseline), every steps_per_eval iterations and at the last."
            )
        )
    kept = t("every trained weight in fp32") if recipe.family == "weights" else t("the adapter")
    recipe.notes.append(
        t(
            "Checkpoints: mlx-lm writes adapters.safetensors and a numbered copy every save_every "
            "iterations and keeps them all (no save_total_limit); each holds {kept}.",
            kept=kept,
        )
    )
    if recipe.memory_model == "full":
        recipe.notes.append(
            t(
                "mlx-lm's full fine-tuning trains every block (model.layers), not the embeddings, the final "
                "norm or the LM head; the memory estimate counts them as trained, so it is high by their "
                "gradients and optimizer states."
            )
        )
    quantized = (
        " "
        + t(
            "Its 4-bit weights carry a bf16 scale and bias per 64 (4.5 bits, where NF4 takes 4.13), but its "
            "embeddings and LM head are quantized too."
        )
        if recipe.memory_model == "qlora"
        else ""
    )
    recipe.notes.append(
        t(
            "Memory: estimated as mlx-lm runs these settings (stack mlx: its bf16 logits, their log-sum-exp "
            "and gradient, and layers sized as PyTorch's).{quantized} Time: Apple publishes no GPU "
            "throughput to estimate it from.",
            quantized=quantized,
        )
    )


def _model_values(recipe: Recipe, model: str) -> dict[str, Any]:
    values: dict[str, Any] = {
        "model": model,
        "fine_tune_type": FINE_TUNE_TYPE[recipe.memory_model],
        "num_layers": _num_layers(recipe),
    }
    if recipe.family == "lora":
        values["lora_parameters"] = _lora_parameters(recipe)
    return values


def _training_values(recipe: Recipe, stage: str, plan: dict[str, Any]) -> dict[str, Any]:
    # A knowledge base without a rate for the stage leaves mlx-lm's own.
    rate = float(recipe.stage_value("lr", stage)) if recipe.has(f"lr.{stage}") else MLX_LEARNING_RATE
    warmup, steps = int(recipe.stage_value("warmup", stage)), plan["steps"]
    schedule: dict[str, Any] = {"name": "cosine_decay"}
    if warmup:
        schedule.update(warmup=warmup, warmup_init=0.0)
    # build_schedule: the cosine starts where the warm-up ends (join_schedules) and decays to 0.
    schedule["arguments"] = [rate, max(1, steps - warmup), 0.0]
    values: dict[str, Any] = {
        "train": True,
        "batch_size": plan["batch"],
        "grad_accumulation_steps": plan["accumulation"],
        "iters": plan["iters"],
        "optimizer": OPTIMIZER,
        "optimizer_config": {OPTIMIZER: dict(OPTIMIZER_CONFIG)},
        "learning_rate": rate,
        "lr_schedule": schedule,
        "grad_checkpoint": bool(recipe.value("gradient_checkpointing")),
    }
    if plan["held"]:
        values.update(steps_per_eval=recipe.stage_value("eval.steps", stage), val_batches=-1)
    values.update(save_every=recipe.stage_value("save.steps", stage), adapter_path=f"adapters/{stage}")
    return values


def render(recipe: Recipe, main: str) -> Rendered:
    (stage,) = recipe.stages  # gap: one supervised stage
    examples = _examples(recipe)
    assert examples is not None  # gap: mlx-lm needs --examples
    plan = _schedule(recipe, stage, examples)
    source, masked = _data(recipe, stage)
    conversion = _conversion(recipe)
    model = conversion[0] if conversion is not None else recipe.model_hint
    comments = [
        f"# data/ from {source} (mlx-lm reads data/train.jsonl and data/valid.jsonl):",
        f"#   {_split_command(source, plan['held'], _joined(recipe, stage))}",
    ]
    convert = ""
    if conversion is not None:
        path, options, why = conversion
        convert = " ".join(
            [
                "mlx_lm.convert",
                "--model",
                shell_word(recipe.model_hint),
                "--mlx-path",
                shell_word(path),
                *options,
            ]
        )
        comments += [
            f"# model: {why}; made once (mlx_lm.convert refuses an existing --mlx-path):",
            f"#   {one_line(convert)}",
        ]
    body = "".join(
        [
            "\n".join(comments) + "\n",
            yaml_block("model", _model_values(recipe, model)),
            yaml_block(
                "data",
                {"data": "data", "mask_prompt": masked, "max_seq_length": recipe.value("seq_len")},
            ),
            yaml_block("training", _training_values(recipe, stage, plan)),
        ]
    )
    # mlx-lm keeps every checkpoint it writes: ft-atlas's keep-two has no key here (a note says so).
    recipe.settings.pop("save.keep", None)
    name = main or f"{stage}.yaml"
    run = f"mlx_lm.lora --config {shell_word(name)}"
    if recipe.hub_id is None and conversion is None:
        # The config's model is a placeholder: the run line shows where the model goes (mlx-lm
        # prefers a command-line value to the config's: mlx_lm/lora.py main).
        run += f" --model {shell_word(model)}"
    if conversion is not None:
        run = f"test -d {shell_word(conversion[0])} || {convert} && {run}"
    _notes(recipe, stage, source, plan)
    written_for = t(WRITTEN_FOR, version=VERSION, source=SOURCE)
    recipe.after_training = t(
        "adapters/{stage} holds the trained weights (an adapter, or a full fine-tune's own), not the "
        "model: try them with mlx_lm.generate --model {model} --adapter-path adapters/{stage} --prompt "
        "'...'; mlx_lm.fuse --model {model} --adapter-path adapters/{stage} --save-path fused writes one "
        "model.",
        stage=stage,
        model=shell_word(model),
    )
    return yaml_files(recipe, "mlx", written_for, run, [(name, body)], None)


register(
    TrainerFormat(
        "mlx",
        "mlx-lm YAML (mlx_lm.lora --config), Apple silicon",
        render,
        gap,
        frozenset(SUPERVISED_STAGES),
        "",
        # The recipe's own estimate, with mlx-lm's bf16 logits (tuner/trainer.py default_loss:
        # MLX_LOGIT_BYTES), as `recommend` ranks a Mac's plans (training_stack).
        stack="mlx",
        # mlx_lm.convert -q quantizes every SwitchLinear too (QuantizedSwitchLinear), and mlx-lm
        # upcasts nothing of a quantized model.
        quantizes_experts=True,
        kbit_preparation="none",
        transformers_models=False,
        peft=False,
        bitsandbytes=False,
        vendors=frozenset({"apple"}),
        default_on=frozenset({"apple"}),
        adjust=adjust,
    )
)
