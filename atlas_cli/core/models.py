"""Where a model named by `--model` comes from, tried in order: a path on disk (a config.json, or
a model directory holding one), the catalog (ids and aliases, Hub ids among them), the local
Hugging Face cache, and the Hub itself (config.json only, with the optional `hub` extra). The
answer says which of them was used; nothing but a config.json is ever downloaded.
"""

from __future__ import annotations

import contextlib
import errno
import importlib
import itertools
import json
import os
import re
import stat
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any, Final, Literal, NamedTuple

from atlas_cli.core.names import looks_instruct
from atlas_cli.errors import UsageError
from atlas_cli.i18n import N_, grouped, t
from atlas_cli.kb.catalog import Catalog
from atlas_cli.kb.files import replace_whole
from atlas_cli.kb.records import LlmModel
from atlas_cli.kb.vocabulary import HUB_ID_PATTERN, ModelVariant

SourceKind = Literal["catalog", "file", "cache", "hub"]

CONFIG_NAME: Final = "config.json"
HUB_ID: Final = re.compile(HUB_ID_PATTERN)
MAX_CONFIG_BYTES: Final = 4_000_000  # real config.json files are kilobytes; refuse a stray blob
MAX_TOKENIZER_CONFIG_BYTES: Final = 64_000_000  # added-token tables make some megabytes
HUB_ENDPOINT: Final = "https://huggingface.co"  # huggingface_hub's default, unless HF_ENDPOINT
HOW_TO_GET_IT: Final = N_(
    "download its config.json (no weights needed: `hf download ORG/NAME config.json --local-dir NAME`, "
    "or the file from the model page's Files tab) and pass its path, e.g. --model ./NAME/config.json, "
    "or give --model-size instead"
)


class FoundModel(NamedTuple):
    """A model and where it came from."""

    model: LlmModel
    kind: SourceKind
    where: str  # the catalog id, the config.json's path, or its Hub URL
    repo: str | None  # what a recipe loads: a Hub id, or the local model directory
    variant: ModelVariant
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    # Why a recipe loads something else than the directory given (one without weights)
    loads_elsewhere: str | None = None


def find_model(catalog: Catalog, text: str) -> FoundModel:
    """The model `text` names, from the first source that knows it (see the module docstring)."""
    name = text.strip()
    try:
        path = Path(name).expanduser()
    except RuntimeError:  # ~user of no such user
        raise UsageError(t("--model: no such file or directory: {path}", path=name)) from None
    explicit = _looks_like_path(name)
    # A bare word that happens to name a folder here ("gpt2") is a path only if it holds a config.
    if _exists(path) and (explicit or _exists(path / CONFIG_NAME)):
        return _from_path(path, name)
    if explicit:
        raise UsageError(t("--model: no such file or directory: {path}", path=name))
    entry = catalog.model_or_none(name)
    if entry is not None:
        return FoundModel(
            entry, "catalog", entry.id, _catalog_repo(entry, name), _catalog_variant(entry, name)
        )
    base_of = catalog.base_of(name)
    if base_of is not None:  # its config is the post-trained entry's: no need to read the Hub
        return FoundModel(base_of, "catalog", base_of.id, base_of.base_checkpoint, "base")
    if not HUB_ID.fullmatch(name):
        if _exists(path) and path.is_dir():  # no model's name, but a folder here: what it lacks is said
            return _from_path(path, name)
        catalog.model(name)  # raises: unknown, with the nearest names and the other ways to say it
    cached = cached_config(name)
    if cached is not None:
        return _from_config(cached, name, "cache", str(cached), name)
    fetched = fetch_config(name, catalog.model_hint(name))
    return _from_config(fetched, name, "hub", _config_url(name), name)


def _config_url(repo: str) -> str:
    """Where a fetched config.json came from: HF_ENDPOINT's mirror where one is set (an attacker's
    review: a config fetched from a local mirror was said to come from huggingface.co)."""
    endpoint = (os.environ.get("HF_ENDPOINT") or HUB_ENDPOINT).strip().rstrip("/")
    return f"{endpoint}/{repo}/blob/main/config.json"


def _exists(path: Path) -> bool:
    """Whether a path exists; a name no file system takes (too long, a NUL byte) does not."""
    try:
        return path.exists()
    except (OSError, ValueError):
        return False


