r"""YAML loading that remembers the line of every key, for error messages a user can act on.

Hostile files are refused with one line before anything is built from them: a file
that is not UTF-8, larger than :data:`MAX_FILE_BYTES`, nested deeper than
:data:`MAX_DEPTH`, with an anchor that contains itself, or whose anchors and aliases
expand it to more than :data:`MAX_NODES` nodes or :data:`MAX_CHARS` characters.

Example
-------
>>> doc = load_yaml_with_lines("a: 1\nb:\n  c: [2, 3]\n", "f.yaml")
>>> doc.data
{'a': 1, 'b': {'c': [2, 3]}}
>>> doc.line(("b", "c", 1)), doc.line(("b", "nope"))
(3, 2)
>>> bomb = "a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n" + "".join(
...     f"{k}: &{k} [{', '.join([f'*{p}'] * 10)}]\n" for p, k in zip("abcde", "bcdef"))
>>> try:
...     load_yaml_with_lines(bomb, "bomb.yaml")
... except InputError as err:
...     print(err.problem)
the file expands to more than 100,000 nodes (YAML anchors/aliases)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from artifactlab.errors import InputError

Path_ = tuple[str | int, ...]

#: refuse files larger than this (a sweep file describes a grid; it is never this large)
MAX_FILE_BYTES = 10 * 2**20
#: refuse files that expand to more nodes than this, each alias counted as a full copy
MAX_NODES = 100_000
#: refuse files whose scalars, each alias counted as a full copy, have more characters
MAX_CHARS = 10_000_000
#: refuse files nested deeper than this (configs are a few levels deep)
MAX_DEPTH = 50

_MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass
class YamlDoc:
    """A parsed YAML document and the 1-based line of every key and list item."""

    data: Any
    source: str
    lines: dict[Path_, int] = field(default_factory=dict)

    def line(self, path: Path_) -> int:
        """Line of ``path``, or of its nearest ancestor that is in the file (1 for none)."""
        for cut in range(len(path), 0, -1):
            if path[:cut] in self.lines:
                return self.lines[path[:cut]]
        return 1

    def where(self, path: Path_) -> str:
        """``FILE:LINE`` of a key path."""
        return f"{self.source}:{self.line(path)}"


def printable(text: str) -> str:
    r"""``text`` with control characters escaped, so a message stays one line.

    >>> printable("a\nb.yaml")
    'a\\nb.yaml'
    """
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def read_text(path: Path, source: str) -> str:
    """Read a text file as UTF-8, refusing unreadable, oversized and non-UTF-8 files.

    Parameters
    ----------
    path : Path
        The file.
    source : str
        The file name shown in error messages.

    Raises
    ------
    InputError
        The file cannot be read, is larger than :data:`MAX_FILE_BYTES`, or is not UTF-8
        (naming the line and byte offset of the first bad byte).
    """
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
    except OSError as err:
        raise InputError(source, f"cannot read the file ({err.strerror or err})") from None
    if len(raw) > MAX_FILE_BYTES:
        raise InputError(
            source, f"the file is larger than {MAX_FILE_BYTES:,} bytes", "is this the right file?"
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        raise InputError(
            f"{source}:{line}",
            f"not UTF-8 text: byte {err.start} (0x{raw[err.start]:02x}) cannot be decoded",
            "save the file as UTF-8",
        ) from None


def load_yaml_with_lines(text: str, source: str, max_nodes: int = MAX_NODES) -> YamlDoc:
    """Parse one YAML document with the safe loader, recording each key's line.

    Parameters
    ----------
    text : str
        The YAML text.
    source : str
        The file name shown in error messages.
    max_nodes : int
        Refuse documents that expand to more nodes than this (aliases counted in full).

    Raises
    ------
    InputError
        Malformed YAML, more than one document, a key repeated in one mapping, an anchor
        that contains itself, too deep a nesting or too large an expansion.
    """
    try:
        loader = _Loader(text, source)  # checks for unprintable characters
    except yaml.YAMLError as err:
        raise _yaml_error(err, text, source) from None
    try:
        node = loader.get_single_node()
        doc = YamlDoc(None, source)
        if node is not None:
            _Sizer(source, max_nodes).size(node, 0)
            _record_lines(node, (), doc)  # before construction: merge keys rewrite the nodes
            doc.data = loader.construct_document(node)
    except yaml.YAMLError as err:
        raise _yaml_error(err, text, source) from None
    except InputError:
        raise
    except RecursionError:
        raise InputError(
            source, f"nested more than {MAX_DEPTH} levels deep", "flatten the file"
        ) from None
    except (ValueError, TypeError, OverflowError) as err:  # a scalar Python cannot build
        raise InputError(
            source, f"malformed YAML value: {_one_line(err)}", "quote it to keep it text"
        ) from None
    finally:
        loader.dispose()
    return doc


def _yaml_error(err: yaml.YAMLError, text: str, source: str) -> InputError:
    if isinstance(err, yaml.MarkedYAMLError):
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = err.problem or err.context
    elif isinstance(err, yaml.reader.ReaderError):
        line = text.count("\n", 0, err.position) + 1
        code = err.character if isinstance(err.character, int) else ord(err.character)
        problem = f"unacceptable character #x{code:04x}: {err.reason}"
    else:
        line, problem = 1, str(err)
    return InputError(f"{source}:{line}", f"malformed YAML: {_one_line(problem)}", "fix the syntax")


def _one_line(obj: object) -> str:
    return printable(" ".join(str(obj).split()))


class _Loader(yaml.SafeLoader):
    """The safe loader, refusing too deep a nesting as it composes (PyYAML recurses there)."""

    def __init__(self, text: str, source: str) -> None:
        super().__init__(text)
        self.source = source
        self.depth = 0

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node:
        """Compose one node, one level deeper than its parent."""
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH + 1:  # the root is at depth 1
                line = self.peek_event().start_mark.line + 1
                raise InputError(
                    f"{self.source}:{line}",
                    f"nested more than {MAX_DEPTH} levels deep",
                    "flatten the file",
                )
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


class _Sizer:
    """Expanded size of a node graph, each shared (aliased) node computed once."""

    def __init__(self, source: str, max_nodes: int) -> None:
        self.source = source
        self.max_nodes = max_nodes
        self.sizes: dict[int, tuple[int, int, int]] = {}  # id(node) -> nodes, chars, height
        self.open: set[int] = set()  # the nodes on the current path from the root

    def size(self, node: yaml.Node, depth: int) -> tuple[int, int, int]:
        """Nodes, scalar characters and levels below ``node`` once every alias is expanded."""
        key = id(node)
        where = f"{self.source}:{node.start_mark.line + 1}"
        if key in self.open:
            raise InputError(
                where, "a YAML anchor contains itself (a recursive alias)", "remove the alias"
            )
        if key not in self.sizes:
            self.sizes[key] = self._measure(node, depth)
        if depth + self.sizes[key][2] > MAX_DEPTH:  # an alias can nest what it repeats
            raise InputError(where, f"nested more than {MAX_DEPTH} levels deep", "flatten the file")
        return self.sizes[key]

    def _measure(self, node: yaml.Node, depth: int) -> tuple[int, int, int]:
        if isinstance(node, yaml.ScalarNode):
            return 1, len(node.value), 0
        if depth > MAX_DEPTH:
            raise InputError(
                f"{self.source}:{node.start_mark.line + 1}",
                f"nested more than {MAX_DEPTH} levels deep",
                "flatten the file",
            )
        self.open.add(id(node))
        children = node.value
        if isinstance(node, yaml.MappingNode):
            children = [child for pair in node.value for child in pair]
        nodes, chars, height = 1, 0, 0
        for child in children:
            n, c, h = self.size(child, depth + 1)
            nodes, chars, height = nodes + n, chars + c, max(height, h + 1)
            self._check(nodes, chars)
        self.open.discard(id(node))
        return nodes, chars, height

    def _check(self, nodes: int, chars: int) -> None:
        if nodes > self.max_nodes:
            raise InputError(
                self.source,
                f"the file expands to more than {self.max_nodes:,} nodes (YAML anchors/aliases)",
                "write the values out, or split the file",
            )
        if chars > MAX_CHARS:
            raise InputError(
                self.source,
                f"the file expands to more than {MAX_CHARS:,} characters (YAML anchors/aliases)",
                "write the values out, or split the file",
            )


def _record_lines(node: yaml.Node, path: Path_, doc: YamlDoc) -> None:
    # runs after _Sizer: the graph is acyclic, shallow and of bounded expanded size
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _MERGE_TAG:
                continue  # a list as key is refused when built; merged keys may be overridden
            key = key_node.value
            if key in seen:
                raise InputError(
                    f"{doc.source}:{key_node.start_mark.line + 1}",
                    f"key {key!r} appears twice in one mapping",
                    "keep one of them",
                )
            seen.add(key)
            doc.lines[(*path, key)] = key_node.start_mark.line + 1
            _record_lines(value_node, (*path, key), doc)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            doc.lines[(*path, i)] = item.start_mark.line + 1
            _record_lines(item, (*path, i), doc)
