"""Python recipes for the plans that train nothing: few-shot prompting, retrieval (RAG), and a
small classifier on an encoder's embeddings (CLASSIFIER, which runs no language model).

With local weights both generate with `transformers.pipeline("text-generation")` (the KB's
stable entry point for in-context learning), offline (COMMON); with API access only (the
profile's model_access: api) they call a hosted model through the OpenAI SDK's chat completions,
which OpenAI serves and Anthropic, Google and OpenAI-compatible servers (vLLM, ...) accept at
their own base URL (HOSTED). Both define the same four functions the bodies call.
"""

from __future__ import annotations

from string import Template

COMMON = Template('''
from __future__ import annotations

import argparse
import json
import re$imports
from pathlib import Path
from typing import Any
$third_party
# Room left for the answer: an example value, not tuned. A model that reasons spends it on its
# thoughts first (a hybrid one, Qwen3's first releases, is asked not to: enable_thinking=False):
# raise it (--max-new-tokens) if answers come back cut short.
MAX_NEW_TOKENS = $max_new_tokens
# Chat-template switches: a hybrid reasoning model answers without thinking; templates without
# the variable ignore it.
CHAT_TEMPLATE_KWARGS = {"enable_thinking": False}
CONTEXT_TOKENS = $context_tokens$quantization


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").split("\\n\\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", $model_option, help="Hub id or local directory of a generative model")
    parser.add_argument("--max-new-tokens", type=int, default=MAX_NEW_TOKENS)
    parser.add_argument(
        "--context-tokens",
        type=int,
        default=CONTEXT_TOKENS,
        help="prompt and answer together stay within this many tokens (default: what the memory "
        "estimate sized the KV cache for; the model's window when none)",
    )
$options
    return parser.parse_args(argv)


def context_budget(generator: Any, max_new_tokens: int, context_tokens: int | None) -> int:
    """Prompt tokens that fit: the context (at most the model's window) minus the room kept for
    the answer. A model's whole window (128k tokens for Llama 3.1) needs far more memory for its
    KV cache than the estimate this recipe's header states."""
    config = generator.model.config
    window = getattr(config, "max_position_embeddings", None) or generator.tokenizer.model_max_length
    context = min(int(window), context_tokens) if context_tokens else int(window)
    return max(1, context - max_new_tokens)


def load_generator(args: argparse.Namespace) -> Any:
    return pipeline("text-generation", model=args.model$load_arguments)


def as_chat(generator: Any, prompt: str) -> Any:
    """A model whose tokenizer has a chat template (an instruct model, and some base models such as
    Qwen's) gets the prompt as its user turn, in the format it is served with (the pipeline applies
    the template to messages only); one without gets the bare text."""
    if getattr(generator.tokenizer, "chat_template", None):
        return [{"role": "user", "content": prompt}]
    return prompt


def generate(generator: Any, prompt: str, max_new_tokens: int) -> str:
    """The one call to a model; a reasoning model's answer is what follows its thoughts."""
    chat = as_chat(generator, prompt)
    switches = {} if isinstance(chat, str) else {"tokenizer_encode_kwargs": CHAT_TEMPLATE_KWARGS}
    output = generator(chat, max_new_tokens=max_new_tokens, return_full_text=False, **switches)
    # Thoughts end at </think>, or (gpt-oss's harmony format, its channel tokens skipped) where the
    # final channel begins.
    return re.split("</think>|assistantfinal", str(output[0]["generated_text"]))[-1].strip()


def token_count(generator: Any, text: str) -> int:
    """Tokens the prompt takes as the model reads it: with its chat template, when it has one."""
    tokenizer, chat = generator.tokenizer, as_chat(generator, text)
    if not isinstance(chat, str):
        text = tokenizer.apply_chat_template(
            chat, add_generation_prompt=True, tokenize=False, **CHAT_TEMPLATE_KWARGS
        )
        return len(tokenizer(text, add_special_tokens=False)["input_ids"])
    return len(tokenizer(text)["input_ids"])
''')

