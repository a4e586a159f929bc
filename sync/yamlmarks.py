"""YAML read with the safe loader only, keeping the line of every key, so that every problem
found later (by pydantic or the plan's checks) can point at its line in the file.

Hostile YAML is refused at its line before it costs anything: aliases may add at most
`ALIAS_LIMIT` values once expanded (nine lines of "billion laughs" expand to 9^9 values, which
the marks and pydantic would walk one by one), a recursive alias is an error, and a date that is
not in the calendar (`2026-02-30`) stays the text it was written as, for the date field's own
check to name with every other problem, instead of aborting the read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from sync.base.errors import Problem

Marks = dict[tuple[str | int, ...], int]
# Values that aliases may add to a document once expanded: sharing a clause or a list of labels
# between key results adds tens; a bomb adds millions.
ALIAS_LIMIT = 100_000


class _Loader(yaml.SafeLoader):
    """The safe loader, noting where each alias is used (a node's own mark is its anchor's)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.alias_lines: dict[int, int] = {}  # id(node) -> line of the first alias to it

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        alias = self.check_event(yaml.AliasEvent)
        line = self.peek_event().start_mark.line + 1 if alias else 0  # type: ignore[no-untyped-call]
        node = super().compose_node(parent, index)
        if line and node is not None:
            self.alias_lines.setdefault(id(node), line)
        return node

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, TypeError, OverflowError) as exc:  # `!!int x`, `!!float []`
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read this value: {exc}", node.start_mark
            ) from None

    def lenient_timestamp(self, node: yaml.ScalarNode) -> Any:
        try:
            return self.construct_yaml_timestamp(node)
        except ValueError:  # not in the calendar: the field's own check names it, with its line
            return self.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.lenient_timestamp)


class _Bomb(Exception):
    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(message)
        self.line: int | None = line
        self.message = message


def _check_aliases(root: yaml.Node, alias_lines: Mapping[int, int]) -> None:
    """Raise _Bomb if the aliases of `root` would add more than ALIAS_LIMIT values, or if one
    contains itself. Linear in the nodes written: each node's expanded size is counted once."""
    if not alias_lines:
        return
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise _Bomb(alias_lines.get(key), "a recursive alias (it contains itself)")
        active.add(key)
        if isinstance(node, yaml.SequenceNode):
            total = 1 + sum(size(child) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            total = 1 + sum(size(k) + size(v) for k, v in node.value)
        else:
            total = 1
        active.discard(key)
        sizes[key] = total
        return total

    added = size(root) - len(sizes)
    if added > ALIAS_LIMIT:
        biggest = max(alias_lines, key=lambda key: (sizes.get(key, 0), -alias_lines[key]))
        raise _Bomb(
            alias_lines[biggest],
            f"aliases would expand the file by {added:,} values (at most {ALIAS_LIMIT:,}); "
            f"this one alone repeats {sizes[biggest]:,}",
        )


def parse_yaml(text: str, shown: str) -> tuple[Any, Marks, list[Problem]]:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            _check_aliases(node, loader.alias_lines)
        data = loader.construct_document(node) if node is not None else None
    except _Bomb as exc:
        fix = "write the values out, or share fewer and smaller ones through aliases"
        return None, {}, [Problem(shown, exc.line, "", exc.message, fix)]
    except RecursionError:
        at = loader.get_mark().line + 1
        return None, {}, [Problem(shown, at, "", "nested too deeply", "flatten the YAML")]
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
