"""The environment chain: which ref each environment is read from, and why.

Detection follows findings.md: branch names by role, local branches before remote-tracking
ones, work branches (release/*, hotfix/*, feature/*) never. Every choice a user might
question (a local branch that differs from its remote, main vs master) is written down in
the environment's `reason` or in the chain's notes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from drift.config import EnvSpec, Settings
from drift.errors import DriftError
from drift.git import GitRepository, RefInfo
from drift.topology import Topology

ROLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("dev", ("dev", "develop", "development", "integration")),
    ("test", ("test", "testing", "qa", "uat", "sit")),
    ("staging", ("stage", "staging", "preprod", "pre-prod")),
    ("prod", ("prod", "production", "live", "master", "main")),
)
_TRUNK_NAMES = ("master", "main")


@dataclass(frozen=True)
class Environment:
    """One environment: its name, the full ref read, its tip, and why that ref."""

    name: str
    ref: str
    commit: str
    reason: str
    upstream: str | None = None
    """The environment this one is fed from; None for the most upstream one (a root)."""


@dataclass
class Chain:
    """The environments in order, most upstream first, plus notes on how they were chosen."""

    envs: list[Environment]
    detected: bool
    notes: list[str] = field(default_factory=list)

    @property
    def topology(self) -> Topology:
        """The upstream links between the environments (a chain unless release lines exist)."""
        return Topology.of([e.name for e in self.envs], [e.upstream for e in self.envs])


class _RefIndex:
    """Branches by short name: local ones, and remote-tracking ones per remote."""

    def __init__(
        self, refs: list[RefInfo], preferred: str | None, unusable: dict[str, str] | None = None
    ) -> None:
        self.refs = refs
        self.unusable = unusable or {}
        """Refs that exist but name no commit, with why (GitRepository.unusable_references)."""
        self.local = {r.short: r for r in refs if r.name.startswith("refs/heads/")}
        self.remotes: dict[str, dict[str, RefInfo]] = {}
        for ref in refs:
            if ref.name.startswith("refs/remotes/") and "/" in ref.short:
                remote, branch = ref.short.split("/", 1)
                self.remotes.setdefault(remote, {})[branch] = ref
        names = sorted(self.remotes)
        self.remote_order = [n for n in (preferred, "origin") if n in self.remotes]
        self.remote_order += [n for n in names if n not in self.remote_order]
        self.tags = {r.short: r for r in refs if r.name.startswith("refs/tags/")}

    def branch_list(self) -> str:
        names = sorted(self.local) + [
            f"{remote}/{b}" for remote in self.remote_order for b in sorted(self.remotes[remote])
        ]
        return ", ".join(names[:40]) + (f" (and {len(names) - 40} more)" if len(names) > 40 else "")

    def remote_twin(self, name: str, commit: str, used: str = "the local branch") -> str | None:
        """A note naming every remote-tracking branch of the same name that points elsewhere
        (a stale `upstream/beta`, an old `origin/unstable`), and which one was used."""
        twins = [
            twin
            for remote in self.remote_order
            if (twin := self.remotes[remote].get(name)) is not None and twin.commit != commit
        ]
        if not twins:
            return None
        where = ", ".join(f"{t.short} points to {t.commit[:12]}" for t in twins)
        return f"{where}, not {commit[:12]}; {used} was used"


def resolve_chain(repo: GitRepository, settings: Settings) -> Chain:
    """The chain from configuration when given, else detected from branch names."""
    index = _RefIndex(repo.references(), settings.remote, repo.unusable_references())
    if settings.envs is not None:
        if len(settings.envs) < 2:
            raise DriftError(
                "at least two environments are needed to compare; "
                f"got {len(settings.envs)} ({', '.join(e.name for e in settings.envs) or 'none'})"
            )
        nameless = next((e for e in settings.envs if not e.name.strip()), None)
        if nameless is not None:  # a report, its columns and explain would show nothing
            raise DriftError(
                f"an environment has no name (ref {nameless.ref or nameless.name!r}): give "
                'each one, e.g. --envs dev,qa=test or name = "qa" in the configuration'
            )
        names = [e.name for e in settings.envs]
        duplicate = next((n for n in names if names.count(n) > 1), None)
        if duplicate is not None:
            raise DriftError(f"environment {duplicate!r} is listed twice")
        envs: list[Environment] = []
        for spec in settings.envs:
            upstream = (
                spec.upstream if spec.upstream is not None else (envs[-1].name if envs else None)
            )
            if upstream is not None and upstream not in {e.name for e in envs}:
                raise DriftError(
                    f"environment {spec.name!r}: upstream {upstream!r} must be an environment "
                    "listed before it (e.g. --envs main,release/2.x:main,release/1.x:main)"
                )
            envs.append(replace(_resolve(index, spec), upstream=upstream))
        return Chain(envs, detected=False)
    chain = _detect(index)
    chain.notes += _unusable_branches(index)
    if settings.release_lines and chain.envs:
        chain.envs += release_lines(repo, index, chain.envs, chain.notes)
    return chain


def _resolve(index: _RefIndex, spec: EnvSpec) -> Environment:
    wanted = spec.ref or spec.name
    for ref, why in _candidates(index, wanted):
        reason = why if spec.ref is None else f"configured ref {spec.ref}: {why}"
        return Environment(spec.name, ref.name, ref.commit, reason)
    for name in _full_names(index, wanted):
        if name in index.unusable:
            raise DriftError(
                f"environment {spec.name!r}: {name} {index.unusable[name]}; an environment's "
                "ref must point to a commit"
            )
    raise DriftError(
        f"environment {spec.name!r}: no branch, remote-tracking branch or tag named {wanted!r}; "
        f"branches that exist: {index.branch_list() or '(none)'}"
    )


def _full_names(index: _RefIndex, wanted: str) -> list[str]:
    """The full refs a name could stand for, in the order `_candidates` tries them."""
    names = [wanted] if wanted.startswith("refs/") else []
    names.append(f"refs/heads/{wanted}")
    names += [f"refs/remotes/{remote}/{wanted}" for remote in index.remote_order]
    names += [f"refs/remotes/{wanted}", f"refs/tags/{wanted}"]
    return names


def _unusable_branches(index: _RefIndex) -> list[str]:
    """Notes on branches detection could not consider: one named like an environment that
    points to nothing would otherwise just be absent from the chain."""
    notes = []
    for name, why in index.unusable.items():
        if name.startswith(("refs/heads/", "refs/remotes/")):
            notes.append(f"{name} {why}: it was not considered as an environment")
    return notes


def _candidates(index: _RefIndex, wanted: str) -> list[tuple[RefInfo, str]]:
    found: list[tuple[RefInfo, str]] = []
    if wanted.startswith("refs/"):
        found += [(r, "full ref as configured") for r in index.refs if r.name == wanted]
    if wanted in index.local:
        ref = index.local[wanted]
        twin = index.remote_twin(wanted, ref.commit)
        found.append((ref, "local branch" + (f" ({twin})" if twin else "")))
    for remote in index.remote_order:
        if wanted in index.remotes[remote]:
            ref = index.remotes[remote][wanted]
            twin = index.remote_twin(wanted, ref.commit, f"{ref.short} (set `remote` to choose)")
            why = f"no local branch; remote {remote}" + (f" ({twin})" if twin else "")
            found.append((ref, why))
    remote, _, branch = wanted.partition("/")
    if branch and branch in index.remotes.get(remote, {}):
        found.append((index.remotes[remote][branch], "remote-tracking branch as configured"))
    if wanted in index.tags:
        found.append((index.tags[wanted], "tag"))
    return found


def _detect(index: _RefIndex) -> Chain:
    envs: list[Environment] = []
    notes: list[str] = []
    for role, names in ROLES:
        picked = _pick_role(index, role, names, notes)
        if picked is not None:
            envs.append(replace(picked, upstream=envs[-1].name if envs else None))
    if not envs:
        raise DriftError(
            "no environment branches found (looked for dev/develop, test/qa/uat, "
            "staging/preprod, prod/production/main/master); pass --envs, e.g. "
            f"--envs dev,prod; branches that exist: {index.branch_list() or '(none)'}"
        )
    return Chain(envs, detected=True, notes=notes)


def _pick_role(
    index: _RefIndex, role: str, names: tuple[str, ...], notes: list[str]
) -> Environment | None:
    local = [n for n in names if n in index.local]
    if local:
        chosen = local[0]
        ref = index.local[chosen]
        twin = index.remote_twin(chosen, ref.commit)
        reason = "local branch (detected by name)"
        if twin:
            reason += f"; {twin}"
        _note_ambiguity(role, chosen, local, names, index, notes)
        return Environment(chosen, ref.name, ref.commit, reason)
    for remote in index.remote_order:
        matches = [n for n in names if n in index.remotes[remote]]
        if matches:
            chosen = matches[0]
            ref = index.remotes[remote][chosen]
            _note_ambiguity(role, chosen, matches, names, index, notes)
            reason = f"remote-tracking branch of {remote}, no local one (detected by name)"
            twin = index.remote_twin(chosen, ref.commit, f"{ref.short} (set `remote` to choose)")
            if twin:
                reason += f"; {twin}"
            return Environment(chosen, ref.name, ref.commit, reason)
    return None


def _note_ambiguity(
    role: str,
    chosen: str,
    matches: list[str],
    names: tuple[str, ...],
    index: _RefIndex,
    notes: list[str],
) -> None:
    others = [m for m in matches if m != chosen]
    if others:
        notes.append(
            f"{role}: {', '.join([chosen, *others])} all look like {role} environments; "
            f"used {chosen} (override with --envs or the environments key in .drift.toml)"
        )
    if role == "prod":
        trunks = [
            t
            for t in _TRUNK_NAMES
            if t in index.local or any(t in b for b in index.remotes.values())
        ]
        unused = [t for t in trunks if t != chosen]
        if chosen in _TRUNK_NAMES or unused:
            notes.append(
                f"prod: used {chosen}"
                + (
                    f"; {', '.join(unused)} also exist{'s' if len(unused) == 1 else ''} and "
                    "may be a development trunk rather than production"
                    if unused
                    else " as production because no prod/production/live branch exists"
                )
                + "; if that is wrong, pass --envs"
            )


#: Branch names of maintenance / release lines: `release/2.x`, `releases/1.4`, `rel_1_4`,
#: `version-2`, `stable/3.1`, `maint-1.2`, `1.4.x`, `v2.x`, `2.7`.
RELEASE_LINE = re.compile(
    r"(?:(?:release|releases|rel|maint|maintenance|stable|support|version)[/_-]v?\d+"
    r"(?:[._-](?:\d+|x))*|v?\d+(?:\.\d+)*\.x|v?\d+\.\d+)",
    re.IGNORECASE,
)
#: Most release lines detected automatically (the newest by tip time). Every line adds an
#: environment to every question and moves the common base back to where it forked, so a
#: repository with decades of maintenance branches names the rest in a note instead.
MAX_RELEASE_LINES = 8


def release_lines(
    repo: GitRepository, index: _RefIndex, chain: list[Environment], notes: list[str]
) -> list[Environment]:
    """Maintenance lines below the detected chain, each fed by the environment it forked from.

    A line whose tip is reachable from an environment was merged (a finished git-flow
    release branch): it holds nothing of its own, so it is left out and named in a note. The
    upstream is the environment whose merge base with the line is newest (the one it was cut
    from or last synced with); on a tie, the most downstream one, since releases are cut from
    what ships.
    """
    taken = {e.name for e in chain}
    found: dict[str, RefInfo] = {}
    for name in sorted(index.local):
        if RELEASE_LINE.fullmatch(name) and name not in taken:
            found[name] = index.local[name]
    for remote in index.remote_order:
        for name, ref in sorted(index.remotes[remote].items()):
            if RELEASE_LINE.fullmatch(name) and name not in taken and name not in found:
                found[name] = ref
    # Newest tip first, and only until enough live lines are found: a repository with
    # hundreds of old maintenance branches costs one reachability question per line kept.
    newest = sorted(found.items(), key=lambda i: repo.commit(i[1].commit).commit_time, reverse=True)
    merged: list[str] = []
    live: list[tuple[str, RefInfo]] = []
    rest: list[str] = []
    for name, ref in newest:
        if len(live) == MAX_RELEASE_LINES:
            rest.append(name)
        elif any(repo.is_ancestor(ref.commit, e.commit) for e in chain):
            merged.append(name)
        else:
            live.append((name, ref))
    if merged:
        merged.sort()
        shown = ", ".join(merged[:5]) + (f" and {len(merged) - 5} more" if len(merged) > 5 else "")
        notes.append(f"release lines fully merged into an environment were left out: {shown}")
    if rest:
        rest.sort()
        notes.append(
            f"{len(rest)} older release lines were not audited ({', '.join(rest[:5])}"
            f"{' ...' if len(rest) > 5 else ''}); list them with --envs NAME:UPSTREAM "
            "or the environments key to include them"
        )
    lines = []
    for name, ref in sorted(live, key=lambda item: _version_key(item[0]), reverse=True):
        upstream, when = _fork_point(repo, ref.commit, chain)
        kind = "local branch" if ref.name.startswith("refs/heads/") else f"{ref.short}"
        reason = (
            f"release line ({kind}, detected by name); fed by {upstream}, "
            f"its newest merge base ({when})"
        )
        lines.append(Environment(name, ref.name, ref.commit, reason, upstream))
    return lines


def _fork_point(repo: GitRepository, tip: str, chain: list[Environment]) -> tuple[str, str]:
    best: tuple[int, int, str, str] | None = None
    for position, env in enumerate(chain):
        base = repo.merge_base(tip, env.commit)
        if base is None:
            continue
        key = (repo.commit(base).commit_time, position, env.name, base)
        if best is None or key > best:
            best = key
    if best is None:
        return chain[-1].name, "no common history"
    return best[2], f"merge base {best[3][:12]}"


def _version_key(name: str) -> tuple[tuple[int, int | str], ...]:
    """Natural order, so release/10.x sorts after release/9.x."""
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", name) if part
    )
