"""How far a YAML file's aliases expand, bounded: one rule for rule files and environment files.

A YAML alias names a value again, so a few lines can stand for 10^9 values (the "billion laughs"
file); any step that walks the data (a template merge, a check, a location index) then never
ends. `check(node)` counts what the composed node stands for before anything is constructed
and refuses a file past `MAX_EXPANDED_VALUES`, or a value that holds itself.
"""

from __future__ import annotations

import yaml

#: How many values (mappings, lists, scalars) a file may hold once its aliases are expanded.
#: The largest real environment or rule file holds a few thousand; a billion-laughs file 10^9.
MAX_EXPANDED_VALUES = 100_000


class AliasBomb(Exception):
    """A file whose aliases expand too far or into themselves: `message` at 1-based `line`."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


def check(root: yaml.Node) -> None:
    """Raise `AliasBomb` at the smallest value whose aliases expand beyond the bound.

    That value's line is where the aliases that multiply it are written.
    """
    sizes = _expanded_sizes(root)
    if sizes[id(root)] <= MAX_EXPANDED_VALUES:
        return
    node = root
    while True:
        too_big = [c for c in _children(node) if sizes.get(id(c), 0) > MAX_EXPANDED_VALUES]
        if not too_big:
            break
        node = too_big[0]
    raise AliasBomb(
        f"YAML aliases expand this value to more than {MAX_EXPANDED_VALUES:,} values "
        "(an alias bomb?): write the values out or use fewer aliases",
        node.start_mark.line + 1,
    )


def _expanded_sizes(root: yaml.Node) -> dict[int, int]:
    """How many values each node stands for once aliases are expanded, by node id.

    An alias is the node it names again, so a shared node is counted once per use; each node
    is visited once (a file of n nodes costs O(n), whatever it expands to) and without
    recursion (nesting depth is the file's to choose). A value that holds itself is refused.
    """
    sizes: dict[int, int] = {}
    entered: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            sizes[id(node)] = 1 + sum(sizes.get(id(c), 0) for c in _children(node))
        elif id(node) in entered and id(node) not in sizes:
            # Met again while its own values are counted: it holds itself, and expanding it
            # (as every walk of the data would) never ends.
            raise AliasBomb(
                "a YAML alias here refers to a value that holds it: write the values out",
                node.start_mark.line + 1,
            )
        elif id(node) not in entered:
            entered.add(id(node))
            stack.append((node, True))
            stack.extend((c, False) for c in _children(node))
    return sizes


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []
