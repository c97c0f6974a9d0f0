"""A self-contained Python script: transformers + peft + trl for training plans, a runnable RAG or
few-shot example for no-training plans. Several GPUs add an `accelerate launch` config."""

from __future__ import annotations

import json
from string import Template
from typing import NamedTuple

from atlas_cli.core.estimates import PROMPT_CONTEXT
from atlas_cli.core.memory.estimate import MAX_PROMPT
from atlas_cli.core.nodes import node_layout
from atlas_cli.core.shell import shell_word
from atlas_cli.core.throughput.plans import EMBEDDER
from atlas_cli.core.variants import SERVED_AS_STORED
from atlas_cli.i18n import N_, grouped, t
from atlas_cli.kb.vocabulary import PRECISIONS
from atlas_cli.recipes.header import WIDTH, commented_file, header, literal, wrapped
from atlas_cli.recipes.launchers import (
    ACCELERATE_FILE,
    MASTER_PORT,
    accelerate_config,
    beside_vllm_server,
    deepspeed_file,
    deepspeed_json,
    distributed,
    sharding_note,
)
from atlas_cli.recipes.registry import RecipeFile, Rendered, TrainerFormat, register
from atlas_cli.recipes.settings import (
    ANSWER_TOKENS,
    API_CLIENT_WRITTEN_FOR,
    EVAL_ROWS,
    FLASH_ATTENTION,
    FUSED_LM_HEAD_TRL,
    LIKED_AS_SFT,
    MAX_HELD_SHARE,
    MINIMUM_VERSIONS,
    ROCM_TORCH,
    VISION_MODULES,
    WRITTEN_FOR,
    Recipe,
    Setting,
    Value,
    bitsandbytes_optimizer,
    extended_by_yarn,
    optimizer_arguments,
    samples_with_vllm,
    torchao_optimizer,
    ulysses_attention,
    untrained_chat_tokens,
)
from atlas_cli.recipes.templates import prompting, training

# Objectives with a trainer in TRL's stable top-level API (never trl.experimental).
TRL_STAGES = {
    "sft": ("SFTConfig", "SFTTrainer"),
    "continued-pretraining": ("SFTConfig", "SFTTrainer"),
    "dpo": ("DPOConfig", "DPOTrainer"),
    "kto": ("KTOConfig", "KTOTrainer"),
    "grpo": ("GRPOConfig", "GRPOTrainer"),
    "rloo": ("RLOOConfig", "RLOOTrainer"),
    "reward-model": ("RewardConfig", "RewardTrainer"),
}
# Reference-free preference objectives live in trl.experimental (ORPOTrainer; SimPO as
# CPOTrainer(loss_type="simpo")): refused, with where they are trained instead.
EXPERIMENTAL_STAGES = ("orpo", "simpo")
# Where SimPO is written instead: LLaMA-Factory's pref_loss, axolotl's rl (joined by a translated "or").
EXPERIMENTAL_WRITERS = ("llamafactory (pref_loss simpo)", "axolotl (rl: simpo)")
# Stages whose frozen reference copy the script loads itself, in 16 bit as the memory estimate
# assumes (TRL would load it in the policy's dtype), when the weights themselves train; RLOO and
# PPO build their own (each objective card's training.reference_model says which stages hold one).
SCRIPT_REFERENCE_STAGES = ("dpo", "kto")


def _note(recipe: Recipe, key: str) -> str:
    entry = recipe.method.hyperparameters.get(key)
    return entry.note.get() if entry is not None and entry.note is not None else ""


def _written_for(recipe: Recipe) -> str:
    if recipe.plan.kind == "no-training" and api_only(recipe) and not recipe.method.embeds_only:
        return t("Written for: {libraries}.", libraries=f"openai {API_CLIENT_WRITTEN_FOR}")
    if recipe.plan.kind == "no-training":
        extra = t("; bitsandbytes") if recipe.has("serving_bits") and not recipe.stored_quantized else ""
        attention = _attention(recipe) or ""
        # transformers keeps MXFP4 (with triton >= 3.4) and FP8 only with the kernels package.
        stored = recipe.weights_dtype if recipe.has("serving_bits") else None
        extra += (
            "; kernels" if attention.startswith("kernels-community/") or stored in SERVED_AS_STORED else ""
        )
        extra += "; triton >= 3.4" if stored == "mxfp4" else ""
        return t(
            "Written for: {libraries}.",
            libraries=f"transformers {WRITTEN_FOR['transformers']}, torch {WRITTEN_FOR['torch']}{extra}",
        )
    # The libraries the script checks (a classifier imports neither PEFT for an encoder nor TRL:
    # an expert's review found its header naming versions the script never checked).
    versions, _ = _requirements(recipe)
    libraries = ", ".join(f"{k} {v}" for k, v in versions.items())
    extra = ""
    if recipe.memory_model == "qlora":
        extra = t("; bitsandbytes (NVIDIA or AMD GPUs)")
    elif bitsandbytes_optimizer(recipe):
        extra = "; bitsandbytes"
    elif recipe.memory_model == "galore":
        extra = "; galore-torch"
    if distributed(recipe):
        extra += "; accelerate" + (" and deepspeed" if recipe.sharding != "ddp" else "")
    floors = ", ".join(f"{k} {v}" for k, v in _minimum_versions(recipe, versions).items())
    written = t(
        "Written for: {libraries}. Needs at least: {floors} (the script checks).",
        libraries=libraries + extra,
        floors=floors,
    )
    if recipe.classifier:  # transformers' Trainer: no TRL, no language-model head
        return written
    fused = t(
        "The memory estimate assumes trl >= {version}, whose trainers never hold the logits (a fused LM "
        "head); with an older trl expect more, as the script warns.",
        version=FUSED_LM_HEAD_TRL,
    )
    return f"{written} {fused}"


def gap(recipe: Recipe) -> str | None:
    experimental = [s for s in recipe.stages if s in EXPERIMENTAL_STAGES]
    if experimental:
        stage = experimental[0]
        # axolotl's ORPO reads its own chat-template dataset types (formats/axolotl.py refuses it).
        orpo = "llamafactory (pref_loss orpo)"
        trainers = orpo if stage == "orpo" else t(" or ").join(EXPERIMENTAL_WRITERS)
        return t(
            "TRL trains {stage} only in trl.experimental (ORPOTrainer; SimPO as "
            "CPOTrainer(loss_type='simpo')), and Python recipes use stable APIs only; use --trainer "
            "{trainers}, or the card's example (ft-atlas show {id})",
            stage=stage.upper(),
            trainers=trainers,
            id=stage,
        )
    if recipe.family == "prompt" and len(recipe.stages) > 1:
        return t(
            "PEFT cannot resume training a soft prompt (prefix / prompt tuning, P-tuning) in a later stage, "
            "so SFT cannot be followed by a preference stage; pick a LoRA plan with --plan, or train SFT only"
        )
    if recipe.memory_model == "prefix" and recipe.classifier:
        return t(
            "prefix tuning needs a model that takes past key values, which BERT-style encoders and "
            "transformers 5's sequence classifiers (their cache argument is no longer past_key_values, "
            "which PEFT looks for) do not; pick LoRA or prompt tuning with --plan"
        )
    if "reward-model" in recipe.stages[1:]:
        return t(
            "a reward model is a sequence classifier with a new head, not the next stage of a language "
            "model's adapter; write it as its own recipe"
        )
    ram = recipe.profile.get("ram")
    if _merging_stages(recipe) and isinstance(ram, (int, float)) and recipe.sixteen_bit_gb > ram:
        return t(
            "a later stage trains on the earlier adapter merged into the weights, which the script "
            "merges on the CPU: the 16-bit model, {size:.0f} GB, is more than --ram {ram:g} GB; use "
            "--trainer axolotl, or a machine with more CPU RAM",
            size=recipe.sixteen_bit_gb,
            ram=ram,
        )
    past = _sampled_past_native(recipe)
    if past is not None:
        stage, native = past
        return t(
            "TRL starts vLLM from the checkpoint's own config.json, with no RoPE scaling, so past the "
            "{native} positions {model} was trained with vLLM samples {stage}'s completions without the "
            "YaRN the policy trains with, or refuses the length; keep --seq-len within {native}, or "
            "sample without --vllm",
            native=native,
            model=recipe.model.name if recipe.model is not None else "",
            stage=stage.upper(),
        )
    unsplit = [s for s, e in recipe.estimates.items() if not e.settings.objective.training.sequence_parallel]
    if recipe.sequence_parallel > 1 and unsplit:
        return t(
            "the plan fits only with each sequence split over {split} GPUs, which TRL's SFTTrainer does "
            "(DeepSpeed Ulysses) but its {stage} trainer does not; shorten --seq-len or add GPUs",
            split=recipe.sequence_parallel,
            stage=unsplit[0].upper(),
        )
    return None


def _sampled_past_native(recipe: Recipe) -> tuple[str, int] | None:
    """An online stage sampling with vLLM past the positions the model was trained with, where its
    card extends them by YaRN: TRL builds its engine as LLM(model=name_or_path, max_model_len=...)
    with no RoPE override (trl/generation/vllm_generation.py), so the engine reads the checkpoint's
    config (an expert's review: Qwen2.5-7B-Instruct's reads 32,768, and vLLM refused 49,152).
    (stage, native positions), or None."""
    model = recipe.model
    if model is None or not extended_by_yarn(model) or model.context_length is None:
        return None
    for stage in recipe.stages:
        key = f"{stage}.vllm_max_model_length"
        if recipe.has(key) and int(recipe.value(key)) > model.context_length:
            return stage, model.context_length
    return None


def render(recipe: Recipe, main: str) -> Rendered:
    if recipe.plan.kind == "no-training":
        return _render_prompting(recipe, main)
    return _render_training(recipe, main)


def _model_argument(recipe: Recipe) -> str:
    """The run line's --model: the hosted model's name is the script's default already."""
    if api_only(recipe) and recipe.profile.get("model"):
        return ""
    return f" --model {shell_word(recipe.model_hint)}"


def _model_option(recipe: Recipe) -> str:
    if recipe.hub_id:
        return f"default={literal(recipe.hub_id)}"
    return "required=True"


