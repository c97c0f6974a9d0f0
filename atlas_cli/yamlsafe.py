"""Bounded, position-aware YAML loading for hand-edited knowledge-base files.

PyYAML's own loaders keep the last of two duplicate keys (silently losing data), expand aliases
without limit ("billion laughs") and forget where each value came from. This module composes the
node graph with the safe (C when available) loader and builds plain Python values itself, so it
can refuse duplicates, bound the work, and remember a `file:line:column` for every value.
"""

from __future__ import annotations

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
        return f"{self.position}:{where} {self.message}"


class YamlProblems(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(map(str, problems)))
        self.problems = problems


@dataclass
class LoadedYaml:
    value: Any
    positions: dict[PathKey, Position] = field(default_factory=dict)


def _position(file: str, mark: yaml.Mark | None) -> Position:
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
    file = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise YamlProblems(
                [Problem(Position(file, 1, 1), "", f"file is {size} bytes; limit {MAX_FILE_BYTES}")]
            )
        data = path.read_bytes()
    except OSError as error:
        raise YamlProblems([Problem(Position(file, 1, 1), "", f"cannot read: {error.strerror}")]) from error
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        message = f"not valid UTF-8 (byte 0x{data[error.start]:02x})"
        raise YamlProblems([Problem(Position(file, line, column), "", message)]) from error


def load_yaml(path: Path) -> LoadedYaml:
    """Load one YAML document safely; raise YamlProblems with located messages."""
    file = str(path)
    text = read_text(path)
    try:
        root = yaml.compose(text, Loader=SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        message = f"YAML syntax: {error.problem or error.context}"
        raise YamlProblems([Problem(_position(file, mark), "", message)]) from error
    except yaml.YAMLError as error:
        raise YamlProblems([Problem(Position(file, 1, 1), "", f"YAML: {error}")]) from error
    if root is None:
        raise YamlProblems([Problem(Position(file, 1, 1), "", "file is empty")])
    builder = _Builder(file)
    value = builder.build(root, (), 0)
    if builder.problems:
        raise YamlProblems(builder.problems)
    return LoadedYaml(value, builder.positions)


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
            return self._mapping(node, path, depth)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        try:
            return self._scalars.construct_object(node, deep=True)
        except yaml.YAMLError as error:
            self.problems.append(Problem(position, dotted(path), f"bad value: {error}"))
            return None

    def _mapping(self, node: yaml.MappingNode, path: PathKey, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key_position = _position(self.file, key_node.start_mark)
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                self._fail(key_position, path, "keys must be plain strings")
            key = str(key_node.value)
            if key in result:
                self.problems.append(Problem(key_position, dotted((*path, key)), f"duplicate key '{key}'"))
                continue
            result[key] = self.build(value_node, (*path, key), depth + 1)
        return result

    def _fail(self, position: Position, path: PathKey, message: str) -> None:
        self.problems.append(Problem(position, dotted(path), message))
        raise YamlProblems(self.problems)
