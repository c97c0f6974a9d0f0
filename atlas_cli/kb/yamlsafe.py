"""Bounded, position-aware YAML loading for hand-edited knowledge-base files.

PyYAML's own loaders keep the last of two duplicate keys (silently losing data), expand aliases
without limit ("billion laughs") and forget where each value came from. This module reads the
event stream of the safe (C when available) parser and builds plain Python values itself, in one
pass and without recursion, so it can refuse duplicate keys, tags other than plain YAML's, merge
keys and self-referencing aliases, bound the work (file size, values counted with aliases
expanded, nesting depth), and remember a `file:line:column` for every value and key.

A value reached through an alias is the anchored value itself, shared, not a copy: callers must
not change the values they get.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from atlas_cli.errors import one_line
from atlas_cli.kb.files import MAX_FILE_BYTES as MAX_FILE_BYTES  # a limit of this loader too
from atlas_cli.kb.files import KbFile, read_kb_file

try:
    from yaml import CSafeLoader as SafeLoader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader  # type: ignore[assignment]

MAX_NODES = 1_000_000  # the bundled KB has about 7,000 values; a 1,000-method KB about 100,000
# Characters of text once aliases are expanded: one long anchored string aliased thousands of
# times is a few values but gigabytes to cache and print. Twice the largest file the loader reads.
MAX_TEXT_CHARS = 2 * MAX_FILE_BYTES
MAX_DEPTH = 64
MAX_REMEMBERED_TAGS = 65536

PathKey = tuple[str | int, ...]


class Position(NamedTuple):  # a tuple: thousands are made per load
    file: str
    line: int  # 1-based
    column: int  # 1-based, in characters

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass
class Problem:
    position: Position
    where: str
    message: str

    def __str__(self) -> str:
        where = f" {self.where}:" if self.where else ""
        return one_line(f"{self.position}:{where} {self.message}")


class YamlProblems(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(map(str, problems)))
        self.problems = problems


@dataclass
class LoadedYaml:
    value: Any
    positions: dict[PathKey, Position] = field(default_factory=dict)  # where each value starts
    key_positions: dict[PathKey, Position] = field(default_factory=dict)  # where its key is


def _position(file: str, mark: Any) -> Position:
    """`mark` is a PyYAML or libyaml mark (0-based), or None."""
    if mark is None:
        return Position(file, 1, 1)
    return Position(file, mark.line + 1, mark.column + 1)


def dotted(path: PathKey) -> str:
    """`("methods", 3, "name")` -> `methods[3].name`, the form error messages use."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def read_data(read: KbFile) -> bytes:
    """The bytes of a KB file as read, or YamlProblems saying why there are none."""
    if read.data is None:
        raise YamlProblems([Problem(Position(str(read.path), 1, 1), "", read.problem)])
    return read.data


