"""The environment chain: which ref each environment is read from, and why.

Detection follows findings.md: branch names by role, local branches before remote-tracking
ones, work branches (release/*, hotfix/*, feature/*) never. Every choice a user might
question (a local branch that differs from its remote, main vs master) is written down in
the environment's `reason` or in the chain's notes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from drift.config import EnvSpec, Settings
from drift.errors import DriftError
from drift.git import GitRepository, RefInfo

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


@dataclass
class Chain:
    """The environments in order, most upstream first, plus notes on how they were chosen."""

    envs: list[Environment]
    detected: bool
    notes: list[str] = field(default_factory=list)


class _RefIndex:
    """Branches by short name: local ones, and remote-tracking ones per remote."""

    def __init__(self, refs: list[RefInfo], preferred: str | None) -> None:
        self.refs = refs
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

    def remote_twin(self, name: str, commit: str) -> str | None:
        """A note when a remote-tracking branch of the same name points elsewhere."""
        for remote in self.remote_order:
            twin = self.remotes[remote].get(name)
            if twin is not None and twin.commit != commit:
                return (
                    f"{twin.short} points to {twin.commit[:12]}, not {commit[:12]}; "
                    f"the local branch was used"
                )
        return None


def resolve_chain(repo: GitRepository, settings: Settings) -> Chain:
    """The chain from configuration when given, else detected from branch names."""
    index = _RefIndex(repo.references(), settings.remote)
    if settings.envs is not None:
        if len(settings.envs) < 2:
            raise DriftError(
                "at least two environments are needed to compare; "
                f"got {len(settings.envs)} ({', '.join(e.name for e in settings.envs) or 'none'})"
            )
        names = [e.name for e in settings.envs]
        duplicate = next((n for n in names if names.count(n) > 1), None)
        if duplicate:
            raise DriftError(f"environment {duplicate!r} is listed twice")
        return Chain([_resolve(index, spec) for spec in settings.envs], detected=False)
    return _detect(index)


def _resolve(index: _RefIndex, spec: EnvSpec) -> Environment:
    wanted = spec.ref or spec.name
    for ref, why in _candidates(index, wanted):
        reason = why if spec.ref is None else f"configured ref {spec.ref}: {why}"
        return Environment(spec.name, ref.name, ref.commit, reason)
    raise DriftError(
        f"environment {spec.name!r}: no branch, remote-tracking branch or tag named {wanted!r}; "
        f"branches that exist: {index.branch_list() or '(none)'}"
    )


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
            found.append((index.remotes[remote][wanted], f"no local branch; remote {remote}"))
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
            envs.append(picked)
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