# What the prompting and embedding scripts import beyond the standard library (a newcomer's review:
# the local ones said nothing of it); a retrieval index and the classifier's cache add safetensors.
LOCAL_MODEL_PACKAGES = ("torch", "transformers")


def _install(packages: tuple[str, ...]) -> str:
    return t("Setup: pip install {packages}", packages=" ".join(packages))


def _render_prompting(recipe: Recipe, main: str) -> Rendered:
    if recipe.method.embeds_only:
        return _render_embeddings_classifier(recipe, main)
    is_rag = "retrieval" in recipe.method.tags
    run, doc = _rag_intro(recipe, main) if is_rag else _icl_intro(recipe, main)
    common, retrieval = _hosted_common(recipe, is_rag) if api_only(recipe) else _local_common(recipe, is_rag)
    body = Template(prompting.RAG).substitute(retrieval=retrieval) if is_rag else prompting.ICL
    # The install line a clean machine needs first (a newcomer's review: the training recipes
    # had one, the prompting ones none).
    setup = _install(("openai",) if api_only(recipe) else LOCAL_MODEL_PACKAGES + ("safetensors",) * is_rag)
    text = _join_blocks(
        [header(recipe, "python", _written_for(recipe), run, setup), doc, common, prompting.ROWS, body]
    )
    return Rendered((RecipeFile(main, text),), run, text)


def _render_embeddings_classifier(recipe: Recipe, main: str) -> Rendered:
    script = shell_word(main)
    fit, use = f"python {script} --data labelled.jsonl", f"python {script} --classify 'new text'"
    recipe.notes.append(
        t(
            "No language model is trained or run: a local encoder ({embedder}, ~2.3 GB) embeds each text, on "
            "the CPU if there is no GPU, so the texts never leave this machine; the classifier is a "
            "logistic regression, fitted in seconds. Then: {use}",
            embedder=EMBEDDER,
            use=use,
        )
    )
    hyper = recipe.method.hyperparameters
    body = prompting.CLASSIFIER.substitute(
        test_size=literal(hyper["test_size"].value),
        max_iter=literal(hyper["max_iter"].value),
        encoder=_encoder(),
    )
    setup = _install((*LOCAL_MODEL_PACKAGES, "safetensors"))
    text = _join_blocks([header(recipe, "python", _written_for(recipe), fit, setup), CLASSIFIER_DOC, body])
    return Rendered((RecipeFile(main, text),), fit, text)


def _rag_intro(recipe: Recipe, main: str) -> tuple[str, str]:
    """The command that runs a retrieval script, and its docstring."""
    recipe.notes.append(
        t(
            "CHUNK_WORDS, OVERLAP_WORDS and MAX_NEW_TOKENS are example values: the knowledge base gives "
            "none and says to tune top_k, chunk size and overlap on an evaluation set. By default the "
            "prompt takes as many top-ranked passages as fit CONTEXT_TOKENS."
        )
    )
    question = "--question 'What changed in v2?'"
    run = f"python {shell_word(main)}{_model_argument(recipe)} --docs docs/ {question}"
    return run, HOSTED_RAG_DOC if api_only(recipe) else RAG_DOC