def decode(file: str, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line, column = _offset_position(data, error.start)
        message = f"not valid UTF-8 (byte 0x{data[error.start]:02x})"
        raise YamlProblems([Problem(Position(file, line, column), "", message)]) from error


def _offset_position(data: bytes, offset: int) -> tuple[int, int]:
    """1-based line and column (in characters) of a byte offset into UTF-8 data."""
    offset = max(0, min(offset, len(data)))
    line_start = data.rfind(b"\n", 0, offset) + 1
    column = len(data[line_start:offset].decode("utf-8", errors="replace")) + 1
    return data.count(b"\n", 0, offset) + 1, column


def _reader_position(text: str, error: yaml.reader.ReaderError) -> tuple[int, int]:
    # libyaml reports a byte offset into the UTF-8 text; the pure-Python reader a character one.
    if SafeLoader.__name__.startswith("C"):
        return _offset_position(text.encode("utf-8", errors="surrogatepass"), error.position)
    before = text[: error.position]
    return before.count("\n") + 1, error.position - (before.rfind("\n") + 1) + 1


def _syntax_problem(file: str, text: str, error: yaml.YAMLError) -> Problem:
    if isinstance(error, yaml.MarkedYAMLError):
        mark = error.problem_mark or error.context_mark
        detail = error.problem or error.context or "invalid YAML"
        return Problem(_inside(_position(file, mark), text), "", f"YAML syntax: {detail}")
    if isinstance(error, yaml.reader.ReaderError):
        line, column = _reader_position(text, error)
        character = f"#x{error.character:04x}" if isinstance(error.character, int) else "character"
        return Problem(Position(file, line, column), "", f"YAML: {error.reason} ({character})")
    return Problem(Position(file, 1, 1), "", f"YAML: {error}")


def _inside(position: Position, text: str) -> Position:
    """libyaml puts errors at the end of input one line past the last one: point at its end."""
    lines = text.splitlines()  # YAML's line breaks too: \r, NEL, U+2028
    if position.line <= len(lines):
        return position
    last = lines[-1] if lines else ""
    return Position(position.file, max(1, len(lines)), len(last) + 1)


def load_yaml(path: Path) -> LoadedYaml:
    """Load one YAML document safely; raise YamlProblems with located messages."""
    return load_yaml_bytes(read_kb_file(path))


def load_yaml_bytes(read: KbFile) -> LoadedYaml:
    """Load one YAML document from the bytes already read; raise YamlProblems with located
    messages."""
    file = str(read.path)
    text = decode(file, read_data(read))
    builder = _Builder(file)
    try:
        found, value = builder.run(yaml.parse(text, Loader=SafeLoader))
    except yaml.YAMLError as error:
        raise YamlProblems([*builder.problems, _syntax_problem(file, text, error)]) from error
    if builder.problems:
        raise YamlProblems(builder.problems)
    if not found:
        raise YamlProblems([Problem(Position(file, 1, 1), "", "file is empty")])
    return LoadedYaml(value, builder.positions, builder.key_positions)


# Plain YAML only: the core scalar types, maps and lists. Anything else (`!!python/object`,
# `!!binary`, `!!set`, custom `!tags`) is an error rather than silently becoming a string or dict.
_CORE = "tag:yaml.org,2002:"
STR_TAG = _CORE + "str"
SCALAR_TAGS = frozenset(_CORE + t for t in ("str", "int", "float", "bool", "null", "timestamp"))
NUMBER_TAGS = frozenset(_CORE + t for t in ("int", "float"))
MAX_NUMBER_CHARS = 64
MAP_TAG = _CORE + "map"
SEQ_TAG = _CORE + "seq"
MERGE_TAG = _CORE + "merge"
_NON_SPECIFIC = (None, "!")


class _Discard:
    """Stands for a mapping key whose value is read (and bounded) but not kept."""


_DISCARD = _Discard()


@dataclass(slots=True)
class _Open:
    """A mapping or sequence being built, with what its anchor needs once it is complete."""

    value: dict[str, Any] | list[Any]
    path: PathKey
    mark: Any  # where it starts
    anchor: str | None
    total_at_start: int
    chars_at_start: int
    is_key: bool  # a mapping or sequence used as a mapping key (refused)
    below: int = 0  # levels of nesting inside it, aliases expanded
    key: str | _Discard | None = None  # mappings: the key whose value comes next


@dataclass(slots=True)
class _Anchor:
    value: Any
    size: int  # values once expanded
    chars: int  # characters of text once expanded
    levels: int  # levels of nesting once expanded: 0 for a scalar
    scalar: str | None  # an anchored scalar's text, so that an alias of it can be a key


class _Builder:
    """Builds Python values straight from the parser's events, bounded and with positions.

    One pass and no node graph: an alias reuses its anchor's value, and counts (for the limits)
    the values and nesting levels it would have if it were written out.
    """

    def __init__(self, file: str) -> None:
        self.file = file
        self.positions: dict[PathKey, Position] = {}
        self.key_positions: dict[PathKey, Position] = {}
        self.problems: list[Problem] = []
        self.total = 0
        self.chars = 0
        self.stack: list[_Open] = []
        self.anchors: dict[str, _Anchor] = {}
        self._loader = SafeLoader("")
        self._implicit_tags: dict[str, str] = {}

    def run(self, events: Iterable[yaml.Event]) -> tuple[bool, Any]:
        """(whether the stream held a document, its value)."""
        documents = 0
        root: Any = None
        for event in events:  # the most frequent events first
            if isinstance(event, yaml.ScalarEvent):
                root = self._scalar(event)
            elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                self._open(event)
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                done = self.stack.pop()
                levels = done.below + 1
                if done.anchor is not None:
                    size, chars = self.total - done.total_at_start, self.chars - done.chars_at_start
                    self.anchors[done.anchor] = _Anchor(done.value, size, chars, levels, None)
                root = self._place(done.value, None, done.mark, levels, collection=True)
            elif isinstance(event, yaml.AliasEvent):
                root = self._alias(event)
            elif isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    self._fail(
                        event.start_mark, (), "only one YAML document is allowed; a second starts here"
                    )
        return documents > 0, root

    # --- where a value goes --------------------------------------------------------------

    def _slot(self) -> tuple[PathKey, bool]:
        """The path of the next value, and whether it is a mapping key."""
        if not self.stack:
            return (), False
        top = self.stack[-1]
        if isinstance(top.value, list):
            return (*top.path, len(top.value)), False
        if top.key is None:
            return top.path, True
        return (*top.path, top.key if isinstance(top.key, str) else "?"), False

    def _count(self, mark: Any, path: PathKey, size: int, levels: int, chars: int = 0) -> None:
        self.total += size
        self.chars += chars
        if self.total > MAX_NODES:
            self._fail(mark, path, f"more than {MAX_NODES} values once aliases are expanded")
        if self.chars > MAX_TEXT_CHARS:
            self._fail(mark, path, f"more than {MAX_TEXT_CHARS} characters of text once aliases are expanded")
        if len(self.stack) + levels > MAX_DEPTH:
            self._fail(mark, path, f"nested deeper than {MAX_DEPTH} levels")

    def _open(self, event: yaml.MappingStartEvent | yaml.SequenceStartEvent) -> None:
        path, is_key = self._slot()
        mark: Any = event.start_mark
        is_map = isinstance(event, yaml.MappingStartEvent)
        plain = MAP_TAG if is_map else SEQ_TAG
        if event.tag not in (*_NON_SPECIFIC, plain) and not is_key:
            self._bad_tag(mark, path, event.tag)
        if not is_key:
            self.positions.setdefault(path, _position(self.file, mark))
        self.stack.append(
            _Open({} if is_map else [], path, mark, event.anchor, self.total, self.chars, is_key)
        )
        self._count(mark, path, 1, 0)

    def _place(self, value: Any, text: str | None, mark: Any, levels: int, collection: bool) -> Any:
        """Put a finished value into its parent; return it (the root, when there is no parent)."""
        if not self.stack:
            return value
        top = self.stack[-1]
        top.below = max(top.below, levels)
        if isinstance(top.value, list):
            top.value.append(value)
        elif top.key is None:
            top.key = self._key(None if collection else text, mark, top)
        else:
            if isinstance(top.key, str):
                top.value[top.key] = value
            top.key = None
        return value

    def _key(self, text: str | None, mark: Any, mapping: _Open) -> str | _Discard:
        position = _position(self.file, mark)
        if text is None:
            self.problems.append(Problem(position, dotted(mapping.path), "keys must be plain strings"))
            return _DISCARD
        if text in mapping.value:
            where = dotted((*mapping.path, text))
            self.problems.append(Problem(position, where, f"duplicate key '{text}'"))
            return _DISCARD
        self.key_positions[(*mapping.path, text)] = position
        return text

    # --- scalars and aliases ---------------------------------------------------------------

    def _scalar(self, event: yaml.ScalarEvent) -> Any:
        path, is_key = self._slot()
        mark: Any = event.start_mark
        self._count(mark, path, 1, 0, len(event.value))
        tag = event.tag
        if tag in _NON_SPECIFIC:
            tag = self._resolve(event)
        text: str | None = event.value
        value: Any = None
        if tag == MERGE_TAG:
            message = "'<<' (a YAML merge key) is not supported: write the keys out"
            self.problems.append(Problem(_position(self.file, mark), dotted(path), message))
            if is_key:
                self.stack[-1].key = _DISCARD  # its value is read, then dropped
                return None
            text = None
        elif tag not in SCALAR_TAGS:
            if not is_key:  # a key gets "keys must be plain strings"
                self._bad_tag(mark, path, tag)
            text = None
        elif tag == STR_TAG or (is_key and event.anchor is None):
            value = event.value
        else:
            value = self._construct(event, mark, path, tag)
        if not is_key:
            self.positions.setdefault(path, _position(self.file, mark))
        if event.anchor is not None:
            self.anchors[event.anchor] = _Anchor(value, 1, len(event.value), 0, text)
        return self._place(value, text, mark, 0, collection=False)

    def _resolve(self, event: yaml.ScalarEvent) -> str:
        """The implicit tag of an untagged scalar (`5` is an int, `yes` a bool, `x` a string).
        A KB repeats its plain values (ids, booleans, small numbers): each is resolved once."""
        if not event.implicit[0]:  # quoted or block text
            return STR_TAG
        tag = self._implicit_tags.get(event.value)
        if tag is None:
            resolve: Any = self._loader.resolve
            tag = str(resolve(yaml.ScalarNode, event.value, event.implicit))
            if len(self._implicit_tags) < MAX_REMEMBERED_TAGS:
                self._implicit_tags[event.value] = tag
        return tag

    def _construct(self, event: yaml.ScalarEvent, mark: Any, path: PathKey, tag: str) -> Any:
        if tag in NUMBER_TAGS and len(event.value) > MAX_NUMBER_CHARS:
            # Python refuses to read or print an integer of thousands of digits, and no KB number
            # needs more than a few dozen characters.
            message = f"bad value: a number {len(event.value)} characters long is out of range"
            self.problems.append(Problem(_position(self.file, mark), dotted(path), message))
            return None
        node = yaml.ScalarNode(tag, event.value, mark, mark, event.style)
        try:
            return self._loader.yaml_constructors[tag](self._loader, node)
        except (yaml.YAMLError, ValueError, OverflowError) as error:
            detail = getattr(error, "problem", None) or str(error)
            self.problems.append(Problem(_position(self.file, mark), dotted(path), f"bad value: {detail}"))
            return None

    def _alias(self, event: yaml.AliasEvent) -> Any:
        path, is_key = self._slot()
        mark: Any = event.start_mark
        name = str(event.anchor)
        if any(frame.anchor == name for frame in self.stack):
            self._fail(mark, path, f"alias *{name} refers to a value that contains it")
        anchor = self.anchors.get(name)
        if anchor is None:
            self._fail(mark, path, f"alias *{name} names no anchor (&{name}) above it")
            return None
        self._count(mark, path, anchor.size, anchor.levels, anchor.chars)
        if not is_key:
            self.positions.setdefault(path, _position(self.file, mark))
        return self._place(anchor.value, anchor.scalar, mark, anchor.levels, anchor.levels > 0)

    # --- problems --------------------------------------------------------------------------

    def _bad_tag(self, mark: Any, path: PathKey, tag: str | None) -> None:
        shown = str(tag).replace(_CORE, "!!")
        message = f"tag '{shown}' is not allowed: use plain YAML strings, numbers, booleans, lists and maps"
        self.problems.append(Problem(_position(self.file, mark), dotted(path), message))

    def _fail(self, mark: Any, path: PathKey, message: str) -> None:
        self.problems.append(Problem(_position(self.file, mark), dotted(path), message))
        raise YamlProblems(self.problems)
