r"""YAML loading that remembers the line of every key, for error messages a user can act on.

Example
-------
>>> doc = load_yaml_with_lines("a: 1\nb:\n  c: [2, 3]\n", "f.yaml")
>>> doc.data
{'a': 1, 'b': {'c': [2, 3]}}
>>> doc.line(("b", "c", 1)), doc.line(("b", "nope"))
(3, 2)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from artifactlab.errors import InputError

Path_ = tuple[str | int, ...]


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


def load_yaml_with_lines(text: str, source: str) -> YamlDoc:
    """Parse one YAML document with the safe loader, recording each key's line.

    Parameters
    ----------
    text : str
        The YAML text.
    source : str
        The file name shown in error messages.

    Raises
    ------
    InputError
        Malformed YAML, more than one document, or a key repeated in one mapping.
    """
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise InputError(
            f"{source}:{line}", f"malformed YAML: {err.problem or err.context}", "fix the syntax"
        ) from None
    except yaml.YAMLError as err:
        raise InputError(source, f"malformed YAML: {err}", "fix the syntax") from None
    finally:
        loader.dispose()
    doc = YamlDoc(data, source)
    if node is not None:
        _record_lines(node, (), doc)
    return doc


def _record_lines(node: yaml.Node, path: Path_, doc: YamlDoc) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
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
