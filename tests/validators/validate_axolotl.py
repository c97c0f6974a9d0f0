"""Validate axolotl configs with axolotl's own code, as `axolotl train` does before it loads a
model: its config validation (the pydantic schema with all its model validators, given explicit
GPU capabilities) and normalize_config, then its freeze helper on the config's
unfrozen_parameters over the model's architecture (built on the meta device at its real depth).

axolotl drops unknown keys silently and only warns when unfrozen_parameters match nothing, when
bf16 is asked of a GPU without it ("Training will fail"), or when QLoRA under ZeRO-3 recomputes
non-reentrantly (a "CheckpointError" may follow): all are failures here.

Usage: python validate_axolotl.py MANIFEST.json, a list of
  {"path": config, "model": local model dir, "layers": depth, "bf16": bool, "gpus": N}
Prints one JSON object per config: {"path", "ok", "message"}.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

os.environ.setdefault("AXOLOTL_DO_NOT_TRACK", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import yaml
from axolotl.utils.config import normalize_config, validate_config
from axolotl.utils.dict import DictDefault
from axolotl.utils.schemas.config import AxolotlInputConfig

# "CheckpointError": QLoRA under ZeRO-3 with use_reentrant: false (warn_qlora_zero3_w_use_reentrant).
FATAL_WARNINGS = ("Training will fail", "All parameters are frozen", "CheckpointError")


class Warnings(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record.getMessage())


WARNINGS = Warnings()
logging.getLogger("axolotl").addHandler(WARNINGS)


def known_keys() -> set[str]:
    keys: set[str] = set()
    for name, field in AxolotlInputConfig.model_fields.items():
        keys.add(name)
        if field.alias:
            keys.add(field.alias)
        choices = getattr(field.validation_alias, "choices", None) or ()
        keys.update(c for c in choices if isinstance(c, str))
        if isinstance(field.validation_alias, str):
            keys.add(field.validation_alias)
    return keys


def trainable_after_freeze(model_dir: str, layers: int, patterns: list[str]) -> list[str]:
    import torch
    from axolotl.utils.freeze import freeze_layers_except
    from transformers import AutoConfig, AutoModelForCausalLM

    config = AutoConfig.from_pretrained(model_dir)
    config.num_hidden_layers = layers
    if getattr(config, "layer_types", None):  # one entry per layer (Qwen2's sliding-window flags)
        config.layer_types = [config.layer_types[0]] * layers
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config)
    freeze_layers_except(model, patterns)
    return [n for n, p in model.named_parameters() if p.requires_grad]


def validate(entry: dict[str, Any], known: set[str]) -> str:
    path = Path(entry["path"])
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    unknown = sorted(set(raw) - known)
    if unknown:
        return f"keys axolotl's schema does not know (it drops them silently): {unknown}"
    raw["base_model"] = entry["model"]
    bf16 = bool(entry.get("bf16", True))
    capabilities = {
        "bf16": bf16,
        "fp8": False,
        "tf32": bf16,
        "n_gpu": int(entry.get("gpus", 1)),
        "n_node": 1,
        "compute_capability": "sm_86" if bf16 else "sm_70",
    }
    WARNINGS.records.clear()
    os.environ["WORLD_SIZE"] = str(entry.get("gpus", 1))
    cwd = os.getcwd()
    os.chdir(path.parent)  # deepspeed: and dataset paths are relative to the config
    try:
        cfg = validate_config(
            DictDefault(raw), capabilities=capabilities, env_capabilities={"torch_version": "2.13.0"}
        )
        normalize_config(cfg)
        if cfg.unfrozen_parameters:
            names = trainable_after_freeze(
                entry["model"], int(entry["layers"]), list(cfg.unfrozen_parameters)
            )
            if not names:
                return (
                    f"unfrozen_parameters {list(cfg.unfrozen_parameters)} match no parameter: nothing trains"
                )
    finally:
        os.chdir(cwd)
    fatal = [w for w in WARNINGS.records if any(f in w for f in FATAL_WARNINGS)]
    return f"axolotl warned: {fatal}" if fatal else ""


def main() -> int:
    known = known_keys()
    for entry in json.loads(Path(sys.argv[1]).read_text(encoding="utf-8")):
        try:
            problem = validate(entry, known)
        except Exception as error:  # noqa: BLE001 - the schema raises ValidationError, the loaders anything
            problem = f"{type(error).__name__}: {error}"
        print(json.dumps({"path": entry["path"], "ok": not problem, "message": problem}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
