"""Validate LLaMA-Factory configs with LLaMA-Factory's own code, as `llamafactory-cli train`
does: its argument parser (HfArgumentParser over its dataclasses, their __post_init__ checks and
the cross-argument checks of hparams/parser.py), and, with "load", what the trainer does before
its first step on a local tiny model: tokenizer, chat template, dataset through
dataset_info.json, the model with its adapter / freeze / full setup, and GaLore's optimizer.

parse_dict does not check Literal choices (`stage: grpo` would pass it and fail only in
run_exp): they are checked here as argv parsing would. A CPU has no bf16 GPU, which transformers
refuses for bf16: true; the probes answer as the Ampere GPU the recipe was written for.

Usage: python validate_llamafactory.py MANIFEST.json, a list of
  {"path": config, "model": local model dir, "load": bool}
Prints one JSON object per config: {"path", "ok", "message"}.
"""

from __future__ import annotations

import dataclasses
import importlib.machinery
import importlib.util
import json
import os
import sys
import types
import typing
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("LLAMAFACTORY_VERBOSITY", "WARN")

import llamafactory.hparams.parser as lf_parser
import transformers.training_args
import yaml
from llamafactory.hparams import get_infer_args, get_train_args

transformers.training_args.is_torch_bf16_gpu_available = lambda: True
lf_parser.is_torch_bf16_gpu_available = lambda: True


def literal_errors(config: dict[str, Any]) -> list[str]:
    errors = []
    for cls in lf_parser._TRAIN_ARGS:
        hints = typing.get_type_hints(cls)
        for field in dataclasses.fields(cls):
            if field.name not in config:
                continue
            kind = hints.get(field.name)
            if typing.get_origin(kind) is typing.Union:
                kind = next(
                    (a for a in typing.get_args(kind) if typing.get_origin(a) is typing.Literal), kind
                )
            if typing.get_origin(kind) is typing.Literal and config[field.name] not in typing.get_args(kind):
                errors.append(
                    f"{field.name}={config[field.name]!r} is not one of {list(typing.get_args(kind))}"
                )
    return errors


def stub_torchaudio() -> None:
    """llamafactory/data/mm_plugin.py imports torchaudio (audio inputs only); there is no CPU
    build of it for torch 2.13, so a text-only check gets an empty stand-in."""
    if "torchaudio" not in sys.modules and importlib.util.find_spec("torchaudio") is None:
        stub = types.ModuleType("torchaudio")
        stub.__spec__ = importlib.machinery.ModuleSpec("torchaudio", None)
        sys.modules["torchaudio"] = stub


def load(model_args: Any, data_args: Any, training_args: Any, finetuning_args: Any) -> None:
    stub_torchaudio()
    from llamafactory.data import get_dataset, get_template_and_fix_tokenizer
    from llamafactory.model import load_model, load_tokenizer

    tokenizer_module = load_tokenizer(model_args)
    template = get_template_and_fix_tokenizer(tokenizer_module["tokenizer"], data_args)
    stage = finetuning_args.stage
    data_stage = "rm" if stage == "dpo" else stage  # as train/dpo/workflow.py reads its data
    get_dataset(template, model_args, data_args, training_args, data_stage, **tokenizer_module)
    model = load_model(
        tokenizer_module["tokenizer"],
        model_args,
        finetuning_args,
        training_args.do_train,
        add_valuehead=stage in ("rm", "ppo"),
    )
    if not any(p.requires_grad for p in model.parameters()):
        raise ValueError("nothing trains")
    if finetuning_args.use_galore:
        from llamafactory.train.trainer_utils import create_custom_optimizer

        create_custom_optimizer(model, training_args, finetuning_args)


def validate(entry: dict[str, Any]) -> str:
    path = Path(entry["path"])
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    config["model_name_or_path"] = entry["model"]
    if entry.get("load"):
        config.pop("adapter_name_or_path", None)  # an earlier stage's output does not exist here
        config.pop("create_new_adapter", None)
    errors = literal_errors(config)
    if errors:
        return "; ".join(errors)
    if "export_dir" in config:
        # An export step (llamafactory-cli export merges an adapter): the arguments its export_model
        # parses; the adapter it merges is an earlier stage's output, which does not exist here.
        config.pop("adapter_name_or_path", None)
        get_infer_args(dict(config))
        return ""
    cwd = os.getcwd()
    os.chdir(path.parent)  # dataset_dir and deepspeed are relative to where it runs
    try:
        model_args, data_args, training_args, finetuning_args, _ = get_train_args(dict(config))
        if entry.get("load"):
            load(model_args, data_args, training_args, finetuning_args)
    finally:
        os.chdir(cwd)
    return ""


def main() -> int:
    for entry in json.loads(Path(sys.argv[1]).read_text(encoding="utf-8")):
        try:
            problem = validate(entry)
        except (Exception, SystemExit) as error:  # noqa: BLE001 - the parser raises ValueError, the loaders anything
            problem = f"{type(error).__name__}: {error}"
        print(json.dumps({"path": entry["path"], "ok": not problem, "message": problem}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
