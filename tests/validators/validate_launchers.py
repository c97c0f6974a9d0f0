"""Validate the launcher configs of multi-GPU recipes with accelerate's and DeepSpeed's own
loaders (nothing is launched: there are no GPUs here).

- accelerate YAML: load_config_from_file, then what `accelerate launch` does with it up to
  starting processes (_validate_launch_command, the DeepSpeed environment), then
  DeepSpeedPlugin() reads that environment.
- DeepSpeed JSON: the Hugging Face "auto" values are filled as the Trainer fills them
  (HfTrainerDeepSpeedConfig from TrainingArguments and a tiny model), then DeepSpeedConfig checks
  the whole config (ZeRO section with extra keys forbidden, batch arithmetic for N GPUs).

Usage: python validate_launchers.py MANIFEST.json, a list of
  {"path": file, "model": local model dir, "gpus": N, "batch": b, "accumulation": a, "bf16": bool}
Prints one JSON object per file: {"path", "ok", "message"}.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any
from unittest import mock

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("DS_ACCELERATOR", "cpu")


def accelerate_config(path: Path) -> str:
    from accelerate.commands.config.config_args import load_config_from_file
    from accelerate.commands.launch import _validate_launch_command, launch_command_parser
    from accelerate.utils import DeepSpeedPlugin
    from accelerate.utils.launch import prepare_deepspeed_cmd_env, prepare_multi_gpu_env

    config = load_config_from_file(str(path))
    args = launch_command_parser().parse_args(["--config_file", str(path), "recipe.py"])
    args, defaults, from_config = _validate_launch_command(args)
    stage = config.deepspeed_config.get("zero_stage")
    named = config.deepspeed_config.get("deepspeed_config_file")
    if named:  # the JSON it names holds the whole DeepSpeed config; the run starts beside it
        stage = json.loads((path.parent / named).read_text(encoding="utf-8"))["zero_optimization"]["stage"]
    saved, cwd = dict(os.environ), os.getcwd()
    os.chdir(path.parent)
    try:
        if args.use_deepspeed:
            fields = list(defaults.deepspeed_config.keys()) if defaults else []
            if from_config:
                fields.append("mixed_precision")
            args.deepspeed_fields_from_accelerate_config = ",".join(fields)
            _, env = prepare_deepspeed_cmd_env(args)
            os.environ.update(env)
            plugin = DeepSpeedPlugin()
            if plugin.zero_stage != stage:
                return f"DeepSpeedPlugin read ZeRO stage {plugin.zero_stage}"
        else:
            os.environ.update(prepare_multi_gpu_env(args))
    finally:
        os.environ.clear()
        os.environ.update(saved)
        os.chdir(cwd)
    return ""


def deepspeed_config(path: Path, entry: dict[str, Any]) -> str:
    from deepspeed.runtime.config import DeepSpeedConfig
    from transformers import AutoModelForCausalLM, TrainingArguments
    from transformers.integrations.deepspeed import HfTrainerDeepSpeedConfig

    config = json.loads(path.read_text(encoding="utf-8"))
    gpus = int(entry["gpus"])
    # The model first: with ZeRO-3, HfTrainerDeepSpeedConfig makes from_pretrained shard.
    model = AutoModelForCausalLM.from_pretrained(entry["model"])
    hf = HfTrainerDeepSpeedConfig(config)
    with (
        tempfile.TemporaryDirectory() as tmp,
        mock.patch("transformers.training_args.is_torch_bf16_gpu_available", lambda: True),
    ):
        arguments = TrainingArguments(
            output_dir=tmp,
            per_device_train_batch_size=int(entry["batch"]),
            gradient_accumulation_steps=int(entry["accumulation"]),
            bf16=bool(entry.get("bf16", True)),
            fp16=not entry.get("bf16", True),
            report_to="none",
        )
        with mock.patch.object(type(arguments), "world_size", property(lambda self: gpus)):
            hf.trainer_config_process(arguments)
            hf.trainer_config_finalize(arguments, model, num_training_steps=100)
    with (
        mock.patch("deepspeed.comm.get_world_size", lambda *a, **k: gpus),
        mock.patch("deepspeed.comm.get_rank", lambda *a, **k: 0),
    ):
        DeepSpeedConfig(hf.config)
    return ""


def main() -> int:
    for entry in json.loads(Path(sys.argv[1]).read_text(encoding="utf-8")):
        path = Path(entry["path"])
        try:
            problem = accelerate_config(path) if path.suffix == ".yaml" else deepspeed_config(path, entry)
        except (Exception, SystemExit) as error:  # noqa: BLE001 - a report line per file, whatever fails
            problem = f"{type(error).__name__}: {error}"
        print(json.dumps({"path": entry["path"], "ok": not problem, "message": problem}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
