"""YAML as the delivery scan reads it: plain scalars stay text and remember their line.

PyYAML's safe loader follows YAML 1.1, which turns GitHub's `on:` into `True` and an image
tag `1.10` into the float `1.1`. Here every plain scalar stays a string (`Located`, which
also knows its line, so each finding points at one), merge keys (`<<: *defaults`) still
work, and tags a CI system defines (GitLab's `!reference`, CloudFormation's `!Ref`) load as
the plain node under them instead of failing the file.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import yaml

from drift.delivery.files import Unreadable

_MERGE = "tag:yaml.org,2002:merge"


class Located(str):
    """A string from a YAML file, with the 1-based line it starts on."""

    line: int

    def __new__(cls, value: str, line: int) -> Located:
        self = super().__new__(cls, value)
        self.line = line
        return self


@cache
def _loader() -> type[yaml.SafeLoader]:
    """Safe loading, every plain scalar a `Located` string. Built, and PyYAML imported (18 ms,
    most of it its reader's patterns), on the first YAML file a run reads: a repository
    without any, or a run whose delivery scan the cache answered, never pays for it."""
    import yaml

    def located(loader: yaml.SafeLoader, node: yaml.Node) -> Located:
        value = loader.construct_scalar(node) if isinstance(node, yaml.ScalarNode) else ""
        return Located(str(value), node.start_mark.line + 1)

    def any_tag(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
        if isinstance(node, yaml.MappingNode):
            return loader.construct_mapping(node, deep=True)
        if isinstance(node, yaml.SequenceNode):
            return loader.construct_sequence(node, deep=True)
        return located(loader, node)

    class Loader(yaml.SafeLoader):
        """Safe loading, every plain scalar a `Located` string."""

    Loader.yaml_implicit_resolvers = {
        first: [(tag, regex) for tag, regex in resolvers if tag == _MERGE]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
        if any(tag == _MERGE for tag, _ in resolvers)
    }
    Loader.add_constructor("tag:yaml.org,2002:str", located)
    Loader.add_constructor(None, any_tag)
    return Loader


def load_documents(text: str) -> list[Any]:
    """Every document of a YAML stream; `Unreadable` when the text is not valid YAML."""
    import yaml

    loader = _loader()
    try:
        return [doc for doc in yaml.load_all(text, Loader=loader) if doc is not None]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise Unreadable(f"not valid YAML{where}: {exc.problem or exc.context}") from exc
    except (yaml.YAMLError, RecursionError, ValueError, TypeError) as exc:
        raise Unreadable(f"not valid YAML: {exc}") from exc


def line(value: object) -> int | None:
    """The line a loaded string starts on (None for values that are not `Located`)."""
    return value.line if isinstance(value, Located) else None


def is_blank(value: object) -> bool:
    """An absent, empty or null scalar (`key:`, `key: ""`, `key: null`, `key: ~`)."""
    return value is None or (isinstance(value, str) and value.strip() in ("", "null", "~"))


def as_list(value: object) -> list[Any]:
    """A sequence as a list, a single scalar as a one-item list, anything else as []."""
    if isinstance(value, list):
        return value
    if isinstance(value, str) and not is_blank(value):
        return [value]
    return []


def walk(node: object, path: str = "") -> Iterator[tuple[str, object]]:
    """(key path, value) of every mapping value and list item below `node`, depth first.

    Aliases make a document a graph: each container is entered once, so a file built to
    multiply itself through anchors costs no more than its size.
    """
    seen: set[int] = set()
    stack: list[tuple[str, object, bool]] = [(path, node, False)]
    while stack:
        where, value, emit = stack.pop()
        if emit:
            yield where, value
        if not isinstance(value, dict | list) or id(value) in seen:
            continue
        seen.add(id(value))
        items = (
            [(f"{where}.{k}" if where else str(k), v) for k, v in value.items()]
            if isinstance(value, dict)
            else [(f"{where}[{i}]", v) for i, v in enumerate(value)]
        )
        stack.extend((w, v, True) for w, v in reversed(items))