def _looks_like_path(name: str) -> bool:
    """What can only be a path (and so must exist): ./x, ../x, /x, ~/x, x.json, C:\\x."""
    return name.startswith(("./", "../", "/", "~", ".\\")) or name.endswith(".json") or "\\" in name


def hub_id_of(entry: LlmModel | None) -> str | None:
    """The Hub id behind a catalog model: its source is the model's config.json on the Hub."""
    found = None if entry is None else re.match(r"https://huggingface\.co/([\w.\-]+/[\w.\-]+)/", entry.source)
    return found.group(1) if found else None


def variant_checkpoint(entry: LlmModel, variant: str) -> str | None:
    """The Hub id of the entry's checkpoint of `variant`: for base, a post-trained entry's
    base_checkpoint or a base entry's own; for instruct, a
    post-trained entry's own (Qwen/Qwen3-8B, whose name does not say instruct), else a Hub-id
    alias that reads as one (a base entry's Meta-Llama-3.1-8B-Instruct, or gemma-3-270m-it's,
    whose config URL is the base one's); None where the catalog names none."""
    if variant == "base":
        return entry.base_checkpoint if entry.variant == "instruct" else hub_id_of(entry)
    own = hub_id_of(entry)
    if entry.variant == "instruct" and own is not None and own != entry.base_checkpoint:
        return own
    return next((a for a in entry.aliases if HUB_ID.fullmatch(a) and looks_instruct(a)), None)


def names_other_variant(entry: LlmModel, hub_id: str | None, variant: object) -> bool:
    """Whether the checkpoint named (`hub_id`: the Hub id typed, else the entry's own) is not of
    the variant the plan assumes: a post-trained entry named by its base checkpoint
    (google/gemma-3-4b-pt) for instruct; for base, a post-trained entry, or a base entry named by
    its instruct alias (meta-llama/Llama-3.1-8B-Instruct with --model-variant base: a newcomer's
    review saw the recipe train the instruct checkpoint as a base model)."""
    if variant == "instruct":
        if hub_id is not None and hub_id.casefold() == (entry.base_checkpoint or "").casefold():
            return True
        return hub_id is None or not (entry.variant == "instruct" or looks_instruct(hub_id))
    if variant != "base":
        return False
    if entry.variant == "instruct":
        return True
    own = (hub_id_of(entry) or "").casefold()
    return hub_id is not None and looks_instruct(hub_id) and hub_id.casefold() != own


def _catalog_repo(entry: LlmModel, typed: str) -> str | None:
    """The Hub id a recipe loads: the one typed (an alias such as Org/Name-Instruct), else the
    instruct checkpoint of a post-trained entry or of a base entry named as its instruct model
    ("Llama 3.1 8B Instruct", as the recipe loads it; a newcomer's review saw `model` name the
    base), else the one the entry's config.json URL names."""
    if HUB_ID.fullmatch(typed):
        return typed
    if entry.variant == "instruct" or looks_instruct(typed):
        return variant_checkpoint(entry, "instruct") or hub_id_of(entry)
    return hub_id_of(entry)


def _catalog_variant(entry: LlmModel, typed: str) -> ModelVariant:
    return "instruct" if entry.variant == "instruct" or looks_instruct(typed) else "base"


def named_variant(catalog: Catalog, text: str) -> ModelVariant | None:
    """The variant a model's name says, without reading a file or the network: a catalog entry's
    (an instruct name of a base entry says instruct), or instruct where the name says so; None
    when only its config could tell (a directory or Hub id with a chat template)."""
    entry = catalog.model_or_none(text.strip())
    if entry is not None:
        return _catalog_variant(entry, text)
    if catalog.base_of(text.strip()) is not None:
        return "base"
    return "instruct" if looks_instruct(text.strip()) else None


# --- a config.json on disk ----------------------------------------------------------------------


