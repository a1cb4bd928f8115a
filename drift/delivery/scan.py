"""`scan_delivery`: what each environment's tip says about how it is built and deployed.

Each environment's tree is listed (no checkout) and its delivery files are read: CI
definitions, Dockerfiles, dependency manifests and lock files, Kubernetes, Kustomize and
Helm files. A file is parsed once per blob, however many tips share it. The result is a
JSON-ready dict: per environment the items found (each with its path and the line or key
that shows it), the delivery files that differ between tips, a `summary` of facts the
readiness score and the migration plan query, and `observations` in plain words.
"""

from __future__ import annotations

import functools
import hashlib
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from drift.delivery.ci import JENKINS_LEAD, JENKINS_SUFFIX, ci_system, read_pipeline
from drift.delivery.containers import (
    DOCKERFILE_LEADS,
    DOCKERFILE_SUFFIX,
    BaseImage,
    base_images,
    is_dockerfile,
)
from drift.delivery.dependencies import (
    FlagLibrary,
    Manifest,
    flag_libraries,
    is_lockfile,
    lock_status,
    manifest_parser,
    name_suffixes,
)
from drift.delivery.files import BlobText, TipFiles, TooLarge, Unreadable, basename, dirname
from drift.delivery.manifests import (
    KUSTOMIZATION,
    YAML_SUFFIXES,
    ImageRef,
    chart_roots,
    helm_images,
    kubernetes_images,
    kustomize_images,
    looks_like_kubernetes,
    manifest_kind,
)
from drift.delivery.observations import observations
from drift.delivery.triggers import Pipeline
from drift.environments import Environment
from drift.git import GitRepository
from drift.sources import add_sources

T = TypeVar("T")


