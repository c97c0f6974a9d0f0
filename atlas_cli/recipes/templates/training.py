"""Blocks of the Python training recipe (transformers + peft + trl).

The assembled script is: header comments, a docstring with the data formats, imports, the plan's
constants, then these blocks. Names the blocks share: PLAN, PRECISION, GRADIENT_CHECKPOINTING,
BATCH_SIZE, GRAD_ACCUM, EPOCHS, MAX_LENGTH, OPTIM, LEARNING_RATE, EXTRA_TRAINING_ARGUMENTS,
FROZEN_BASE, NEEDS_CUDA, REQUIRED_MODULES, WRITTEN_FOR, FUSED_LM_HEAD, CALLBACKS, plus the method's own.
"""

from __future__ import annotations

from string import Template

PARSE_ARGS = Template("""
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=PLAN + ": " + (__doc__ or "").split("\\n\\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--model", $model_option, help="Hub id or local directory of the base model")
$dataset_options
    parser.add_argument("--output-dir", default="ft-atlas-output", help="one subdirectory per stage")
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue each stage from its last checkpoint in --output-dir (after a lost session)",
    )
    parser.add_argument(
        "--max-steps", type=int, default=-1, help="stop each stage after N optimizer steps (smoke tests)"
    )
    parser.add_argument("--precision", choices=["bf16", "fp16", "fp32", "pure-bf16"], default=PRECISION)
    parser.add_argument("--batch-size", type=int, default=None, help="per-device batch for every stage")
    parser.add_argument(
        "--grad-accum", type=int, default=None, help="gradient accumulation for every stage"
    )
    parser.add_argument("--max-length", type=int, default=MAX_LENGTH, help=$max_length_help)$extra_options
    return parser.parse_args(argv)
""")

CHECK_ENVIRONMENT = '''
def version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"[0-9]+", text)[:3])


def check_environment(args: argparse.Namespace) -> None:
    """Stop on library versions older than this recipe needs, warn about newer major versions,
    and stop early with a clear message when the plan needs something this machine lacks."""
    for name, minimum in MINIMUM_VERSIONS.items():
        installed = importlib.metadata.version(name)
        if version_tuple(installed) < version_tuple(minimum):
            sys.exit(f"{name} {installed} is installed; this recipe needs {name} >= {minimum}")
    for name, written_for in WRITTEN_FOR.items():
        installed = importlib.metadata.version(name)
        if installed.split(".")[0] != written_for.split(".")[0]:
            warnings.warn(
                f"{name} {installed} is installed; this recipe was written for {written_for}, "
                "so argument names may differ",
                stacklevel=2,
            )
    for name, fused in FUSED_LM_HEAD.items():
        installed = importlib.metadata.version(name)
        if version_tuple(installed) < version_tuple(fused):
            warnings.warn(
                f"{name} {installed} is installed: it materialises the logits, and this recipe's memory "
                f"estimate assumes {name} >= {fused}, whose trainers never do (add_fused_lm_head); "
                "expect more memory per GPU, or upgrade",
                stacklevel=2,
            )
    for module, hint in REQUIRED_MODULES.items():
        if importlib.util.find_spec(module) is None:
            sys.exit(f"This plan needs the Python module {module}: {hint}")
    if NEEDS_CUDA and not torch.cuda.is_available():
        sys.exit(
            "4-bit loading (QLoRA) runs on bitsandbytes' GPU kernels, and no CUDA or ROCm GPU was found. "
            "Run this recipe on an NVIDIA or AMD GPU, or pick a plan without quantization "
            "(ft-atlas recipe --plan N)."
        )
    if args.precision != "fp32" and not (torch.cuda.is_available() or torch.backends.mps.is_available()):
        # Mixed precision needs a GPU (CUDA, ROCm or Apple's MPS); on the CPU (a smoke test) train in
        # full precision instead.
        print(f"No GPU: training in fp32 instead of {args.precision}.", file=sys.stderr)
        args.precision = "fp32"
    mps = torch.backends.mps.is_available() and not torch.cuda.is_available()
    if mps and "bf16" in args.precision and not torch.backends.mps.is_macos_or_newer(14, 0):
        # bf16 on Apple's MPS needs macOS 14 (accelerate's and transformers' own checks).
        print(f"{args.precision} on Apple's MPS needs macOS 14: training in fp16 instead.", file=sys.stderr)
        args.precision = "fp16"
'''

LOAD_ROWS = '''
def load_rows(source: str, columns: list[list[str]]) -> Dataset:
    """A local JSON Lines / JSON / CSV / Parquet file, or the name of a dataset on the Hugging Face
    Hub, with one of the sets of `columns` the stage reads."""
    path = Path(source)
    if path.is_file():
        kinds = {".jsonl": "json", ".json": "json", ".csv": "csv", ".parquet": "parquet"}
        rows = load_dataset(kinds.get(path.suffix.lower(), "json"), data_files=str(path), split="train")
    else:
        rows = load_dataset(source, split="train")
    if not any(set(names) <= set(rows.column_names) for names in columns):
        wanted = " or ".join(" + ".join(names) for names in columns)
        # Conversations: an instruct model renders them with its chat template (plain prompts it
        # would take as they are), a base model with the script's plain one.
        example = (
            " (a question and its answer as a conversation; with pandas, d = pd.read_csv('in.csv'); "
            "d['messages'] = [[{'role': 'user', 'content': q}, {'role': 'assistant', 'content': a}] "
            "for q, a in zip(d['your_question'], d['your_answer'])]; d[['messages']].to_json("
            "'sft.jsonl', orient='records', lines=True))"
            if ["messages"] in columns
            else ""
        )
        sys.exit(
            f"{source}: this stage reads the columns {wanted}, and the data has "
            f"{', '.join(rows.column_names) or 'none'}. Rename yours to those names{example}; the "
            "formats are at the top of this script."
        )
    pictures = [c for c in ("image", "images") if c in rows.column_names]
    if pictures:
        # An expert's review: image rows reached TRL, which then took the model for a text-only one
        # ("does not seem to be a vision-language model"): the script passes a tokenizer.
        sys.exit(
            f"{source}: the column {pictures[0]!r} holds images, and this script trains on text only "
            "(it loads the tokenizer, not the model's processor). Drop the column to train on the text, "
            "or train the image-text rows with TRL's trainer given the model's AutoProcessor (TRL's "
            "docs: training vision-language models)."
        )
    return rows
'''

