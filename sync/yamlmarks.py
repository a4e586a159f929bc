"""YAML read with the safe loader only, keeping the line of every key, so that every problem
found later (by pydantic or the plan's checks) can point at its line in the file."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from sync.errors import Problem

Marks = dict[tuple[str | int, ...], int]


def parse_yaml(text: str, shown: str) -> tuple[Any, Marks, list[Problem]]:
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        what = exc.problem or "cannot be read"
        if "could not determine a constructor" in what:
            what = "tags such as !!python/object are not allowed (goalsync reads plain YAML only)"
        return None, {}, [Problem(shown, line, "", what, "fix the YAML syntax at that line")]
    except yaml.YAMLError as exc:
        return None, {}, [Problem(shown, None, "", f"cannot be read as YAML: {exc}")]
    finally:
        loader.dispose()
    marks: Marks = {}
    problems: list[Problem] = []
    if node is not None:
        _index(node, (), marks, problems, shown)
    return data, marks, problems


def _index(
    node: yaml.Node, path: tuple[str | int, ...], marks: Marks, problems: list[Problem], shown: str
) -> None:
    marks[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                problems.append(
                    Problem(
                        shown,
                        key_node.start_mark.line + 1,
                        dotted((*path, key)),
                        f"key {key!r} appears twice in this mapping",
                        "keep one (YAML would silently use the last)",
                    )
                )
            seen.add(key)
            _index(value_node, (*path, key), marks, problems, shown)
            marks[(*path, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index(item, (*path, i), marks, problems, shown)


def yaml_path(loc: Sequence[str | int], data: Any) -> tuple[str | int, ...]:
    """Drop what pydantic adds to a location that is not in the file (a union's tag)."""
    out: list[str | int] = []
    node = data
    for part in loc:
        if isinstance(node, Mapping) and part not in node and node.get("type") == part:
            continue  # the discriminator's tag, not a key of the file
        out.append(part)
        if isinstance(node, Mapping):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            node = None
    return tuple(out)


def line_of(loc: Sequence[str | int], data: Any, marks: Marks) -> int | None:
    path = yaml_path(loc, data)
    while path:
        if path in marks:
            return marks[path]
        path = path[:-1]
    return marks.get(())


def dotted(path: Sequence[str | int]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