HOSTED = Template('''
from __future__ import annotations

import argparse
import json
import os
import sys$imports
from pathlib import Path
from typing import Any, NamedTuple

from openai import OpenAI

# A cap on the answer, billed only as far as it is used. Hosted reasoning models (OpenAI's o-series
# and GPT-5, Gemini 2.5, Claude with thinking) spend it on their reasoning first, and a small cap
# comes back empty with finish_reason "length" (you.com inference-router docs, "Reasoning counts
# against the output limit"): room for both. Lower it for short answers from a model that does
# not reason.
MAX_NEW_TOKENS = 4096
# Every prompt token is billed: an example budget, well inside any current model's window.
CONTEXT_TOKENS = $context_tokens
CHARS_PER_TOKEN = 4  # English text, roughly: the provider counts exactly and bills what it counts
# OpenAI-compatible endpoints of other providers, for --base-url (their API key in --api-key-env),
# as ft-atlas's knowledge base names them (ft-atlas show hosted-ft):
$endpoints


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").split("\\n\\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", $model_option, help="the provider's model name")
    parser.add_argument(
        "--base-url",
        default=$base_url,
        help="the provider's OpenAI-compatible endpoint (default: $base_url_help)",
    )
    parser.add_argument("--api-key-env", default=$key_env, help="the variable holding the API key")
    parser.add_argument("--max-new-tokens", type=int, default=MAX_NEW_TOKENS)
    parser.add_argument(
        "--context-tokens",
        type=int,
        default=CONTEXT_TOKENS,
        help="the prompt stays within about this many tokens (every one is billed); the answer has "
        "--max-new-tokens beside it",
    )
$options
    return parser.parse_args(argv)


class Hosted(NamedTuple):
    client: OpenAI
    model: str


def load_generator(args: argparse.Namespace) -> Hosted:
    key = os.environ.get(args.api_key_env)
    if not key:
        raise SystemExit(f"set {args.api_key_env} to your provider's API key")
    return Hosted(OpenAI(api_key=key, base_url=args.base_url), args.model)


def context_budget(generator: Hosted, max_new_tokens: int, context_tokens: int) -> int:
    """The prompt's share: all of --context-tokens, since a hosted model's window holds the answer's
    cap beside it (a reasoning model's cap would otherwise leave the prompt little room)."""
    return max(1, context_tokens)


def generate(generator: Hosted, prompt: str, max_new_tokens: int) -> str:
    """The one call to a model."""
    response = generator.client.chat.completions.create(
        model=generator.model,
        messages=[{"role": "user", "content": prompt}],
        max_completion_tokens=max_new_tokens,
    )
    answer = (response.choices[0].message.content or "").strip()
    if not answer:
        print(
            "No text came back: a reasoning model may have spent --max-new-tokens on its reasoning; "
            "raise it, or lower the provider's reasoning effort.",
            file=sys.stderr,
        )
    return answer


def token_count(generator: Hosted, text: str) -> int:
    return -(-len(text) // CHARS_PER_TOKEN)
''')

# Both scripts read JSON Lines in the formats the training recipes read too (a demonstrations file
# is the same file whichever plan runs it), and name the fields they accept when a line has none.
ROWS = '''
def json_lines(path: str) -> list[tuple[str, Any]]:
    """Each non-blank line of a JSON Lines file, parsed, with where it is (file:line). Lines end
    at newlines only, as the datasets library reads them: str.splitlines() would also break at
    U+2028, which json.dumps(ensure_ascii=False) leaves inside strings."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise SystemExit(f"{path}: not UTF-8 ({error.reason} at byte {error.start})") from None
    rows: list[tuple[str, Any]] = []
    for number, line in enumerate(text.split("\\n"), 1):
        if line.strip():
            try:
                rows.append((f"{path}:{number}", json.loads(line)))
            except (ValueError, RecursionError) as error:  # JSONDecodeError, huge ints, deep nesting
                raise SystemExit(f"{path}:{number}: not JSON ({getattr(error, 'msg', error)})") from None
    return rows


def turns_text(value: Any) -> str | None:
    """A field's text: a string, or a conversation's turns ({"role": ..., "content": "..."}, as
    in "messages" or TRL's conversational prompt and completion), one line each. None otherwise."""
    if isinstance(value, str):
        return value
    turns = value if isinstance(value, list) else []
    if turns and all(isinstance(turn, dict) and isinstance(turn.get("content"), str) for turn in turns):
        return "\\n".join(turn["content"] for turn in turns)
    return None


def fields_text(row: Any, keys: tuple[str, ...]) -> list[str] | None:
    """The text of each of `keys` in a JSON object; None when one is missing or holds no text."""
    if not isinstance(row, dict) or not all(key in row for key in keys):
        return None
    texts = []
    for key in keys:
        text = turns_text(row[key])
        if text is None:
            return None
        texts.append(text)
    return texts
'''

