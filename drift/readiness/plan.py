"""The migration plan: the steps from environment branches to trunk-based delivery, in order,
each with this repository's evidence and first actions, or marked done with its evidence.

The order is the migration path practitioners follow: know what runs where, make one line
of integration, make builds reproducible and artifacts immutable, build once and deploy by
reference, declare environment state, move control to promotion gates and flags, and only
then retire the environment branches.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drift.topology import Topology
from drift.wording import plural, verb

Data = dict[str, Any]
Step = dict[str, Any]
LIST_LIMIT = 8


def _of(data: Data, kind: str) -> list[dict[str, Any]]:
    return [f for f in data["findings"] if f["kind"] == kind]


def _subject(data: Data, commit: str) -> str:
    return str(data["commits"].get(commit, {}).get("subject", ""))


def _listing(data: Data, findings: list[dict[str, Any]], field: str) -> list[str]:
    rows = [f"{f[field][:10]} {_subject(data, f[field])}" for f in findings[:LIST_LIMIT]]
    if len(findings) > LIST_LIMIT:
        rows.append(f"... and {len(findings) - LIST_LIMIT} more")
    return rows


def _step(
    key: str,
    title: str,
    todo: bool,
    evidence: list[str],
    actions: list[str],
    findings: list[dict[str, Any]] | None = None,
) -> Step:
    return {
        "key": key,
        "title": title,
        "status": "todo" if todo else "done",
        "evidence": evidence,
        "actions": actions if todo else [],
        "findings": sorted(str(f["id"]) for f in findings or []),
    }


def release_identity(data: Data) -> Step:
    """Know which commit and tree runs in each environment, and that it was tested."""
    untested = _of(data, "untested_release")
    conflicts = _of(data, "conflict_merge")
    leaves = Topology.of_report(data["environments"]).leaf_names()
    last = leaves[0] if len(leaves) == 1 else ", ".join(leaves)
    lines = f"{last}'s line" if len(leaves) == 1 else f"the release lines ({last})"
    evidence = [
        f"{plural(len(untested), 'commit')} on {lines} ran a tree never tested as such upstream.",
        f"{plural(len(conflicts), 'merge')} {verb(len(conflicts), 'carries', 'carry')} content "
        "that neither side had.",
    ]
    actions = [
        f"Record the commit deployed to each environment (tags or deployment records), "
        f"starting with {last}.",
        "Stop resolving conflicts inside release merges; resolve them upstream and re-test:",
        *_listing(data, conflicts, "merge"),
    ]
    return _step(
        "release_identity",
        "Identify release identity",
        bool(untested or conflicts),
        evidence,
        actions,
        untested + conflicts,
    )


def establish_main(data: Data) -> Step:
    """One integration line: nothing downstream that upstream lacks."""
    missing = sorted(_of(data, "missing_hotfix"), key=lambda f: -int(f["age_days"]))
    first = data["environments"][0]["name"]
    pending = _of(data, "pending")
    evidence = [
        f"{plural(len(missing), 'fix', 'fixes')} {verb(len(missing), 'exists', 'exist')} "
        f"downstream but not on every environment above {verb(len(missing), 'it', 'them')}.",
        f"{plural(len(pending), 'change')} {verb(len(pending), 'waits', 'wait')} between "
        "adjacent environments.",
    ]
    actions = []
    if missing:
        n = len(missing)
        fixes = "downstream-only fix" if n == 1 else f"{n} downstream-only fixes"
        actions.append(f"Bring the {fixes} to {first} first:")
        actions += _listing(data, missing, "commit")
    actions.append(f"Make {first} the one integration branch (main) every change lands on first.")
    return _step("establish_main", "Establish main", bool(missing), evidence, actions, missing)


def _facts(data: Data) -> dict[str, Any] | None:
    delivery = data.get("delivery") or {}
    facts = delivery.get("summary")
    if not isinstance(facts, dict):
        return None
    built_by = {
        str(pipeline["path"])
        for env in delivery.get("environments", [])
        for pipeline in env.get("pipelines", [])
        if pipeline.get("builds_this_environment")
    }
    return {**facts, "built_by": sorted(built_by)}


def _delivery_step(
    key: str, title: str, test: Callable[[dict[str, Any]], tuple[bool, str, str]]
) -> Callable[[Data], Step]:
    def build(data: Data) -> Step:
        facts = _facts(data)
        if facts is None:
            return {
                **_step(key, title, True, ["Delivery configuration was not read."], []),
                "status": "unknown",
            }
        todo, evidence, action = test(facts)
        return _step(key, title, todo, [evidence], [action])

    return build


reproducible_builds = _delivery_step(
    "reproducible_builds",
    "Reproducible builds",
    lambda f: (
        bool(f.get("lockfiles_missing")) or int(f.get("unpinned_base_images", 0)) > 0,
        f"{plural(len(f.get('lockfiles_missing', [])), 'dependency manifest')} without a lock "
        f"file; {plural(int(f.get('unpinned_base_images', 0)), 'container base image')} not "
        "pinned by digest.",
        "Commit lock files and pin base images by digest so the same source builds the same bits.",
    ),
)
immutable_artifacts = _delivery_step(
    "immutable_artifacts",
    "Immutable artifacts",
    lambda f: (
        int(f.get("images_by_tag", 0)) > 0,
        f"{plural(n := int(f.get('images_by_tag', 0)), 'deployment manifest')} "
        f"{verb(n, 'references', 'reference')} images by tag.",
        "Reference images by digest in every environment's manifests.",
    ),
)


def _build_once(f: dict[str, Any]) -> tuple[bool, str, str]:
    if not f.get("ci_systems"):
        return (
            True,
            "No CI definition at any environment's tip: the build is defined elsewhere, "
            "or not at all.",
            "Define the build in CI, from main, once.",
        )
    if f.get("rebuild_per_environment"):
        built = f.get("built_on_push", [])
        files = sorted({p for p in f.get("built_by", []) if p})
        how = f" by {', '.join(files)}" if files else ""
        return (
            True,
            f"{built[-1] if built else 'Each environment'} is built on pushes to its own "
            f"branch{how} (as are {', '.join(built[:-1]) or 'the others'}): the artifact is "
            "rebuilt per environment.",
            "Build once from main; deploy that artifact to each environment by digest.",
        )
    return (False, "No build is triggered by an environment branch.", "")


build_once = _delivery_step("separate_build_from_deploy", "Separate build from deploy", _build_once)
declare_state = _delivery_step(
    "declare_environment_state",
    "Declare environment state",
    lambda f: (
        bool(f.get("differing_files")),
        f"{plural(n := len(f.get('differing_files', [])), 'delivery file')} "
        f"{verb(n, 'differs', 'differ')} between environment branches.",
        "Move per-environment configuration out of branches into declared state "
        "(overlays or an environment repository, GitOps).",
    ),
)


def promotion_controls(data: Data) -> Step:
    """Gates and approvals instead of hand-picked commits."""
    picks = _of(data, "cherry_pick")
    evidence = [
        f"{plural(len(picks), 'commit')} {verb(len(picks), 'was', 'were')} copied between "
        "environments by cherry-pick."
    ]
    actions = ["Replace hand-picked promotions with CI gates and approvals on one artifact."]
    return _step("promotion_controls", "Promotion controls", bool(picks), evidence, actions, picks)


def feature_flags(data: Data) -> Step:
    """Unfinished work hidden by flags, not by reverts and blocked branches."""
    reverts = _of(data, "revert")
    facts = _facts(data) or {}
    libraries = facts.get("flag_libraries") or []
    evidence = [
        f"{plural(len(reverts), 'revert')} on environment branches (work blocked by undoing it).",
        f"Feature-flag libraries in use: {', '.join(libraries) if libraries else 'none found'}.",
    ]
    actions = ["Ship unfinished or blocked work dark behind feature flags instead of reverting it."]
    return _step(
        "feature_flags", "Feature flags", bool(reverts) or not libraries, evidence, actions, reverts
    )


def _gap(divergence: dict[str, Any]) -> int:
    return int(divergence["ahead"]) + int(divergence["behind"])


def retire_branches(data: Data) -> Step:
    """Retire the environment branch whose neighbour it is closest to first."""
    pairs = [f for f in data["findings"] if f["kind"] == "divergence"]
    if not pairs:
        return _step(
            "retire_environment_branches",
            "Retire environment branches",
            False,
            ["One line of integration already."],
            [],
        )
    closest = min(pairs, key=lambda f: (_gap(f), f["downstream"]))
    gap = _gap(closest)
    evidence = [
        f"{f['upstream']} and {f['downstream']} differ by {plural(_gap(f), 'commit')}."
        for f in pairs
    ]
    actions = [
        f"{closest['upstream']} and {closest['downstream']} differ by {plural(gap, 'commit')}: "
        f"retire {closest['downstream']} first and deploy its environment from main's artifact."
    ]
    return _step(
        "retire_environment_branches", "Retire environment branches", True, evidence, actions, pairs
    )


STEPS: tuple[Callable[[Data], Step], ...] = (
    release_identity,
    establish_main,
    reproducible_builds,
    immutable_artifacts,
    build_once,
    declare_state,
    promotion_controls,
    feature_flags,
    retire_branches,
)


def migration_plan(data: Data) -> list[Step]:
    """The ordered plan; the first `todo` step is what to do first."""
    if len(data["environments"]) < 2:
        return []
    return [{"order": n, **step(data)} for n, step in enumerate(STEPS, start=1)]
