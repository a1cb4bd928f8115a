"""The dependency names each kind of manifest declares, with the line that declares them."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from drift.delivery.files import Unreadable, line_of

_PEP508 = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_GO_REQUIRE = re.compile(r"^\s*(?:require\s+)?([^\s()]+)\s+(v\S+)")
_GEM = re.compile(r"""^\s*gem\s*\(?\s*['"]([^'"]+)['"]""")
_POM_DEPENDENCY = re.compile(r"<dependency>(.*?)</dependency>", re.S)
_POM_FIELD = re.compile(r"<(groupId|artifactId)>\s*([^<\s]+)\s*</\1>")
_GRADLE_COORDS = re.compile(r"""['"]([A-Za-z0-9_.\-]+):([A-Za-z0-9_.\-]+)(?::[^'"\s]*)?['"]""")
_GRADLE_MAP = re.compile(
    r"""group\s*[:=]\s*['"]([^'"]+)['"]\s*,\s*name\s*[:=]\s*['"]([^'"]+)['"]"""
)
_NUGET = re.compile(
    r"""<(?:PackageReference|PackageVersion|package)\s+(?:Include|Update|id)\s*=\s*"([^"]+)\""""
)


@dataclass(frozen=True)
class Dependency:
    """A package a manifest declares, and the line that declares it."""

    name: str
    line: int | None


@dataclass(frozen=True)
class Declared:
    """What one manifest declares; `unpinned` lists requirements not pinned with `==`."""

    dependencies: tuple[Dependency, ...]
    unpinned: tuple[Dependency, ...] = ()


def requirements(text: str) -> Declared:
    """pip requirements: `name[extras] <spec> ; markers`; options and paths are skipped."""
    deps: list[Dependency] = []
    unpinned: list[Dependency] = []
    for number, content in _logical_lines(text):
        content = re.split(r"\s#", content, maxsplit=1)[0].strip()
        if not content or content.startswith(("#", "-", ".", "/")) or "://" in content[:12]:
            continue
        match = _PEP508.match(content)
        if match is None:
            continue
        dep = Dependency(match.group(1), number)
        deps.append(dep)
        spec = content[match.end() :].split(";", 1)[0]
        if not (("==" in spec and "*" not in spec) or spec.lstrip().startswith("@")):
            unpinned.append(dep)
    return Declared(tuple(deps), tuple(unpinned))


def pyproject(text: str) -> Declared:
    """PEP 621, dependency groups, Poetry, PDM and uv dependency tables."""
    data = _toml(text)
    project, tool = _table(data, "project"), _table(data, "tool")
    strings: list[str] = list(_strings(project.get("dependencies")))
    for group in _table(project, "optional-dependencies").values():
        strings += _strings(group)
    for group in _table(data, "dependency-groups").values():
        strings += _strings(group)
    strings += _strings(_table(tool, "uv").get("dev-dependencies"))
    for group in _table(_table(tool, "pdm"), "dev-dependencies").values():
        strings += _strings(group)
    found = [Dependency(m.group(1), line_of(text, s)) for s in strings if (m := _PEP508.match(s))]
    poetry = _table(tool, "poetry")
    tables = [_table(poetry, "dependencies"), _table(poetry, "dev-dependencies")]
    tables += [_table(g, "dependencies") for g in _table(poetry, "group").values()]
    keys = [k for t in tables for k in t if k != "python"]
    return Declared(tuple(found) + tuple(Dependency(k, _key_line(text, k)) for k in keys))


def pipfile(text: str) -> Declared:
    """Pipfile `[packages]` and `[dev-packages]`."""
    data = _toml(text)
    keys = [k for section in ("packages", "dev-packages") for k in _table(data, section)]
    return Declared(tuple(Dependency(k, _key_line(text, k)) for k in keys))


def cargo(text: str) -> Declared:
    """Cargo.toml dependency tables, workspace and per-target ones, renames followed."""
    data = _toml(text)
    tables = [_table(data, s) for s in ("dependencies", "dev-dependencies", "build-dependencies")]
    tables.append(_table(_table(data, "workspace"), "dependencies"))
    for target in _table(data, "target").values():
        if isinstance(target, dict):
            tables += [_table(target, s) for s in ("dependencies", "dev-dependencies")]
    found: list[Dependency] = []
    for table in tables:
        for key, value in table.items():
            real = value.get("package") if isinstance(value, dict) else None
            found.append(Dependency(real if isinstance(real, str) else key, _key_line(text, key)))
    return Declared(tuple(found))


def version_catalog(text: str) -> Declared:
    """Gradle's `libs.versions.toml` `[libraries]`: `g:a:v`, `module = "g:a"`, group+name."""
    found: list[Dependency] = []
    for key, value in _table(_toml(text), "libraries").items():
        coords = value if isinstance(value, str) else None
        if isinstance(value, dict):
            module, group, name = value.get("module"), value.get("group"), value.get("name")
            coords = module if isinstance(module, str) else f"{group}:{name}"
        if coords:
            found.append(Dependency(":".join(coords.split(":")[:2]), _key_line(text, key)))
    return Declared(tuple(found))