@dataclass
class TipScan:
    """What one environment's tip holds."""

    env: Environment
    branch: str | None
    pipelines: list[Pipeline] = field(default_factory=list)
    base_images: list[BaseImage] = field(default_factory=list)
    manifests: list[Manifest] = field(default_factory=list)
    flags: list[FlagLibrary] = field(default_factory=list)
    images: list[ImageRef] = field(default_factory=list)
    unreadable: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    delivery: dict[str, tuple[str, str]] = field(default_factory=dict)  # path -> category, blob

    def built_by(self) -> list[tuple[Pipeline, list[dict[str, Any]]]]:
        """Pipelines that name this environment's branch in their triggers."""
        if self.branch is None:
            return []
        found = [(p, [t.to_dict() for t in p.builds_on(self.branch)]) for p in self.pipelines]
        return [(p, triggers) for p, triggers in found if triggers]

    def summary(self) -> dict[str, Any]:
        """The facts of this tip, for queries."""
        return {
            "ci_systems": sorted({p.system for p in self.pipelines}),
            "built_on_push": bool(self.built_by()),
            "every_branch_pipelines": [p.path for p in self.pipelines if p.every_branch],
            "unpinned_base_images": sum(1 for b in self.base_images if not b.pinned),
            "images_by_tag": sum(1 for i in self.images if not i.pinned),
            "lockfiles_missing": [m.path for m in self.manifests if m.status == "missing"],
            "flag_libraries": sorted({f.vendor for f in self.flags}),
            "unreadable": sorted(self.unreadable),
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        built = {p.path: triggers for p, triggers in self.built_by()}
        return {
            "name": self.env.name,
            "ref": self.env.ref,
            "branch": self.branch,
            "commit": self.env.commit,
            "pipelines": [
                {
                    "path": p.path,
                    "system": p.system,
                    "every_branch": p.every_branch,
                    "triggers": [t.to_dict() for t in p.triggers],
                    "builds_this_environment": built.get(p.path, []),
                }
                for p in self.pipelines
            ],
            "base_images": [b.to_dict() for b in self.base_images],
            "dependency_manifests": [m.to_dict() for m in self.manifests],
            "flag_libraries": [f.to_dict() for f in self.flags],
            "images": [i.to_dict() for i in self.images],
            "unreadable": [{"path": p, "reason": r} for p, r in sorted(self.unreadable.items())],
            "skipped": [{"path": p, "reason": r} for p, r in sorted(self.skipped.items())],
            "summary": self.summary(),
        }


def scan_delivery(repo: GitRepository, envs: Sequence[Environment]) -> dict[str, Any]:
    """Delivery configuration at each environment's tip, and where tips disagree.

    Keys: `environments` (per env: name, ref, branch, commit, pipelines with their
    `triggers` and `builds_this_environment`, base_images, dependency_manifests,
    flag_libraries, images, unreadable, skipped, summary), `differing_files` (path,
    category, blob per env, missing_from), `summary` (ci_systems, rebuild_per_environment,
    built_on_push, every_branch_pipelines, unpinned_base_images, images_by_tag,
    lockfiles_missing, flag_libraries, differing_files, unreadable), `observations` and
    `notes`. Counts in `summary` are of distinct (path, image) references across all tips.
    """
    scanner = _Scanner(repo)
    tips = [scanner.scan(env) for env in envs]
    differing = differing_files(tips)
    summary = _summary(tips, differing)
    notes = [
        f"{path} on {tip.env.name}: {reason}"
        for tip in tips
        for path, reason in sorted(tip.skipped.items())
    ]
    return {
        "environments": [tip.to_dict() for tip in tips],
        "differing_files": differing,
        "summary": summary,
        "observations": observations(tips, differing, summary),
        "notes": notes,
    }


def may_be_delivery(path: str) -> bool:
    """Whether `_Scanner._file` may take the file at `path`, by its path alone: a CI
    definition, a Dockerfile, a dependency manifest or lock file, a Kustomization, or YAML
    (Kubernetes, Helm values, Chart.yaml). The rest of a tree (source code) is never listed."""
    decided = delivery_name(path.rpartition("/")[2])
    return _delivery_path(path) if decided is None else decided


_DEFINING = (
    "drift.delivery.scan",
    "drift.delivery.files",
    "drift.delivery.ci",
    "drift.delivery.containers",
    "drift.delivery.dependencies",
    "drift.delivery.manifests",
)
"""The modules that decide which files a scan lists: `may_be_delivery` and what it asks,
and the vendored folders (drift.delivery.files)."""


@functools.cache
def definition() -> str:
    """A digest of what decides which files a scan lists (the source of `_DEFINING`): the
    folder listings an earlier run kept (drift.delivery.files.TipFiles) are used only under
    the same one, so an edit of any of them lists every folder again, even when nobody
    remembers why it should."""
    digest = hashlib.sha1()
    add_sources(digest, (sys.modules[name] for name in _DEFINING))
    return digest.hexdigest()[:16]


def delivery_name(name: str) -> bool | None:
    """`may_be_delivery` for every file named `name`, or None where its folder matters: only
    a requirements file in a folder named `requirements` (the CI systems' paths are all
    YAML). Asked once per name (drift.delivery.files.TipFiles), it spares the scan a look at
    each path: 57k paths of a Python tree, 31.6k names, 0.26-0.28 -> 0.15-0.18 s. A name
    with a suffix no rule takes (`_TAKEN_SUFFIXES`) that starts as no rule's name does is
    turned away without asking the rules, which cost 3 us a name (60k unique names: 0.18-0.20
    -> 0.06 s)."""
    if name.endswith((".txt", ".in")):
        return None
    dot = name.rfind(".")
    taken = dot <= 0 or name[dot + 1 :].lower() in _TAKEN_SUFFIXES
    if not taken and not name.startswith(_TAKEN_LEADS):
        return False
    return _delivery_path(name)  # as if at the root


def _suffix(name: str) -> str:
    return name.rsplit(".", 1)[1].lower()


_TAKEN_SUFFIXES = frozenset(
    {_suffix(s) for s in (*YAML_SUFFIXES, DOCKERFILE_SUFFIX, JENKINS_SUFFIX)}
    | {_suffix(name) for name in KUSTOMIZATION if "." in name}
    | name_suffixes()
)
"""The last suffix, in lower case, of every file name some rule of `_delivery_path` takes
(each rule's module says its own: names, suffixes, lock files). A name without a dot, or a
dot file, is always asked of the rules."""
_TAKEN_LEADS = (*DOCKERFILE_LEADS, JENKINS_LEAD)
"""The rules that take a name by how it starts, whatever its suffix (Dockerfile.prod)."""


def _delivery_path(path: str) -> bool:
    """The definition `may_be_delivery` answers (tests hold it to this)."""
    name = basename(path)
    return (
        name.endswith(YAML_SUFFIXES)
        or name in KUSTOMIZATION
        or ci_system(path) is not None
        or is_dockerfile(path)
        or manifest_parser(path) is not None
        or is_lockfile(path)
    )


def branch_of(ref: str) -> str | None:
    """The branch name pushes to this ref use (None for a tag)."""
    if ref.startswith("refs/heads/"):
        return ref.removeprefix("refs/heads/")
    if ref.startswith("refs/remotes/"):
        return ref.removeprefix("refs/remotes/").partition("/")[2] or None
    if ref.startswith("refs/tags/"):
        return None
    return ref


def differing_files(tips: list[TipScan]) -> list[dict[str, Any]]:
    """Delivery files whose content (blob id) is not the same at every tip, or is absent
    from some."""
    out: list[dict[str, Any]] = []
    paths = sorted({path for tip in tips for path in tip.delivery})
    for path in paths:
        entries = {tip.env.name: tip.delivery.get(path) for tip in tips}
        blobs = {name: entry[1] if entry else None for name, entry in entries.items()}
        if len(set(blobs.values())) < 2:
            continue
        category = next(entry[0] for entry in entries.values() if entry)
        missing = [name for name, blob in blobs.items() if blob is None]
        out.append({"path": path, "category": category, "blobs": blobs, "missing_from": missing})
    return out


def _summary(tips: list[TipScan], differing: list[dict[str, Any]]) -> dict[str, Any]:
    built = [tip.env.name for tip in tips if tip.built_by()]
    base = {(b.path, b.instruction, b.image) for t in tips for b in t.base_images if not b.pinned}
    tagged = {(i.path, i.key, i.image) for t in tips for i in t.images if not i.pinned}
    return {
        "ci_systems": sorted({p.system for t in tips for p in t.pipelines}),
        "rebuild_per_environment": len(built) >= 2,
        "built_on_push": built,
        "every_branch_pipelines": sorted(
            {p.path for t in tips for p in t.pipelines if p.every_branch}
        ),
        "unpinned_base_images": len(base),
        "images_by_tag": len(tagged),
        "lockfiles_missing": sorted(
            {m.path for t in tips for m in t.manifests if m.status == "missing"}
        ),
        "flag_libraries": sorted({f.vendor for t in tips for f in t.flags}),
        "differing_files": [d["path"] for d in differing],
        "unreadable": sorted({p for t in tips for p in t.unreadable}),
    }


class _Scanner:
    """Reads tips, parsing each (path, blob) once."""

    def __init__(self, repo: GitRepository) -> None:
        self.repo = repo
        self.blobs = BlobText(repo)
        self.memo: dict[tuple[str, str, str], object] = {}
        self.tips = TipFiles(repo, may_be_delivery, delivery_name, definition())

    def scan(self, env: Environment) -> TipScan:
        """Every delivery file of one environment's tip. Only files `_file` may take are
        listed: every other path it or the lookups it makes (a lock file beside a manifest,
        a chart's Chart.yaml) could ask about is one of them."""
        tip = TipScan(env, branch_of(env.ref))
        files = self.tips.files(env.commit)
        paths = set(files)
        charts = chart_roots(paths)
        for path, blob in files.items():
            try:
                self._file(tip, path, blob, paths, charts)
            except Unreadable as exc:
                tip.unreadable[path] = str(exc)
            except TooLarge as exc:
                tip.skipped[path] = str(exc)
        return tip

    def _file(self, tip: TipScan, path: str, blob: str, paths: set[str], charts: set[str]) -> None:
        system = ci_system(path)
        if system is not None:
            tip.delivery[path] = ("ci", blob)
            tip.pipelines.append(
                self._read("ci", path, blob, lambda t: read_pipeline(system, path, t))
            )
        elif is_dockerfile(path):
            tip.delivery[path] = ("container", blob)
            tip.base_images += self._read("docker", path, blob, lambda t: base_images(path, t))
        elif (parser := manifest_parser(path)) is not None:
            tip.delivery[path] = ("dependencies", blob)
            ecosystem, parse = parser
            declared = self._read("deps", path, blob, parse)
            manifest = lock_status(path, declared, paths)
            if manifest is not None:
                tip.manifests.append(manifest)
            tip.flags += flag_libraries(path, ecosystem, declared)
        elif is_lockfile(path):
            tip.delivery[path] = ("lockfile", blob)
        else:
            self._deployment(tip, path, blob, charts)

    def _deployment(self, tip: TipScan, path: str, blob: str, charts: set[str]) -> None:
        # Only Kustomize files and YAML get past `manifest_kind` (may_be_delivery relies on it).
        kind = manifest_kind(path, charts)
        in_chart = dirname(path) in charts
        if kind == "kustomize":
            tip.delivery[path] = ("kustomize", blob)
            tip.images += self._read(kind, path, blob, lambda t: kustomize_images(path, t))
        elif kind == "helm" or basename(path) == "Chart.yaml":
            images = self._read("helm", path, blob, lambda t: helm_images(path, t))
            if images or in_chart:
                tip.delivery[path] = ("helm", blob)
            tip.images += images
        elif kind == "yaml":
            if not self._read("sniff", path, blob, looks_like_kubernetes):
                return
            images, is_kubernetes = self._read(
                kind, path, blob, lambda t: kubernetes_images(path, t)
            )
            if is_kubernetes:
                tip.delivery[path] = ("kubernetes", blob)
                tip.images += images

    def _read(self, what: str, path: str, blob: str, parse: Callable[[str], T]) -> T:
        """`parse(text)` of a blob, once per (what, path, blob); failures are cached too."""
        key = (what, path, blob)
        if key not in self.memo:
            try:
                self.memo[key] = parse(self.blobs.text(blob))
            except (Unreadable, TooLarge) as exc:
                self.memo[key] = exc
            except RecursionError:
                self.memo[key] = Unreadable("nested too deeply to read")
        result = self.memo[key]
        if isinstance(result, Unreadable | TooLarge):
            raise result
        return cast(T, result)