LOAD_TOKENIZER = """
# A plain-text chat template for models that ship none (base models): conversational data is
# rendered with it. It adds no special tokens, so the embeddings need no new rows. Its generation
# markers let TRL's assistant_only_loss train every answer of a conversation (transformers'
# return_assistant_tokens_mask), as LLaMA-Factory and axolotl do.
PLAIN_CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] == 'system' %}{{ message['content'] + '\\n\\n' }}"
    "{% elif message['role'] == 'user' %}{{ '### User:\\n' + message['content'] + '\\n\\n' }}"
    "{% else %}{{ '### Assistant:\\n' }}{% generation %}{{ message['content'] + eos_token }}"
    "{% endgeneration %}{{ '\\n\\n' }}{% endif %}"
    "{% endfor %}{% if add_generation_prompt %}{{ '### Assistant:\\n' }}{% endif %}"
)


def load_tokenizer(path: str) -> PreTrainedTokenizerBase:
    tokenizer = AutoTokenizer.from_pretrained(path)
    if tokenizer.pad_token is None:
        # Batches need padding; many base models ship without a pad token, and EOS is the usual stand-in.
        tokenizer.pad_token = tokenizer.eos_token
    if tokenizer.chat_template is None or UNTRAINED_CHAT_TOKENS:
        why = (
            "The tokenizer has no chat template (a base model)"
            if tokenizer.chat_template is None
            else "This base model never trained its chat template's special tokens"
        )
        print(
            f"{why}: conversational data is rendered with a plain '### User: / ### Assistant:' template.",
            file=sys.stderr,
        )
        tokenizer.chat_template = PLAIN_CHAT_TEMPLATE
    return tokenizer

"""

# Written into an instruct model's recipe only (a base model's string prompts are its text).
PLAIN_PROMPTS_CHECK = """
def warn_plain_prompts(rows: Dataset, stage: str) -> None:
    '''TRL renders a chat template over conversational rows only: an instruct model's string
    prompts train as the bare text, not as the model will be prompted (axolotl and LLaMA-Factory
    render the template over the same file).'''
    if "prompt" in rows.column_names and isinstance(rows[0]["prompt"], str):
        print(
            f"{stage}: the prompts are plain strings, which TRL uses as they are, without this instruct "
            'model\\'s chat template: give them as conversations ({"prompt": [{"role": "user", "content": '
            "...}]}, and any answer column as a list of assistant turns) unless the strings already "
            "carry the template.",
            file=sys.stderr,
        )
"""


LANGUAGE_MODEL_CLASS = '''
def language_model_class(path: str) -> Any:
    """AutoModelForCausalLM, or AutoModelForImageTextToText for a vision-language checkpoint that
    transformers maps to no causal LM (Mistral Small 3.x, Qwen2.5-VL) or to a text-only one whose
    module names the served checkpoint does not share (Llama 3.2 Vision's MllamaForCausalLM, Llama
    4's Llama4ForCausalLM: their adapters would load onto the served model with none of their
    weights): its text model trains inside the model it is served as."""
    config = AutoConfig.from_pretrained(path)
    if type(config) in MODEL_FOR_CAUSAL_LM_MAPPING and config.model_type not in ("mllama", "llama4"):
        return AutoModelForCausalLM
    return AutoModelForImageTextToText


def load_language_model(path: str, **kwargs: Any) -> PreTrainedModel:
    """language_model_class's model, its text model where TRL's fused LM head runs it: the head
    calls `model.base_model`, found by base_model_prefix, which Llama 4's classes name after no
    attribute they have (Llama4ForConditionalGeneration keeps its text model inside its
    `language_model`, a causal LM): the head would run the whole model and get logits where it
    takes hidden states. The text model is the module below the LM heads; it is set without being
    registered twice, so state_dict, PEFT's module names and what is saved stay as they are."""
    model = language_model_class(path).from_pretrained(path, **kwargs)
    expose_text_model(model)
    return model


def expose_text_model(model: Any) -> None:
    """Where `model.base_model` is the model itself, set the name its base_model_prefix gives to
    the text model below its LM heads (load_language_model); TRL's own reference copies (RLOO,
    GRPO with a KL term) need it too, on the module under accelerate's wrapper."""
    model = getattr(model, "module", model)
    if not isinstance(model, PreTrainedModel) or model.base_model is not model or not model.base_model_prefix:
        return
    text_model = model
    while text_model is not None and text_model.get_output_embeddings() is not None:
        text_model = getattr(text_model, "language_model", None) or getattr(text_model, "model", None)
    if isinstance(text_model, torch.nn.Module) and text_model is not model:
        object.__setattr__(model, model.base_model_prefix, text_model)
'''

LOAD_DTYPE = '''
def load_dtype(precision: str) -> torch.dtype:
    """The dtype the weights are loaded in. Frozen weights (PEFT, partial fine-tuning) sit in 16 bits,
    as the memory estimate assumes; weights that all train stay in fp32 for mixed precision, which
    keeps an fp32 master copy (pure-bf16 drops it). GaLore's stay in bf16: its optimizer keeps no
    fp32 copy of the projected matrices, as the GaLore paper trains them and the estimate sizes."""
    if precision == "fp32":
        return torch.float32
    if precision == "fp16":
        return torch.float16 if FROZEN_BASE else torch.float32
    sixteen_bit = FROZEN_BASE or precision == "pure-bf16" or OPTIM.startswith("galore")
    return torch.bfloat16 if sixteen_bit else torch.float32
'''

QUANTIZATION_KWARGS = """
    if QUANT_BITS == 8:
        kwargs["quantization_config"] = BitsAndBytesConfig(load_in_8bit=True)
    else:
        storage = {"bnb_4bit_quant_storage": load_dtype(args.precision)} if SHARDED else {}
        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_compute_dtype=load_dtype(args.precision), **QUANTIZATION, **storage
        )
    if not SHARDED:
        # One full copy of the 4-bit model per process (per GPU under accelerate launch); ZeRO-3
        # shards the 4-bit weights, packed in the storage dtype, instead.
        kwargs["device_map"] = {"": PartialState().local_process_index}  # this node's GPU"""

DEQUANTIZE = """
    # The checkpoint is stored in a quantization of its own: it trains on its weights
    # dequantized to 16 bit (OpenAI's gpt-oss guide loads MXFP4 so; LLaMA-Factory FP8 too).
    kwargs["quantization_config"] = ${config}(dequantize=True)"""

TRAINABLE_IN_FP32 = '''
def trainable_in_fp32(model: PreTrainedModel, args: argparse.Namespace, config: TrainingArguments) -> None:
    """PEFT copies a new task head (modules_to_save: a classifier's or reward model's score) in the
    base's 16-bit dtype. fp16 mixed precision unscales fp32 gradients only, which GradScaler
    refuses otherwise: every trainable weight moves to fp32. Under bf16 mixed precision the head
    moves to fp32, so that AdamW's small steps are not rounded away (the adapters are fp32
    already). Not under DeepSpeed, which scales fp16 losses itself and all-gathers ZeRO-3's
    shards in one dtype."""
    if config.deepspeed_plugin is not None:
        return
    if args.precision == "fp16":
        upcast_trainable(model)
    elif args.precision == "bf16":
        for name, param in model.named_parameters():
            if param.requires_grad and ".modules_to_save." in name:
                param.data = param.data.float()
'''

UPCAST_TRAINABLE = '''
def upcast_trainable(model: PreTrainedModel) -> None:
    """Mixed precision updates fp32 weights: the few that train move to fp32, the frozen rest stays
    in 16 bits (fp16 gradients cannot be unscaled)."""
    for param in model.parameters():
        if param.requires_grad:
            param.data = param.data.float()
'''

SELECT_PARTIAL = '''
def select_trainable(model: PreTrainedModel) -> None:
    """Partial fine-tuning: freeze everything, then train the top TOP_LAYER_FRACTION of the blocks
    (and a task head). Block parameters are named like "model.layers.30.mlp.up_proj.weight"."""
    layers = model.config.get_text_config().num_hidden_layers
    first_trained = layers - max(1, math.ceil(layers * TOP_LAYER_FRACTION))
    block = re.compile(r"\\.(\\d+)\\.")
    for name, param in model.named_parameters():
        found = block.search(name)
        in_top_block = found is not None and int(found.group(1)) >= first_trained
        param.requires_grad = in_top_block or name.startswith(HEAD_PREFIXES)
    upcast_trainable(model)
'''

SELECT_BITFIT = '''
def select_trainable(model: PreTrainedModel) -> None:
    """BitFit: train only the bias terms (and a new task head); every weight matrix stays frozen."""
    biases = 0
    for name, param in model.named_parameters():
        is_bias = name.endswith(".bias")
        biases += is_bias
        param.requires_grad = is_bias or name.startswith(HEAD_PREFIXES)
    if not biases:
        sys.exit(
            "BitFit: this model has no bias terms (Llama, Mistral and Gemma have none), so nothing "
            "would train. Pick another plan (ft-atlas recipe --plan N)."
        )
    upcast_trainable(model)
'''

BUILD_WEIGHTS = '''
def build_model(
    args: argparse.Namespace,
    tokenizer: PreTrainedTokenizerBase,
    previous: str | None,
    rows: Dataset,
    stage: str,
) -> tuple[PreTrainedModel, None]:
    """Every stage trains the weights themselves: first the base model, then the previous stage's
    checkpoint (TRL loads a frozen copy of it as the reference model where the objective needs one)."""
    model = load_model(previous or args.model, args, stage)
    $select
    return model, None
'''

BUILD_PEFT = '''
def build_model(
    args: argparse.Namespace,
    tokenizer: PreTrainedTokenizerBase,
    previous: str | None,
    rows: Dataset,
    stage: str,
) -> tuple[PreTrainedModel, PeftConfig | None]:
    """The first stage trains a new adapter (the trainer adds it to the base model); a later stage
    trains the previous stage's adapter further, and TRL keeps a frozen copy of that adapter as the
    reference model, so the reference is the SFT policy, as DPO and KTO assume."""
    model = load_model(args.model, args, stage)
    if previous is None:
        return model, adapter_config(args, tokenizer, rows, stage)
    return PeftModel.from_pretrained(model, previous, is_trainable=True), None
'''

BUILD_MERGING = Template('''
def build_model(
    args: argparse.Namespace,
    tokenizer: PreTrainedTokenizerBase,
    previous: str | None,
    rows: Dataset,
    stage: str,
) -> tuple[PreTrainedModel, PeftConfig | None]:
    """$why"""
    model = load_model(trained_on(args, stage), args, stage)
    return model, adapter_config(args, tokenizer, rows, stage)


def trained_on(args: argparse.Namespace, stage: str) -> str:
    """The weights a stage trains its adapter on: the base, then the previous stage's merge (by its
    absolute path, which the adapter's config records as its base)."""
    index = STAGES.index(stage)
    return args.model if index == 0 else str(Path(args.output_dir).resolve() / f"{STAGES[index - 1]}-merged")


def merge_earlier(args: argparse.Namespace, stage: str) -> None:
    """Before a later stage's config exists: the previous stage's adapter merged into the weights
    it trained on, in 16 bits, into ft-atlas-output/<previous>-merged, by the main process on the
    CPU (its RAM holds the whole 16-bit model), the others waiting for it. A config makes
    from_pretrained shard what it loads under ZeRO-3, which PEFT cannot merge into: the previous
    stage's is set aside first. Merged anew on every run: an earlier run's may hold another adapter."""
    index = STAGES.index(stage)
    if index == 0:
        return
    unset_hf_deepspeed_config()
    state = PartialState()
    if state.is_main_process:
        earlier, merged = STAGES[index - 1], Path(trained_on(args, stage))
        partial = merged.with_name(f"{merged.name}.partial")
        shutil.rmtree(partial, ignore_errors=True)
        path = trained_on(args, earlier)
        model = language_model_class(path).from_pretrained(path, $merge_kwargs)
        adapter = str(Path(args.output_dir) / earlier)
        PeftModel.from_pretrained(model, adapter).merge_and_unload().save_pretrained(partial)
        shutil.rmtree(merged, ignore_errors=True)
        partial.rename(merged)
    state.wait_for_everyone()
''')