def _from_path(path: Path, typed: str) -> FoundModel:
    # Absolute, so that a recipe written here loads the same directory when run elsewhere. A
    # file's own link is not followed: a Hugging Face cache snapshot's config.json links to a blob
    # named by its hash, beside none of the model's other files.
    if path.is_dir():
        path = path.resolve()
        config = path / CONFIG_NAME
    else:
        config = path.absolute().parent.resolve() / path.name
    if os.path.lexists(config) and not config.is_file():  # a FIFO, a device, a link that loops
        if os.path.islink(config) and not os.path.exists(config):
            raise UsageError(t("--model: {path} is a link to nothing", path=config))
        raise UsageError(t("--model: {path} is not a regular file", path=config))
    if not config.is_file():
        raise UsageError(
            t("--model: {path} has no {name}; {how}", path=path, name=CONFIG_NAME, how=t(HOW_TO_GET_IT))
        )
    folder = config.parent
    if config.name != CONFIG_NAME:
        # A config saved under another name (/tmp/x.json): its directory is no model's, and what
        # lies beside it (a planted chat_template.jinja in /tmp) says nothing about it.
        return _from_config(config, config.stem or typed, "file", str(config), "", siblings=False)
    return _weights_elsewhere(_from_config(config, folder.name or typed, "file", str(config), str(folder)))


# What from_pretrained loads weights from (transformers' WEIGHTS_NAME, SAFE_WEIGHTS_NAME and their
# sharded indexes, PyTorch's own checkpoints, a GGUF file).
WEIGHT_FILES = ("*.safetensors", "*.bin", "*.pt", "*.pth", "*.gguf", "*.index.json")
WEIGHTS_ON_THE_HUB = N_(
    "{folder} holds a config.json but no weights: the recipe loads {repo}, the Hub id {origin}; "
    "pass a directory with the weights to train those"
)
NAMED_BY_THE_CACHE = N_("of the Hugging Face cache's snapshot")
NAMED_BY_THE_CONFIG = N_(
    "its config names (_name_or_path; for a fine-tuned model that may be the one it started from)"
)
NO_WEIGHTS_HERE = N_(
    "{folder} holds a config.json but no weights, and it names no Hub id: the recipe's model is a "
    "placeholder to fill in"
)


def _weights_elsewhere(found: FoundModel) -> FoundModel:
    """A model directory that holds only its config.json (what `recommend` asks for offline: no
    weights are needed to size a model) is no model a recipe can load: it loads the Hub id of the
    cache snapshot it is, else the one its config names, and says so (an expert's review: every
    command pointed from_pretrained at a directory without weights or tokenizer), else a
    placeholder. A link to a missing blob is no weights."""
    folder = Path(found.repo or ".")
    if any(path.exists() for pattern in WEIGHT_FILES for path in itertools.islice(folder.glob(pattern), 8)):
        return found
    repo, origin = _snapshot_repo(folder), t(NAMED_BY_THE_CACHE)
    if repo is None:
        named = read_config(folder / CONFIG_NAME).get("_name_or_path")
        repo = named if isinstance(named, str) and HUB_ID.fullmatch(named) else None
        origin = t(NAMED_BY_THE_CONFIG)
    note = (
        t(NO_WEIGHTS_HERE, folder=folder)
        if repo is None
        else t(WEIGHTS_ON_THE_HUB, folder=folder, repo=repo, origin=origin)
    )
    return found._replace(repo=repo, notes=(*found.notes, note), loads_elsewhere=note)


def _snapshot_repo(folder: Path) -> str | None:
    """The Hub id of a Hugging Face cache snapshot: .../models--org--name/snapshots/<commit>."""
    cached = folder.parent.parent.name
    if folder.parent.name != "snapshots" or not cached.startswith("models--"):
        return None
    repo = cached.removeprefix("models--").replace("--", "/", 1)
    return repo if HUB_ID.fullmatch(repo) else None


def _from_config(
    config: Path, name: str, kind: SourceKind, where: str, repo: str, siblings: bool = True
) -> FoundModel:
    """`siblings`: the files beside the config belong to the same model (its chat template)."""
    from atlas_cli.core.hfconfig import parse_config  # a config parser is only loaded to read one

    parsed = parse_config(read_config(config), name, where)
    templated = siblings and has_chat_template(config.parent)
    variant: ModelVariant = "instruct" if looks_instruct(name) or templated else "base"
    model = parsed.model.model_copy(update={"variant": variant})
    return FoundModel(model, kind, where, repo, variant, parsed.notes, parsed.warnings)


def _not_a_number(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def strict_json(raw: bytes, unique_keys: bool = False) -> Any:
    """JSON as the standard defines it: Python's reader also takes NaN and Infinity, which no
    size can be computed from. A byte-order mark (Windows editors write one) is skipped.
    `unique_keys`: a key given twice is refused, where Python's reader keeps the last."""
    hook = unique_keys_object if unique_keys else None
    return json.loads(raw.decode("utf-8-sig"), parse_constant=_not_a_number, object_pairs_hook=hook)


class KeyGivenTwice(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(f"duplicate key '{key}'")
        self.key = key


def unique_keys_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object whose keys are unique (json's object_pairs_hook): batch lines, config.json
    and the KB loader refuse a key given twice rather than let the last one win silently."""
    found = dict(pairs)
    if len(found) != len(pairs):
        raise KeyGivenTwice(next(key for key, n in Counter(key for key, _ in pairs).items() if n > 1))
    return found


def read_config(path: Path) -> dict[str, Any]:
    """A config.json's object, or a clear error (never a traceback) when it cannot be read."""
    try:  # a FIFO swapped in after the cache was listed must not block the open
        raw = _read_regular(path, MAX_CONFIG_BYTES + 1)
    except OSError as error:
        raise UsageError(
            t("--model: cannot read {path}: {reason}", path=path, reason=error.strerror)
        ) from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise UsageError(
            t(
                "--model: {path} is larger than any config.json ({size} bytes)",
                path=path,
                size=grouped(MAX_CONFIG_BYTES),
            )
        )
    try:
        # A size given twice: which one the model was built with cannot be told (the batch input
        # and the knowledge base refuse a repeated key too).
        data = strict_json(raw, unique_keys=True)
    except RecursionError:
        raise UsageError(t("--model: {path} nests deeper than any config.json", path=path)) from None
    except KeyGivenTwice as twice:
        raise UsageError(t("--model: {path} gives the key '{key}' twice", path=path, key=twice.key)) from None
    except (UnicodeDecodeError, ValueError) as error:
        # Python's own words for an integer of thousands of digits name an interpreter setting.
        reason = t("a number too long to read") if "int_max_str_digits" in str(error) else error
        raise UsageError(t("--model: {path} is not JSON: {error}", path=path, error=reason)) from None
    if not isinstance(data, dict):
        raise UsageError(t("--model: {path} is not a config.json (a JSON object)", path=path))
    return data


MAX_REF_BYTES = 256  # refs/main holds a 40-character commit hash


def _read_regular(path: Path, limit: int) -> bytes:
    """Up to `limit` bytes of a regular file. O_NONBLOCK: a FIFO planted there would otherwise
    block the open forever, before fstat could refuse it."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    handle = os.open(path, flags)
    try:
        if not stat.S_ISREG(os.fstat(handle).st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        if hasattr(os, "set_blocking"):  # Windows has it from Python 3.12 (and no O_NONBLOCK)
            os.set_blocking(handle, True)
        with os.fdopen(handle, "rb", closefd=False) as stream:
            return stream.read(limit)
    finally:
        os.close(handle)


def has_chat_template(folder: Path) -> bool:
    """A chat template beside the config marks a post-trained (instruct) checkpoint: a
    chat_template.jinja / .json file, or a chat_template in tokenizer_config.json."""
    if (folder / "chat_template.jinja").is_file() or (folder / "chat_template.json").is_file():
        return True
    try:
        data = strict_json(_read_regular(folder / "tokenizer_config.json", MAX_TOKENIZER_CONFIG_BYTES))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return False  # none, or unreadable (or cut short): it says nothing about the variant
    return isinstance(data, dict) and bool(data.get("chat_template"))


# --- the Hugging Face cache -----------------------------------------------------------------------


def hub_cache_dir() -> Path:
    """Where huggingface_hub keeps downloads: HF_HUB_CACHE, else HF_HOME/hub, else
    $XDG_CACHE_HOME/huggingface/hub (~/.cache/huggingface/hub)."""
    if os.environ.get("HF_HUB_CACHE"):
        return _home_expanded("HF_HUB_CACHE", os.environ["HF_HUB_CACHE"])
    if os.environ.get("HF_HOME"):
        return _home_expanded("HF_HOME", os.environ["HF_HOME"]) / "hub"
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return _home_expanded("XDG_CACHE_HOME", cache) / "huggingface" / "hub"


def _home_expanded(variable: str, value: str) -> Path:
    """A directory from the environment, ~ expanded; ~user of no such user is bad input."""
    try:
        return Path(value).expanduser()
    except RuntimeError:
        raise UsageError(
            t("{variable}: no such home directory: {path}", variable=variable, path=value)
        ) from None


def cached_config(repo: str) -> Path | None:
    """config.json of `repo` in the cache (models--org--name/snapshots/<commit>/): the snapshot
    refs/main points to, else the newest snapshot that has one."""
    folder = hub_cache_dir() / f"models--{repo.replace('/', '--')}"
    snapshots = folder / "snapshots"
    try:  # a commit hash; anything else there (a FIFO, a device, a huge file, a path) is no ref
        main = _read_regular(folder / "refs" / "main", MAX_REF_BYTES).decode("utf-8").strip()
    except (OSError, UnicodeDecodeError):
        main = ""
    if COMMIT_SHA.fullmatch(main) and _readable_config(snapshots / main):
        return snapshots / main / CONFIG_NAME
    try:
        listed = list(snapshots.iterdir())
    except OSError:
        return None
    # One snapshot that cannot be read (another user's, a name too long) hides no other.
    found = [(mtime, s / CONFIG_NAME) for s in listed if (mtime := _readable_config(s)) is not None]
    return max(found, default=(0.0, None))[1]


COMMIT_SHA = re.compile(r"[0-9a-f]{40}")


def _readable_config(snapshot: Path) -> float | None:
    """The modification time of the snapshot's config.json when it is a file, else None."""
    try:
        found = (snapshot / CONFIG_NAME).stat()
    except (OSError, ValueError):
        return None
    return found.st_mtime if stat.S_ISREG(found.st_mode) else None


# --- the Hub ------------------------------------------------------------------------------------


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def _host(endpoint: str) -> str | None:
    """The endpoint's host name; a URL urllib cannot read ("http://[::1", a port past 65535) or
    not http(s) (ftp://, file://) is bad input, said before huggingface_hub, which reads
    HF_ENDPOINT at import, fails on it."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(endpoint.strip())
        parts.port  # noqa: B018 - raises on a port out of range
    except ValueError as error:
        raise UsageError(
            t("HF_ENDPOINT: '{url}' is not a URL ({error})", url=endpoint, error=error)
        ) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(t("HF_ENDPOINT: '{url}' is not an http(s) URL", url=endpoint))
    return parts.hostname


def _resolves(endpoint: str, host: str | None) -> bool:
    """Whether the endpoint's host name resolves (a numeric address always does). Through a
    proxy the proxy resolves it: that is left to huggingface_hub."""
    import socket  # only on the way to the network: not a cost of every start-up
    import urllib.request
    from urllib.parse import urlsplit

    if not host:
        return True  # a malformed endpoint: huggingface_hub says what is wrong with it
    proxies = urllib.request.getproxies()
    scheme = urlsplit(endpoint).scheme
    if (proxies.get(scheme) or proxies.get("all")) and not urllib.request.proxy_bypass(host):
        return True
    try:
        socket.getaddrinfo(host, None)
    except (socket.gaierror, UnicodeError):
        return False
    return True


def _unreachable(repo: str, how: str) -> UsageError:
    return UsageError(
        t(
            "--model: could not reach the Hub for {repo}'s config.json (offline? HF_HUB_OFFLINE=1 skips "
            "trying); {how}",
            repo=repo,
            how=how,
        )
    )


def fetch_config(repo: str, hint: str = "") -> Path:
    """Download `repo`'s config.json into the Hugging Face cache (nothing else), with the
    optional huggingface_hub (`pip install 'ft-atlas[hub]'`). `hint` names close catalog models."""
    how = t(HOW_TO_GET_IT)
    if _offline():
        raise UsageError(
            t(
                "--model: {repo} is not in the catalog{hint} It is not in the Hugging Face cache either, and "
                "HF_HUB_OFFLINE=1 forbids fetching it: {how}",
                repo=repo,
                hint=hint or ".",
                how=how,
            )
        )
    endpoint = os.environ.get("HF_ENDPOINT") or None
    host = _host(endpoint or HUB_ENDPOINT)  # before huggingface_hub, which reads it at import
    try:
        import huggingface_hub
        from huggingface_hub.errors import HfHubHTTPError
    except ImportError:
        raise UsageError(
            t(
                "--model: {repo} is not in the catalog{hint} It is not in the Hugging Face cache either: "
                "install the hub extra to fetch its config.json (pip install 'ft-atlas[hub]'), or {how}",
                repo=repo,
                hint=hint or ".",
                how=how,
            )
        ) from None
    if not _resolves(endpoint or HUB_ENDPOINT, host):
        # huggingface_hub retries a failed connection with back-off for ~25 s; a host that does not
        # even resolve (no network, no DNS) is known at once.
        raise _unreachable(repo, how)
    from http.client import HTTPException  # a reply cut short (IncompleteRead) is not an OSError

    # no network, a proxy, a bad repo id, a broken or hostile server, or the Hub's own refusals
    unfetched: tuple[type[BaseException], ...] = (
        OSError,
        ValueError,
        HTTPException,
        HfHubHTTPError,
        *_transport_errors(),
    )
    try:
        found = _bounded(lambda stop: _download_config(huggingface_hub, repo, endpoint, stop), repo, how)
    except unfetched as error:
        raise _not_fetched(error, repo, how) from None
    return Path(str(found))


def _not_fetched(error: BaseException, repo: str, how: str) -> UsageError:
    """What a failed fetch means for the user, most particular first: huggingface_hub's errors
    subclass one another (a gated repository is a repository not found)."""
    from huggingface_hub.errors import (
        EntryNotFoundError,
        GatedRepoError,
        HfHubHTTPError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
    )

    if isinstance(error, GatedRepoError):
        return UsageError(
            t(
                "--model: {repo} is gated: accept its licence on the Hub, then set HF_TOKEN to an access "
                "token (or run `hf auth login`); or {how}",
                repo=repo,
                how=how,
            )
        )
    if isinstance(error, RepositoryNotFoundError):
        return UsageError(
            t(
                "--model: {repo} is not on the Hub (a private repository needs HF_TOKEN); check the id, or "
                "give a catalog name (ft-atlas models)",
                repo=repo,
            )
        )
    if isinstance(error, LocalEntryNotFoundError):  # raised when the Hub cannot be reached
        return _unreachable(repo, how)
    if isinstance(error, EntryNotFoundError):
        return UsageError(
            t(
                "--model: {repo} has no config.json (GGUF-only repositories have none); give the original "
                "model's id, or --model-size",
                repo=repo,
            )
        )
    if isinstance(error, HfHubHTTPError):
        return UsageError(
            t(
                "--model: the Hub refused {repo}'s config.json ({reason}); {how}",
                repo=repo,
                reason=_first_line(error),
                how=how,
            )
        )
    return UsageError(
        t(
            "--model: could not fetch {repo}'s config.json ({reason}); {how}",
            repo=repo,
            reason=_first_line(error),
            how=how,
        )
    )


# The longest a --model fetch may take, all retries included: huggingface_hub retries a stalled
# or trickling server for minutes (an attacker's review: 394 s, or for ever).
FETCH_SECONDS: Final = 60


# One read from the Hub may wait this long; the whole fetch is bounded by FETCH_SECONDS.
READ_SECONDS: Final = 10
READ_CHUNK: Final = 65_536


def _download_config(hub: ModuleType, repo: str, endpoint: str | None, stop: threading.Event) -> str:
    """config.json into the Hugging Face cache: huggingface_hub asks the Hub for it (its errors say
    gated, missing...), then at most MAX_CONFIG_BYTES are read and written whole. hf_hub_download
    trusted the size the server gave: a hostile mirror that gave none, or a false one, streamed
    gigabytes into the cache's blobs, left behind when the fetch was stopped (an attacker's
    review)."""
    metadata = hub.get_hf_file_metadata(hub.hf_hub_url(repo, CONFIG_NAME, endpoint=endpoint))
    if metadata.size is not None and metadata.size > MAX_CONFIG_BYTES:
        raise _too_large(repo, metadata.size)
    if not isinstance(metadata.commit_hash, str) or not COMMIT_SHA.fullmatch(metadata.commit_hash):
        raise UsageError(
            t("--model: the Hub named no commit for {repo}'s config.json: not fetched", repo=repo)
        )
    url = metadata.location or hub.hf_hub_url(repo, CONFIG_NAME, endpoint=endpoint)
    token = hub.get_token() if _host(url) == _host(endpoint or HUB_ENDPOINT) else None
    raw = _capped_get(url, token, stop)
    if len(raw) > MAX_CONFIG_BYTES:
        raise _too_large(repo, len(raw))
    try:  # only a config.json is kept: anything else would fail every later run from the cache
        config = strict_json(raw, unique_keys=True)
    except (UnicodeDecodeError, ValueError, RecursionError):  # KeyGivenTwice is a ValueError
        config = None
    if not isinstance(config, dict):
        raise UsageError(
            t("--model: what the Hub sent as {repo}'s config.json is not a JSON object", repo=repo)
        )
    return str(_store_config(repo, metadata.commit_hash, raw))


def _too_large(repo: str, size: int) -> UsageError:
    return UsageError(
        t(
            "--model: {repo}'s config.json is larger than any config.json ({size} bytes): not fetched",
            repo=repo,
            size=grouped(size),
        )
    )


def _capped_get(url: str, token: str | None, stop: threading.Event) -> bytes:
    """The body at `url`, read up to one byte past MAX_CONFIG_BYTES, whatever the server says its
    size is; it stops when `stop` is set (the fetch's time is up), between the reads of whatever
    arrived (a server that trickles a byte at a time is not waited on for a whole chunk). The
    token goes to `url`'s host only, not to one it redirects to."""
    import urllib.request  # only a fetch needs it

    class SameHostAuthorization(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> Any:
            new = super().redirect_request(req, fp, code, msg, headers, newurl)
            if new is not None and _host(newurl) != _host(req.full_url):
                new.remove_header("Authorization")
            return new

    headers = {"User-Agent": "ft-atlas"} | ({"Authorization": f"Bearer {token}"} if token else {})
    chunks: list[bytes] = []
    read = 0
    opener = urllib.request.build_opener(SameHostAuthorization)
    with opener.open(urllib.request.Request(url, headers=headers), timeout=READ_SECONDS) as answer:
        while read <= MAX_CONFIG_BYTES and not stop.is_set():
            chunk = answer.read1(min(READ_CHUNK, MAX_CONFIG_BYTES + 1 - read))
            if not chunk:
                break
            chunks.append(chunk)
            read += len(chunk)
    if stop.is_set():
        raise TimeoutError("the fetch's time was up")
    return b"".join(chunks)


def _store_config(repo: str, commit: str, raw: bytes) -> Path:
    """`raw` as the repo's config.json at `commit` in the cache's snapshot layout, written whole
    (a reader never sees half of it), with refs/main naming the commit."""
    folder = hub_cache_dir() / f"models--{repo.replace('/', '--')}"
    snapshot = folder / "snapshots" / commit
    snapshot.mkdir(parents=True, exist_ok=True)
    (folder / "refs").mkdir(exist_ok=True)
    replace_whole(snapshot / CONFIG_NAME, raw)
    replace_whole(folder / "refs" / "main", commit.encode())
    return snapshot / CONFIG_NAME


def _bounded(fetch: Callable[[threading.Event], str], repo: str, how: str) -> str:
    """`fetch(stop)` in a daemon thread, given FETCH_SECONDS: past them `stop` is set, which ends
    its reading, and the command stops. Its exception, if any, is raised here."""
    result: list[str] = []
    failure: list[Exception] = []
    stop = threading.Event()

    def run() -> None:
        try:
            result.append(fetch(stop))
        except Exception as error:  # noqa: BLE001 - raised again in the caller's thread, which maps it
            failure.append(error)

    worker = threading.Thread(target=run, name="ft-atlas-hub-fetch", daemon=True)
    worker.start()
    worker.join(FETCH_SECONDS)
    stop.set()
    if failure:
        raise failure[0]
    if not result:
        raise UsageError(
            t(
                "--model: the Hub did not send {repo}'s config.json within {seconds} s; {how}",
                repo=repo,
                seconds=FETCH_SECONDS,
                how=how,
            )
        )
    return result[0]


def _transport_errors() -> tuple[type[BaseException], ...]:
    """The HTTP client's own errors, which are not OSErrors: huggingface_hub 1.x and later speak
    httpx (httpx2 from 2.x: TooManyRedirects, RemoteProtocolError...); older ones requests, whose
    errors are."""
    found: list[type[BaseException]] = []
    for module in ("httpx2", "httpx"):
        with contextlib.suppress(ImportError):
            found.append(importlib.import_module(module).HTTPError)
    return tuple(found)


def _first_line(error: BaseException) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
