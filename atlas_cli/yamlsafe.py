"""Bounded, position-aware YAML loading for hand-edited knowledge-base files.

PyYAML's own loaders keep the last of two duplicate keys (silently losing data), expand aliases
without limit ("billion laughs") and forget where each value came from. This module composes the
node graph with the safe (C when available) loader and builds plain Python values itself, so it
can refuse duplicates, bound the work, and remember a `file:line:column` for every value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

try:
    from yaml import CSafeLoader as SafeLoader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader  # type: ignore[assignment]

MAX_FILE_BYTES = 5_000_000
MAX_NODES = 200_000
MAX_DEPTH = 64
_CHUNK = 1 << 16

PathKey = tuple[str | int, ...]


@dataclass(frozen=True)
class Position:
    file: str
    line: int
    column: int

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


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def one_line(text: str) -> str:
    """Escape line breaks and other control characters: one problem is one line of output."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


class YamlProblems(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(map(str, problems)))
        self.problems = problems


@dataclass
class LoadedYaml:
    value: Any
    positions: dict[PathKey, Position] = field(default_factory=dict)


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


def read_text(path: Path) -> str:
    """The file's text; refuses files over the size cap (read bounded, whatever `stat` says)."""
    file = str(path)
    try:
        with path.open("rb") as stream:
            chunks: list[bytes] = []
            size = 0
            while size <= MAX_FILE_BYTES and (chunk := stream.read(_CHUNK)):
                chunks.append(chunk)
                size += len(chunk)
        data = b"".join(chunks)
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise YamlProblems([Problem(Position(file, 1, 1), "", f"cannot read: {reason}")]) from error
    if len(data) > MAX_FILE_BYTES:
        message = f"file is larger than the {MAX_FILE_BYTES}-byte limit"
        raise YamlProblems([Problem(Position(file, 1, 1), "", message)])
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
        return Problem(_position(file, mark), "", f"YAML syntax: {detail}")
    if isinstance(error, yaml.reader.ReaderError):
        line, column = _reader_position(text, error)
        character = f"#x{error.character:04x}" if isinstance(error.character, int) else "character"
        return Problem(Position(file, line, column), "", f"YAML: {error.reason} ({character})")
    return Problem(Position(file, 1, 1), "", f"YAML: {error}")


def load_yaml(path: Path) -> LoadedYaml:
    """Load one YAML document safely; raise YamlProblems with located messages."""
    file = str(path)
    text = read_text(path)
    try:
        _check_bounds(file, text)
        root = yaml.compose(text, Loader=SafeLoader)
    except yaml.YAMLError as error:
        raise YamlProblems([_syntax_problem(file, text, error)]) from error
    if root is None:
        raise YamlProblems([Problem(Position(file, 1, 1), "", "file is empty")])
    builder = _Builder(file)
    value = builder.build(root, (), 0)
    if builder.problems:
        raise YamlProblems(builder.problems)
    return LoadedYaml(value, builder.positions)


def _check_bounds(file: str, text: str) -> None:
    """Refuse alias bombs, self-referencing aliases and deep nesting before composing anything.

    Streams the parser's events (little memory) and counts the values the document would have
    once every alias is expanded: an alias costs the size of the value its anchor names.
    """
    sizes: dict[str, int] = {}
    open_nodes: list[tuple[str | None, int]] = []
    total = 0
    for event in yaml.parse(text, Loader=SafeLoader):
        if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            anchor, start = open_nodes.pop()
            if anchor is not None:
                sizes[anchor] = total - start
            continue
        if isinstance(event, yaml.AliasEvent):
            if event.anchor in (a for a, _ in open_nodes):
                _refuse(file, event, f"alias *{event.anchor} refers to a value that contains it")
            total += sizes.get(str(event.anchor), 1)
        elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            open_nodes.append((event.anchor, total))
            total += 1
            if len(open_nodes) > MAX_DEPTH:
                _refuse(file, event, f"nested deeper than {MAX_DEPTH} levels")
        elif isinstance(event, yaml.ScalarEvent):
            total += 1
            if event.anchor is not None:
                sizes[event.anchor] = 1
        if total > MAX_NODES:
            _refuse(file, event, f"more than {MAX_NODES} values once aliases are expanded")


def _refuse(file: str, event: yaml.Event, message: str) -> None:
    raise YamlProblems([Problem(_position(file, event.start_mark), "", message)])


# Plain YAML only: the core scalar types, maps and lists. Anything else (`!!python/object`,
# `!!binary`, `!!set`, custom `!tags`) is an error rather than silently becoming a string or dict.
_CORE = "tag:yaml.org,2002:"
SCALAR_TAGS = frozenset(_CORE + t for t in ("str", "int", "float", "bool", "null", "timestamp"))
MAP_TAG = _CORE + "map"
SEQ_TAG = _CORE + "seq"
MERGE_TAG = _CORE + "merge"


class _Builder:
    """Turns a composed node graph into Python values, bounded and with positions."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.positions: dict[PathKey, Position] = {}
        self.problems: list[Problem] = []
        self.nodes = 0
        self._scalars = SafeLoader("")

    def build(self, node: yaml.Node, path: PathKey, depth: int) -> Any:
        self.nodes += 1
        position = _position(self.file, node.start_mark)
        self.positions.setdefault(path, position)
        if self.nodes > MAX_NODES:
            self._fail(position, path, f"more than {MAX_NODES} values (alias expansion?)")
        if depth > MAX_DEPTH:
            self._fail(position, path, f"nested deeper than {MAX_DEPTH} levels")
        if isinstance(node, yaml.MappingNode):
            if node.tag != MAP_TAG:
                return self._bad_tag(node, position, path)
            return self._mapping(node, path, depth)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != SEQ_TAG:
                return self._bad_tag(node, position, path)
            return [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        if node.tag == MERGE_TAG:
            self.problems.append(Problem(position, dotted(path), "'<<' (a YAML merge key) is not supported"))
            return None
        if node.tag not in SCALAR_TAGS:
            return self._bad_tag(node, position, path)
        try:
            return self._scalars.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, OverflowError) as error:
            detail = getattr(error, "problem", None) or str(error)
            self.problems.append(Problem(position, dotted(path), f"bad value: {detail}"))
            return None

    def _bad_tag(self, node: yaml.Node, position: Position, path: PathKey) -> None:
        tag = node.tag.replace(_CORE, "!!")
        message = f"tag '{tag}' is not allowed: use plain YAML strings, numbers, booleans, lists and maps"
        self.problems.append(Problem(position, dotted(path), message))

    def _mapping(self, node: yaml.MappingNode, path: PathKey, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key_position = _position(self.file, key_node.start_mark)
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag == MERGE_TAG:
                message = "'<<' (a YAML merge key) is not supported: write the keys out"
                self.problems.append(Problem(key_position, dotted(path), message))
                continue
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag not in SCALAR_TAGS:
                self.problems.append(Problem(key_position, dotted(path), "keys must be plain strings"))
                continue
            key = str(key_node.value)
            if key in result:
                self.problems.append(Problem(key_position, dotted((*path, key)), f"duplicate key '{key}'"))
                continue
            result[key] = self.build(value_node, (*path, key), depth + 1)
        return result

    def _fail(self, position: Position, path: PathKey, message: str) -> None:
        self.problems.append(Problem(position, dotted(path), message))
        raise YamlProblems(self.problems)
