#!/usr/bin/env bash
# The trainers' own config validation (tests/test_recipes_validate.py) needs axolotl and
# LLaMA-Factory, whose pinned dependencies conflict with each other and with the Python
# recipes': each gets its own virtual environment under DIR (default .validators). The trainers
# themselves are installed with --no-deps (their full installs pull gradio, vllm, flash-attn,
# CUDA builds...), plus only the packages their config code imports, at their own pins. A
# constraint keeps torch at the CPU build for every dependency. Prints the directory.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${1:-.validators}
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
echo "torch==2.13.0" > "$DIR/constraints.txt"

make_env() {
    local name=$1
    shift
    if [ -x "$DIR/$name/bin/python" ] && [ -f "$DIR/$name/.complete" ]; then
        return
    fi
    rm -rf "${DIR:?}/$name"
    python3 -m venv "$DIR/$name"
    local pip=("$DIR/$name/bin/python" -m pip install --quiet -c "$DIR/constraints.txt")
    "${pip[@]}" torch==2.13.0
    "$@"
    touch "$DIR/$name/.complete"
}

axolotl() {
    local pip=("$DIR/axolotl/bin/python" -m pip install --quiet -c "$DIR/constraints.txt")
    "${pip[@]}" --no-deps axolotl==0.19.0
    # axolotl 0.19.0's pins, and what axolotl.utils.config / cli.config / utils.freeze import.
    "${pip[@]}" transformers==5.16.1 peft==0.20.0 trl==1.9.0 accelerate==1.13.0 datasets==4.8.4 \
        huggingface_hub==1.17.0 tokenizers==0.23.1 pydantic==2.12.5 PyYAML==6.0.3 packaging==26.0 \
        posthog==6.7.11 "numba>=0.63.1,<1.0" pillow addict colorama \
        math-verify  # the online-RL Python recipes' reward (their minimum-version runs, here)
    # DeepSpeed's config parser (launcher configs): pure Python without its compiled ops.
    DS_BUILD_OPS=0 "${pip[@]}" --no-build-isolation "deepspeed>=0.18.6,<0.19.0"
    "$DIR/axolotl/bin/python" -c "import axolotl.utils.config, axolotl.utils.freeze, deepspeed"
}

llamafactory() {
    local pip=("$DIR/llamafactory/bin/python" -m pip install --quiet -c "$DIR/constraints.txt")
    "${pip[@]}" --no-deps llamafactory==0.9.5
    # The newest versions LLaMA-Factory 0.9.5 allows, and what its parser imports.
    "${pip[@]}" transformers==5.6.0 trl==0.24.0 peft==0.18.1 accelerate==1.11.0 datasets==4.0.0 \
        omegaconf pydantic pyyaml
    # plot_loss and use_galore are mandatory version checks at parse time (galore-torch brings
    # bitsandbytes, whose CPU backend loads 4-bit models); deepspeed: for ZeRO configs.
    "${pip[@]}" matplotlib galore-torch
    DS_BUILD_OPS=0 "${pip[@]}" --no-build-isolation deepspeed==0.18.9
    "$DIR/llamafactory/bin/python" -c "from llamafactory.hparams import get_train_args"
}

make_env axolotl axolotl
make_env llamafactory llamafactory
echo "$DIR"