FREEZE_VISION_TOWER = '''
VISION_MODULES = re.compile($modules)


def freeze_vision_tower(model: PreTrainedModel) -> None:
    """A vision-language checkpoint's vision tower and projector see no text data: frozen, they
    take no gradient or optimizer state (the memory estimate counts the text model), and DDP, which
    looks for no unused parameters under gradient checkpointing, finds none."""
    for name, parameter in model.named_parameters():
        if VISION_MODULES.fullmatch(name):
            parameter.requires_grad_(False)
'''

PLANNED_STEPS = '''
def planned_steps(args: argparse.Namespace, examples: int, stage: str) -> int:
    """Optimizer steps of a stage: AdaLoRA schedules its rank budget over them."""
    if args.max_steps > 0:
        return args.max_steps
    per_step = (
        (args.batch_size or BATCH_SIZE[stage])
        * (args.grad_accum or GRAD_ACCUM[stage])
        * PartialState().num_processes
    )
    return math.ceil(examples / per_step) * math.ceil(EPOCHS[stage])


def orthogonal_penalty(model: Any) -> Any:
    """AdaLoRA's regulariser, as PEFT's AdaLoraModel.forward adds it to outputs.loss: orth_reg_weight
    x the mean over the adapters' A and B of ||P P^T - I||_F. TRL 1.x trainers take their loss from
    the fused LM head's log-probabilities and never read outputs.loss, so it is added here."""
    peft_model = model.base_model
    name = peft_model.trainable_adapter_name
    total, count = 0.0, 0
    for key, weight in peft_model.model.named_parameters():
        if name not in key or not ("lora_A" in key or "lora_B" in key):
            continue
        with gathered(weight, model):
            gram = weight @ weight.T if "lora_A" in key else weight.T @ weight
        identity = torch.eye(*gram.shape, device=gram.device, dtype=gram.dtype)
        total, count = total + torch.linalg.matrix_norm(gram - identity), count + 1
    return peft_model.peft_config[name].orth_reg_weight * total / max(count, 1)


def gathered(weight: Any, model: Any) -> Any:
    """A ZeRO-3 partition (an empty tensor on this process) gathered whole while it is read, as
    PEFT's AdaLoRA gathers it (peft.utils.integrations.gather_params_ctx)."""
    if weight.shape != torch.Size([0]):
        return contextlib.nullcontext()
    import deepspeed

    return deepspeed.zero.GatheredParameters(weight, modifier_rank=0, fwd_module=model)


def with_orthogonal_penalty(trainer_class: Any) -> Any:
    """The stage's trainer, its training loss with AdaLoRA's regulariser added, scaled for gradient
    accumulation as the Trainer scales the loss itself (Trainer.training_step)."""

    class AdaLoraTrainer(trainer_class):  # type: ignore[misc, valid-type]
        def compute_loss(
            self, model: Any, inputs: Any, return_outputs: bool = False, num_items_in_batch: Any = None
        ) -> Any:
            result = super().compute_loss(
                model, inputs, return_outputs=return_outputs, num_items_in_batch=num_items_in_batch
            )
            if not model.training:
                return result
            scaled = getattr(self, "loss_is_scaled_for_ga", None)
            if scaled is None:
                scaled = self.model_accepts_loss_kwargs and num_items_in_batch is not None
            penalty = orthogonal_penalty(self.model)
            if scaled:
                penalty = penalty / self.current_gradient_accumulation_steps
            if return_outputs:
                return result[0] + penalty, result[1]
            return result + penalty

    return AdaLoraTrainer


class AdaLoraBudget(TrainerCallback):
    """AdaLoRA moves rank between matrices as it trains: PEFT needs update_and_allocate after each
    optimizer step, before the gradients are cleared, and the Trainer does not call it."""

    def on_optimizer_step(
        self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any
    ) -> None:
        model.base_model.update_and_allocate(state.global_step)
'''

TRAINING_ARGUMENTS = '''
# transformers 5.23 renamed gradient_checkpointing to activation_checkpointing (the old name
# warns there); older releases know only the old name.
CHECKPOINTING_ARGUMENT = (
    "activation_checkpointing"
    if "activation_checkpointing" in TrainingArguments.__dataclass_fields__
    else "gradient_checkpointing"
)


def training_arguments(args: argparse.Namespace, stage: str) -> dict[str, Any]:
    """What every stage shares: transformers' TrainingArguments, which TRL's configs extend."""
    output_dir = Path(args.output_dir) / stage
    # --resume: the stage's last checkpoint (checkpoint-<step>), where one was saved; finish()
    # trains from it.
    steps = [int(p.name[11:]) for p in output_dir.glob("checkpoint-*") if p.name[11:].isdigit()]
    last = str(output_dir / f"checkpoint-{max(steps)}") if args.resume and steps else None
    return {
        "output_dir": str(output_dir),
        "resume_from_checkpoint": last,
        "learning_rate": LEARNING_RATE[stage],
        "per_device_train_batch_size": args.batch_size or BATCH_SIZE[stage],
        "gradient_accumulation_steps": args.grad_accum or GRAD_ACCUM[stage],
        "num_train_epochs": EPOCHS[stage],
        "max_steps": args.max_steps,
        "warmup_steps": WARMUP_RATIO,  # below 1: a share of the training steps (transformers 5)
        "lr_scheduler_type": LR_SCHEDULER,
        CHECKPOINTING_ARGUMENT: GRADIENT_CHECKPOINTING,
        # TRL forces reentrant checkpointing for PEFT under ZeRO-3 (non-reentrant recomputes the
        # gathered weights as empty shards: CheckpointError), but writes the old name's kwargs,
        # which transformers 5.23+ no longer reads once the arguments exist: set here, by name.
        **({CHECKPOINTING_ARGUMENT + "_kwargs": {"use_reentrant": True}} if USES_PEFT and SHARDED else {}),
        "bf16": args.precision in ("bf16", "pure-bf16"),
        "fp16": args.precision == "fp16",
        "optim": OPTIM,
        "save_strategy": "steps",
        "save_steps": SAVE_EVERY,  # below 1: a share of the training steps
        "save_total_limit": SAVE_KEEP,
        "report_to": "none",
        **EXTRA_TRAINING_ARGUMENTS,
    }
'''

