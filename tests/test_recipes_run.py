"""The emitted Python recipes, run for real on the CPU (needs the `recipes` extra: torch CPU,
transformers, peft, trl, datasets; skipped without it).

Nothing is downloaded: the model is a tiny randomly initialised Llama built from a config (2 layers,
hidden size 32) with a word-level tokenizer trained on the spot, and the data are a few generated
JSON Lines. Each recipe runs in-process (imports are paid once) for two optimizer steps and must
report a finite loss and write its adapter or checkpoint. The other plan kinds are not trained, but
every one of them builds its TRL/transformers config and its PEFT config, which checks each
argument name against the installed libraries.
"""

from __future__ import annotations

import importlib.metadata
import json
import math
import runpy
import shutil
from argparse import Namespace
from pathlib import Path
from typing import Any

import pytest

for _module in ("torch", "transformers", "peft", "trl", "datasets", "tokenizers"):
    pytest.importorskip(_module)

# Trains tiny models on the CPU: minutes, and the `recipes` extra.
pytestmark = pytest.mark.slow

import torch  # noqa: E402
from tokenizers import Tokenizer, pre_tokenizers, trainers  # noqa: E402
from tokenizers.models import WordLevel  # noqa: E402
from transformers import (  # noqa: E402
    BertConfig,
    BertModel,
    Llama4Config,
    Llama4ForConditionalGeneration,
    LlamaConfig,
    LlamaForCausalLM,
    Mistral3Config,
    Mistral3ForConditionalGeneration,
    MllamaConfig,
    MllamaForConditionalGeneration,
    PreTrainedTokenizerFast,
    TrainingArguments,
)

from atlas_cli.core.plans import Recommendation  # noqa: E402
from atlas_cli.recipes.settings import WRITTEN_FOR  # noqa: E402
from atlas_cli.recipes.writer import render_recipe  # noqa: E402
from tests.test_recipes import CASES, CATALOG, EMBEDS_ONLY, Case, rank_of, recommend, refused, render  # noqa: E402

VOCABULARY = "the a sky grass cat dog is was blue green red good bad yes no what why how answer question"
SPECIALS = ["<unk>", "<pad>", "<s>", "</s>", "<|user|>", "<|assistant|>"]
CHAT_TEMPLATE = (
    "{% for m in messages %}{{ '<|' + m['role'] + '|> ' + m['content'] + ' </s> ' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|> ' }}{% endif %}"
)
SMOKE = ["--max-steps", "2", "--max-length", "48"]


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """No hub: any attempt to download fails instead of hanging or succeeding by accident."""
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
        monkeypatch.setenv(name, "1")
    monkeypatch.setenv("TOKENIZERS_PARALLELISM", "false")