ICL = '''
def read_examples(path: str) -> list[dict[str, str]]:
    """JSON Lines, one example per line, in the order they are shown."""
    return [as_example(row, where) for where, row in json_lines(path)]


def as_example(row: Any, where: str) -> dict[str, str]:
    """An example's input and output: "input" and "output"; a prompt and its completion; or a
    conversation ("messages") ending with the assistant's answer, the turns before it the input."""
    for keys in (("input", "output"), ("prompt", "completion")):
        texts = fields_text(row, keys)
        if texts is not None:
            return {"input": texts[0].strip(), "output": texts[1].strip()}
    turns = row.get("messages") if isinstance(row, dict) else None
    if isinstance(turns, list) and len(turns) > 1 and isinstance(turns[-1], dict):
        question, answer = turns_text(turns[:-1]), turns_text(turns[-1:])
        if turns[-1].get("role") == "assistant" and question is not None and answer is not None:
            return {"input": question.strip(), "output": answer.strip()}
    raise SystemExit(
        f"{where}: no example: give 'input' and 'output', 'prompt' and 'completion', "
        "or 'messages' ending with an assistant turn"
    )


def render(instruction: str, shots: list[dict[str, str]], query: str) -> str:
    blocks = [instruction, *(f"Input: {s['input']}\\nOutput: {s['output']}" for s in shots)]
    return "\\n\\n".join([*blocks, f"Input: {query}\\nOutput:"])


def build_prompt(
    generator: Any, instruction: str, examples: list[dict[str, str]], query: str, budget: int
) -> str:
    """As many examples as fit the context window, in file order. Order and format change results:
    keep them fixed while you measure on a held-out set."""
    shots: list[dict[str, str]] = []
    for example in examples:
        if token_count(generator, render(instruction, [*shots, example], query)) > budget:
            break
        shots.append(example)
    return render(instruction, shots, query)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    generator = load_generator(args)
    budget = context_budget(generator, args.max_new_tokens, args.context_tokens)
    prompt = build_prompt(generator, args.instruction, read_examples(args.examples), args.query, budget)
    print(generate(generator, prompt, args.max_new_tokens))


if __name__ == "__main__":
    main()
'''

RAG = '''
CHUNK_WORDS = 200  # words per chunk: an example value; tune chunk size and overlap on an evaluation set
OVERLAP_WORDS = 40  # words shared by neighbouring chunks, so that a fact cut in two is in one of them


# The JSON Lines fields a document is read from, in this order; the turns of "messages" are joined.
DOCUMENT_FIELDS = (("text",), ("prompt", "completion"), ("messages",))


def read_documents(path: str) -> list[str]:
    """A folder of .txt / .md files, or a JSON Lines file with one document per line."""
    source = Path(path)
    if source.is_dir():
        files = sorted([*source.rglob("*.txt"), *source.rglob("*.md")])
        return [f.read_text(encoding="utf-8") for f in files]
    return [document(row, where) for where, row in json_lines(path)]


def document(row: Any, where: str) -> str:
    """A line's text: "text"; a prompt and its completion; or a conversation's turns, joined."""
    for keys in DOCUMENT_FIELDS:
        texts = fields_text(row, keys)
        if texts is not None:
            return "\\n".join(texts)
    raise SystemExit(
        f"{where}: no document: give 'text', 'prompt' and 'completion', or 'messages' "
        "(a list of turns with 'content')"
    )


def chunks(text: str) -> list[str]:
    words = text.split()
    step = max(1, CHUNK_WORDS - OVERLAP_WORDS)
    return [" ".join(words[i : i + CHUNK_WORDS]) for i in range(0, max(1, len(words)), step)]
$retrieval

def render(context: list[str], question: str) -> str:
    numbered = "\\n\\n".join(f"[{i}] {passage}" for i, passage in enumerate(context, 1))
    return (
        "Answer the question using only the context below, and cite the passages you used as [n]. "
        "If the context does not contain the answer, say so.\\n\\n"
        f"Context:\\n{numbered}\\n\\nQuestion: {question}\\nAnswer:"
    )


def build_prompt(generator: Any, ranked: list[str], question: str, budget: int, top_k: int | None) -> str:
    """The best passages that fit the context window, at most top_k of them."""
    context: list[str] = []
    for passage in ranked[:top_k]:
        if token_count(generator, render([*context, passage], question)) > budget:
            break
        context.append(passage)
    return render(context, question)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    passages = [c for text in read_documents(args.docs) for c in chunks(text)]
    ranked = rank(passages, args.question, args)
    generator = load_generator(args)
    budget = context_budget(generator, args.max_new_tokens, args.context_tokens)
    prompt = build_prompt(generator, ranked, args.question, budget, args.top_k)
    print(generate(generator, prompt, args.max_new_tokens))


if __name__ == "__main__":
    main()
'''

# Local weights: passages ranked by a dense embedding model, whose vectors are computed once and
# kept (the setup recommend times: one forward pass of EMBEDDER over the corpus).
# An encoder that turns texts into unit vectors: retrieval and the embeddings classifier share it.
ENCODER = '''

# The encoder the setup time assumes, for 100+ languages; any encoder that pools its first token
# works (--embedder), e.g. BAAI/bge-large-en-v1.5 for English only.
EMBEDDER = $embedder
EMBED_BATCH = 32


def load_encoder(name: str) -> tuple[Any, Any]:
    device = "cuda" if torch.cuda.is_available() else "cpu"
    return AutoModel.from_pretrained(name).to(device).eval(), AutoTokenizer.from_pretrained(name)


def embed(encoder: tuple[Any, Any], texts: list[str]) -> torch.Tensor:
    """Unit vectors of the texts: the encoder's first ([CLS]) token, as bge pools it."""
    model, tokenizer = encoder
    vectors = []
    with torch.no_grad():
        for start in range(0, len(texts), EMBED_BATCH):
            texts_here = texts[start : start + EMBED_BATCH]
            batch = tokenizer(texts_here, padding=True, truncation=True, max_length=512, return_tensors="pt")
            batch = batch.to(model.device)
            first = model(**batch).last_hidden_state[:, 0]
            vectors.append(torch.nn.functional.normalize(first.float(), dim=-1).cpu())
    return torch.cat(vectors)
'''

EMBEDDING_RETRIEVAL = '''

def index_path(passages: list[str], args: argparse.Namespace) -> Path:
    """Where the passages' vectors are kept: named by the encoder and the passages themselves, so
    that changed documents or another encoder are embedded anew, never mixed with old vectors."""
    digest = sha256(args.embedder.encode())
    for passage in passages:  # a lone surrogate (\\ud800 in JSON) is hashed, not an error
        digest.update(passage.encode(errors="surrogatepass") + b"\\0")
    docs = Path(args.docs).resolve()
    folder = Path(args.index) if args.index else docs.with_name(docs.name + ".index")
    return folder / f"{digest.hexdigest()[:16]}.safetensors"


def rank(passages: list[str], question: str, args: argparse.Namespace) -> list[str]:
    """Passages by cosine similarity to the question, best first. The passages are embedded once
    and stored in --index (safetensors holds tensors only: loading it runs no code)."""
    if not passages:
        raise SystemExit(f"no text in {args.docs}: give .txt/.md files, or JSON Lines of documents")
    encoder = load_encoder(args.embedder)
    stored = index_path(passages, args)
    if stored.exists():
        vectors = load_file(str(stored))["vectors"]
    else:
        vectors = embed(encoder, passages)
        stored.parent.mkdir(parents=True, exist_ok=True)
        save_file({"vectors": vectors.contiguous()}, str(stored))
    # BGE-M3 takes the question as it is; bge v1.5's English models want an instruction first.
    query = embed(encoder, [args.query_instruction + question])[0]
    order = torch.argsort(vectors @ query, descending=True)
    return [passages[i] for i in order.tolist()]
'''

