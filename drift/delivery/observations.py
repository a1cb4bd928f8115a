"""The delivery scan in plain words: a few sentences a reader acts on, most important first."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from drift.delivery.scan import TipScan

_MAX_FILES = 5


def observations(
    tips: list[TipScan], differing: list[dict[str, Any]], summary: dict[str, Any]
) -> list[str]:
    """Sentences on builds, pinning, lock files, flags and drift between tips."""
    out = _builds(tips, summary)
    out += _pinning(tips, summary)
    out += _locks(summary)
    out += _flags(tips)
    out += _drift(differing)
    out += [_unreadable(tips, path) for path in summary["unreadable"]]
    return out


def _builds(tips: list[TipScan], summary: dict[str, Any]) -> list[str]:
    if not summary["ci_systems"]:
        return [
            "no CI definition at any environment's tip: the build is defined elsewhere, "
            "or not at all"
        ]
    out: list[str] = []
    for tip in tips:
        built_by = [f"{p.path} ({_where(triggers[0])})" for p, triggers in tip.built_by()]
        if built_by:
            out.append(
                f"{tip.env.name} is built on pushes to {tip.branch} by {', '.join(built_by)}"
            )
    built = summary["built_on_push"]
    if summary["rebuild_per_environment"]:
        out.append(
            f"{len(built)} environments ({', '.join(built)}) are built from their own branch: "
            f"the artifact is rebuilt per environment, so what runs on {built[-1]} is not the "
            f"build that was tested on {built[-2]}"
        )
    elif built:
        out.append(
            f"only {built[0]} is built from its own branch: build once there and promote that "
            "artifact by digest"
        )
    named = {p.path for tip in tips for p, _ in tip.built_by()}
    for path in summary["every_branch_pipelines"]:
        if path not in named:
            out.append(
                f"{path} runs on pushes to every branch: if it builds an artifact, each "
                "environment branch gets its own build"
            )
    return out


def _pinning(tips: list[TipScan], summary: dict[str, Any]) -> list[str]:
    out: list[str] = []
    bases = [b for t in tips for b in t.base_images]
    unpinned = summary["unpinned_base_images"]
    if unpinned:
        first = next(b for b in bases if not b.pinned)
        out.append(
            f"{_count(unpinned, 'Dockerfile base image')} not pinned by digest "
            f"(first: {first.path} line {first.line}, {first.image})"
        )
    elif bases:
        out.append("every Dockerfile base image is pinned by digest")
    images = [i for t in tips for i in t.images]
    tagged = summary["images_by_tag"]
    if tagged:
        first_ref = next(i for i in images if not i.pinned)
        at = f" line {first_ref.line}" if first_ref.line is not None else ""
        out.append(
            f"{_count(tagged, 'deployed image reference', ('uses', 'use'))} a tag, not a digest "
            f"(first: {first_ref.path}{at}, {first_ref.key}: {first_ref.image})"
        )
    elif images:
        out.append("every deployed image is referenced by digest")
    return out


def _locks(summary: dict[str, Any]) -> list[str]:
    missing = summary["lockfiles_missing"]
    if not missing:
        return []
    return [
        f"{_count(len(missing), 'dependency manifest', ('has', 'have'))} no lock file, so each "
        f"build resolves "
        f"versions anew: {', '.join(missing)}"
    ]


def _flags(tips: list[TipScan]) -> list[str]:
    where: dict[str, set[str]] = {}
    for flag in (f for t in tips for f in t.flags):
        where.setdefault(flag.vendor, set()).add(flag.path)
    manifests = any(t.manifests for t in tips)
    if not where:
        if not manifests:
            return []
        return [
            "no feature-flag library in any dependency manifest: unfinished work cannot yet "
            "ship dark from one trunk"
        ]
    listed = ", ".join(f"{v} ({', '.join(sorted(p))})" for v, p in sorted(where.items()))
    return [f"feature-flag libraries already in use: {listed}"]


def _drift(differing: list[dict[str, Any]]) -> list[str]:
    out: list[str] = []
    for entry in differing[:_MAX_FILES]:
        groups: dict[str, list[str]] = {}
        for env, blob in entry["blobs"].items():
            if blob is not None:
                groups.setdefault(blob, []).append(env)
        versions = " vs ".join(", ".join(envs) for envs in groups.values())
        absent = f" (absent on {', '.join(entry['missing_from'])})" if entry["missing_from"] else ""
        out.append(f"{entry['path']} differs between environment branches: {versions}{absent}")
    if len(differing) > _MAX_FILES:
        out.append(f"and {len(differing) - _MAX_FILES} more delivery files differ between branches")
    return out


def _where(trigger: dict[str, Any]) -> str:
    at = f", line {trigger['line']}" if trigger["line"] is not None else ""
    return f"{trigger['key']}{at}"


def _unreadable(tips: list[TipScan], path: str) -> str:
    where = [t for t in tips if path in t.unreadable]
    names = ", ".join(t.env.name for t in where)
    return f"{path} could not be read on {names}: {where[0].unreadable[path]}"


def _count(n: int, noun: str, verb: tuple[str, str] = ("is", "are")) -> str:
    return f"1 {noun} {verb[0]}" if n == 1 else f"{n} {noun}s {verb[1]}"