REPORT_CUT = '''
def report_cut(trainer: Trainer, stage: str, given: int) -> None:
    """Say how many of the `given` examples reach max_length: TRL cuts them there without a word
    (an expert's review: reasoning traces lost their final answers), and leaves out those the cut
    left with nothing to learn. Counted over the rows TRL kept (its filter only hides the others);
    a packed row keeps each example's length (seq_lengths); a preference pair, its prompt and
    longer answer (DPO leaves out a pair whose prompt alone fills max_length; the reward trainer,
    a pair longer than max_length, whose rows hold the prompt in each answer)."""
    limit = getattr(trainer.args, "max_length", None)
    if not limit:
        return
    table = trainer.train_dataset.with_format("arrow")[:]
    columns = table.column_names
    answers = [name for name in ("chosen_ids", "rejected_ids", "completion_ids") if name in columns]
    length = pyarrow.compute.list_value_length
    whole = False  # the reward trainer keeps a pair whole or leaves it out, and never cuts one
    if "seq_lengths" in columns:
        lengths = pyarrow.compute.list_flatten(table["seq_lengths"])
    elif "input_ids" in columns:
        lengths = length(table["input_ids"])
    elif answers:
        lengths = pyarrow.compute.max_element_wise(*(length(table[name]) for name in answers))
        if "prompt_ids" in columns:
            lengths = pyarrow.compute.add(length(table["prompt_ids"]), lengths)
        else:
            whole = True
    else:
        return
    cut = 0 if whole else pyarrow.compute.sum(pyarrow.compute.greater_equal(lengths, limit)).as_py() or 0
    if cut:
        print(
            f"{stage}: {cut} of {len(lengths)} examples reach --max-length {limit}, cut there if longer: "
            "the rest of each is not trained on (a reasoning trace loses its answer). Raise --max-length "
            "after checking that it fits: ft-atlas estimate --seq-len N",
            file=sys.stderr,
        )
    if given > len(lengths):
        print(
            f"{stage}: {given - len(lengths)} of {given} examples were left out: "
            + (
                f"longer than --max-length {limit}, which the reward trainer does not cut"
                if whole
                else f"cut at --max-length {limit}, nothing of their answer was left to train on"
            ),
            file=sys.stderr,
        )
'''

FINISH = '''
def finish(trainer: Trainer, stage: str) -> str:
    """Train, refuse a non-finite loss, save the adapter (PEFT) or the weights, and the metrics."""
    result = trainer.train(resume_from_checkpoint=trainer.args.resume_from_checkpoint)
    if not math.isfinite(result.training_loss):
        sys.exit(f"{stage}: the loss is {result.training_loss}; lower the learning rate or check the data")
    output_dir = trainer.args.output_dir
    trainer.save_model(output_dir)
    if getattr(trainer.model, "peft_config", None) and getattr(trainer.model, "generation_config", None):
        # Beside the adapter, where the model's own config is not saved: the tokens it stops at
        # (an SFT stage's eos_token, end_of_turn).
        trainer.model.generation_config.save_pretrained(output_dir)
    peft_config = getattr(trainer.model, "peft_config", {}).get("default")
    if peft_config is not None and peft_config.task_type == "SEQ_CLS":
        # An adapter's directory holds no config.json: the head's labels (and their number) and
        # the pad token it scores by are those of the model this script loaded, not its base's.
        # Without a 4-bit base's quantization_config, which would make transformers load the 16-bit
        # checkpoint as one stored quantized.
        config = copy.deepcopy(trainer.model.config)
        for key in ("quantization_config", "_pre_quantization_dtype"):
            config.__dict__.pop(key, None)
        config.save_pretrained(output_dir)
    trainer.save_metrics("train", result.metrics)
    print(f"{stage}: train_loss={result.training_loss:.4f}, saved to {output_dir}")
    if trainer.eval_dataset is not None:
        # The last evaluation while training, when it fell on the last step; else one more now.
        last = next((entry for entry in reversed(trainer.state.log_history) if "eval_loss" in entry), {})
        evaluation = last if last.get("step") == trainer.state.global_step else trainer.evaluate()
        trainer.save_metrics("eval", evaluation)
        scores = {k: v for k, v in evaluation.items() if k in ("eval_loss", "eval_accuracy", "eval_macro_f1")}
        print(f"{stage}: on the held-out rows, " + ", ".join(f"{k}={v:.4f}" for k, v in scores.items()))
    return output_dir
'''

HELD_OUT = '''
def held_out(
    rows: Dataset, args: argparse.Namespace, stratify: str | None = None
) -> tuple[Dataset, Dataset | None]:
    """The rows to train on, and a share of them held out to evaluate on (--eval-share): at most
    EVAL_ROWS[1] rows; a share under EVAL_ROWS[0] rows (too few to read a loss from) is raised to
    it where that stays within MAX_HELD_SHARE of them, else none is held out; every class in its
    share where `stratify` names the label column. The split is seeded, so every process of a
    multi-GPU run holds out the same rows."""
    if args.eval_share == 0:
        return rows, None
    held = min(EVAL_ROWS[1], int(len(rows) * args.eval_share), len(rows) - 1)
    if held < EVAL_ROWS[0]:
        if EVAL_ROWS[0] > len(rows) * MAX_HELD_SHARE:
            print(
                f"{len(rows)} rows are too few to hold out {EVAL_ROWS[0]} (at most {MAX_HELD_SHARE:.0%} of "
                "them) to evaluate on: all of them train.",
                file=sys.stderr,
            )
            return rows, None
        held = EVAL_ROWS[0]
    try:
        split = rows.train_test_split(test_size=held, seed=42, stratify_by_column=stratify)
    except ValueError as why:  # a class of one row cannot be on both sides
        if stratify is None:
            raise
        print(f"A random split, not one per class: {why}", file=sys.stderr)
        split = rows.train_test_split(test_size=held, seed=42)
    return split["train"], split["test"]


def eval_share(text: str) -> float:
    """--eval-share: a share of the rows, 0 (none) up to but not including 1 (every row)."""
    share = float(text)
    if not 0 <= share < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a share from 0 up to 1")
    return share


def evaluation_arguments(args: argparse.Namespace, stage: str, evaluation: Dataset | None) -> dict[str, Any]:
    """Evaluate every EVAL_EVERY of the training steps (and once at the end: finish), at the
    training micro-batch: transformers' default of 8 may not fit where training fits."""
    if evaluation is None:
        return {}
    return {
        "eval_strategy": "steps",
        "eval_steps": EVAL_EVERY,
        "per_device_eval_batch_size": args.batch_size or BATCH_SIZE[stage],
    }
'''

RUN_STAGE = Template('''
def stage_settings(args: argparse.Namespace, stage: str, rows: Dataset | None = None) -> dict[str, Any]:
    """The stage's own config values, with the command line's overrides (and the data's, given its
    rows)."""
    settings = dict(STAGE_SETTINGS[stage])$row_settings
    if "max_length" in settings:
        settings["max_length"] = args.max_length$completion_override
    generations = settings.get("num_generations")
    if generations:
        # TRL samples one generation batch (micro-batch x processes x steps_per_generation) per
        # optimizer step, and it must hold whole groups of num_generations completions.
        per_step = (args.batch_size or BATCH_SIZE[stage]) * PartialState().num_processes
        steps = args.grad_accum or GRAD_ACCUM[stage]
        while (per_step * steps) % generations:
            steps += 1
        settings["steps_per_generation"] = steps
    if stage in REFERENCE_DTYPE_STAGES:
        settings["model_init_kwargs"] = {"dtype": reference_dtype(args.precision)}
    return settings


def reference_model(args: argparse.Namespace, previous: str | None, stage: str) -> PreTrainedModel | None:
    """Full-weight DPO and KTO compare the policy with a frozen copy of it. TRL would load that
    copy in the policy's dtype (fp32 under mixed precision); it is loaded in 16 bits here, as the
    memory estimate assumes."""
    if stage not in REFERENCE_STAGES:
        return None
    path = previous or args.model
    model = load_language_model(path, dtype=reference_dtype(args.precision))
    model.requires_grad_(False)
    return model


def run_stage(
    stage: str, args: argparse.Namespace, tokenizer: PreTrainedTokenizerBase, previous: str | None
) -> str:
    config_class, trainer_class = TRAINERS[stage]$trainer_wrap
    columns = COLUMNS[stage]
    rows = load_rows(getattr(args, DATASET_OPTION[stage]), columns)$plain_prompts$prompt_filter$held_out
    # The config first: only once it exists does from_pretrained shard the weights as they load
    # under ZeRO-3 (zero.Init), rather than load the whole model in every process.
    config = config_class(
        **training_arguments(args, stage),
        **stage_settings(args, stage, rows),$config_extras
    )
    model, adapter = build_model(args, tokenizer, previous, rows, stage)
    reference = reference_model(args, previous, stage)
    extras = dict(TRAINER_EXTRAS.get(stage, {}))
    if reference is not None:
        extras["ref_model"] = reference
    trainer = trainer_class(
        model=model,
        args=config,
        train_dataset=rows,$eval_dataset
        processing_class=tokenizer,
        peft_config=adapter,
        callbacks=callbacks(),
        **extras,
    )
    trainable_in_fp32(trainer.model, args, config)  # a reward model's task head, copied by PEFT
    expose_text_model(getattr(trainer, "ref_model", None))  # a reference TRL loaded itself$report_cut
    return finish(trainer, stage)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    check_environment(args)
    tokenizer = load_tokenizer(args.model)
    previous = None
    for stage in STAGES:$merge_earlier
        previous = run_stage(stage, args, tokenizer, previous)
    print(f"Done: the final {'adapter' if USES_PEFT else 'model'} is in {previous}")


if __name__ == "__main__":
    main()
''')

# Online stages (GRPO, RLOO) in a recipe: --max-length is prompt + completion, as the memory
# estimate reads --seq-len, and prompts past their share are left out rather than overgrow it; a
# colocated vLLM engine's context follows it.
ONLINE_COMPLETION_OVERRIDE = """
    if "max_completion_length" in settings:
        settings["max_completion_length"] = completion_budget(args.max_length)
    if "vllm_max_model_length" in settings:
        settings["vllm_max_model_length"] = args.max_length"""
# A vLLM server started by the run line samples within the context it was started with: a longer
# --max-length would have every request refused.
SERVER_CONTEXT_CHECK = """
    if settings.get("vllm_mode") == "server" and args.max_length > VLLM_SERVER_MAX_MODEL_LEN:
        raise SystemExit(
            f"--max-length {args.max_length}: the vLLM server of the run line was started with "
            f"--max-model-len {VLLM_SERVER_MAX_MODEL_LEN}; start it with --max-model-len {args.max_length}"
        )"""
ONLINE_PROMPT_FILTER = "\n    rows = within_prompt_budget(rows, tokenizer, args, stage)"
SFT_CONVERSATION_LOSS = (
    "\n    conversation: dict[str, Any] = {}"
    '\n    if stage == "sft":\n        rows, conversation = conversation_loss(rows, tokenizer)'
)
# KTO's weights from the labels' counts (kto-weights-balance-the-labels in data/rules.yaml).
KTO_ROW_SETTINGS = """
    if stage == "kto" and rows is not None:
        settings.update(balanced_kto_weights(rows, settings))"""
BALANCED_KTO_WEIGHTS = '''
def balanced_kto_weights(rows: Dataset, settings: dict[str, Any]) -> dict[str, float]:
    """TRL's KTO docs ("Imbalanced data"): upweight the less common label so that
    desirable_weight x desirable rows to undesirable_weight x undesirable rows lies between 1:1
    and 4:3; outside that, the rarer label's weight makes it 1:1 against the other's configured
    weight (`settings`, the stage's config values). Chosen / rejected pairs, which TRL's KTO
    trainer unpairs itself, are balanced already."""
    if "label" not in rows.column_names:
        return {}
    desirable = sum(bool(label) for label in rows["label"])
    undesirable = len(rows) - desirable
    weights = {
        "desirable_weight": float(settings.get("desirable_weight", 1.0)),
        "undesirable_weight": float(settings.get("undesirable_weight", 1.0)),
    }
    weighted = (desirable * weights["desirable_weight"], undesirable * weights["undesirable_weight"])
    if all(weighted) and not 1 <= weighted[0] / weighted[1] <= 4 / 3:
        if weighted[0] < weighted[1]:
            weights["desirable_weight"] = round(weighted[1] / desirable, 3)
        else:
            weights["undesirable_weight"] = round(weighted[0] / undesirable, 3)
    print(f"KTO: {desirable:,} desirable and {undesirable:,} undesirable rows: {weights}")
    return weights
'''
# An instruct model's recipe says when a stage's prompts are plain strings (a base model's are text).
PLAIN_PROMPTS = "\n    warn_plain_prompts(rows, stage)"
STAGE_REPORT_CUT = """
    if stage in CUT_STAGES:
        report_cut(trainer, stage, len(rows))"""
# Offline stages hold rows out to evaluate on (online RL scores its own generations).
STAGE_HELD_OUT = """
    evaluation = None
    if stage in EVAL_STAGES:
        rows, evaluation = held_out(rows, args)"""
STAGE_EVAL_DATASET = "\n        eval_dataset=evaluation,"
STAGE_EVAL_ARGUMENTS = "\n        **evaluation_arguments(args, stage, evaluation),"
CONVERSATION_LOSS = '''
def conversation_loss(rows: Dataset, tokenizer: PreTrainedTokenizerBase) -> tuple[Dataset, dict[str, Any]]:
    """SFT's loss on the answers of conversations ({"messages": [...]}), not on the system's and
    user's turns (TRL's default trains them all): TRL's assistant_only_loss, on every assistant
    turn, where the chat template marks them or TRL ships a training version of it (which also
    keeps DeepSeek-R1's reasoning); else conversational prompt-completion rows (answers_only)."""
    if "messages" not in rows.column_names:
        return rows, {}
    stop = end_of_turn(tokenizer)
    stops = {} if stop is None else {"eos_token": stop}
    try:
        get_training_chat_template(tokenizer)  # None: the template marks the turns already
    except ValueError:
        return answers_only(rows, tokenizer), stops
    # TRL reads a row's format from its columns: the conversation alone is the row (a prompt
    # string beside it reads as not conversational, which assistant_only_loss refuses).
    others = [c for c in ("prompt", "completion", "text") if c in rows.column_names]
    return rows.remove_columns(others), {"assistant_only_loss": True, **stops}


def end_of_turn(tokenizer: PreTrainedTokenizerBase) -> str | None:
    """The special token the chat template closes an answer with, where it is not the tokenizer's
    EOS: Qwen2.5's base checkpoints close turns with <|im_end|> and stop at <|endoftext|>, so a
    model trained on conversations never stopped (an expert's review). TRL's eos_token makes the
    tokenizer, the model's config and its generation config stop there too."""
    turn = [{"role": "user", "content": "q"}, {"role": "assistant", "content": "ANSWER"}]
    try:
        rendered = tokenizer.apply_chat_template(turn, tokenize=False)
    except Exception:  # a template that refuses this probe: TRL keeps the tokenizer's EOS
        return None
    if not isinstance(rendered, str) or "ANSWER" not in rendered:
        return None  # a template that does not print the answer as given
    after = rendered.rsplit("ANSWER", 1)[1]
    if tokenizer.eos_token and tokenizer.eos_token in after:
        return None
    added = (token.content for token in tokenizer.added_tokens_decoder.values() if token.special)
    specials = set(tokenizer.all_special_tokens) | set(added)
    found = sorted((after.index(token), token) for token in specials if token and token in after)
    return found[0][1] if found else None


def answers_only(rows: Dataset, tokenizer: PreTrainedTokenizerBase) -> Dataset:
    """Conversations as TRL's conversational prompt-completion rows: the last assistant turn is the
    completion and the turns before it the prompt, so the loss falls on the answer (TRL's
    completion_only_loss). A multi-turn conversation trains its last answer: give one row per
    answer to train them all."""
    if any(turns is None for turns in rows["messages"]):
        raise SystemExit("Some rows are conversations and some are not: give every row in one format.")
    answers = [turns[-1] for turns in rows["messages"] if turns and turns[-1]["role"] == "assistant"]
    if len(answers) < len(rows):
        unanswered = len(rows) - len(answers)
        raise SystemExit(f"{unanswered} conversation(s) do not end with an assistant's answer to train on.")
    earlier = sum(1 for turns in rows["messages"] if sum(t["role"] == "assistant" for t in turns) > 1)
    if earlier:
        # Said, not silent: LLaMA-Factory's and axolotl's recipes train every assistant turn.
        print(
            f"warning: {earlier} conversation(s) have several assistant turns and only the last is "
            "trained (TRL marks no turns in this chat template): give one row per answer to train them all",
            file=sys.stderr,
        )
    if any("</think>" in str(answer["content"]) for answer in answers) and not keeps_reasoning(tokenizer):
        raise SystemExit(
            "The model's chat template drops an answer's reasoning before </think> (DeepSeek-R1's does), "
            "so these traces would train without it: give them as plain prompt-completion rows with "
            "the template applied by hand, the <think> block kept in the completion."
        )
    return rows.map(
        lambda row: {"prompt": row["messages"][:-1], "completion": row["messages"][-1:]},
        remove_columns=["messages"],
    )


def keeps_reasoning(tokenizer: PreTrainedTokenizerBase) -> bool:
    """Whether the chat template keeps a final answer's <think> block, as TRL renders it."""
    probe = [{"role": "user", "content": "q"}, {"role": "assistant", "content": "<think>kept</think>a"}]
    return "kept" in tokenizer.apply_chat_template(probe, tokenize=False)
'''
PROMPT_BUDGET = Template('''
MAX_PROMPT = $max_prompt  # prompt tokens an online stage keeps: the memory estimate's share


def completion_budget(max_length: int) -> int:
    """Tokens sampled per completion: --max-length (prompt + completion) less the prompt's share,
    split as the memory estimate splits it."""
    return max_length - min(MAX_PROMPT, max_length // 2)


def within_prompt_budget(
    rows: Dataset, tokenizer: PreTrainedTokenizerBase, args: argparse.Namespace, stage: str
) -> Dataset:
    """TRL's GRPO and RLOO sample after the whole prompt (they no longer truncate it), so a longer
    prompt would outgrow the length memory was sized for: such prompts are left out, and counted."""
    if "max_completion_length" not in STAGE_SETTINGS[stage]:
        return rows
    budget = args.max_length - completion_budget(args.max_length)

    def fits(row: dict[str, Any]) -> bool:
        prompt = row["prompt"]
        if isinstance(prompt, list):  # conversational: TRL renders the chat template
            text = tokenizer.apply_chat_template(prompt, add_generation_prompt=True, tokenize=False)
            return len(tokenizer(text, add_special_tokens=False)["input_ids"]) <= budget
        return len(tokenizer(prompt)["input_ids"]) <= budget

    kept = rows.filter(fits)
    if len(kept) == 0:
        sys.exit(
            f"{stage}: every prompt is longer than {budget} tokens; raise --max-length (prompt + "
            "completion), after checking that it fits: ft-atlas estimate --seq-len N"
        )
    if len(kept) < len(rows):
        print(
            f"{stage}: left out {len(rows) - len(kept)} of {len(rows)} prompts longer than {budget} "
            f"tokens (--max-length {args.max_length} less {completion_budget(args.max_length)} for "
            "the completion)",
            file=sys.stderr,
        )
    return kept
''')