def tiny_tokenizer() -> PreTrainedTokenizerFast:
    """A word-level tokenizer trained on the spot, with a simple chat template."""
    core = Tokenizer(WordLevel(unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    core.train_from_iterator([VOCABULARY], trainers.WordLevelTrainer(special_tokens=SPECIALS))
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core, unk_token="<unk>", pad_token="<pad>", bos_token="<s>", eos_token="</s>"
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def _save_tiny(root: Path, config_class: Any, model_class: Any, **shape: int) -> str:
    """A 2-layer model with random weights and the test tokenizer, saved to `root`."""
    tokenizer = tiny_tokenizer()
    tokenizer.save_pretrained(root)
    config = config_class(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        max_position_embeddings=128,
        pad_token_id=tokenizer.pad_token_id,
        **shape,
    )
    torch.manual_seed(0)
    model_class(config).save_pretrained(root)
    return str(root)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A 2-layer Llama with random weights."""
    tokenizer = tiny_tokenizer()
    return _save_tiny(
        tmp_path_factory.mktemp("tiny-llama"),
        LlamaConfig,
        LlamaForCausalLM,
        num_key_value_heads=2,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )


def _write(path: Path, rows: list[dict[str, Any]]) -> str:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return str(path)


# Rows per training file: enough for a held-out evaluation set of EVAL_ROWS[0] rows at
# --eval-share 0.5 (the runs below), so that every offline stage evaluates too.
ROWS = 40
HELD_OUT = ["--eval-share", "0.5"]


@pytest.fixture(scope="session")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """One small file per data format the recipes document."""
    root = tmp_path_factory.mktemp("data")
    chat = {
        "prompt": [{"role": "user", "content": "what is the sky"}],
        "completion": [{"role": "assistant", "content": "the sky is blue"}],
    }
    plain = {"prompt": "is the cat good", "completion": "yes the cat is good"}
    return {
        "sft": _write(root / "sft.jsonl", [chat] * ROWS),
        "plain-sft": _write(root / "plain-sft.jsonl", [plain] * ROWS),
        "text": _write(root / "text.jsonl", [{"text": "the sky is blue and the grass is green"}] * ROWS),
        "dpo": _write(
            root / "dpo.jsonl", [{"prompt": "what is the sky", "chosen": "blue", "rejected": "red"}] * ROWS
        ),
        "kto": _write(
            root / "kto.jsonl",
            [{"prompt": "is the dog good", "completion": c, "label": c == "yes"} for c in ("yes", "no")]
            * (ROWS // 2),
        ),
        "grpo": _write(root / "grpo.jsonl", [{"prompt": "what is the sky", "solution": "blue"}] * 4),
        "shots": _write(root / "shots.jsonl", [{"input": "the sky", "output": "blue"}] * 3),
        "docs": _write(root / "docs.jsonl", [{"text": "the grass is green. the sky is blue."}]),
        "labels": _write(
            root / "labels.jsonl",
            [{"text": "good dog", "label": "yes"}, {"text": "bad", "label": "no"}] * (ROWS // 2),
        ),
    }


@pytest.fixture(scope="session")
def tiny_encoder(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A 2-layer BERT with random weights (the classifier head is added by the recipe)."""
    return _save_tiny(tmp_path_factory.mktemp("tiny-bert"), BertConfig, BertModel)


def case(name: str) -> Case:
    return next(c for c in CASES if c.name == name)


def load_recipe(case: Case, tmp_path: Path) -> dict[str, Any]:
    """The recipe's module namespace, as `python recipe.py` defines it, without running main()."""
    script = tmp_path / f"{case.name or 'recipe'}.py"
    script.write_text(render(case, "python"), encoding="utf-8")
    return runpy.run_path(str(script), run_name="ft_atlas_recipe")


STAGE_DATA = {
    "sft": "sft",
    "continued-pretraining": "text",
    "dpo": "dpo",
    "kto": "kto",
    "grpo": "grpo",
    "rloo": "grpo",
    "reward-model": "dpo",
}


# Conversations are the usual SFT rows; these runs train on plain prompt-completion rows instead.
PLAIN_SFT, PLAIN_SFT_CASES = "plain-sft", ("partial-ft-sft-decoder", "ia3-sft-decoder")


def recipe_args(
    recipe: dict[str, Any], case: Case, models: dict[str, str], data: dict[str, str]
) -> list[str]:
    if case.name.endswith("-encoder"):
        return ["--model", models["encoder"], "--dataset", data["labels"]]
    args = ["--model", models["decoder"]]
    for stage, option in recipe["DATASET_OPTION"].items():
        source = PLAIN_SFT if case.name in PLAIN_SFT_CASES and stage == "sft" else STAGE_DATA[stage]
        args += ["--" + option.replace("_", "-"), data[source]]
    return args


@pytest.fixture(scope="session")
def models(tiny_model: str, tiny_encoder: str) -> dict[str, str]:
    return {"decoder": tiny_model, "encoder": tiny_encoder}


# The three the issue names, then one of every other family and pipeline (about 1 s each).
TRAINED = [
    "lora-sft-decoder",
    "full-ft-sft-decoder",
    "lora-sft+dpo-decoder",
    "full-ft-sft+kto-decoder",
    "lora-continued-pretraining-decoder",
    "lora-grpo-decoder",
    "dora-sft+dpo-decoder",
    "adalora-sft+dpo-decoder",
    "ia3-sft-decoder",
    "partial-ft-sft-decoder",
    "prompt-tuning-sft-decoder",
    "p-tuning-sft-decoder",
    "prefix-tuning-sft-decoder",
    "full-ft-sft-encoder",
    "lora-sft-encoder",
    "bitfit-sft-encoder",
]


@pytest.mark.parametrize("name", TRAINED)
def test_recipe_trains_on_the_cpu(
    name: str, models: dict[str, str], data: dict[str, str], tmp_path: Path
) -> None:
    this = case(name)
    recipe = load_recipe(this, tmp_path)
    out = tmp_path / "out"
    # --grad-accum 1 for every recipe: GRPO's generation batch (micro-batch x accumulation) must
    # hold whole groups of num_generations completions, and the script keeps it so itself.
    evaluated = recipe.get("EVAL_STAGES", ())
    recipe["main"](
        [
            *recipe_args(recipe, this, models, data),
            *["--output-dir", str(out), *SMOKE, "--grad-accum", "1"],
            *(HELD_OUT if evaluated else []),
        ]
    )
    stages = recipe.get("STAGES", ("sft",))
    for stage in stages:
        metrics = json.loads((out / stage / "train_results.json").read_text())
        assert math.isfinite(metrics["train_loss"]), (stage, metrics)
        saved = "adapter_model.safetensors" if recipe["USES_PEFT"] else "model.safetensors"
        assert (out / stage / saved).is_file(), sorted(p.name for p in (out / stage).iterdir())
    # Every offline stage evaluates on its held-out rows; a classifier reports its accuracy too.
    assert set(evaluated) == {s for s in stages if s not in ("grpo", "rloo")}
    for stage in evaluated:
        scores = json.loads((out / stage / "eval_results.json").read_text())
        assert math.isfinite(scores["eval_loss"]), (stage, scores)
        if this.name.endswith("-encoder"):
            assert 0 <= scores["eval_accuracy"] <= 1 and 0 <= scores["eval_macro_f1"] <= 1


def test_sft_says_how_many_examples_reach_the_length_and_are_cut(
    models: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An expert's review: TRL truncated every reasoning trace at max_length without a word. Counted
    over the rows TRL keeps (a diff review: those it drops, their prompt filling the length, were
    counted as cut), and from each example's length in a packed row."""
    this = case("lora-sft-decoder")
    recipe = load_recipe(this, tmp_path)
    long_prompt = {"prompt": "what is the sky " * 12, "completion": "blue"}
    short = {"prompt": "sky", "completion": "the sky is blue and the grass is green " * 3}
    rows = _write(tmp_path / "mixed.jsonl", [long_prompt] * 30 + [short] * 10)
    args = ["--model", models["decoder"], "--dataset", rows, "--max-steps", "1", "--max-length", "20"]
    recipe["main"]([*args, "--output-dir", str(tmp_path / "out")])
    said = capsys.readouterr().err
    assert "sft: 10 of 10 examples reach --max-length 20, cut there if longer" in said
    assert "sft: 30 of 40 examples were left out: cut at --max-length 20" in said
    recipe["main"]([*args[:-1], "256", "--output-dir", str(tmp_path / "long")])
    assert "--max-length 256" not in capsys.readouterr().err
    profile = {"gpu": "a100-80gb", "model": "llama-3.2-1b", "goal": "chat", "data_kind": "demonstrations"}
    packed = recommend(**profile, packing="true")
    script = tmp_path / "packed.py"
    script.write_text(render(Case("packed", packed, rank_of(packed, "lora")), "python"), encoding="utf-8")
    runpy.run_path(str(script), run_name="ft_atlas_recipe")["main"](
        [*args, "--output-dir", str(tmp_path / "p")]
    )
    assert "sft: 40 of 40 examples reach --max-length 20, cut there if longer" in capsys.readouterr().err


# The embeddings classifier trains no language model: its own run test below covers it.
PYTHON_TRAINING = [
    c
    for c in CASES
    if not refused(c, "python")
    and not c.name.startswith(("icl-", "rag-"))
    and c.rec.plans[c.rank - 1].method not in EMBEDS_ONLY
]


@pytest.mark.parametrize("this", PYTHON_TRAINING, ids=lambda c: c.name)
def test_every_recipe_builds_its_configs(
    this: Case, models: dict[str, str], data: dict[str, str], tmp_path: Path
) -> None:
    """Every argument name the recipe passes exists in the installed TRL / transformers / PEFT:
    the configs are built (which validates them) without training."""
    recipe = load_recipe(this, tmp_path)
    args = recipe["parse_args"]([*recipe_args(recipe, this, models, data), "--output-dir", str(tmp_path)])
    args.precision = "fp32"  # mixed precision refuses a CPU-only machine
    for stage in recipe.get("STAGES", ("sft",)):
        shared = recipe["training_arguments"](args, stage)
        if "TRAINERS" in recipe:
            config_class = recipe["TRAINERS"][stage][0]
            config = config_class(**shared, **recipe["STAGE_SETTINGS"][stage])
        else:
            config = TrainingArguments(**shared)
        assert config.learning_rate == recipe["LEARNING_RATE"][stage]
        assert getattr(config, recipe["CHECKPOINTING_ARGUMENT"]) == recipe["GRADIENT_CHECKPOINTING"]
        assert config.per_device_train_batch_size == recipe["BATCH_SIZE"][stage]
    if "adapter_config" in recipe:
        args.labels = ["no", "yes"]
        first = recipe.get("STAGES", ("sft",))[0]
        rows = recipe["load_rows"](data["sft"], [[]])
        adapter = recipe["adapter_config"](args, recipe["load_tokenizer"](args.model), rows, first)
        assert adapter.task_type == recipe["TASK_TYPE"][first]


def test_the_script_holds_out_what_the_header_says(tmp_path: Path) -> None:
    """The bounds live in settings.held_out_rows (the YAML formats) and in the script's held_out:
    both hold out the same rows, and --eval-share takes only a share below 1."""
    from datasets import Dataset

    from atlas_cli.recipes.settings import EVAL_SHARE, held_out_rows

    recipe = load_recipe(case("lora-sft-decoder"), tmp_path)
    for rows in (50, 99, 100, 300, 399, 400, 5000, 50_000):
        args = recipe["parse_args"](["--model", "m", "--dataset", "d"])
        assert args.eval_share == EVAL_SHARE
        _, held = recipe["held_out"](Dataset.from_dict({"text": ["x"] * rows}), args)
        assert (0 if held is None else len(held)) == held_out_rows(rows), rows
    # A share the user gives is held out as asked (a review: 0.3 of 1,000 rows held none out).
    for rows, share, expected in ((1000, "0.3", 300), (40, "0.5", 20)):
        args = recipe["parse_args"](["--model", "m", "--dataset", "d", "--eval-share", share])
        _, held = recipe["held_out"](Dataset.from_dict({"text": ["x"] * rows}), args)
        assert held is not None and len(held) == expected
    for bad in ("1", "-0.1", "2"):
        with pytest.raises(SystemExit):
            recipe["parse_args"](["--model", "m", "--dataset", "d", "--eval-share", bad])


def test_a_classifier_holds_out_every_class_in_its_share(tmp_path: Path) -> None:
    """Ten classes of 40 rows, 20 held out: two of each, where a random split leaves some out."""
    from datasets import ClassLabel, Dataset

    recipe = load_recipe(case("lora-sft-encoder"), tmp_path)
    args = recipe["parse_args"](["--model", "m", "--dataset", "d"])
    labels = Dataset.from_dict({"labels": [i % 10 for i in range(400)]})
    labels = labels.cast_column("labels", ClassLabel(num_classes=10))
    _, held = recipe["held_out"](labels, args, stratify="labels")
    assert sorted(held["labels"]) == sorted(list(range(10)) * 2)


@pytest.mark.parametrize("method", ["lora", "full-ft"])
def test_a_decoder_with_labelled_data_trains_a_classifier_head(
    method: str, models: dict[str, str], data: dict[str, str], tmp_path: Path
) -> None:
    """Classification with a decoder (Qwen3-0.6B, 50k labelled rows) wrote a generative SFT script
    that could not read {"text", "label"} rows (an expert's review): it trains a sequence
    classifier on the decoder's last token, as for an encoder, and reports held-out accuracy."""
    rec = recommend(gpu="l4", model="qwen3-0.6b", goal="classify", data_kind="labeled", examples="50k")
    script = tmp_path / "classifier.py"
    script.write_text(render_recipe(CATALOG, rec, rank_of(rec, method, ("sft",)), "python"), encoding="utf-8")
    recipe = runpy.run_path(str(script), run_name="ft_atlas_recipe")
    assert "SFTTrainer" not in script.read_text(encoding="utf-8")
    out = tmp_path / "out"
    args = ["--model", models["decoder"], "--dataset", data["labels"], "--output-dir", str(out)]
    recipe["main"]([*args, *SMOKE, "--batch-size", "2", "--grad-accum", "8", *HELD_OUT])
    scores = json.loads((out / "sft" / "eval_results.json").read_text())
    assert 0 <= scores["eval_accuracy"] <= 1
    # A head's mean loss divided by the accumulation steps (transformers#47688): the untrained
    # model's training loss is its held-out loss's size, not 8 times it.
    trained = json.loads((out / "sft" / "train_results.json").read_text())
    assert trained["train_loss"] < 2 * scores["eval_loss"]


def _said_at_length_20(
    rec: Recommendation,
    rows: list[dict[str, Any]],
    models: dict[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> str:
    """What plan 1's Python recipe says on stderr training one step on `rows` at --max-length 20."""
    script = tmp_path / "plan.py"
    script.write_text(render(Case("plan", rec, 1), "python"), encoding="utf-8")
    data = _write(tmp_path / "pairs.jsonl", rows)
    args = ["--model", models["decoder"], "--dataset", data, "--max-steps", "1", "--max-length", "20"]
    recipe = runpy.run_path(str(script), run_name="ft_atlas_recipe")
    recipe["main"]([*args, "--output-dir", str(tmp_path / "o")])
    return capsys.readouterr().err


def test_dpo_says_how_many_pairs_it_leaves_out_and_cuts(
    models: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An expert's review: DPO on long prompts lost 60 % of its pairs without a word (TRL drops a
    pair whose prompt fills max_length), and the recipe's help said they were truncated."""
    rec = recommend(gpu="a100-80gb", model="qwen3-0.6b", goal="align", data_kind="preferences", sft_data="no")
    assert rec.plans[0].pipeline == ("dpo",)
    long_prompt = {"prompt": "what is the sky " * 12, "chosen": "blue", "rejected": "red"}
    long_answer = {"prompt": "sky", "chosen": "the sky is blue and the grass is green " * 3, "rejected": "no"}
    said = _said_at_length_20(rec, [long_prompt] * 30 + [long_answer] * 10, models, tmp_path, capsys)
    assert "dpo: 10 of 10 examples reach --max-length 20, cut there if longer" in said
    assert "dpo: 30 of 40 examples were left out: cut at --max-length 20" in said


def test_a_model_whose_template_ends_answers_before_its_eos_learns_to_stop_there(
    models: dict[str, str], tmp_path: Path
) -> None:
    """An expert's review: Qwen2.5's base checkpoints close a turn with <|im_end|> and stop at
    <|endoftext|>; trained on conversations, the model ended its answers with <|im_end|> and
    generation ran on. The recipe gives TRL that token as eos_token, saved with the tokenizer and
    added to the generation config."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    root = tmp_path / "qwen-like"
    tokenizer = AutoTokenizer.from_pretrained(models["decoder"])
    tokenizer.add_special_tokens({"additional_special_tokens": ["<|im_end|>"]})
    tokenizer.chat_template = CHAT_TEMPLATE.replace("' </s> '", "' <|im_end|> '")
    tokenizer.save_pretrained(root)
    model = AutoModelForCausalLM.from_pretrained(models["decoder"])
    model.resize_token_embeddings(len(tokenizer))
    model.save_pretrained(root)
    turns = [{"role": "user", "content": "what is the sky"}, {"role": "assistant", "content": "blue"}]
    rows = _write(tmp_path / "chat.jsonl", [{"messages": turns}] * ROWS)
    rec = recommend(
        gpu="rtx-4090", model="qwen2.5-7b", model_variant="base", goal="chat", data_kind="demonstrations"
    )
    script = tmp_path / "qwen.py"
    script.write_text(render(Case("qwen", rec, rank_of(rec, "lora")), "python"), encoding="utf-8")
    recipe = runpy.run_path(str(script), run_name="ft_atlas_recipe")
    recipe["main"](["--model", str(root), "--dataset", rows, "--output-dir", str(tmp_path / "o"), *SMOKE])
    assert AutoTokenizer.from_pretrained(tmp_path / "o" / "sft").eos_token == "<|im_end|>"
    # Beside the adapter, the generation config stops there too (a diff review: only the tokenizer did).
    stops = json.loads((tmp_path / "o" / "sft" / "generation_config.json").read_text())["eos_token_id"]
    assert tokenizer.convert_tokens_to_ids("<|im_end|>") in stops
    # A template that refuses the probe, or closes an answer with an ordinary added token, keeps EOS.
    end_of_turn = recipe["end_of_turn"]
    plain = AutoTokenizer.from_pretrained(models["decoder"])
    plain.add_tokens(["<sep>"])
    plain.chat_template = CHAT_TEMPLATE.replace("' </s> '", "' <sep> '")
    assert end_of_turn(plain) is None
    plain.chat_template = "{{ raise_exception('a system message first') }}"
    assert end_of_turn(plain) is None
    # A template that ends answers with the EOS already changes nothing.
    recipe["main"](
        ["--model", models["decoder"], "--dataset", rows, "--output-dir", str(tmp_path / "p"), *SMOKE]
    )
    assert AutoTokenizer.from_pretrained(tmp_path / "p" / "sft").eos_token == "</s>"


def test_a_reward_model_says_how_many_pairs_it_leaves_out_whole(
    models: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """TRL's RewardTrainer leaves out a pair longer than max_length, whole (reward_trainer.py:
    "Filter samples that are longer than `max_length`"): the recipe counted nothing for it."""
    rec = recommend(gpu="a100-80gb", model="qwen3-0.6b", goal="classify", data_kind="preferences")
    assert rec.plans[0].pipeline == ("reward-model",)
    long_pair = {"prompt": "sky", "chosen": "the sky is blue and the grass is green " * 3, "rejected": "no"}
    short = {"prompt": "sky", "chosen": "blue", "rejected": "red"}
    said = _said_at_length_20(rec, [long_pair] * 30 + [short] * 10, models, tmp_path, capsys)
    assert "reward-model: 30 of 40 examples were left out: longer than --max-length 20" in said
    assert "reach --max-length" not in said


def test_a_lora_classifier_loads_back_as_its_header_says(
    models: dict[str, str], data: dict[str, str], tmp_path: Path
) -> None:
    """A LoRA classifier of three labels did not load back as the header said (an expert's review):
    AutoPeftModelForSequenceClassification builds the head from the base's config, two labels
    ('size mismatch for score.modules_to_save'), and names them LABEL_0, LABEL_1. The script saves
    the classifier's config beside the adapter, and the header loads the base with it."""
    from peft import PeftModel
    from transformers import AutoConfig, AutoModelForSequenceClassification

    rows = [{"text": f"item {i}", "label": name} for i, name in enumerate(["red", "green", "blue"] * 8)]
    labels = _write(tmp_path / "colours.jsonl", rows)
    rec = recommend(gpu="l4", model="qwen3-0.6b", goal="classify", data_kind="labeled", examples="50k")
    text = render_recipe(CATALOG, rec, rank_of(rec, "lora", ("sft",)), "python")
    script = tmp_path / "classifier.py"
    script.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    args = ["--model", models["decoder"], "--dataset", labels, "--output-dir", str(out), *SMOKE]
    runpy.run_path(str(script), run_name="ft_atlas_recipe")["main"]([*args, "--batch-size", "2"])
    saved = str(out / "sft")
    assert "config=AutoConfig.from_pretrained('ft-atlas-output/sft')" in text
    base = AutoModelForSequenceClassification.from_pretrained(
        models["decoder"], config=AutoConfig.from_pretrained(saved)
    )
    model = PeftModel.from_pretrained(base, saved)
    assert sorted(model.config.id2label.values()) == ["blue", "green", "red"]
    assert model.config.pad_token_id is not None


def test_a_recipe_past_the_trained_positions_loads_the_model_with_yarn(
    models: dict[str, str], data: dict[str, str], tmp_path: Path
) -> None:
    """Qwen3-4B at 40k tokens, past its 32,768 positions: the model loads with YaRN scaling (its
    model card's way), rope_theta kept; before, the script trained unscaled positions and a note
    said the reader should set it (an expert's review)."""
    rec = recommend(gpu="h100", model="qwen3-4b", goal="chat", data_kind="demonstrations", seq_len="40k")
    script = tmp_path / "long.py"
    script.write_text(render_recipe(CATALOG, rec, rank_of(rec, "lora", ("sft",)), "python"), encoding="utf-8")
    recipe = runpy.run_path(str(script), run_name="ft_atlas_recipe")
    args = recipe["parse_args"](["--model", models["decoder"], "--dataset", data["sft"]])
    args.precision = "fp32"
    model = recipe["load_model"](models["decoder"], args, "sft")
    rope = model.config.rope_parameters
    assert (rope["rope_type"], rope["factor"], rope["original_max_position_embeddings"]) == (
        "yarn",
        1.25,
        32768,
    )
    assert rope["rope_theta"] is not None


def test_resume_continues_each_stage_from_its_last_checkpoint(
    models: dict[str, str], data: dict[str, str], tmp_path: Path
) -> None:
    """A free Colab session ends without warning hours into a run, and the script could only
    start over (a newcomer's review): --resume trains each stage on from its newest checkpoint."""
    recipe = load_recipe(case("lora-sft-decoder"), tmp_path)
    out = tmp_path / "out"
    args = ["--model", models["decoder"], "--dataset", data["sft"], "--output-dir", str(out), *SMOKE]
    recipe["main"](args)
    saved = sorted(p.name for p in (out / "sft").glob("checkpoint-*"))
    assert saved
    parsed = recipe["parse_args"]([*args, "--resume"])
    newest = max(saved, key=lambda name: int(name.split("-")[1]))
    assert recipe["training_arguments"](parsed, "sft")["resume_from_checkpoint"] == str(out / "sft" / newest)
    assert recipe["training_arguments"](recipe["parse_args"](args), "sft")["resume_from_checkpoint"] is None
    recipe["main"]([*args, "--resume"])  # picks up where it stopped, and finishes


class _Built(Exception):
    """Raised by a stand-in Trainer: the script built its model and stops there."""


def test_a_peft_classifier_trains_in_fp32_under_fp16(
    models: dict[str, str], data: dict[str, str], tmp_path: Path
) -> None:
    """On a T4 (fp16) the classifier's task head, which PEFT copies in the base's fp16, crashed
    GradScaler's unscale ("Attempting to unscale FP16 gradients", an expert's review): every
    trainable weight reaches the trainer in fp32. fp16 needs a GPU, so the trainer is stood in for.
    The training arguments come first, as for the TRL stages (ZeRO-3 loads sharded)."""
    rec = recommend(gpu="t4", model="qwen3-0.6b", goal="classify", data_kind="labeled", examples="50k")
    script = tmp_path / "classifier.py"
    script.write_text(render_recipe(CATALOG, rec, rank_of(rec, "lora", ("sft",)), "python"), encoding="utf-8")
    main = runpy.run_path(str(script), run_name="ft_atlas_recipe")["main"]
    build_model = main.__globals__["build_model"]
    trained: list[torch.dtype] = []
    events: list[str] = []

    def trainer(model: Any, **_: Any) -> None:
        trained.extend(p.dtype for p in model.parameters() if p.requires_grad)
        raise _Built

    def built(*args: Any) -> Any:
        events.append("model")
        return build_model(*args)

    # No GPU here: the script's own check would switch to fp32.
    main.__globals__.update(
        Trainer=trainer,
        TrainingArguments=lambda **_: events.append("arguments") or Namespace(deepspeed_plugin=None),
        check_environment=print,
        build_model=built,
    )
    args = ["--model", models["decoder"], "--dataset", data["labels"], "--output-dir", str(tmp_path / "out")]
    with pytest.raises(_Built):
        main([*args, *SMOKE, "--precision", "fp16", *HELD_OUT])
    assert trained and set(trained) == {torch.float32}
    assert events == ["arguments", "model"]  # DeepSpeed set up before the weights load (ZeRO-3)


def test_the_trainer_config_exists_before_the_model_loads(
    models: dict[str, str], data: dict[str, str], tmp_path: Path
) -> None:
    """transformers shards weights as they load (DeepSpeed's zero.Init) only once a
    TrainingArguments has set DeepSpeed up; a recipe that loaded the model first held the whole
    70B model in every process under ZeRO-3 (an expert's review). Each stage's config, and the
    reference model after it, come before the policy loads."""
    recipe = load_recipe(case("full-ft-sft+dpo-decoder"), tmp_path)
    run_stage = recipe["run_stage"]
    events: list[str] = []

    def record(event: str, result: Any = None) -> Any:
        def step(*_: Any, **__: Any) -> Any:
            events.append(event)
            if event == "finish":
                raise _Built
            return result

        return step

    model = record("model", (None, None))
    trainer = record("trainer", Namespace(model=None))
    stages = {stage: (record("config"), trainer) for stage in recipe["STAGES"]}
    run_stage.__globals__.update(
        TRAINERS=stages,
        build_model=model,
        reference_model=record("reference"),
        trainable_in_fp32=record("fp32"),
        report_cut=record("cut"),
        finish=record("finish"),
    )
    files = ["--dataset", data["sft"], "--dpo-dataset", data["dpo"]]
    args = recipe["parse_args"](["--model", models["decoder"], *files])
    with pytest.raises(_Built):
        run_stage("dpo", args, None, None)
    # The trainable weights in fp32 (under fp16) once the trainer has wrapped the model; the pairs
    # TRL cut and left out counted before training.
    assert events == ["config", "model", "reference", "trainer", "fp32", "cut", "finish"]


def test_a_reward_model_trains_its_copied_head_in_fp32_under_fp16_unless_deepspeed(
    models: dict[str, str], tmp_path: Path
) -> None:
    """TRL's RewardTrainer wraps the model in PEFT itself, which copies the fp16 score head
    (modules_to_save): GradScaler refused it on a T4 (a review). trainable_in_fp32 moves it to fp32,
    except under DeepSpeed, which scales fp16 itself and keeps ZeRO-3's shards in one dtype."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForSequenceClassification

    rec = recommend(gpu="t4", model="qwen3-1.7b", goal="classify", data_kind="preferences")
    script = tmp_path / "reward.py"
    script.write_text(render_recipe(CATALOG, rec, 1, "python"), encoding="utf-8")
    trainable_in_fp32 = runpy.run_path(str(script), run_name="ft_atlas_recipe")["trainable_in_fp32"]

    def wrapped() -> Any:
        base = AutoModelForSequenceClassification.from_pretrained(
            models["decoder"], num_labels=1, dtype=torch.float16
        )
        return get_peft_model(base, LoraConfig(task_type="SEQ_CLS", r=4, target_modules="all-linear"))

    def dtypes(model: Any) -> set[torch.dtype]:
        return {p.dtype for p in model.parameters() if p.requires_grad}

    plain, sharded = wrapped(), wrapped()
    assert torch.float16 in dtypes(plain)  # PEFT's copy of the head
    trainable_in_fp32(plain, Namespace(precision="fp16"), Namespace(deepspeed_plugin=None))
    assert dtypes(plain) == {torch.float32}
    trainable_in_fp32(sharded, Namespace(precision="fp16"), Namespace(deepspeed_plugin=object()))
    assert torch.float16 in dtypes(sharded)


def test_a_copied_task_head_trains_in_fp32_under_bf16_mixed_precision(
    models: dict[str, str], tmp_path: Path
) -> None:
    """Under bf16 autocast PEFT's copy of the score head stayed bf16, where AdamW's small steps
    round away (a review); it moves to fp32, and the fp32 adapters are left as they are."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForSequenceClassification

    rec = recommend(gpu="rtx-3090", model="qwen3-8b", goal="classify", data_kind="labeled", examples="5k")
    script = tmp_path / "classify.py"
    script.write_text(render_recipe(CATALOG, rec, 1, "python"), encoding="utf-8")
    trainable_in_fp32 = runpy.run_path(str(script), run_name="ft_atlas_recipe")["trainable_in_fp32"]
    base = AutoModelForSequenceClassification.from_pretrained(
        models["decoder"], num_labels=3, dtype=torch.bfloat16
    )
    model = get_peft_model(base, LoraConfig(task_type="SEQ_CLS", r=4, target_modules="all-linear"))
    head = [p for n, p in model.named_parameters() if p.requires_grad and ".modules_to_save." in n]
    assert head and all(p.dtype == torch.bfloat16 for p in head)
    trainable_in_fp32(model, Namespace(precision="bf16"), Namespace(deepspeed_plugin=None))
    assert {p.dtype for p in model.parameters() if p.requires_grad} == {torch.float32}
    assert {p.dtype for p in model.parameters() if not p.requires_grad} == {torch.bfloat16}


def test_a_vision_language_checkpoint_trains_its_text_model(data: dict[str, str], tmp_path: Path) -> None:
    """Mistral Small 3.x is a Mistral3ForConditionalGeneration, which AutoModelForCausalLM cannot
    load: the recipe loads it as an image-text-to-text model and LoRA leaves its vision tower and
    projector alone (the estimate counts the text model only)."""
    tokenizer = tiny_tokenizer()
    tokenizer.save_pretrained(tmp_path / "model")
    text = {"model_type": "mistral", "vocab_size": len(tokenizer), "hidden_size": 32, "head_dim": 8}
    text |= {
        "intermediate_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
    }
    vision = {"model_type": "pixtral", "hidden_size": 16, "intermediate_size": 32, "head_dim": 8}
    vision |= {"num_hidden_layers": 1, "num_attention_heads": 2, "image_size": 28, "patch_size": 14}
    config = Mistral3Config(text_config=text, vision_config=vision, pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(0)
    Mistral3ForConditionalGeneration(config).save_pretrained(tmp_path / "model")
    recipe, _, out = _vision_language_lora(data, tmp_path)
    saved = json.loads((out / "sft" / "adapter_config.json").read_text())
    assert saved["exclude_modules"] == recipe["ADAPTER_SETTINGS"]["exclude_modules"]
    names = _adapted_modules(out / "sft")
    assert names and not any("vision_tower" in n or "multi_modal_projector" in n for n in names)


def test_llama_3_2_vision_trains_as_an_image_text_to_text_model(data: dict[str, str], tmp_path: Path) -> None:
    """An expert's review: transformers maps Llama 3.2 Vision's config to MllamaForCausalLM, whose
    backbone is not where its base_model_prefix says, so TRL's fused loss got logits where it takes
    hidden states ('CausalLMOutputWithPast' object has no attribute 'last_hidden_state') at step 1.
    The recipe loads it as an image-text-to-text model, and its header says how to load the result."""
    tokenizer = tiny_tokenizer()
    tokenizer.save_pretrained(tmp_path / "model")
    text = {"vocab_size": len(tokenizer), "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2}
    text |= {"num_attention_heads": 4, "num_key_value_heads": 2, "cross_attention_layers": [1]}
    text |= {"pad_token_id": tokenizer.pad_token_id}
    vision = {"hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 2, "num_global_layers": 1}
    vision |= {"attention_heads": 2, "image_size": 28, "patch_size": 14, "vision_output_dim": 32}
    vision |= {"intermediate_layers_indices": [0]}
    torch.manual_seed(0)
    MllamaForConditionalGeneration(MllamaConfig(text_config=text, vision_config=vision)).save_pretrained(
        tmp_path / "model"
    )
    _, this, out = _vision_language_lora(data, tmp_path)
    assert "AutoModelForImageTextToText.from_pretrained(" in render(this, "python")
    # Its projector is one nn.Linear, which exclude_modules keeps frozen too (a diff review).
    names = _adapted_modules(out / "sft")
    assert names and not any("multi_modal_projector" in n for n in names)


def test_llama_4_trains_with_trl_s_fused_lm_head(data: dict[str, str], tmp_path: Path) -> None:
    """An expert's review: transformers maps Llama 4's multimodal checkpoint to Llama4ForCausalLM,
    whose base_model_prefix names the checkpoint's `language_model` while its text model sits at
    `model`, so TRL's fused LM head ran the whole model and failed at step 1
    ('MoeCausalLMOutputWithPast' object has no attribute 'last_hidden_state')."""
    _save_tiny_llama_4(tmp_path / "model")
    _, _, out = _vision_language_lora(data, tmp_path, "llama-4-scout")
    # Trained inside the class it is served as, its vision tower left alone: the adapter loads onto
    # that class with its weights (an expert's review: trained as Llama4ForCausalLM, it loaded
    # with every lora_B zero).
    from peft import PeftModel

    names = _adapted_modules(out / "sft")
    assert names and not any("vision_model" in n or "multi_modal_projector" in n for n in names)
    served = PeftModel.from_pretrained(
        Llama4ForConditionalGeneration.from_pretrained(tmp_path / "model"), out / "sft"
    )
    assert any(p.abs().sum() > 0 for n, p in served.named_parameters() if "lora_B" in n)


@pytest.mark.parametrize(("kind", "objective"), [("preferences", "dpo"), ("reward-function", "rloo")])
def test_llama_4_trains_its_weights_against_a_reference(
    data: dict[str, str], tmp_path: Path, kind: str, objective: str
) -> None:
    """A diff review: TRL loads RLOO's reference itself, without the text model the fused LM head
    runs, and failed at step 1 on Llama 4; full-weight DPO's is the script's own."""
    _save_tiny_llama_4(tmp_path / "model")
    rec = recommend(gpu="h200", model="llama-4-scout", data_kind=kind, examples="5k", priority="quality")
    rank = rank_of(rec, "full-ft", ("grpo",) if objective == "rloo" else (objective,))
    plans = list(rec.plans)
    plans[rank - 1] = plans[rank - 1]._replace(pipeline=(objective,))  # RLOO: no rule ranks it here
    recipe = load_recipe(Case(f"llama-4-{objective}", rec._replace(plans=tuple(plans)), rank), tmp_path)
    out = tmp_path / "out"
    args = ["--model", str(tmp_path / "model"), "--output-dir", str(out)]
    for stage, option in recipe["DATASET_OPTION"].items():
        args += ["--" + option.replace("_", "-"), data[STAGE_DATA[stage]]]
    recipe["main"]([*args, *SMOKE, "--grad-accum", "1", "--precision", "fp32"])
    assert math.isfinite(json.loads((out / objective / "train_results.json").read_text())["train_loss"])


def _save_tiny_llama_4(root: Path) -> None:
    """A 2-layer Llama 4 of 2 experts with a 1-layer vision tower, saved as the Hub's class."""
    tokenizer = tiny_tokenizer()
    tokenizer.save_pretrained(root)
    text = {"vocab_size": len(tokenizer), "hidden_size": 32, "intermediate_size": 64, "head_dim": 8}
    text |= {"intermediate_size_mlp": 64, "num_hidden_layers": 2, "num_attention_heads": 4}
    text |= {"num_key_value_heads": 2, "num_local_experts": 2, "pad_token_id": tokenizer.pad_token_id}
    vision = {"hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2}
    vision |= {"image_size": 28, "patch_size": 14, "vision_output_dim": 32, "projector_input_dim": 32}
    vision |= {"projector_output_dim": 32}
    torch.manual_seed(0)
    Llama4ForConditionalGeneration(Llama4Config(text_config=text, vision_config=vision)).save_pretrained(root)


def _vision_language_lora(
    data: dict[str, str], tmp_path: Path, model: str = "mistral-small-3.2-24b"
) -> tuple[dict[str, Any], Case, Path]:
    """The LoRA SFT recipe of a vision-language catalog model, run on the tiny checkpoint saved in
    tmp_path/model: the recipe's namespace, its case and where it saved."""
    rec = recommend(gpu="h100-80gb", model=model, data_kind="demonstrations", examples="5k")
    this = Case("lora-sft-vision-language", rec, rank_of(rec, "lora", ("sft",)))
    recipe = load_recipe(this, tmp_path)
    out = tmp_path / "out"
    args = ["--model", str(tmp_path / "model"), "--dataset", data["sft"], "--output-dir", str(out)]
    recipe["main"]([*args, *SMOKE, "--grad-accum", "1", "--precision", "fp32"])
    return recipe, this, out


def _adapted_modules(folder: Path) -> list[str]:
    """The tensor names a saved adapter holds."""
    from safetensors import safe_open

    with safe_open(str(folder / "adapter_model.safetensors"), "pt") as adapter:
        return list(adapter.keys())


def test_sft_conversations_train_on_the_answers_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """TRL computes the loss on every token of a {"messages": [...]} row by default. Where TRL can
    mark the assistant's turns (the template has generation markers, or TRL ships a training
    version of it, as for DeepSeek-R1's, whose own drops the reasoning) the recipe sets
    assistant_only_loss; else each conversation becomes a prompt-completion row, whose loss TRL
    keeps on the completion, and a template that drops reasoning before </think> stops the run."""
    from datasets import Dataset
    from trl.chat_template_utils import deepseek_r1_distill_chat_template

    recipe = load_recipe(case("lora-sft-decoder"), tmp_path)
    conversation_loss, tokenizer = recipe["conversation_loss"], tiny_tokenizer()
    turns = [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "what is the sky"},
        {"role": "assistant", "content": "blue"},
    ]
    rows = Dataset.from_list([{"messages": turns}])
    converted, settings = conversation_loss(rows, tokenizer)  # the test template: unknown to TRL
    assert settings == {} and converted.to_list() == [{"prompt": turns[:-1], "completion": turns[-1:]}]
    assert "several assistant turns" not in capsys.readouterr().err
    with pytest.raises(SystemExit, match="1 conversation"):
        conversation_loss(Dataset.from_list([{"messages": turns[:-1]}]), tokenizer)
    # Only the last answer of a longer conversation trains there, and the run says so (a review:
    # Llama 3.1's templates have no TRL training version, and the earlier turns went silently).
    longer = [*turns, {"role": "user", "content": "and at night"}, {"role": "assistant", "content": "black"}]
    conversation_loss(Dataset.from_list([{"messages": longer}]), tokenizer)
    assert "1 conversation(s) have several assistant turns" in capsys.readouterr().err
    # The script's own plain template (a base model's) marks its answers: every one trains (a
    # review: it had no markers, and a base model's conversations trained their last answer only).
    plain_template = tiny_tokenizer()
    plain_template.chat_template = recipe["PLAIN_CHAT_TEMPLATE"]
    kept, settings = conversation_loss(Dataset.from_list([{"messages": longer}]), plain_template)
    assert settings == {"assistant_only_loss": True} and kept.column_names == ["messages"]
    marked = plain_template.apply_chat_template(
        longer, tokenize=True, return_dict=True, return_assistant_tokens_mask=True
    )
    answered = [t for t, m in zip(marked["input_ids"], marked["assistant_masks"], strict=True) if m]
    assert answered.count(plain_template.eos_token_id) == 2  # both answers, each with its end
    plain = Dataset.from_list([{"prompt": "is it", "completion": " yes"}])
    assert conversation_loss(plain, tokenizer)[0].to_list() == plain.to_list()
    reasoning = [*turns[:-1], {"role": "assistant", "content": "<think>the sky scatters blue</think>blue"}]
    dropping = tiny_tokenizer()
    dropping.chat_template = (
        "{% for m in messages %}{% set c = m['content'] %}"
        "{% if m['role'] == 'assistant' and '</think>' in c %}"
        "{% set c = c.split('</think>')[-1] %}{% endif %}"
        "{{ c }}{% endfor %}"
    )
    with pytest.raises(SystemExit, match="drops an answer's reasoning"):
        conversation_loss(Dataset.from_list([{"messages": reasoning}]), dropping)
    r1 = tiny_tokenizer()
    r1.chat_template = deepseek_r1_distill_chat_template  # TRL trains it with its own training template
    kept, settings = conversation_loss(Dataset.from_list([{"messages": reasoning}]), r1)
    assert settings == {"assistant_only_loss": True} and kept.column_names == ["messages"]


def test_written_for_matches_the_installed_major_versions() -> None:
    """The header's versions are the ones these tests ran with (same major version at least)."""
    for library, version in WRITTEN_FOR.items():
        assert importlib.metadata.version(library).split(".")[0] == version.split(".")[0], library


@pytest.mark.parametrize(
    ("name", "message"),
    [("qlora-sft-decoder", "bitsandbytes|CUDA"), ("bitfit-sft+dpo-decoder", "no bias terms")],
)
def test_a_recipe_that_cannot_run_here_stops_with_a_clear_message(
    name: str, message: str, models: dict[str, str], data: dict[str, str], tmp_path: Path
) -> None:
    this = case(name)
    recipe = load_recipe(this, tmp_path)
    with pytest.raises(SystemExit, match=message):
        recipe["main"]([*recipe_args(recipe, this, models, data), "--output-dir", str(tmp_path), *SMOKE])


def test_local_prompting_speaks_to_an_instruct_model_in_its_chat_format(
    models: dict[str, str], tmp_path: Path
) -> None:
    """Few-shot and RAG scripts passed a bare string to the text-generation pipeline, which
    applies the chat template to messages only: an instruct model got a completion prompt it is
    not served with (an expert's review). A model with a chat template gets its user turn, and the
    prompt is counted as it reads it; a base model keeps the bare text."""
    from transformers import AutoTokenizer

    recipe = load_recipe(case("icl-none-decoder"), tmp_path)
    tokenizer = AutoTokenizer.from_pretrained(models["decoder"])
    chat = Namespace(tokenizer=tokenizer)
    assert recipe["as_chat"](chat, "what is the sky") == [{"role": "user", "content": "what is the sky"}]
    templated = recipe["token_count"](chat, "what is the sky")
    asked: list[Any] = []

    def generator(prompt: Any, **kwargs: Any) -> list[dict[str, str]]:
        asked.append((prompt, kwargs.get("tokenizer_encode_kwargs")))
        return [{"generated_text": " <think>it scatters light</think> blue"}]

    generator.tokenizer = tokenizer  # type: ignore[attr-defined]
    # A reasoning model's answer is what follows its thoughts, and a hybrid one is asked not to
    # think (an expert's review: Qwen3's 256 tokens went on its thinking).
    assert recipe["generate"](generator, "what is the sky", 4) == "blue"
    # the messages the pipeline templates, with the template's switch
    assert asked == [([{"role": "user", "content": "what is the sky"}], {"enable_thinking": False})]

    def harmony(prompt: Any, **_: Any) -> list[dict[str, str]]:  # gpt-oss, its channel tokens skipped
        return [{"generated_text": "analysisThe user asks about the sky.assistantfinalblue"}]

    harmony.tokenizer = tokenizer  # type: ignore[attr-defined]
    assert recipe["generate"](harmony, "what is the sky", 4) == "blue"
    tokenizer.chat_template = None
    assert recipe["as_chat"](chat, "what is the sky") == "what is the sky"
    assert templated > recipe["token_count"](chat, "what is the sky")  # the template's own tokens


@pytest.mark.parametrize(
    ("name", "option", "source", "question"),
    [
        ("icl-none-decoder", "--examples", "shots", "--query"),
        ("rag-none-decoder", "--docs", "docs", "--question"),
        # The training recipes' demonstrations serve as examples and documents too.
        ("icl-none-decoder", "--examples", "plain-sft", "--query"),
        ("icl-none-decoder", "--examples", "sft", "--query"),
        ("rag-none-decoder", "--docs", "plain-sft", "--question"),
        ("rag-none-decoder", "--docs", "sft", "--question"),
    ],
)
def test_no_training_examples_answer(
    name: str,
    option: str,
    source: str,
    question: str,
    models: dict[str, str],
    data: dict[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    recipe = load_recipe(case(name), tmp_path)
    torch.manual_seed(0)  # a random tiny model samples; some seeds answer with whitespace only
    # Retrieval embeds the passages with an encoder (the tiny one here) and keeps the vectors.
    index = tmp_path / "index"
    embedding = ["--embedder", models["encoder"], "--index", str(index)] if name.startswith("rag-") else []
    argv = [
        "--model",
        models["decoder"],
        option,
        data[source],
        question,
        "what is the sky",
        "--max-new-tokens",
        "4",
    ]
    recipe["main"]([*argv, *embedding])
    assert capsys.readouterr().out.strip()
    if embedding:
        (stored,) = index.glob("*.safetensors")  # embedded once, then reused
        recipe["main"]([*argv, *embedding])
        assert list(index.glob("*.safetensors")) == [stored]
        empty = tmp_path / "empty"
        empty.mkdir()
        argv[argv.index(data[source])] = str(empty)
        with pytest.raises(SystemExit, match="no text in"):
            recipe["main"]([*argv, *embedding])


def test_an_embeddings_classifier_fits_saves_and_labels(
    models: dict[str, str], data: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The plan a user without a GPU is offered first for classification ran nowhere: the recipe
    said a provider runs it, although the encoder and the classifier run here."""
    recipe = load_recipe(case("embeddings-classifier-none-encoder"), tmp_path)
    stored = tmp_path / "classifier.safetensors"
    common = ["--embedder", models["encoder"], "--classifier", str(stored)]
    recipe["main"](["--data", data["labels"], *common])
    out = capsys.readouterr().out
    assert "held-out accuracy" in out and stored.exists()
    # Without --embedder, texts are embedded by the encoder the classifier was fitted on.
    recipe["main"](["--classify", "good dog", "bad", "--classifier", str(stored)])
    labels = [json.loads(line)["label"] for line in capsys.readouterr().out.splitlines()]
    assert len(labels) == 2 and set(labels) <= {"yes", "no"}
    with pytest.raises(SystemExit, match="was fitted on"):
        recipe["main"](["--classify", "good dog", "--classifier", str(stored), "--embedder", "other"])
    single = tmp_path / "single.jsonl"
    single.write_text('{"text": "a", "label": "x"}\n', encoding="utf-8")
    with pytest.raises(SystemExit, match="at least two"):
        recipe["main"](["--data", str(single), *common])


@pytest.mark.parametrize("pipeline", [("reward-model",), ("rloo",)])
def test_reward_models_and_rloo_train(
    pipeline: tuple[str, ...], models: dict[str, str], data: dict[str, str], tmp_path: Path
) -> None:
    """Objectives the engine may recommend and TRL trains in its stable API: RewardTrainer (a
    one-label classifier on the language model) and RLOOTrainer."""
    base = case("lora-sft-decoder")
    plans = list(base.rec.plans)
    plans[base.rank - 1] = plans[base.rank - 1]._replace(pipeline=pipeline)
    this = Case("", base.rec._replace(plans=tuple(plans)), base.rank)
    recipe = load_recipe(this, tmp_path)
    out = tmp_path / "out"
    recipe["main"]([*recipe_args(recipe, this, models, data), "--output-dir", str(out), *SMOKE])
    metrics = json.loads((out / pipeline[0] / "train_results.json").read_text())
    assert math.isfinite(metrics["train_loss"])


def test_a_base_model_without_a_chat_template_trains_on_conversations(
    models: dict[str, str], data: dict[str, str], tmp_path: Path
) -> None:
    """Conversational data failed on a tokenizer with no chat template; the script gives it one."""
    plain = tmp_path / "base-model"
    shutil.copytree(models["decoder"], plain)
    config = json.loads((plain / "tokenizer_config.json").read_text())
    config.pop("chat_template", None)
    (plain / "tokenizer_config.json").write_text(json.dumps(config))
    for leftover in plain.glob("chat_template.*"):
        leftover.unlink()
    conversations = tmp_path / "messages.jsonl"
    turn = [{"role": "user", "content": "what is the sky"}, {"role": "assistant", "content": "blue"}]
    conversations.write_text(
        json.dumps({"messages": turn}) + "\n" * 1 + (json.dumps({"messages": turn}) + "\n") * 7
    )
    recipe = load_recipe(case("lora-sft-decoder"), tmp_path)
    assert recipe["load_tokenizer"](str(plain)).chat_template == recipe["PLAIN_CHAT_TEMPLATE"]
    out = tmp_path / "out"
    recipe["main"](["--model", str(plain), "--dataset", str(conversations), "--output-dir", str(out), *SMOKE])
    assert (out / "sft" / "train_results.json").is_file()


def test_a_library_older_than_the_minimum_stops_the_script(
    models: dict[str, str], data: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The version check compared major versions only, while the script needs minor releases."""
    recipe = load_recipe(case("lora-sft-decoder"), tmp_path)
    real = importlib.metadata.version
    monkeypatch.setattr(
        importlib.metadata, "version", lambda name: "5.10.0" if name == "transformers" else real(name)
    )
    with pytest.raises(
        SystemExit, match=r"transformers 5\.10\.0 is installed; this recipe needs transformers >= 5\.16\.1"
    ):
        recipe["main"]([*recipe_args(recipe, case("lora-sft-decoder"), models, data), *SMOKE])


def test_a_trl_without_the_fused_lm_head_is_warned_of(
    models: dict[str, str], data: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The header's memory assumes TRL's fused LM head (trl >= 1.15.0); the scripts run with trl
    1.9.0, which materialises the logits (an expert's review): the script says so."""
    recipe = load_recipe(case("lora-sft+dpo-decoder"), tmp_path)
    real = importlib.metadata.version
    monkeypatch.setattr(importlib.metadata, "version", lambda name: "1.14.0" if name == "trl" else real(name))
    args = recipe["parse_args"](recipe_args(recipe, case("lora-sft+dpo-decoder"), models, data))
    with pytest.warns(UserWarning, match=r"trl 1\.14\.0 is installed: it materialises the logits"):
        recipe["check_environment"](args)


def test_online_rl_leaves_out_prompts_past_their_share_of_max_length(
    models: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """TRL's GRPO no longer truncates prompts: the recipe drops those that would push prompt +
    completion past --max-length (the length memory was sized for) and says how many, and it
    samples completions of --max-length less the prompt's share."""
    recipe = load_recipe(case("lora-grpo-decoder"), tmp_path)
    short = {"prompt": "what is the sky", "solution": "blue"}
    chat = {"prompt": [{"role": "user", "content": "what is the sky"}], "solution": "blue"}
    long = {"prompt": "the sky is blue " * 10, "solution": "blue"}
    source = _write(tmp_path / "prompts.jsonl", [short, chat, long])
    args = recipe["parse_args"](["--model", models["decoder"], "--dataset", source, "--max-length", "48"])
    tokenizer = recipe["load_tokenizer"](args.model)
    kept = recipe["within_prompt_budget"](
        recipe["load_rows"](source, recipe["COLUMNS"]["grpo"]), tokenizer, args, "grpo"
    )
    assert len(kept) == 2  # 24 prompt tokens of 48: the 40-word prompt is left out
    assert "left out 1 of 3 prompts longer than 24 tokens" in capsys.readouterr().err
    assert recipe["stage_settings"](args, "grpo")["max_completion_length"] == 24
    only_long = _write(tmp_path / "long.jsonl", [long])
    with pytest.raises(SystemExit, match="every prompt is longer than 24 tokens"):
        recipe["within_prompt_budget"](
            recipe["load_rows"](only_long, recipe["COLUMNS"]["grpo"]), tokenizer, args, "grpo"
        )


def test_a_colocated_vllm_engine_takes_the_max_length_given(tmp_path: Path) -> None:
    """--max-length raises the completion budget, and the engine that samples it must hold it: a
    review ran --max-length 4096 against a vLLM engine still sized for 1,024 tokens."""
    rec = recommend(gpu="a100-80gb", model="qwen2.5-0.5b", data_kind="reward-function", vllm="true")
    recipe = load_recipe(Case("grpo-vllm", rec, rank_of(rec, "lora", ("grpo",))), tmp_path)
    args = recipe["parse_args"](["--dataset", "prompts.jsonl", "--max-length", "4096"])
    settings = recipe["stage_settings"](args, "grpo")
    assert settings["vllm_max_model_length"] == 4096 and settings["max_completion_length"] == 3584


def test_an_adapter_on_fused_experts_trains_dpo_on_the_sft_merge(
    data: dict[str, str], tmp_path: Path
) -> None:
    """An expert's review: TRL's DPO cannot keep a frozen copy of an adapter on fused experts
    (PEFT target_parameters) as its reference and scored it with the base. The DPO stage trains a
    new adapter on the base with the SFT adapter merged in, on a tiny Qwen3 MoE whose experts are
    fused parameters, as transformers 5 loads them."""
    from transformers import Qwen3MoeConfig, Qwen3MoeForCausalLM

    moe = _save_tiny(
        tmp_path / "tiny-moe",
        Qwen3MoeConfig,
        Qwen3MoeForCausalLM,
        num_key_value_heads=2,
        head_dim=8,
        num_experts=4,
        num_experts_per_tok=2,
        moe_intermediate_size=16,
    )
    rec = recommend(
        gpu="h200", model="qwen3-30b-a3b", goal="align", data_kind="preferences", sft_data="yes",
        examples="10k", lora_experts="yes",
    )  # fmt: skip
    script = tmp_path / "recipe.py"
    script.write_text(render_recipe(CATALOG, rec, rank_of(rec, "lora", ("sft", "dpo")), "python"), "utf-8")
    recipe = runpy.run_path(str(script), run_name="ft_atlas_recipe")
    assert recipe["ADAPTER_SETTINGS"]["target_parameters"]
    out = tmp_path / "out"
    (out / "sft-merged").mkdir(parents=True)  # an earlier run's merge, of another adapter
    (out / "sft-merged" / "config.json").write_text('{"stale": true}')
    args = ["--model", moe, "--dataset", data["sft"], "--dpo-dataset", data["dpo"], "--output-dir", str(out)]
    recipe["main"]([*args, *SMOKE, "--grad-accum", "1", "--precision", "fp32"])
    assert json.loads((out / "sft-merged" / "config.json").read_text())["model_type"] == "qwen3_moe"
    assert json.loads((out / "dpo" / "adapter_config.json").read_text())["base_model_name_or_path"] == str(
        out.resolve() / "sft-merged"
    )


def test_ia3_trains_dpo_on_the_sft_merge(
    models: dict[str, str], data: dict[str, str], tmp_path: Path
) -> None:
    """An expert's review: TRL copies the SFT adapter into the frozen reference by names holding
    '.default.', which IA3's (ia3_l.default) do not, so DPO's reference was the base model
    (rewards off zero at its first step). The DPO stage trains a new IA3 on the SFT merge."""
    this = case("ia3-sft+dpo-decoder")
    recipe = load_recipe(this, tmp_path)
    out = tmp_path / "out"
    recipe["main"](
        [*recipe_args(recipe, this, models, data), "--output-dir", str(out), *SMOKE, "--grad-accum", "1"]
    )
    adapter = json.loads((out / "dpo" / "adapter_config.json").read_text())
    assert adapter["peft_type"] == "IA3" and adapter["base_model_name_or_path"] == str(
        out.resolve() / "sft-merged"
    )


def test_adalora_trains_with_its_orthogonal_penalty(models: dict[str, str], tmp_path: Path) -> None:
    """PEFT adds AdaLoRA's regulariser to outputs.loss, which TRL 1.x trainers never read (their
    loss comes from the fused LM head): a review saw the same loss at orth_reg_weight 0.5 and 0.
    The recipe's penalty is PEFT's own."""
    from peft import AdaLoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    recipe = load_recipe(case("adalora-sft+dpo-decoder"), tmp_path)
    assert "trainer_class = with_orthogonal_penalty(trainer_class)" in render(
        case("adalora-sft+dpo-decoder"), "python"
    )
    torch.manual_seed(0)
    config = AdaLoraConfig(task_type="CAUSAL_LM", init_r=4, target_r=2, total_step=10, orth_reg_weight=0.5)
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(models["decoder"]), config)
    with torch.no_grad():
        for name, weight in model.named_parameters():
            if "lora_A" in name or "lora_B" in name:
                weight.normal_()
    model.train()
    ids = torch.tensor([[1, 2, 3, 4]])
    with_penalty = model(input_ids=ids, labels=ids).loss
    model.base_model.peft_config["default"].orth_reg_weight = 0.0
    without = model(input_ids=ids, labels=ids).loss
    model.base_model.peft_config["default"].orth_reg_weight = 0.5
    penalty = recipe["orthogonal_penalty"](model)
    assert float(penalty) > 0.1
    assert float(penalty) == pytest.approx(float(with_penalty - without), rel=1e-4)

    class Stage:
        """A trainer whose own loss is 1, scaled for accumulation or not as transformers decides."""

        loss_is_scaled_for_ga = None
        model_accepts_loss_kwargs = True
        current_gradient_accumulation_steps = 2

        def __init__(self) -> None:
            self.model = model

        def compute_loss(
            self, model: Any, inputs: Any, return_outputs: bool = False, num_items_in_batch: Any = None
        ) -> Any:
            return (torch.tensor(1.0), "outputs") if return_outputs else torch.tensor(1.0)

    trainer = recipe["with_orthogonal_penalty"](Stage)()
    scaled = trainer.compute_loss(model, {}, num_items_in_batch=8)  # the loss is per item: halved
    assert float(scaled) == pytest.approx(1 + float(penalty) / 2, rel=1e-4)
    loss, outputs = trainer.compute_loss(model, {}, return_outputs=True)  # the Trainer divides later
    assert float(loss) == pytest.approx(1 + float(penalty), rel=1e-4) and outputs == "outputs"
    model.eval()
    assert float(trainer.compute_loss(model, {})) == 1.0  # evaluation loss: the model's own


def test_galore_weights_load_in_bf16_as_its_estimate_sizes_them(tmp_path: Path) -> None:
    """GaLore is sized with 16-bit weights and no fp32 copy of its projected matrices (as its
    paper trains); the recipe loaded them in fp32 under bf16 mixed precision, twice the weights'
    memory and autocast's copies on top (a review). Full fine-tuning keeps fp32 weights."""
    rec = recommend(gpu="a100-40gb", model="llama-3.1-8b", goal="adapt", data_kind="text", examples="5m")
    for method, dtype in (("galore", torch.bfloat16), ("full-ft", torch.float32)):
        rank = rank_of(rec, method, ("continued-pretraining",))
        recipe = load_recipe(Case(method, rec, rank), tmp_path)
        assert recipe["load_dtype"]("bf16") == dtype, method


def test_a_classifier_reports_macro_f1_beside_accuracy(tmp_path: Path) -> None:
    """An expert's review: the evaluation advice asks for per-class F1, and the classifier
    recipe computed accuracy only; macro F1 weighs a rare class as much as a common one."""
    from transformers import EvalPrediction

    rec = recommend(gpu="rtx-3090", model="bert-base", goal="classify", data_kind="labeled", examples="20k")
    recipe = load_recipe(Case("classifier", rec, rank_of(rec, "full-ft", ("sft",))), tmp_path)
    logits = torch.tensor([[2.0, 0, 0], [2.0, 0, 0], [0, 2.0, 0], [0, 0, 2.0]]).numpy()
    scores = recipe["accuracy"](
        EvalPrediction(predictions=logits, label_ids=torch.tensor([0, 1, 1, 2]).numpy())
    )
    # Predicted 0, 0, 1, 2: F1 2/3 for classes 0 and 1, 1 for class 2.
    assert scores["accuracy"] == 0.75 and scores["macro_f1"] == pytest.approx((2 / 3 + 2 / 3 + 1) / 3)


def test_image_rows_stop_with_what_the_script_trains_on(tmp_path: Path) -> None:
    """An expert's review: a vision-language model's recipe fed rows with an images column failed in
    TRL with 'the provided model does not seem to be a vision-language model', blaming the model;
    the script trains on text only (a tokenizer, no processor) and says so."""
    recipe = load_recipe(case("lora-sft-decoder"), tmp_path)
    rows = tmp_path / "vlm.jsonl"
    line = {
        "messages": [{"role": "user", "content": "what is shown?"}, {"role": "assistant", "content": "a cat"}]
    }
    rows.write_text(json.dumps({**line, "images": ["cat.png"]}) + "\n")
    with pytest.raises(SystemExit) as stopped:
        recipe["load_rows"](str(rows), recipe["COLUMNS"]["sft"])
    assert "the column 'images' holds images" in str(stopped.value)
    assert "AutoProcessor" in str(stopped.value)
    rows.write_text(json.dumps(line) + "\n")
    assert recipe["load_rows"](str(rows), recipe["COLUMNS"]["sft"]).num_rows == 1


def test_data_without_the_stage_columns_stops_with_the_columns_it_found(tmp_path: Path) -> None:
    """A newcomer's CSV of support tickets (ticket_id, customer_message, agent_reply) ended in a
    KeyError deep inside TRL; the script names the columns it found and the ones it reads."""
    recipe = load_recipe(case("lora-sft-decoder"), tmp_path)
    tickets = tmp_path / "tickets.csv"
    tickets.write_text("ticket_id,customer_message,agent_reply\n1,my order is late,sorry about that\n")
    with pytest.raises(SystemExit) as stopped:
        recipe["load_rows"](str(tickets), recipe["COLUMNS"]["sft"])
    said = str(stopped.value)
    assert "reads the columns messages or prompt + completion or text" in said
    assert "the data has ticket_id, customer_message, agent_reply" in said
    # The conversion it suggests gives conversations, which an instruct model's template renders
    # (its prompt and completion version gave the plain strings the script then warned about).
    assert "d['messages'] = [[{'role': 'user', 'content': q}" in said
    pandas = pytest.importorskip("pandas")
    d = pandas.read_csv(tickets).rename(
        columns={"customer_message": "your_question", "agent_reply": "your_answer"}
    )
    right = tmp_path / "sft.jsonl"
    d["messages"] = [
        [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
        for q, a in zip(d["your_question"], d["your_answer"], strict=True)
    ]
    d[["messages"]].to_json(right, orient="records", lines=True)
    assert recipe["load_rows"](str(right), recipe["COLUMNS"]["sft"]).num_rows == 1