def _icl_intro(recipe: Recipe, main: str) -> tuple[str, str]:
    """The command that runs a few-shot script, and its docstring."""
    recipe.notes.append(
        t(
            "The prompt takes as many examples as fit CONTEXT_TOKENS (methods.yaml "
            'icl.hyperparameters.num_examples: "{note}"); MAX_NEW_TOKENS is an example value.',
            note=_note(recipe, "num_examples"),
        )
    )
    context = recipe.value("context_tokens") if recipe.has("context_tokens") else PROMPT_CONTEXT
    examples, fit = recipe.inputs.examples, max(int(context) // recipe.inputs.tokens(), 1)
    if examples is not None and examples > fit:
        # A newcomer's review: the advice said to retrieve the most similar examples per query,
        # and this script took the first ones of the file for every query.
        recipe.notes.append(
            t(
                "Of your {examples} examples about {fit} fit (at ~{tokens} tokens each), the first in "
                "the file, the same for every query: put the most typical first. To show each query "
                "the examples most like it, retrieve them per query (embed each example once and take "
                "the nearest to the query's embedding, as retrieval does with passages); this script "
                "does not.",
                examples=grouped(examples),
                fit=fit,
                tokens=recipe.inputs.tokens(),
            )
        )
    query = "--examples shots.jsonl --query 'new input'"
    return f"python {shell_word(main)}{_model_argument(recipe)} {query}", ICL_DOC


def _hosted_common(recipe: Recipe, is_rag: bool) -> tuple[str, str]:
    """The script's calls to a provider's model, and how it retrieves: by keywords, as nothing
    runs a model here."""
    endpoint = recipe.endpoint
    recipe.notes.append(
        t(
            "The model is called through the OpenAI SDK's chat completions: OpenAI's by default, or "
            "another provider's OpenAI-compatible endpoint with --base-url and --api-key-env (the "
            "script lists Anthropic's and Google's). Every prompt token is billed: CONTEXT_TOKENS "
            "({tokens}) is an example budget, and tokens are counted as about 4 characters each.",
            tokens=PROMPT_CONTEXT,
        )
        if endpoint is None
        else t(
            "The model is called through the OpenAI SDK's chat completions at {provider}'s "
            "OpenAI-compatible endpoint ({url}, the key in ${key}; --base-url and --api-key-env "
            "change them). Every prompt token is billed: CONTEXT_TOKENS ({tokens}) is an example "
            "budget, and tokens are counted as about 4 characters each.",
            provider=endpoint.provider,
            url=endpoint.chat_endpoint,
            key=endpoint.key_env,
            tokens=PROMPT_CONTEXT,
        )
    )
    common = prompting.HOSTED.substitute(
        base_url='os.environ.get("OPENAI_BASE_URL")' if endpoint is None else literal(endpoint.chat_endpoint),
        base_url_help="$OPENAI_BASE_URL, else OpenAI's" if endpoint is None else "the model's provider's",
        key_env=literal("OPENAI_API_KEY" if endpoint is None else endpoint.key_env),
        endpoints="\n".join(
            line
            for e in recipe.endpoints
            for line in wrapped(f"{e.provider}: {e.chat_endpoint} (key in ${e.key_env})", "#     ", "#   ")
        ),
        model_option=_hosted_model_option(recipe),
        options=prompting.RAG_OPTIONS if is_rag else prompting.ICL_OPTIONS,
        imports=prompting.KEYWORD_IMPORTS if is_rag else "",
        context_tokens=literal(PROMPT_CONTEXT),
    )
    return common, prompting.KEYWORD_RETRIEVAL


def _local_common(recipe: Recipe, is_rag: bool) -> tuple[str, str]:
    """The script's calls to the local model, and how it retrieves: by embeddings, the setup
    recommend times."""
    context = recipe.value("context_tokens") if recipe.has("context_tokens") else None
    bits = int(recipe.value("serving_bits")) if recipe.has("serving_bits") else 16
    spread = recipe.has("gpus") and int(recipe.value("gpus")) > 1
    dtype = PRECISIONS[str(recipe.value("precision"))].torch_dtype if recipe.has("precision") else None
    quantization = ""
    # A checkpoint stored quantized (AWQ, GPTQ, bitsandbytes, MXFP4) loads by its own config.
    if bits != 16 and not recipe.stored_quantized:
        quantization = Template(prompting.QUANTIZATION[bits]).substitute(compute_dtype=dtype or "bfloat16")
    attention = _attention(recipe)
    loading = {
        **({"attn_implementation": literal(attention)} if attention else {}),
        **({"quantization_config": "QUANTIZATION"} if quantization else {}),
    }
    model_kwargs = ", ".join(f'"{key}": {value}' for key, value in loading.items())
    # bitsandbytes places a quantized model on the current CUDA device, or else on the CPU (its
    # quantizer's update_device_map): device_map="auto" places it on Apple's MPS too.
    arguments = (
        (f", dtype=torch.{dtype}" if dtype else "")
        + (', device_map="auto"' if spread or quantization else "")
        + (f", model_kwargs={{{model_kwargs}}}" if loading else "")
    )
    room = recipe.value("max_new_tokens") if recipe.has("max_new_tokens") else ANSWER_TOKENS
    common = prompting.COMMON.substitute(
        model_option=_model_option(recipe),
        options=prompting.RAG_OPTIONS + prompting.EMBEDDING_OPTIONS if is_rag else prompting.ICL_OPTIONS,
        imports=prompting.EMBEDDING_IMPORTS if is_rag else "",
        third_party=_prompting_imports(is_rag, bool(quantization), dtype is not None),
        context_tokens=literal(context),
        max_new_tokens=literal(room),
        quantization=quantization,
        load_arguments=arguments,
    )
    return common, _encoder() + prompting.EMBEDDING_RETRIEVAL


def _encoder() -> str:
    return Template(prompting.ENCODER).substitute(embedder=literal(EMBEDDER))


def _prompting_imports(is_rag: bool, quantized: bool, dtype: bool) -> str:
    """A local script's third-party imports: torch and safetensors to embed and keep passages,
    torch for the dtype, bitsandbytes' config to serve quantized weights."""
    names = (
        {"pipeline"}
        | ({"AutoModel", "AutoTokenizer"} if is_rag else set())
        | ({"BitsAndBytesConfig"} if quantized else set())
    )
    lines = ["import torch"] if is_rag or quantized or dtype else []
    lines += ["from safetensors.torch import load_file, save_file"] if is_rag else []
    lines.append(f"from transformers import {', '.join(sorted(names))}")
    return "\n" + "\n".join(lines) + "\n"


def api_only(recipe: Recipe) -> bool:
    """A plan with API access only: the model is a provider's, called over its API."""
    return recipe.profile.get("model_access") == "api"


def _hosted_model_option(recipe: Recipe) -> str:
    model = recipe.profile.get("model")
    return f"default={literal(str(model))}" if model else "required=True"


CLASSIFIER_DOC = '''"""Embeddings + a small classifier: no language model is trained or run.

Embeds every labelled text once with a local encoder (--embedder), fits a logistic regression on
the vectors, prints its accuracy on a held-out share of each label's texts (TEST_SIZE), and saves
the classifier (--classifier, safetensors: reading it back runs no code). --classify labels new
texts with a saved classifier.
--data: JSON Lines, one labelled text per line: {"text": "The battery died after a day.", "label": "negative"}
"""'''

RAG_DOC = '''"""Retrieval-augmented generation (RAG), minimal: no training; retrieval runs on this machine.

Splits --docs into overlapping chunks, embeds them once with an encoder (--embedder; the vectors
are kept in --index and reused while the documents stay the same), ranks them by cosine
similarity to --question, and asks the model to answer from the best chunks that fit its context,
citing them as [n].
--docs: a folder of .txt / .md files, or JSON Lines with one document per line, as the training
recipes read them: {"text": "..."}, {"prompt": "...", "completion": "..."} or
{"messages": [{"role": "user", "content": "..."}, ...]} (the turns joined).
"""
'''

HOSTED_RAG_DOC = '''"""Retrieval-augmented generation (RAG), minimal: no training; the model is a provider's.

Splits --docs into overlapping chunks, ranks them by BM25 score for --question (keyword overlap:
nothing runs a model here), and asks the hosted model to answer from the best chunks
that fit its context, citing them as [n].
--docs: a folder of .txt / .md files, or JSON Lines with one document per line, as the training
recipes read them: {"text": "..."}, {"prompt": "...", "completion": "..."} or
{"messages": [{"role": "user", "content": "..."}, ...]} (the turns joined).
"""
'''

ICL_DOC = '''"""In-context learning (few-shot prompting): no training.

Shows the model worked examples, then the new input, and prints its answer.
--examples: JSON Lines, one example per line, shown in file order: {"input": "...", "output": "..."},
{"prompt": "...", "completion": "..."}, or {"messages": [...]} whose last turn is the assistant's
answer (the turns before it are the input).
"""
'''


# The data each stage reads, documented in the script's docstring (TRL's dataset formats).
SFT_PROMPT_COMPLETION = """\
prompt-completion (loss on the completion only, TRL's default for this format; the completion
  starts with a space, as the text continues the prompt):
    {"prompt": "What is LoRA?", "completion": " A low-rank adapter trained on a frozen model."}"""
SFT_CONVERSATIONAL = """\
conversational (rendered with the tokenizer's chat template, or a plain one for a base model;
  the loss on the assistant's turns, or on the last one where TRL cannot mark them):
    {"messages": [{"role": "user", "content": "..."}, {"role": "assistant", "content": "..."}]}
  tool calling: a "tools" column beside it (the functions' JSON schemas, a list or a JSON string),
  assistant turns with "tool_calls" and the results as "tool" turns; TRL renders them with the
  chat template (SFTTrainer passes each row's tools to apply_chat_template)."""
DATA_FORMATS = {
    "sft": f'  {SFT_PROMPT_COMPLETION}\n  or {SFT_CONVERSATIONAL}\n  or plain text: {{"text": "..."}}',
    "continued-pretraining": """\
  raw documents, next-token prediction on the whole text (packed into full-length sequences where
  the stage's config sets packing=True):
    {"text": "A domain document ..."}""",
    "dpo": """\
  preference pairs for one prompt:
    {"prompt": "...", "chosen": "the preferred answer", "rejected": "the worse answer"}
  or conversational, which an instruct model needs (TRL applies the chat template to it only):
    {"prompt": [{"role": "user", "content": "..."}],
     "chosen": [{"role": "assistant", "content": "..."}], "rejected": [{"role": "assistant", ...}]}""",
    "reward-model": """\
  preference pairs, as for DPO; the model learns to score chosen above rejected:
    {"prompt": "...", "chosen": "the preferred answer", "rejected": "the worse answer"}""",
    "kto": """\
  unpaired ratings: label true for a thumbs-up, false for a thumbs-down; include both kinds:
    {"prompt": "...", "completion": "...", "label": true}
  or conversational, which an instruct model needs (TRL applies the chat template to it only):
    {"prompt": [{"role": "user", "content": "..."}], "completion": [{"role": "assistant", ...}], ...}""",
    "grpo": """\
  prompts only: completions are sampled during training and scored by reward_matches_solution
  below, which receives every other column (here "solution") as a keyword argument:
    {"prompt": "What is 2 + 3?", "solution": "5"}
  or conversational, which an instruct model needs (TRL applies the chat template to it only):
    {"prompt": [{"role": "user", "content": "What is 2 + 3?"}], "solution": "5"}""",
    "classifier": """\
  labelled text; labels may be strings or numbers:
    {"text": "The battery died after a day.", "label": "negative"}""",
}
DATA_FORMATS["rloo"] = DATA_FORMATS["grpo"]
# An instruct model is served with its chat template, so its SFT data comes first as conversations.
INSTRUCT_SFT_FORMAT = (
    f"  {SFT_CONVERSATIONAL}\n  or {SFT_PROMPT_COMPLETION}\n  (plain strings are trained without the "
    "chat template: the script warns)"
)
# The columns each stage's trainer reads, any one set of them (TRL's dataset formats): the script
# checks them as it loads the file, and names those it found (a newcomer's CSV of tickets ended in
# a KeyError deep inside TRL).
DATA_COLUMNS: dict[str, list[list[str]]] = {
    "sft": [["messages"], ["prompt", "completion"], ["text"]],
    "continued-pretraining": [["text"]],
    "dpo": [["prompt", "chosen", "rejected"], ["chosen", "rejected"]],
    "reward-model": [["prompt", "chosen", "rejected"], ["chosen", "rejected"]],
    "kto": [["prompt", "completion", "label"]],
    # The reward below compares each completion with the row's solution (TRL passes the other
    # columns to reward functions as keyword arguments).
    "grpo": [["prompt", "solution"]],
    "rloo": [["prompt", "solution"]],
    "classifier": [["text", "label"]],
}
# Without demonstrations, the SFT stage trains on the preference pairs' chosen answers (the DPO
# paper's way when no SFT model exists): the pairs' file gives the SFT file.
CHOSEN_AS_SFT = """\
No demonstrations? Train the SFT stage on the chosen answers of the pairs:
  python -c "import json; [print(json.dumps({'prompt': r['prompt'], 'completion': r['chosen']})) \\
    for r in map(json.loads, open('dpo.jsonl'))]" > sft.jsonl"""
CLASSIFIER_HEADS = ("classifier", "score", "pooler", "pre_classifier")
DATA_FILES = {
    "sft": "sft.jsonl",
    "continued-pretraining": "text.jsonl",
    "dpo": "dpo.jsonl",
    "reward-model": "pairs.jsonl",
    "kto": "kto.jsonl",
    "grpo": "prompts.jsonl",
    "rloo": "prompts.jsonl",
}


def _option(stage: str, first: bool) -> str:
    """The command-line option that names a stage's dataset: --dataset for the first stage."""
    return "dataset" if first else stage.replace("-", "_") + "_dataset"


def _stages(recipe: Recipe) -> tuple[str, ...]:
    return ("sft",) if recipe.classifier else recipe.stages


def _training_doc(recipe: Recipe) -> str:
    # No text from the KB in here: a docstring is not a literal repr() builds. The plan's name is
    # the PLAN constant; the stages are TRL_STAGES' own keys (the writer let no other through).
    if recipe.classifier:
        title = (
            "A training recipe from ft-atlas: a sequence classifier, a new head on the model "
            "(transformers Trainer)."
        )
        parts = [f"--dataset, JSON Lines:\n{DATA_FORMATS['classifier']}"]
    else:
        stages = " then ".join(s.upper() for s in recipe.stages if s in TRL_STAGES)
        title = f"A training recipe from ft-atlas, trained with TRL: {stages}."
        formats = {**DATA_FORMATS, "sft": INSTRUCT_SFT_FORMAT} if recipe.post_trained else DATA_FORMATS
        parts = [
            f"--{_option(s, i == 0).replace('_', '-')} ({s}), JSON Lines:\n{formats[s]}"
            for i, s in enumerate(recipe.stages)
        ]
        if recipe.sft_on_chosen:
            parts.append(CHOSEN_AS_SFT)
        if recipe.sft_on_liked:
            parts.append(t(LIKED_AS_SFT))
    saved = "adapter" if recipe.family not in ("weights",) else "weights"
    outro = f"Each stage saves its {saved} and train_results.json to --output-dir/<stage>."
    return (
        '"""'
        + title
        + "\n\nData (a local .jsonl/.json/.csv/.parquet file, or a Hub dataset name; a CSV holds flat"
        + " columns only,\nnot conversations; the script checks the columns as it loads them):\n"
        + ("\n".join(parts) + "\n\n" + outro + '\n"""\n')
    )


def _columns(recipe: Recipe) -> dict[str, list[list[str]]]:
    if recipe.classifier:
        return {"sft": DATA_COLUMNS["classifier"]}
    return {stage: DATA_COLUMNS[stage] for stage in recipe.stages}


def _python_imports(recipe: Recipe) -> str:
    classifier = recipe.classifier
    names: dict[str, set[str]] = {
        "datasets": {"Dataset", "load_dataset"} | ({"ClassLabel"} if classifier else set()),
        "transformers": {
            "AutoTokenizer",
            "PreTrainedModel",
            "PreTrainedTokenizerBase",
            "Trainer",
            "TrainerCallback",
            "TrainingArguments",
        },
    }
    if classifier or "reward-model" in recipe.stages:
        names["transformers"].add("AutoModelForSequenceClassification")
    if recipe.has("rope.yarn_factor"):
        names["transformers"].add("AutoConfig")
    if not classifier:
        names["transformers"] |= {
            "AutoConfig",
            "AutoModelForCausalLM",
            "AutoModelForImageTextToText",
            "MODEL_FOR_CAUSAL_LM_MAPPING",
        }
    if classifier:
        names["transformers"] |= {"DataCollatorWithPadding", "EvalPrediction"}
    else:
        names["trl"] = {name for stage in recipe.stages for name in TRL_STAGES[stage]}
        if "sft" in recipe.stages:
            names["trl"].add("get_training_chat_template")
    if not classifier or recipe.memory_model in ("qlora", "adalora") or _merging_stages(recipe):
        names["accelerate"] = {"PartialState"}  # the number of processes, each one's GPU, the main one
    if _merging_stages(recipe):
        names["transformers.integrations"] = {"unset_hf_deepspeed_config"}  # merge_earlier
    peft = _peft_names(recipe)
    if peft:
        names["peft"] = peft
    if recipe.memory_model == "qlora":
        names["transformers"].add("BitsAndBytesConfig")
    if recipe.dequantizing_config is not None:
        names["transformers"].add(recipe.dequantizing_config)
    lines = [
        "from __future__ import annotations",
        "",
        *(f"import {m}" for m in sorted({*STANDARD_MODULES, *_extra_modules(recipe)})),
        "from pathlib import Path",
        "from typing import Any",
        "",
        *(["import pyarrow.compute"] if _cut_stages(recipe) else []),
        "import torch",
        *(_from_import(module, sorted(names[module])) for module in sorted(names)),
    ]
    return "\n".join(lines) + "\n"


def _language_model_sft(recipe: Recipe) -> bool:
    """A supervised language-model stage (not a classifier's): its conversations train on the
    answers."""
    return not recipe.classifier and "sft" in recipe.stages


def _cut_stages(recipe: Recipe) -> tuple[str, ...]:
    """The offline stages whose examples TRL cuts at max_length, and leaves out where nothing of
    the answer would be left (DPO: a prompt that fills max_length) or, for a reward model, whole
    when longer, without a word: the script counts both (training.REPORT_CUT). A classifier's
    rows are labels, cut by its tokenizer. A stage packed "wrapped" (continued pre-training) cuts
    its documents into full rows by design, and loses nothing."""
    if recipe.classifier:
        return ()
    return tuple(s for s in _stages(recipe) if s not in recipe.online_stages and not _wrapped(recipe, s))


def _wrapped(recipe: Recipe, stage: str) -> bool:
    return (
        recipe.has(f"packing.{stage}")
        and bool(recipe.stage_value("packing", stage))
        and recipe.has(f"packing_strategy.{stage}")
        and recipe.stage_value("packing_strategy", stage) == "wrapped"
    )


STANDARD_MODULES = (
    *("argparse", "copy", "importlib.metadata", "importlib.util"),
    *("math", "re", "sys", "warnings"),
)


def _extra_modules(recipe: Recipe) -> tuple[str, ...]:
    """AdaLoRA's penalty reads a ZeRO-3 partition inside a context (training.gathered); a later
    stage's merge replaces its directory (training.BUILD_MERGING)."""
    return ("contextlib",) * (recipe.memory_model == "adalora") + ("shutil",) * bool(_merging_stages(recipe))


def _from_import(module: str, names: list[str]) -> str:
    line = f"from {module} import {', '.join(names)}"
    if len(line) <= WIDTH:
        return line
    return f"from {module} import (\n" + "".join(f"    {name},\n" for name in names) + ")"


_PEFT_CONFIG = {
    "lora": "LoraConfig",
    "qlora": "LoraConfig",
    "dora": "LoraConfig",
    "adalora": "AdaLoraConfig",
    "ia3": "IA3Config",
    "prefix": "PrefixTuningConfig",
    "prompt": "PromptTuningConfig",
    "p-tuning": "PromptEncoderConfig",
}


def _peft_names(recipe: Recipe) -> set[str]:
    config = _PEFT_CONFIG.get(recipe.memory_model)
    if config is None:
        return set()
    names = {config, "PeftConfig", "PeftModel"}
    if recipe.memory_model == "prompt":
        names.add("PromptTuningInit")
    if recipe.classifier:
        names.add("get_peft_model")
    return names


def _adapter_settings(recipe: Recipe) -> dict[str, Value]:
    """Keyword arguments of the PEFT config, from the recipe's settings (absent = PEFT default)."""
    keys = {
        "lora.r": "r",
        "lora.alpha": "lora_alpha",
        "lora.dropout": "lora_dropout",
        "lora.targets": "target_modules",
        "lora.exclude": "exclude_modules",
        "lora.expert_parameters": "target_parameters",
        "lora.use_dora": "use_dora",
        "adalora.init_r": "init_r",
        "adalora.target_r": "target_r",
        "adalora.deltaT": "deltaT",
        "adalora.orth_reg_weight": "orth_reg_weight",
        "adalora.targets": "target_modules",
        "adalora.exclude": "exclude_modules",
        "ia3.targets": "target_modules",
        "ia3.feedforward": "feedforward_modules",
        "ia3.exclude": "exclude_modules",
        "prompt.prefix_projection": "prefix_projection",
        "prompt.encoder_hidden_size": "encoder_hidden_size",
        "prompt.encoder_num_layers": "encoder_num_layers",
        "prompt.encoder_reparameterization_type": "encoder_reparameterization_type",
    }
    values = {name: recipe.value(key) for key, name in keys.items() if recipe.has(key)}
    tokens = recipe.settings.get("prompt.num_virtual_tokens")
    if tokens is not None and isinstance(tokens.value, int):
        values["num_virtual_tokens"] = tokens.value
    return values


def _stage_kwargs(recipe: Recipe, stage: str) -> dict[str, Value]:
    """Keyword arguments of a stage's TRL config beyond the shared TrainingArguments."""
    values: dict[str, Value] = {}
    if stage in ("sft", "continued-pretraining", "dpo", "kto", "reward-model"):
        values["max_length"] = recipe.value("seq_len")
    if recipe.has("activation_offloading") and stage in recipe.offloading_stages:
        values["activation_offloading"] = True
    if recipe.sequence_parallel > 1:
        # Ulysses splits a sequence into equal shares (transformers docs deepspeed_alst.md).
        values["pad_to_multiple_of"] = recipe.sequence_parallel
    if recipe.has(f"packing.{stage}") and recipe.stage_value("packing", stage):
        values["packing"] = True
        if recipe.has(f"packing_strategy.{stage}"):
            # Continued pre-training concatenates documents and cuts full sequences ("wrapped"),
            # the classic pre-training layout; no padding-free attention is needed.
            values["packing_strategy"] = recipe.stage_value("packing_strategy", stage)
    if recipe.has("no_router_aux_loss") and stage != "reward-model":  # RewardConfig has no such key
        values["router_aux_loss_coef"] = 0.0
    prefix = "cpt" if stage == "continued-pretraining" else stage
    for key in (
        "dataset_text_field",
        "beta",
        "desirable_weight",
        "undesirable_weight",
        "num_generations",
        "max_completion_length",
        "chat_template_kwargs",
        "use_vllm",
        "vllm_mode",
        "vllm_gpu_memory_utilization",
        "vllm_max_model_length",
        "vllm_tensor_parallel_size",
        "vllm_server_timeout",
        "center_rewards_coefficient",
        "precompute_ref_log_probs",
    ):
        if recipe.has(f"{prefix}.{key}"):
            values[key] = recipe.value(f"{prefix}.{key}")
    return values


# Splitting sequences needs accelerate's parallelism_config (1.12.0: transformers docs
# deepspeed_alst.md) and an SFTTrainer that gives Ulysses position_ids (not yet in trl 1.9.0;
# the release these recipes are written for has it).
ULYSSES_VERSIONS = {"accelerate": "1.12.0", "trl": WRITTEN_FOR["trl"]}


# LoRA on fused experts (target_parameters) under ZeRO-3 reads each partitioned parameter's real
# shape from ds_shape from peft 0.21.0 on; 0.20 raises IndexError as it wraps them
# (huggingface/peft#3576, merged 2026-08-21 after v0.20.0).
SHARDED_EXPERT_LORA_VERSIONS = {"peft": "0.21.0"}


def _minimum_versions(recipe: Recipe, versions: dict[str, str]) -> dict[str, str]:
    minimum = {k: v for k, v in MINIMUM_VERSIONS.items() if k in versions}
    if recipe.sequence_parallel > 1:
        minimum |= ULYSSES_VERSIONS
    if recipe.shards_expert_lora:
        minimum |= SHARDED_EXPERT_LORA_VERSIONS
    return minimum


class Needed(NamedTuple):
    """A module the script imports beyond the checked libraries: the package that installs it,
    and why the recipe needs it."""

    package: str
    why: str = ""

    @property
    def hint(self) -> str:
        return f"pip install {self.package}" + (f" ({self.why})" if self.why else "")


def _requirements(recipe: Recipe) -> tuple[dict[str, str], dict[str, Needed]]:
    """(libraries whose versions the script checks, modules it needs)."""
    used = {"torch", "transformers", "datasets"}
    used |= {"peft"} if recipe.memory_model in _PEFT_CONFIG else set()
    used |= {"trl"} if not recipe.classifier else set()
    versions = {k: v for k, v in WRITTEN_FOR.items() if k in used}
    needs: dict[str, Needed] = {}
    if recipe.memory_model == "qlora":
        needs["bitsandbytes"] = Needed("bitsandbytes", "4-bit kernels for NVIDIA (CUDA) and AMD (ROCm) GPUs")
    elif bitsandbytes_optimizer(recipe):
        needs["bitsandbytes"] = Needed("bitsandbytes", "its 8-bit or paged optimizer")
    if recipe.memory_model == "galore":
        needs["galore_torch"] = Needed("galore-torch")
    if torchao_optimizer(recipe):
        needs["torchao"] = Needed("torchao", "8-bit AdamW with bf16 stochastic rounding")
    attention = _attention(recipe)
    if attention is not None and attention.startswith("kernels-community/"):
        needs["kernels"] = Needed("kernels", f"downloads {attention}'s prebuilt kernel")
    elif attention == "flash_attention_2":
        ulysses = recipe.sequence_parallel > 1
        why = "DeepSpeed Ulysses runs FlashAttention 2 inside" if ulysses else "packed rows"
        if recipe.facts.get("gpu_vendor") == "amd":
            # Dao-AILab/flash-attention README, AMD ROCm Support: ROCm 6.0+, the rocm/pytorch image.
            why += "; on ROCm it builds its composable_kernel backend: ROCm 6.0+, as the rocm/pytorch image"
        needs["flash_attn"] = Needed("flash-attn", why)
    if recipe.plan.estimate is not None and recipe.plan.estimate.shape.linear_layers:
        # modeling_qwen3_5 runs its Gated DeltaNet layers on flash-linear-attention's
        # chunk_gated_delta_rule and causal-conv1d's causal_conv1d_fn where they are installed,
        # else on a pure-torch loop in fp32 that keeps far more for the backward than ft-atlas sizes.
        needs["fla"] = Needed("flash-linear-attention", "the Gated DeltaNet layers' kernels, as sized")
        needs["causal_conv1d"] = Needed("causal-conv1d", "the Gated DeltaNet layers' short convolution")
    if _online(recipe):
        needs["math_verify"] = Needed("math-verify", "the reward compares answers as mathematics")
    if samples_with_vllm(recipe):
        # TRL's vllm extra pins the vLLM releases it supports (trl 1.16.0: >=0.22.0,<=0.31.0;
        # an unpinned vllm resolved to 0.34.0, which it warns of and whose internals it calls).
        needs["vllm"] = Needed("trl[vllm]", "TRL samples the completions with it: use_vllm=True")
    if recipe.sharding != "ddp":  # ZeRO, on one GPU too when it offloads
        needs["deepspeed"] = Needed("deepspeed", "the accelerate config shards with DeepSpeed ZeRO")
    return versions, needs


def _setup(recipe: Recipe) -> str:
    """The install line a clean machine needs before the script's own version check can run (a
    newcomer's review: it died at `import torch`): the libraries it checks at their floors, the
    modules it needs, and accelerate (transformers' Trainer needs it; it launches several GPUs)."""
    versions, needs = _requirements(recipe)
    floors = _minimum_versions(recipe, versions)
    if "trl" in floors:  # the memory estimate's fused LM head needs a newer one than the script's check
        floors["trl"] = max(floors["trl"], FUSED_LM_HEAD_TRL, key=lambda v: tuple(map(int, v.split("."))))
    # A needed extra of a checked library (trl[vllm]) is installed with the library, at its floor.
    extras = {n.package.partition("[")[0]: n.package for n in needs.values() if "[" in n.package}
    names = [
        *versions,
        *(n.package for n in needs.values() if n.package not in extras.values()),
        "accelerate",
    ]
    packages = [extras.get(name, name) + (f">={floors[name]}" if name in floors else "") for name in names]
    if recipe.facts.get("gpu_vendor") == "amd":
        rest = " ".join(shell_word(p) for p in packages if p != "torch")
        return t(ROCM_TORCH, packages=rest)
    return _install(tuple(shell_word(p) for p in packages))


def _reference_stages(recipe: Recipe) -> tuple[str, ...]:
    if recipe.frozen_base:
        return ()  # the adapter-disabled model is the reference: no copy
    # Nor where TRL computes the reference log-probabilities before training (no copy loaded).
    return tuple(
        s
        for s in _stages(recipe)
        if s in SCRIPT_REFERENCE_STAGES and not recipe.has(f"{s}.precompute_ref_log_probs")
    )


def _reference_dtype_stages(recipe: Recipe) -> tuple[str, ...]:
    """RLOO builds its reference from model_init_kwargs when its KL coefficient is not 0."""
    if recipe.frozen_base:
        return ()
    beta = recipe.settings.get("rloo.beta")
    kl = beta is None or beta.value != 0
    return tuple(s for s in _stages(recipe) if s == "rloo" and kl)


def _constants(recipe: Recipe) -> str:
    """The plan's values as Python constants. Each value is written by literal(), which checks
    that the text reads back as exactly that value: KB strings and numbers cannot become code."""
    versions, needs = _requirements(recipe)
    stages = _stages(recipe)
    per_stage = {
        key: {s: recipe.stage_value(key, s) for s in stages if recipe.has(f"{key}.{s}")}
        for key in ("batch", "grad_accum", "epochs", "lr")
    }
    frozen = recipe.family != "weights" or recipe.memory_model in ("partial", "bitfit")
    lines = [
        f"PLAN = {literal(recipe.plan.name)}  # the plan this recipe trains, as ft-atlas recommend names it",
        f"WRITTEN_FOR = {literal(versions)}",
        f"MINIMUM_VERSIONS = {literal(_minimum_versions(recipe, versions))}",
        f"FUSED_LM_HEAD = {literal({'trl': FUSED_LM_HEAD_TRL} if 'trl' in versions else {})}"
        "  # the memory estimate assumes it",
        f"REQUIRED_MODULES = {literal({module: n.hint for module, n in needs.items()})}",
        f"NEEDS_CUDA = {literal(recipe.memory_model == 'qlora')}  # QLoRA: bitsandbytes' 4-bit kernels",
        f"UNTRAINED_CHAT_TOKENS = {literal(untrained_chat_tokens(recipe) is not None)}"
        "  # a base model that never trained its chat template's special tokens (Llama 3)",
        f"SHARDED = {literal(recipe.sharding == 'zero3')}  # ZeRO-3 shards the weights (a 4-bit base's too)",
        f"PRECISION = {literal(recipe.value('precision'))}"
        "  # bf16 where the GPU has it (NVIDIA Ampere or newer); fp16 otherwise (fp32 for Gemma 3)",
        f"GRADIENT_CHECKPOINTING = {literal(recipe.value('gradient_checkpointing'))}",
        f"BATCH_SIZE = {literal(per_stage['batch'])}  # per device, sized to the memory estimate",
        f"GRAD_ACCUM = {literal(per_stage['grad_accum'])}  # x BATCH_SIZE x GPUs: sequences per step",
        f"EPOCHS = {literal(per_stage['epochs'])}",
        f"MAX_LENGTH = {literal(recipe.value('seq_len'))}  # tokens; the memory estimate assumed this length",
        f"OPTIM = {literal(str(recipe.value('optim')))}",
        f"LEARNING_RATE = {literal(per_stage['lr'])}",
        f"WARMUP_RATIO = {literal(recipe.value('warmup_ratio'))}",
        f"LR_SCHEDULER = {literal(recipe.value('lr_scheduler'))}",
        f"EXTRA_TRAINING_ARGUMENTS = {literal(optimizer_arguments(recipe))}",
        f"FROZEN_BASE = {literal(frozen)}",
        f"USES_PEFT = {literal(recipe.memory_model in _PEFT_CONFIG)}",
        f"REFERENCE_STAGES = {literal(_reference_stages(recipe))}  # stages with a frozen 16-bit reference",
        f"REFERENCE_DTYPE_STAGES = {literal(_reference_dtype_stages(recipe))}",
        f"COLUMNS = {literal(_columns(recipe))}  # each stage's data: any one set of these columns",
    ]
    lines += _method_constants(recipe)
    lines += [
        f"SAVE_EVERY = {literal(recipe.value('save.every'))}  # checkpoints: a share of the training steps",
        f"SAVE_KEEP = {literal(recipe.value('save.keep'))}  # the latest checkpoints kept",
    ]
    lines += _evaluation_constants(recipe)
    if _cut_stages(recipe):
        lines.append(f"CUT_STAGES = {literal(_cut_stages(recipe))}  # whose cut examples the script counts")
    if not recipe.classifier:
        lines += _stage_constants(recipe)
    return "\n".join(lines) + "\n"


def _method_constants(recipe: Recipe) -> list[str]:
    heads = CLASSIFIER_HEADS if recipe.classifier else ()
    lines: list[str] = []
    if recipe.vllm_server_gpus:
        length = recipe.value(f"{recipe.vllm_server_stage}.vllm_server_max_model_len")
        lines.append(f"VLLM_SERVER_MAX_MODEL_LEN = {literal(length)}  # the run line's vLLM server's context")
    if recipe.memory_model in _PEFT_CONFIG:
        tasks = {s: "SEQ_CLS" if s == "reward-model" else "CAUSAL_LM" for s in _stages(recipe)}
        if recipe.classifier:
            tasks = {"sft": "SEQ_CLS"}
        lines += [f"TASK_TYPE = {literal(tasks)}", f"ADAPTER_SETTINGS = {literal(_adapter_settings(recipe))}"]
    if recipe.memory_model == "adalora":
        shares = {k: recipe.value(f"adalora.{k}_share") for k in ("tinit", "tfinal")}
        lines.append(f"ADALORA_PHASES = {literal(shares)}  # shares of the stage's steps")
    if recipe.memory_model == "qlora":
        quant = {"bnb_4bit_quant_type": "quant.type", "bnb_4bit_use_double_quant": "quant.double"}
        values = {name: recipe.value(key) for name, key in quant.items() if recipe.has(key)}
        lines.append(f"QUANTIZATION = {literal(values)}  # 4-bit only")
        bits = recipe.value("quant.bits") if recipe.has("quant.bits") else 4
        lines.append(f"QUANT_BITS = {literal(bits)}  # the quantized base the memory estimate assumed")
    if recipe.memory_model in ("partial", "bitfit"):
        lines.append(f"HEAD_PREFIXES = {literal(heads)}  # a new task head always trains")
    if recipe.memory_model == "partial":
        fraction = recipe.value("partial.fraction") if recipe.has("partial.fraction") else 0.25
        lines.append(f"TOP_LAYER_FRACTION = {literal(fraction)}")
    return lines


def _stage_constants(recipe: Recipe) -> list[str]:
    stages = recipe.stages
    options = {s: _option(s, i == 0) for i, s in enumerate(stages)}
    trainers = ", ".join(f"{literal(s)}: ({TRL_STAGES[s][0]}, {TRL_STAGES[s][1]})" for s in stages)
    online = [s for s in stages if s in recipe.online_stages]
    extras = (
        "{" + ", ".join(f"{literal(s)}: {{'reward_funcs': [reward_matches_solution]}}" for s in online) + "}"
    )
    return [
        f"STAGES = {literal(stages)}",
        f"DATASET_OPTION = {literal(options)}",
        f"STAGE_SETTINGS = {literal({s: _stage_kwargs(recipe, s) for s in stages})}",
        f"TRAINERS = {{{trainers}}}",
        f"TRAINER_EXTRAS: dict[str, dict[str, Any]] = {extras}",
    ]


def _adapter_function(recipe: Recipe) -> str:
    config = _PEFT_CONFIG[recipe.memory_model]
    head = (
        "\n\ndef adapter_config(\n"
        "    args: argparse.Namespace, tokenizer: PreTrainedTokenizerBase, rows: Dataset, stage: str\n"
        ") -> PeftConfig:\n"
    )
    if recipe.memory_model == "adalora":
        body = (
            "    # AdaLoRA schedules its rank budget over the stage's optimizer steps: a warm-up before\n"
            "    # pruning starts, and a final phase with the ranks fixed.\n"
            "    steps = planned_steps(args, len(rows), stage)\n"
            "    phases = {name: int(share * steps) for name, share in ADALORA_PHASES.items()}\n"
            f"    return {config}(\n"
            "        task_type=TASK_TYPE[stage], total_step=steps, **phases, **ADAPTER_SETTINGS\n"
            "    )\n"
        )
    elif recipe.memory_model == "prompt":
        body = (
            "    # Initialised from a task description; as many virtual tokens as the description has.\n"
            "    tokens = len(tokenizer(args.init_text, add_special_tokens=False)['input_ids'])\n"
            f"    return {config}(\n"
            "        task_type=TASK_TYPE[stage],\n"
            "        prompt_tuning_init=PromptTuningInit.TEXT,\n"
            "        prompt_tuning_init_text=args.init_text,\n"
            "        num_virtual_tokens=tokens,\n"
            "        tokenizer_name_or_path=args.model,\n"
            "    )\n"
        )
    else:
        body = f"    return {config}(task_type=TASK_TYPE[stage], **ADAPTER_SETTINGS)\n"
    return head + body


LOAD_MODEL = """
def load_model(path: str, args: argparse.Namespace, stage: str) -> PreTrainedModel:
    kwargs: dict[str, Any] = {"dtype": load_dtype(args.precision)}$quantization
$load
"""
# FlashAttention 2 from the Hub (the kernels package): no flash-attn build; TRL's padding-free
# packing supports it (sft_trainer.FLASH_ATTENTION_VARIANTS).
FLASH_ATTENTION_KERNEL = "kernels-community/flash-attn2"
ATTENTION_KWARG = """
    # Attention without a seq x seq matrix per head (the header's `attention` says why).
    kwargs["attn_implementation"] = $attention"""
# The Hub's FlashAttention kernel is built for CUDA: on a machine without it (a smoke test on the
# CPU) the script loaded it anyway and failed (an expert's review).
HUB_KERNEL_KWARG = """
    # Attention without a seq x seq matrix per head (the header's `attention` says why): the Hub's
    # kernel runs on CUDA only; without a CUDA GPU (a smoke test) torch's SDPA runs instead.
    kwargs["attn_implementation"] = $attention
    if not torch.cuda.is_available():
        print("No CUDA GPU: attention runs on torch's SDPA, not the Hub's kernel.", file=sys.stderr)
        kwargs["attn_implementation"] = 'sdpa'"""


def _attention(recipe: Recipe) -> str | None:
    """The attention the model loads with: the flash-attn package's FlashAttention 2 under
    DeepSpeed Ulysses (its sp_attn_implementation names it), else the recipe's `attention`
    setting (FlashAttention 2 from the Hub for packed rows; a kernel that applies gpt-oss's
    sinks)."""
    if recipe.sequence_parallel > 1:
        return ulysses_attention(recipe)
    if not recipe.has("attention"):
        return None
    chosen = str(recipe.value("attention"))
    if chosen != FLASH_ATTENTION:
        return chosen
    # The Hub's kernel is built for CUDA only: ROCm runs the flash-attn package's CK backend.
    return "flash_attention_2" if recipe.facts.get("gpu_vendor") == "amd" else FLASH_ATTENTION_KERNEL


LOAD_CAUSAL = "    return load_language_model(path, **kwargs)"
# A vision-language forward that refuses to train without token types (the header's
# token_types): every token of a text-only batch is text, 0. A hook on the model itself, so that
# it holds under PEFT's wrapper and for every trainer's own forward calls (SFT, DPO, GRPO).
LOAD_WITH_TOKEN_TYPES = """\
    model = load_language_model(path, **kwargs)

    def text_token_types(module: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        input_ids = kwargs.get("input_ids", args[0] if args else None)
        if module.training and kwargs.get($key) is None and input_ids is not None:
            kwargs[$key] = torch.zeros_like(input_ids)
        return args, kwargs

    model.register_forward_pre_hook(text_token_types, with_kwargs=True)
    return model"""
# pad_token_id: a decoder's head scores each row's last token before the padding, which it finds
# by the pad token (transformers' *ForSequenceClassification refuse a batch above 1 without it).
LOAD_CLASSIFIER = """\
    return AutoModelForSequenceClassification.from_pretrained(
        path,
        num_labels=len(args.labels),
        id2label=dict(enumerate(args.labels)),
        pad_token_id=args.pad_token_id,
        **kwargs,
    )"""
LOAD_REWARD = """\
    if stage == "reward-model":
        # A reward model scores a whole sequence: one label on top of the language model.
        return AutoModelForSequenceClassification.from_pretrained(path, num_labels=1, **kwargs)
    return load_language_model(path, **kwargs)"""


YARN_CONFIG = """
    # Sequences past the positions the model was trained with: YaRN, as its model card extends
    # them (the header's rope.yarn_factor); a full model saves it, an adapter's base needs it again.
    config = AutoConfig.from_pretrained(path)
    scaling = {"rope_type": "yarn", "factor": $factor, "original_max_position_embeddings": $native}
    if hasattr(config, "rope_parameters"):  # transformers 5: rope_theta is in the same dict
        config.rope_parameters = {**(config.rope_parameters or {}), **scaling}
    else:
        config.rope_scaling = scaling
    kwargs["config"] = config"""
ROUTER_LOSS_KWARGS = """
    # The routers train: keep their load-balancing loss on (the header's router_aux_loss).
    kwargs.update(output_router_logits=True, router_aux_loss_coef=$coefficient)"""


def _load_model(recipe: Recipe) -> str:
    if recipe.classifier:
        load = LOAD_CLASSIFIER
    else:
        load = LOAD_REWARD if "reward-model" in recipe.stages else LOAD_CAUSAL
    quantization = training.QUANTIZATION_KWARGS if recipe.memory_model == "qlora" else ""
    if recipe.dequantizing_config is not None:
        quantization = Template(training.DEQUANTIZE).substitute(config=recipe.dequantizing_config)
    attention = _attention(recipe)
    if attention is not None:
        kwarg = HUB_KERNEL_KWARG if attention == FLASH_ATTENTION_KERNEL else ATTENTION_KWARG
        quantization += Template(kwarg).substitute(attention=literal(attention))
    if recipe.has("rope.yarn_factor"):
        factor, native = float(recipe.value("rope.yarn_factor")), int(recipe.value("rope.native"))
        quantization += Template(YARN_CONFIG).substitute(factor=literal(factor), native=literal(native))
    if recipe.has("router_aux_loss"):
        coefficient = literal(float(recipe.value("router_aux_loss")))
        quantization += Template(ROUTER_LOSS_KWARGS).substitute(coefficient=coefficient)
    if recipe.has("token_types") and load == LOAD_CAUSAL:
        load = LOAD_WITH_TOKEN_TYPES.replace("$key", literal(str(recipe.value("token_types"))))
    return Template(LOAD_MODEL).substitute(quantization=quantization, load=load)


# Why a later stage merges the previous stage's adapter into the weights and trains a new one,
# where TRL cannot keep a frozen copy of the adapter as the reference (build_model's docstring).
MERGED_FOR_ADALORA = (
    "AdaLoRA allows a single trainable adapter, so TRL cannot keep a frozen copy as the reference:\n"
    "    a later stage merges the previous stage's adapter into the weights (they become the reference)\n"
    "    and allocates a new rank budget."
)
MERGED_FOR_EXPERTS = (
    "An adapter on fused experts (target_parameters) was the one PEFT allowed a model before 0.20\n"
    "    (peft#3340), and TRL's DPO and KTO then scored the reference with the adapters off, the base\n"
    "    model: a later stage merges the previous stage's adapter into the weights (with them off, the\n"
    "    model is the previous stage's policy, the reference) and trains a new one, whatever the versions."
)
MERGED_FOR_IA3 = (
    "TRL's DPO and KTO copy the previous stage's adapter into their frozen reference by parameter\n"
    "    names holding '.default.', which IA3's (ia3_l.default) do not: the reference would keep IA3's\n"
    "    initial vectors, the base model. A later stage merges the previous stage's adapter into the\n"
    "    weights (with them off, the model is the previous stage's policy, the reference) and trains a\n"
    "    new one."
)


def _merge_kwargs(recipe: Recipe) -> str:
    """How merge_earlier loads the weights an adapter is merged into: in 16 bits on the CPU, a
    checkpoint stored in a quantization of its own (gpt-oss's MXFP4) dequantized as load_model
    loads it, never in a QLoRA's 4 bits."""
    kwargs = "dtype=load_dtype(args.precision)"
    if recipe.dequantizing_config is not None:
        kwargs += f", quantization_config={recipe.dequantizing_config}(dequantize=True)"
    return kwargs


def _merging_stages(recipe: Recipe) -> str | None:
    """Why a later stage merges the previous adapter (build_model's docstring), or None where it
    continues it."""
    if len(_stages(recipe)) < 2:
        return None
    if recipe.memory_model == "adalora":
        return MERGED_FOR_ADALORA
    if not any(s in SCRIPT_REFERENCE_STAGES for s in _stages(recipe)[1:]):
        return None
    if recipe.has("lora.expert_parameters"):
        return MERGED_FOR_EXPERTS
    return MERGED_FOR_IA3 if recipe.memory_model == "ia3" else None


def _build_blocks(recipe: Recipe) -> list[str]:
    """load_model, trainable-parameter selection and build_model for the plan's family."""
    blocks = [training.LOAD_DTYPE, training.REFERENCE_DTYPE, _load_model(recipe)]
    peft_head = not recipe.classifier or recipe.memory_model in _PEFT_CONFIG  # where PEFT may copy a head
    subset = recipe.memory_model in ("partial", "bitfit")
    if peft_head or subset:
        blocks.append(training.UPCAST_TRAINABLE)
    if peft_head:
        blocks.append(training.TRAINABLE_IN_FP32)
    if not recipe.classifier:
        blocks.insert(0, training.LANGUAGE_MODEL_CLASS)
    if subset:
        blocks.append(training.SELECT_PARTIAL if recipe.memory_model == "partial" else training.SELECT_BITFIT)
    if recipe.family == "weights":
        select = "# every weight trains"
        if recipe.memory_model in ("partial", "bitfit"):
            select = "select_trainable(model)"
        elif recipe.model is not None and recipe.model.vision_params_b:
            select = "freeze_vision_tower(model)  # every weight of the text model trains"
            blocks.append(Template(training.FREEZE_VISION_TOWER).substitute(modules=literal(VISION_MODULES)))
        blocks.append(training.BUILD_WEIGHTS.replace("$select", select))
    else:
        merging = _merging_stages(recipe)
        blocks.append(
            training.BUILD_MERGING.substitute(why=merging, merge_kwargs=_merge_kwargs(recipe))
            if merging
            else training.BUILD_PEFT
        )
        blocks.append(_adapter_function(recipe))
    return blocks


def _callbacks_block(recipe: Recipe) -> str:
    if recipe.memory_model == "adalora":
        return training.PLANNED_STEPS + (
            "\n\ndef callbacks() -> list[TrainerCallback]:\n    return [AdaLoraBudget()]\n"
        )
    return "\n\ndef callbacks() -> list[TrainerCallback]:\n    return []\n"


def _parse_args_block(recipe: Recipe) -> str:
    datasets = []
    for i, stage in enumerate(_stages(recipe)):
        flag = "--" + _option(stage, i == 0).replace("_", "-")
        data_help = literal(f"{stage} data (see above)")
        datasets.append(f"    parser.add_argument({literal(flag)}, required=True, help={data_help})")
    extra = ""
    if recipe.memory_model == "prompt":
        extra = (
            '\n    parser.add_argument(\n        "--init-text",\n'
            '        default="Answer the request in the style of the training examples.",\n'
            '        help="a short task description; the soft prompt starts from its embeddings",\n    )'
        )
    if _evaluated_stages(recipe):
        extra += (
            '\n    parser.add_argument(\n        "--eval-share", type=eval_share, default=EVAL_SHARE,\n'
            '        help="share of the rows held out to evaluate on (0: none)",\n    )'
        )
    # Online RL reads it as prompt + completion, as the memory estimate reads --seq-len.
    if _online(recipe):
        length_help = "prompt + completion; longer prompts are left out"
    elif set(recipe.stages) <= recipe.dropping_stages:
        length_help = "longer pairs are left out"  # TRL's RewardTrainer cuts none
    elif all(_wrapped(recipe, stage) for stage in recipe.stages):
        length_help = "the documents are joined and cut into rows of this length"  # nothing is lost
    else:
        length_help = "longer examples are truncated"
    return training.PARSE_ARGS.substitute(
        model_option=_model_option(recipe),
        dataset_options="\n".join(datasets),
        extra_options=extra,
        max_length_help=literal(length_help),
    )


def _training_notes(recipe: Recipe) -> None:
    if any(e.fit == "no" for e in recipe.estimates.values()) or (
        not recipe.estimates and recipe.plan.fits is False
    ):
        recipe.notes.append(
            "the memory estimate says this plan does NOT fit the GPU; "
            "see the caveats and changes in `ft-atlas recommend`."
        )
    note = sharding_note(recipe)
    if note:
        recipe.notes.append(note)
    if _merging_stages(recipe):
        recipe.notes.append(
            t(
                "Before each later stage the main process merges the earlier adapter into the weights on "
                "the CPU (merge_earlier): it needs CPU RAM and disk for the 16-bit model, {size:.0f} GB, "
                "while the other processes wait (a process group's default timeout is 30 minutes).",
                size=recipe.sixteen_bit_gb,
            )
        )
    generative = not recipe.classifier and any(
        s in recipe.stages for s in ("sft", "dpo", "kto", "orpo", "simpo", "grpo", "rloo")
    )
    if recipe.post_trained and generative:
        recipe.notes.append(
            t(
                "An instruct model: give its data in the conversational form (lists of messages) so that "
                "TRL renders the model's own chat template; plain-text prompts and answers are trained as "
                "bare text, a format the model is not served with."
            )
        )
    if "kto" in recipe.stages:
        recipe.notes.append(t(KTO_DATA))
        for key in ("kto.desirable_weight", "kto.undesirable_weight"):
            if recipe.has(key):  # the script reweighs the rarer label (balanced_kto_weights)
                kept = recipe.settings[key]
                counted = t(
                    "the rarer label's weight is set from the data's counts when the script runs, "
                    "else {source}",
                    source=kept.source,
                )
                recipe.set(key, Setting(kept.value, counted))
    if _online(recipe):
        recipe.notes.append(
            t(
                "Online RL optimises reward_matches_solution: it rewards a completion whose final answer "
                "(\\boxed{...}, '#### ...' or 'answer: ...') equals the solution column's, as mathematics "
                "(math_verify); ask for that format in the prompts, or replace it for other tasks."
            )
        )


KTO_DATA = N_(
    "KTO needs both desirable (true) and undesirable (false) examples, and a per-device batch above 1."
)


def _online(recipe: Recipe) -> bool:
    return bool(recipe.online_stages)


def _run_stage(
    online: bool,
    sft: bool,
    cut: bool,
    evaluated: bool,
    adalora: bool,
    instruct: bool,
    kto: bool,
    served: bool,
    merging: bool,
) -> str:
    return training.RUN_STAGE.substitute(
        merge_earlier="\n        merge_earlier(args, stage)" if merging else "",
        trainer_wrap="\n    trainer_class = with_orthogonal_penalty(trainer_class)" if adalora else "",
        row_settings=training.KTO_ROW_SETTINGS if kto else "",
        plain_prompts=training.PLAIN_PROMPTS if instruct else "",
        completion_override=(training.ONLINE_COMPLETION_OVERRIDE if online else "")
        + (training.SERVER_CONTEXT_CHECK if served else ""),
        prompt_filter=(training.ONLINE_PROMPT_FILTER if online else "")
        + (training.SFT_CONVERSATION_LOSS if sft else ""),
        held_out=training.STAGE_HELD_OUT if evaluated else "",
        config_extras=("\n        **conversation," if sft else "")
        + (training.STAGE_EVAL_ARGUMENTS if evaluated else ""),
        eval_dataset=training.STAGE_EVAL_DATASET if evaluated else "",
        report_cut=training.STAGE_REPORT_CUT if cut else "",
    )


def _evaluated_stages(recipe: Recipe) -> tuple[str, ...]:
    """The stages that hold rows out to evaluate on (settings.py's eval.share)."""
    return tuple(s for s in _stages(recipe) if recipe.evaluates(s))


def _evaluation_constants(recipe: Recipe) -> list[str]:
    stages = _evaluated_stages(recipe)
    if not stages:
        return []
    return [
        f"EVAL_SHARE = {literal(recipe.value('eval.share'))}  # of each evaluated stage's rows held out",
        f"EVAL_ROWS = {literal(EVAL_ROWS)}  # the fewest rows worth holding out, and the most",
        f"MAX_HELD_SHARE = {literal(MAX_HELD_SHARE)}  # never hold out more of the rows than this",
        f"EVAL_EVERY = {literal(recipe.value('eval.every'))}  # a share of the training steps",
        f"EVAL_STAGES = {literal(stages)}  # online RL scores its own generations instead",
    ]


def _classifier_main(recipe: Recipe) -> str:
    wrap = training.WRAP_ADAPTER if recipe.memory_model in _PEFT_CONFIG else ""
    return training.RUN_CLASSIFIER.substitute(wrap_adapter=wrap)


def _run_line(recipe: Recipe, main: str) -> str:
    stages = _stages(recipe)
    data = " ".join(f"--{_option(s, i == 0).replace('_', '-')} {DATA_FILES[s]}" for i, s in enumerate(stages))
    launcher = f"accelerate launch --config_file {ACCELERATE_FILE}" if distributed(recipe) else "python"
    if node_layout(recipe.gpus)[0] > 1:
        launcher += (
            f" --machine_rank $NODE_RANK --main_process_ip $MASTER_ADDR --main_process_port {MASTER_PORT}"
        )
    model = shell_word(recipe.model_hint)
    run = f"{launcher} {shell_word(main)} --model {model} {data} --output-dir ft-atlas-output"
    if not recipe.vllm_server_gpus:
        return run
    length = recipe.value(f"{recipe.vllm_server_stage}.vllm_server_max_model_len")
    split = recipe.vllm_server_gpus
    serve = f"trl vllm-serve --model {model} --tensor-parallel-size {split} --max-model-len {length}"
    return beside_vllm_server(recipe, run, serve)


# What each kind of result is and how it is used, by PEFT family (kb.vocabulary MEMORY_MODELS).
# vLLM serves plain LoRA adapters unmerged (--enable-lora); DoRA's, AdaLoRA's and IA3's must be
# merged first; virtual tokens (prompt and prefix tuning, P-tuning) cannot be merged at all.
AFTER_LORA = N_(
    "{dir} holds the adapter, not the model. Try it: peft's "
    "AutoPeftModelForCausalLM.from_pretrained('{dir}') loads {base} with it. Serve it unmerged: vllm "
    "serve {base} --enable-lora --lora-modules tuned={dir}. Or merge it into one model: load {base} in "
    "16 bits{quantized}, then PeftModel.from_pretrained(model, "
    "'{dir}').merge_and_unload().save_pretrained('merged'). Save the tokenizer the trainer kept with "
    "the adapter beside it, AutoTokenizer.from_pretrained('{dir}').save_pretrained('merged'), for vllm "
    "serve merged to read."
)
AFTER_MERGED = N_(
    "{dir} holds the adapter, not the model. Try it: peft's "
    "AutoPeftModelForCausalLM.from_pretrained('{dir}') loads {base} with it. To serve it, merge it "
    "first (vLLM loads plain LoRA adapters only): load {base} in 16 bits, then "
    "PeftModel.from_pretrained(model, '{dir}').merge_and_unload().save_pretrained('merged'). Save the "
    "tokenizer the trainer kept with the adapter beside it, "
    "AutoTokenizer.from_pretrained('{dir}').save_pretrained('merged'), for vllm serve merged to read."
)
AFTER_VIRTUAL_TOKENS = N_(
    "{dir} holds the learned virtual tokens, not the model: peft's "
    "AutoPeftModelForCausalLM.from_pretrained('{dir}') loads {base} with them. They cannot be merged "
    "into the weights and vLLM does not load them: generate through PEFT."
)
AFTER_WEIGHTS = N_(
    "{dir} holds the whole model and its tokenizer: AutoModelForCausalLM.from_pretrained('{dir}') "
    "loads it, and vllm serve {dir} serves it."
)
AFTER_CLASSIFIER = N_(
    "{dir} holds the classifier and its tokenizer: pipeline('text-classification', model='{dir}') "
    "labels new texts."
)
AFTER_PEFT_CLASSIFIER = N_(
    "{dir} holds the adapter, the new classification head and their config.json (the labels, the pad "
    "token): PeftModel.from_pretrained(AutoModelForSequenceClassification.from_pretrained({base_literal}, "
    "config=AutoConfig.from_pretrained('{dir}')), '{dir}') loads them on {base} (the base's own config "
    "would build a head of another size), and merge_and_unload() makes one model of them."
)
AFTER_REWARD = N_(
    "{dir} holds the reward model, which scores a response to a prompt: "
    "AutoModelForSequenceClassification.from_pretrained('{dir}') loads it (an adapter: "
    "PeftModel.from_pretrained(AutoModelForSequenceClassification.from_pretrained({base_literal}, "
    "config=AutoConfig.from_pretrained('{dir}')), '{dir}'), its one-score head as saved), to rank responses "
    "or as GRPO's reward_funcs."
)
# A later stage that merges the earlier stage's adapter into the weights and trains one of its own
# (_merging_stages): the result is the base with every stage's adapter, in order.
AFTER_MERGED_STAGES = N_(
    "{dir} holds the last stage's adapter, trained on {merged} ({base} with {earlier} merged into it, "
    "as the script wrote it): peft's AutoPeftModelForCausalLM.from_pretrained('{dir}') loads {merged} "
    "with it, and merge_and_unload() makes one model of them."
)
# transformers maps some vision-language configs to no causal LM (Qwen2.5-VL, Mistral Small 3.x),
# and Llama 3.2 Vision's causal LM drops the vision tower: load them as the script trained them.
AFTER_VISION_LANGUAGE = N_(
    " This is a vision-language model, which the causal-LM classes named above may not build: in their "
    "place, load it as the script trained it, model = AutoModelForImageTextToText.from_pretrained("
    "{base_literal}), then PeftModel.from_pretrained(model, '{dir}') for an adapter ('{dir}' itself for "
    "whole weights)."
)
AFTER_QUANTIZED_BASE = N_(
    " (not the 4-bit base it trained on: quantizing the merged weights again would round away much of "
    "the adapter's small update)"
)


# An adapter saves no config.json: the base it loads onto has its own positions, not YaRN's (a
# review: the header said the scaling was saved with the model).
ADAPTER_YARN = N_(
    " It trained with YaRN ({scaling}), which {base}'s own config lacks and the adapter does not save: "
    "load the base with it wherever the adapter goes, in the commands above too (the config load_model "
    "builds; vLLM: --hf-overrides '{{\"rope_scaling\": {scaling}}}' --max-model-len {length}), and "
    "write it into merged/config.json if you merge."
)


def _after_training(recipe: Recipe) -> str:
    """How to use what the last stage saves in ft-atlas-output/<stage> (each stage continues the
    previous one's adapter or weights, so the last holds the result), and, for an adapter trained
    with YaRN, how its base must load."""
    text = _saved_result(recipe)
    if not recipe.has("rope.yarn_factor") or recipe.memory_model not in _PEFT_CONFIG:
        return text
    factor, native = float(recipe.value("rope.yarn_factor")), int(recipe.value("rope.native"))
    scaling = json.dumps({"rope_type": "yarn", "factor": factor, "original_max_position_embeddings": native})
    return text + t(
        ADAPTER_YARN, scaling=scaling, base=recipe.model_hint, length=int(recipe.value("seq_len"))
    )


def _saved_result(recipe: Recipe) -> str:
    """What the last stage saves in ft-atlas-output/<stage>, and how to use it."""
    stages = _stages(recipe)
    last = stages[-1]
    family = recipe.family
    peft = recipe.memory_model in _PEFT_CONFIG
    folder = f"ft-atlas-output/{last}"
    base, base_literal = shell_word(recipe.model_hint), literal(recipe.model_hint)
    # The last stage's adapter goes on the weights it trained on: the earlier stages merged in.
    merged = f"ft-atlas-output/{stages[-2]}-merged" if _merging_stages(recipe) else None
    trained_on = base_literal if merged is None else literal(merged)
    vision = (
        ""
        if not _vision_language(recipe) or last == "reward-model"
        else t(AFTER_VISION_LANGUAGE, base_literal=trained_on, dir=folder)
    )
    if merged is not None:
        return (
            t(
                AFTER_MERGED_STAGES,
                dir=folder,
                merged=merged,
                base=base,
                earlier=", ".join(f"ft-atlas-output/{stage}" for stage in stages[:-1]),
            )
            + vision
        )
    if last == "reward-model":
        template = AFTER_REWARD
    elif recipe.classifier:
        template = AFTER_PEFT_CLASSIFIER if peft else AFTER_CLASSIFIER
    elif family == "prompt":
        template = AFTER_VIRTUAL_TOKENS
    elif recipe.memory_model in ("lora", "qlora") and not recipe.has("lora.expert_parameters"):
        template = AFTER_LORA  # not an adapter on fused experts (PEFT target_parameters): merge those
    elif peft:
        template = AFTER_MERGED
    else:
        template = AFTER_WEIGHTS
    quantized = t(AFTER_QUANTIZED_BASE) if recipe.memory_model == "qlora" else ""
    return t(template, dir=folder, base=base, base_literal=base_literal, quantized=quantized) + vision


def _vision_language(recipe: Recipe) -> bool:
    """A generative recipe for a vision-language checkpoint (its vision tower loaded, frozen)."""
    return recipe.model is not None and bool(recipe.model.vision_params_b) and not recipe.classifier


def _render_training(recipe: Recipe, main: str) -> Rendered:
    _training_notes(recipe)
    classifier = recipe.classifier
    online = _online(recipe)
    sft = _language_model_sft(recipe)
    evaluated = bool(_evaluated_stages(recipe))
    adalora = recipe.memory_model == "adalora"
    kto = not classifier and "kto" in recipe.stages
    run = _run_line(recipe, main)
    recipe.after_training = _after_training(recipe)
    parts = [
        header(recipe, "python", _written_for(recipe), run, _setup(recipe)),
        _training_doc(recipe),
        _python_imports(recipe),
        training.REWARD_FUNCTION if online else "",
        _constants(recipe),
        _parse_args_block(recipe),
        training.CHECK_ENVIRONMENT,
        training.LOAD_ROWS,
        training.LOAD_TOKENIZER,
        training.PLAIN_PROMPTS_CHECK if recipe.post_trained and not classifier else "",
        *_build_blocks(recipe),
        _callbacks_block(recipe),
        training.TRAINING_ARGUMENTS,
        training.PROMPT_BUDGET.substitute(max_prompt=literal(MAX_PROMPT)) if online else "",
        training.CONVERSATION_LOSS if sft else "",
        training.HELD_OUT if evaluated else "",
        training.BALANCED_KTO_WEIGHTS if kto else "",
        training.REPORT_CUT if _cut_stages(recipe) else "",
        training.FINISH,
        training.ACCURACY if classifier else "",
        _classifier_main(recipe)
        if classifier
        else _run_stage(
            online,
            sft,
            bool(_cut_stages(recipe)),
            evaluated,
            adalora,
            recipe.post_trained,
            kto,
            bool(recipe.vllm_server_gpus),
            _merging_stages(recipe) is not None,
        ),
    ]
    script = _join_blocks(parts)
    files = [RecipeFile(main, script)]
    text = script
    if distributed(recipe):
        import yaml  # only a multi-GPU recipe has a YAML file

        launcher = yaml.safe_dump(accelerate_config(recipe), sort_keys=False, allow_unicode=False)
        launchers = [RecipeFile(ACCELERATE_FILE, launcher)]
        deepspeed = deepspeed_file(recipe)
        if deepspeed is not None:
            launchers.append(RecipeFile(deepspeed, deepspeed_json(recipe)))
        files += launchers
        # On stdout the launcher configs follow as comments, so the script still runs as it is.
        for file in launchers:
            note = f"The launcher config, {file.name} (--out DIR writes it as its own file):"
            text += "\n" + "\n".join(wrapped(note)) + "\n"
            text += commented_file(file.text)
    return Rendered(tuple(files), run, text)


def _join_blocks(parts: list[str]) -> str:
    """Top-level blocks, two blank lines apart (PEP 8), after the header comments."""
    head, *rest = parts
    return head + "\n" + "\n\n\n".join(p.strip("\n") for p in rest if p.strip()) + "\n"


register(
    TrainerFormat(
        "python",
        "a Python script (transformers + peft + trl)",
        render,
        gap,
        frozenset(TRL_STAGES),
        "recipe.py",
        suffix=".py",
        stack="trl",
        prompting=True,
        encoder_classifiers=True,
        yarn=True,
        adds_token_types=True,
        trl_trainers=True,
    )
)
