"""Dependency manifests, the lock files beside them, and the feature-flag libraries in them.

A build from a manifest without a lock file resolves versions on the day it runs, so
building "the same commit" for staging and then for prod can ship different code. Each
manifest gets a `status`: `locked` (a lock file beside it or, for workspaces, above it),
`pinned` (it pins every version itself: a requirements.txt of `==` pins, packages.config),
`missing`, or `no_lock_format` (Maven has none). Manifests that declare no dependencies are
not listed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from drift.delivery import depfiles
from drift.delivery.depfiles import Declared
from drift.delivery.files import ancestors, basename, dirname, join
from drift.delivery.flags import flag_vendor

_NPM_LOCKS = (
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "bun.lock",
    "bun.lockb",
)
_PY_LOCKS = ("poetry.lock", "uv.lock", "pdm.lock", "pylock.toml")
# file name -> (ecosystem, parser, lock file names, lock may sit in a folder above)
_FORMATS: dict[str, tuple[str, Callable[[str], Declared], tuple[str, ...], bool]] = {
    "pyproject.toml": ("pypi", depfiles.pyproject, _PY_LOCKS, True),
    "Pipfile": ("pypi", depfiles.pipfile, ("Pipfile.lock",), False),
    "package.json": ("npm", depfiles.package_json, _NPM_LOCKS, True),
    "go.mod": ("go", depfiles.go_mod, ("go.sum",), False),
    "Cargo.toml": ("cargo", depfiles.cargo, ("Cargo.lock",), True),
    "Gemfile": ("rubygems", depfiles.gemfile, ("Gemfile.lock",), False),
    "gems.rb": ("rubygems", depfiles.gemfile, ("gems.locked",), False),
    "composer.json": ("composer", depfiles.composer, ("composer.lock",), False),
    "pom.xml": ("maven", depfiles.pom, (), False),
    "build.gradle": ("gradle", depfiles.gradle, ("gradle.lockfile",), True),
    "build.gradle.kts": ("gradle", depfiles.gradle, ("gradle.lockfile",), True),
    "packages.config": ("nuget", depfiles.nuget, (), False),
    # declare versions for other files: read for feature-flag libraries only
    "libs.versions.toml": ("gradle", depfiles.version_catalog, (), False),
    "Directory.Packages.props": ("nuget", depfiles.nuget, (), False),
}
_FLAGS_ONLY = frozenset({"libs.versions.toml", "Directory.Packages.props"})
_PROJECT_SUFFIXES = ("csproj", "fsproj", "vbproj")
_PROJECT = re.compile(rf".*\.({'|'.join(_PROJECT_SUFFIXES)})$")
_REQUIREMENTS = re.compile(r"(.*/)?(requirements[^/]*|requirements/[^/]+)\.(txt|in)$")
LOCK_NAMES = frozenset(
    {name for _, _, locks, _ in _FORMATS.values() for name in locks} | {"packages.lock.json"}
)


def name_suffixes() -> frozenset[str]:
    """The last suffix, in lower case, of every name `manifest_parser` or `is_lockfile` may
    take (requirements files aside): drift.delivery.scan turns other names away unread."""
    names = [name for name in (*_FORMATS, *LOCK_NAMES) if "." in name]
    return frozenset(name.rsplit(".", 1)[1].lower() for name in names) | set(_PROJECT_SUFFIXES)


@dataclass(frozen=True)
class Manifest:
    """A dependency manifest and its lock status; `detail` says what was looked for."""

    path: str
    ecosystem: str
    status: str
    lockfile: str | None
    detail: str

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "path": self.path,
            "ecosystem": self.ecosystem,
            "status": self.status,
            "lockfile": self.lockfile,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class FlagLibrary:
    """A feature-flag library a manifest depends on."""

    path: str
    line: int | None
    ecosystem: str
    package: str
    vendor: str

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "path": self.path,
            "line": self.line,
            "ecosystem": self.ecosystem,
            "package": self.package,
            "vendor": self.vendor,
        }


def manifest_parser(path: str) -> tuple[str, Callable[[str], Declared]] | None:
    """(ecosystem, parser) for a dependency manifest path, None for other files."""
    name = basename(path)
    if name in _FORMATS:
        ecosystem, parser, _, _ = _FORMATS[name]
        return ecosystem, parser
    if _PROJECT.fullmatch(name):
        return "nuget", depfiles.nuget
    if _REQUIREMENTS.fullmatch(path):
        return "pypi", depfiles.requirements
    return None


def is_lockfile(path: str) -> bool:
    """A lock file of one of the ecosystems above."""
    return basename(path) in LOCK_NAMES


def lock_status(path: str, declared: Declared, paths: set[str]) -> Manifest | None:
    """The manifest's lock status among the tip's `paths`; None when there is nothing to lock."""
    parsed = manifest_parser(path)
    name = basename(path)
    if parsed is None or not declared.dependencies or name in _FLAGS_ONLY:
        return None
    ecosystem = parsed[0]
    if _REQUIREMENTS.fullmatch(path):
        return _requirements_status(path, declared, paths)
    if name == "pom.xml":
        return Manifest(path, ecosystem, "no_lock_format", None, "Maven has no lock file")
    if name == "packages.config":
        return Manifest(path, ecosystem, "pinned", None, "packages.config pins exact versions")
    locks, above = (
        (("packages.lock.json",), False)
        if _PROJECT.fullmatch(name)
        else (
            _FORMATS[name][2],
            _FORMATS[name][3],
        )
    )
    folders = ancestors(dirname(path)) if above else [dirname(path)]
    for folder in folders:
        for lock in locks:
            if join(folder, lock) in paths:
                return Manifest(path, ecosystem, "locked", join(folder, lock), "")
    where = "beside it or in a folder above" if above else "beside it"
    return Manifest(path, ecosystem, "missing", None, f"no {_either(locks)} {where}")


def flag_libraries(path: str, ecosystem: str, declared: Declared) -> list[FlagLibrary]:
    """The feature-flag libraries among a manifest's dependencies."""
    catalogue = "maven" if ecosystem == "gradle" else ecosystem
    found = []
    for dep in declared.dependencies:
        vendor = flag_vendor(catalogue, dep.name)
        if vendor is not None:
            found.append(FlagLibrary(path, dep.line, ecosystem, dep.name, vendor))
    return found


def _requirements_status(path: str, declared: Declared, paths: set[str]) -> Manifest | None:
    stem, suffix = path.rsplit(".", 1)
    if suffix == "txt" and f"{stem}.in" in paths:
        return None  # compiled from requirements.in: a lock file, listed with its source
    if suffix == "in":
        lock = f"{stem}.txt"
        if lock in paths:
            return Manifest(path, "pypi", "locked", lock, "")
        return Manifest(path, "pypi", "missing", None, f"no {basename(lock)} compiled from it")
    if not declared.unpinned:
        return Manifest(path, "pypi", "pinned", None, "every requirement pinned with ==")
    first = declared.unpinned[0]
    detail = (
        f"{len(declared.unpinned)} of {len(declared.dependencies)} requirements not pinned "
        f"with == (first: {first.name}, line {first.line})"
    )
    return Manifest(path, "pypi", "missing", None, detail)


def _either(names: tuple[str, ...]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