# API access only: nothing runs a model here, so passages are ranked by their words.
KEYWORD_RETRIEVAL = '''

WORD = re.compile(r"\\w+")
# Okapi BM25 with Lucene's defaults: term-frequency saturation and length normalisation.
BM25_K1 = 1.2
BM25_B = 0.75


def rank(passages: list[str], question: str, args: argparse.Namespace) -> list[str]:
    """Passages by Okapi BM25 score for the question, best first (Robertson and Zaragoza, The
    Probabilistic Relevance Framework: BM25 and Beyond, 2009; Lucene's k1 and b). Keyword
    overlap only: where the wording differs, embed the passages with your provider's embeddings
    endpoint."""
    bags = [Counter(WORD.findall(p.lower())) for p in passages]
    lengths = [sum(bag.values()) for bag in bags]
    average = sum(lengths) / len(lengths) if lengths else 0.0
    frequency = Counter(term for bag in bags for term in bag)
    terms = set(WORD.findall(question.lower()))
    idf = {t: math.log(1 + (len(bags) - frequency[t] + 0.5) / (frequency[t] + 0.5)) for t in terms}

    def score(i: int) -> float:
        norm = BM25_K1 * (1 - BM25_B + BM25_B * lengths[i] / average) if average else BM25_K1
        return sum(idf[t] * bags[i][t] * (BM25_K1 + 1) / (bags[i][t] + norm) for t in terms if t in bags[i])

    order = sorted(range(len(passages)), key=lambda i: -score(i))
    return [passages[i] for i in order]
'''

ICL_OPTIONS = """\
    parser.add_argument(
        "--examples", required=True, help="JSON Lines of input/output, prompt/completion or messages"
    )
    parser.add_argument("--query", required=True, help="the new input to answer")
    parser.add_argument(
        "--instruction",
        default="Follow the examples: answer the last input in the same format.",
        help="a task description placed before the examples",
    )"""

RAG_OPTIONS = """\
    parser.add_argument("--docs", required=True, help="a folder of .txt/.md files, or JSON Lines")
    parser.add_argument("--question", required=True)
    parser.add_argument(
        "--top-k", type=int, default=None, help="at most this many passages (default: as many as fit)"
    )"""

EMBEDDING_OPTIONS = """
    parser.add_argument("--embedder", default=EMBEDDER, help="Hub id or local directory of the encoder")
    parser.add_argument(
        "--query-instruction",
        default="",
        help="put before the question (bge v1.5 wants "
        "'Represent this sentence for searching relevant passages: ')",
    )
    parser.add_argument("--index", help="folder for the vectors (default: DOCS.index beside DOCS)")"""

KEYWORD_IMPORTS = """
import math
import re
from collections import Counter"""

EMBEDDING_IMPORTS = """
from hashlib import sha256"""
# The weights served in 8 or 4 bits (the plan's serving_bits), quantized by bitsandbytes as they
# load: what the memory estimate sized.
QUANTIZATION = {
    8: """
# The memory estimate serves the weights in 8 bits (bitsandbytes LLM.int8, as they load): wider
# weights do not fit. A checkpoint stored quantized (AWQ, GPTQ) loads as stored: drop this for one.
QUANTIZATION = BitsAndBytesConfig(load_in_8bit=True)""",
    4: """
# The memory estimate serves the weights in 4 bits (bitsandbytes NF4 with double quantization, as
# they load): wider weights do not fit. A checkpoint stored quantized (AWQ, GPTQ) loads as
# stored: drop this for one.
QUANTIZATION = BitsAndBytesConfig(
    load_in_4bit=True,
    bnb_4bit_quant_type="nf4",
    bnb_4bit_use_double_quant=True,
    bnb_4bit_compute_dtype=torch.$compute_dtype,
)""",
}