def package_json(text: str) -> Declared:
    """npm `dependencies`, `devDependencies`, `optionalDependencies`, `peerDependencies`."""
    sections = ("dependencies", "devDependencies", "optionalDependencies", "peerDependencies")
    return _json_keys(text, sections, lambda name: True)


def composer(text: str) -> Declared:
    """composer.json `require` and `require-dev`, platform packages (php, ext-*) left out."""
    return _json_keys(
        text, ("require", "require-dev"), lambda n: n != "php" and not n.startswith("ext-")
    )


def go_mod(text: str) -> Declared:
    """go.mod `require` lines, single and in blocks."""
    found: list[Dependency] = []
    block = False
    for number, content in enumerate(text.splitlines(), 1):
        code = content.split("//", 1)[0].strip()
        if code.startswith("require") and code.endswith("("):
            block = True
            continue
        if block and code == ")":
            block = False
            continue
        if block or code.startswith("require "):
            match = _GO_REQUIRE.match(code)
            if match:
                found.append(Dependency(match.group(1), number))
    return Declared(tuple(found))


def gemfile(text: str) -> Declared:
    """Gemfile / gems.rb `gem "name"` lines."""
    return _line_regex(text, _GEM)


def pom(text: str) -> Declared:
    """pom.xml `<dependency>` blocks as `groupId:artifactId`."""
    found: list[Dependency] = []
    for block in _POM_DEPENDENCY.finditer(text):
        fields = {m.group(1): m.group(2) for m in _POM_FIELD.finditer(block.group(1))}
        if "groupId" in fields and "artifactId" in fields:
            at = text.count("\n", 0, block.start()) + 1
            found.append(Dependency(f"{fields['groupId']}:{fields['artifactId']}", at))
    return Declared(tuple(found))


def gradle(text: str) -> Declared:
    """build.gradle(.kts) coordinates: `"group:name:version"` and `group: ..., name: ...`."""
    found: list[Dependency] = []
    for number, content in enumerate(text.splitlines(), 1):
        for regex in (_GRADLE_COORDS, _GRADLE_MAP):
            found += [
                Dependency(f"{m.group(1)}:{m.group(2)}", number) for m in regex.finditer(content)
            ]
    return Declared(tuple(found))


def nuget(text: str) -> Declared:
    """PackageReference / PackageVersion items and packages.config `<package id>`."""
    return _line_regex(text, _NUGET)


def _line_regex(text: str, regex: re.Pattern[str]) -> Declared:
    found = [
        Dependency(m.group(1), number)
        for number, content in enumerate(text.splitlines(), 1)
        for m in regex.finditer(content)
    ]
    return Declared(tuple(found))


def _json_keys(text: str, sections: Iterable[str], keep: Callable[[str], bool]) -> Declared:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise Unreadable(f"not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise Unreadable("not a JSON object")
    names = [k for s in sections for k in _table(data, s) if keep(k)]
    return Declared(tuple(Dependency(n, line_of(text, f'"{n}"')) for n in names))


def _toml(text: str) -> dict[str, Any]:
    import tomllib  # 3 ms: only when there is a file to read

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise Unreadable(f"not valid TOML: {exc}") from exc


def _table(data: object, key: str) -> dict[str, Any]:
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, dict) else {}


def _strings(value: object) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _key_line(text: str, key: str) -> int | None:
    match = re.search(rf"""^[ \t]*["']?{re.escape(key)}["']?\s*=""", text, re.M)
    return text.count("\n", 0, match.start()) + 1 if match else line_of(text, key)


def _logical_lines(text: str) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    pending = ""
    start = 0
    for number, content in enumerate(text.splitlines(), 1):
        if not pending:
            start = number
        pending += content.rstrip().removesuffix("\\")
        if not content.rstrip().endswith("\\"):
            out.append((start, pending))
            pending = ""
    if pending:
        out.append((start, pending))
    return out