REFERENCE_DTYPE = '''
def reference_dtype(precision: str) -> torch.dtype:
    """A frozen reference model needs no fp32 master copy: 16 bits, as the estimate assumes."""
    if precision == "fp32":
        return torch.float32
    return torch.float16 if precision == "fp16" else torch.bfloat16
'''

ACCURACY = '''
def accuracy(prediction: EvalPrediction) -> dict[str, float]:
    """The share of held-out rows whose own label scores highest, and the F1 averaged over the
    classes seen (macro, as sklearn's f1_score(average="macro")), where a rare class counts as much
    as a common one."""
    scores = prediction.predictions
    logits = scores[0] if isinstance(scores, tuple) else scores
    predicted, actual = logits.argmax(-1), prediction.label_ids
    f1 = []
    for label in range(logits.shape[-1]):
        hits = float(((predicted == label) & (actual == label)).sum())
        named = float((predicted == label).sum() + (actual == label).sum())
        if named:  # a class neither predicted nor present is left out, as sklearn leaves it
            f1.append(2 * hits / named)
    return {"accuracy": float((predicted == actual).mean()), "macro_f1": sum(f1) / max(1, len(f1))}
'''

RUN_CLASSIFIER = Template("""
def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    check_environment(args)
    tokenizer = load_tokenizer(args.model)
    rows = load_rows(args.dataset, COLUMNS["sft"])
    args.labels = sorted({str(label) for label in rows["label"]})
    args.pad_token_id = tokenizer.pad_token_id
    label_ids = {label: i for i, label in enumerate(args.labels)}

    def encode(batch: dict[str, list[Any]]) -> dict[str, Any]:
        encoded = tokenizer(batch["text"], truncation=True, max_length=args.max_length)
        encoded["labels"] = [label_ids[str(label)] for label in batch["label"]]
        return dict(encoded)

    encoded = rows.map(encode, batched=True, remove_columns=rows.column_names)
    # Labels as classes: the held-out rows keep every class in its share.
    encoded = encoded.cast_column("labels", ClassLabel(names=args.labels))
    data, evaluation = held_out(encoded, args, stratify="labels")
    # The arguments first: only then does ZeRO-3 shard the weights as they load (zero.Init).
    arguments = TrainingArguments(
        **training_arguments(args, "sft"), **evaluation_arguments(args, "sft", evaluation)
    )
    model, adapter = build_model(args, tokenizer, None, data, "sft")$wrap_adapter
    trainer = Trainer(
        model=model,
        args=arguments,
        train_dataset=data,
        eval_dataset=evaluation,
        processing_class=tokenizer,
        data_collator=DataCollatorWithPadding(tokenizer),
        compute_metrics=accuracy,
        callbacks=callbacks(),
    )
    # A classifier head's loss is its micro-batch's mean, but transformers takes any model whose
    # forward has **kwargs as averaging over the whole accumulated batch (num_items_in_batch): it
    # skips its division by the accumulation steps and, on several GPUs, multiplies by their number,
    # so the logged loss and the gradient were that many times too large (huggingface/
    # transformers#47688). Saying the model takes no loss arguments restores both, on every 5.x.
    trainer.model_accepts_loss_kwargs = False
    print(f"Done: {finish(trainer, 'sft')}")


if __name__ == "__main__":
    main()
""")

REWARD_FUNCTION = r'''
# What introduces a completion's stated answer: "####" (GSM8K) or "answer" ("answer:", "answer is",
# markdown bold); a \boxed{...} takes precedence.
ANSWER_MARK = re.compile(r"####|answer(?:\s+is)?", re.IGNORECASE)


def final_answer(text: str) -> str:
    """The answer a completion states last: its last \\boxed{...} (nested braces kept), else what
    follows its last answer mark, to the end of that line; "" when it states none."""
    boxed = text.rfind("\\boxed{")
    if boxed >= 0:
        start, depth = boxed + len("\\boxed{"), 0
        for end in range(start, len(text)):
            depth += {"{": 1, "}": -1}.get(text[end], 0)
            if depth < 0:
                return text[start:end].strip()
        return ""
    parts = ANSWER_MARK.split(text)
    return parts[-1].split("\n")[0].strip(" \t*:.") if len(parts) > 1 else ""


def same_answer(stated: str, solution: str) -> bool:
    """Equal as text, or as mathematics: math_verify (the checker of TRL's accuracy_reward) reads
    both as LaTeX, so 0.5 = \\frac{1}{2}, 1+x = x+1 and 3,000 = 3000."""
    if not stated or stated == solution:
        return bool(stated)
    from math_verify import parse, verify

    return bool(verify(parse(f"${solution}$"), parse(f"${stated}$")))


def reward_matches_solution(completions: list[Any], solution: list[str], **kwargs: Any) -> list[float]:
    """1.0 when a completion's final answer (its last \\boxed{...}, "#### ..." or "answer: ...")
    equals the "solution" column's (same_answer), else 0.0: merely containing the answer somewhere
    (a list of every digit) earns nothing, or GRPO learns to list. Ask for that format in the
    prompts. REPLACE THIS for other tasks (unit tests for code): GRPO optimises whatever it
    returns. TRL passes every other dataset column as a keyword argument."""
    texts = [c[-1]["content"] if isinstance(c, list) else str(c) for c in completions]
    answers = [str(s).strip() for s in solution]
    stated = [final_answer(text) for text in texts]
    return [1.0 if a and same_answer(f, a) else 0.0 for f, a in zip(stated, answers, strict=True)]
'''

WRAP_ADAPTER = """
    if adapter is not None:
        model = get_peft_model(model, adapter)
        trainable_in_fp32(model, args, arguments)
        if GRADIENT_CHECKPOINTING:
            model.enable_input_require_grads()  # checkpointed blocks need inputs that carry gradients"""