# Embeddings + a small classifier: a local encoder embeds the labelled texts (a CPU is enough) and
# a multinomial logistic regression is fitted on the vectors, as scikit-learn's
# LogisticRegression(C=1.0) fits it with L-BFGS, written in torch so that nothing more is installed.
CLASSIFIER = Template('''
from __future__ import annotations

import argparse
import json
import random
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import save_file
from transformers import AutoModel, AutoTokenizer

TEST_SIZE = $test_size  # the held-out share of each label's texts
MAX_ITER = $max_iter  # L-BFGS iterations, as LogisticRegression(max_iter=...)
C = 1.0  # inverse strength of the L2 penalty: scikit-learn's default
SEED = 42
$encoder

def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data", help='JSON Lines of {"text": "...", "label": "..."} to fit the classifier on'
    )
    parser.add_argument(
        "--classifier",
        default="classifier.safetensors",
        help="the fitted classifier: written with --data, read with --classify",
    )
    parser.add_argument("--classify", nargs="+", metavar="TEXT", help="texts to label with the classifier")
    parser.add_argument(
        "--embedder", help="Hub id or local directory of the encoder (default: EMBEDDER, or the classifier's)"
    )
    args = parser.parse_args(argv)
    if not args.data and not args.classify:
        parser.error("give --data to fit a classifier, --classify TEXT to use one, or both")
    return args


def read_rows(path: str) -> tuple[list[str], list[str]]:
    texts, labels = [], []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        row = json.loads(line)
        if not isinstance(row, dict) or not isinstance(row.get("text"), str) or row.get("label") is None:
            raise SystemExit(f'{path}:{number}: each line must be {{"text": "...", "label": "..."}}')
        texts.append(row["text"])
        labels.append(str(row["label"]))
    return texts, labels


def split(labels: list[str]) -> tuple[list[int], list[int]]:
    """Rows to fit on and rows held out: TEST_SIZE of each label's rows (stratified), seeded; a
    label with one row is fitted on only."""
    rng = random.Random(SEED)
    rows: dict[str, list[int]] = {}
    for index, label in enumerate(labels):
        rows.setdefault(label, []).append(index)
    train: list[int] = []
    test: list[int] = []
    for indices in rows.values():
        rng.shuffle(indices)
        held = round(len(indices) * TEST_SIZE) if len(indices) > 1 else 0
        test += indices[:held]
        train += indices[held:]
    return sorted(train), sorted(test)


def fit(vectors: torch.Tensor, targets: torch.Tensor, classes: int) -> torch.nn.Linear:
    """The summed cross-entropy plus |W|^2 / 2C, minimised with L-BFGS from zero weights."""
    linear = torch.nn.Linear(vectors.shape[1], classes)
    torch.nn.init.zeros_(linear.weight)
    torch.nn.init.zeros_(linear.bias)
    optimizer = torch.optim.LBFGS(linear.parameters(), max_iter=MAX_ITER, line_search_fn="strong_wolfe")

    def loss() -> torch.Tensor:
        optimizer.zero_grad()
        value = torch.nn.functional.cross_entropy(linear(vectors), targets, reduction="sum")
        value = value + linear.weight.pow(2).sum() / (2 * C)
        value.backward()
        return value

    optimizer.step(loss)
    return linear


def train(args: argparse.Namespace, encoder: tuple[Any, Any]) -> None:
    texts, labels = read_rows(args.data)
    classes = sorted(set(labels))
    if len(classes) < 2:
        raise SystemExit(f"{args.data}: {len(classes)} label(s) found; a classifier needs at least two")
    index = {label: i for i, label in enumerate(classes)}
    vectors = embed(encoder, texts)
    targets = torch.tensor([index[label] for label in labels])
    fitted, held_out = split(labels)
    linear = fit(vectors[fitted], targets[fitted], len(classes))
    if held_out:
        with torch.no_grad():
            right = (linear(vectors[held_out]).argmax(-1) == targets[held_out]).float().mean().item()
        print(f"held-out accuracy: {right:.3f} on {len(held_out)} texts ({len(fitted)} fitted on)")
    # safetensors holds tensors and text only: reading the classifier back runs no code.
    weights = {"weight": linear.weight.detach().contiguous(), "bias": linear.bias.detach().contiguous()}
    save_file(weights, args.classifier, metadata={"labels": json.dumps(classes), "embedder": args.embedder})
    print(f"saved {args.classifier} ({len(classes)} labels)")


def classify(args: argparse.Namespace, encoder: tuple[Any, Any] | None) -> None:
    """Each text with its label, as JSON Lines, embedded by the encoder the classifier was fitted on."""
    with safe_open(args.classifier, framework="pt") as stored:
        weight, bias, metadata = stored.get_tensor("weight"), stored.get_tensor("bias"), stored.metadata()
    fitted_on = metadata["embedder"]
    if args.embedder not in (None, fitted_on):
        raise SystemExit(f"{args.classifier} was fitted on {fitted_on}'s vectors: --embedder {fitted_on}")
    classes = json.loads(metadata["labels"])
    with torch.no_grad():
        vectors = embed(encoder or load_encoder(fitted_on), args.classify)
        chosen = (vectors @ weight.T + bias).argmax(-1).tolist()
    for text, label in zip(args.classify, chosen, strict=True):
        print(json.dumps({"text": text, "label": classes[label]}, ensure_ascii=False))


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    encoder = None
    if args.data:
        args.embedder = args.embedder or EMBEDDER
        encoder = load_encoder(args.embedder)
        train(args, encoder)
    if args.classify:
        classify(args, encoder)


if __name__ == "__main__":
    main()
''')
