"""Settings: defaults, then a config file, then command-line arguments.

Config lives in `.drift.toml` (top-level keys), in `[tool.drift]` of `pyproject.toml`, or in
the file named by `--config`. A broken file is reported with its path and the offending key,
never with a traceback.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from drift.errors import DriftError

MATCH_METHODS = ("trailer", "patch-id", "similar")
_KEYS = {
    "environments",
    "remote",
    "match",
    "since",
    "ignore",
    "similar_threshold",
    "all_merges",
    "commit_url",
    "gates",
    "aliases",
    "release_lines",
}
#: Default lowest score of a `similar` match (see drift/similar.py for the scale).
SIMILAR_THRESHOLD = 0.7
_IGNORE_KEYS = {"authors", "messages", "paths"}


@dataclass(frozen=True)
class EnvSpec:
    """One configured environment: a display name and the ref to read (None: by name)."""

    name: str
    ref: str | None = None
    upstream: str | None = None
    """The environment this one is fed from; None: the one listed before it (a chain)."""


@dataclass(frozen=True)
class IgnoreRules:
    """Commits drift leaves out of change grouping (still counted in ahead/behind)."""

    authors: tuple[str, ...] = ()
    """Exact names or emails (`dependabot[bot]`), or glob patterns matched against either."""
    messages: tuple[str, ...] = ()
    """Regular expressions searched in the whole commit message."""
    paths: tuple[str, ...] = ()
    """Glob patterns; a commit is ignored when every path it changes matches one."""

    def __bool__(self) -> bool:
        return bool(self.authors or self.messages or self.paths)


@dataclass(frozen=True)
class Settings:
    """Everything that shapes one audit; recorded in the report's `settings`."""

    envs: tuple[EnvSpec, ...] | None = None
    remote: str | None = None
    match: tuple[str, ...] = MATCH_METHODS
    ignore: IgnoreRules = field(default_factory=IgnoreRules)
    since: int | None = None
    similar_threshold: float = SIMILAR_THRESHOLD
    """Lowest score (0..1] at which a near-miss diff counts as a copy."""
    commit_url: str | None = None
    """Link template for commits in reports, with `{commit}` (when the host is not known)."""
    all_merges: bool = False
    """Check every merge outside the common base for conflicts, not only first-parent ones."""
    as_of: int | None = None
    allow_shallow: bool = False
    config_file: str | None = None
    aliases: tuple[tuple[str, str], ...] = ()
    """(old branch name, environment) pairs: names merge messages use for today's
    environments (a renamed `master`, a deleted `staging/1.2`)."""
    release_lines: bool = True
    """Detect maintenance lines (`release/2.x`, `1.4.x`, ...) below the detected chain."""

    def with_args(self, **overrides: Any) -> Settings:
        """These settings with command-line values (None means: not given) on top."""
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


def parse_envs(text: str) -> tuple[EnvSpec, ...]:
    """`dev,test,prod`, `dev=refs/heads/develop,prod`, or a tree of release lines
    `main,release/2.x:main,release/1.x:main` (`NAME[=REF][:UPSTREAM]`; git forbids `:` in
    branch names, so the upstream is unambiguous)."""
    specs = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        item, _, upstream = item.partition(":")
        name, _, ref = item.partition("=")
        specs.append(EnvSpec(name.strip(), ref.strip() or None, upstream.strip() or None))
    return tuple(specs)


def parse_match(text: str, origin: str = "--match") -> tuple[str, ...]:
    """`trailer,patch-id` -> a validated tuple of match methods."""
    methods = tuple(m.strip() for m in text.split(",") if m.strip())
    unknown = [m for m in methods if m not in MATCH_METHODS]
    if unknown or not methods:
        raise DriftError(
            f"{origin}: unknown match method {', '.join(unknown) or '(none)'}; "
            f"choose from {', '.join(MATCH_METHODS)}"
        )
    return methods


def parse_time(text: str, origin: str) -> int:
    """A date or ISO 8601 time (UTC unless it says otherwise) as epoch seconds."""
    if text == "now":
        return int(datetime.now(UTC).timestamp())
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            moment = datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
        else:
            moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise DriftError(f"{origin}: {text!r} is not a date (YYYY-MM-DD) or ISO 8601 time") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if not _EARLIEST <= moment < _LATEST:
        raise DriftError(
            f"{origin}: {text!r} is outside the times drift reads ({_EARLIEST:%Y-%m-%d} to "
            f"{_LATEST:%Y-%m-%d})"
        )
    return int(moment.timestamp())


# git stores commit times as seconds since 1970, so nothing is older; the metrics window and
# its calendar (months, weeks, 455 days before --as-of) must fit in datetime's years 1-9999.
_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
_LATEST = datetime(9000, 1, 1, tzinfo=UTC)


def parse_commit_url(value: object, origin: str) -> str:
    """A link template for commits: an http(s) URL with `{commit}` in it. Reports are shared
    and the template may come from the audited repository's own config, so nothing else (a
    `javascript:` or `data:` link) is ever written into a report's links."""
    if not isinstance(value, str) or "{commit}" not in value:
        raise DriftError(f"{origin}: expected a URL template containing {{commit}}")
    if not re.match(r"https?://", value, re.IGNORECASE):
        raise DriftError(f"{origin}: expected an http:// or https:// URL, got {value!r}")
    return value


def find_config(cwd: Path, explicit: Path | None) -> tuple[Path, dict[str, Any]] | None:
    """The config file in force and its drift table, or None when there is none."""
    if explicit is not None:
        if not explicit.is_file():
            what = "a folder, not a file" if explicit.is_dir() else "no such file"
            raise DriftError(f"--config {explicit}: {what}")
        return explicit, _table(explicit)
    dotfile = cwd / ".drift.toml"
    if dotfile.is_file():
        return dotfile, _table(dotfile)
    pyproject = cwd / "pyproject.toml"
    if pyproject.is_file():
        table = _read(pyproject).get("tool", {}).get("drift")
        if isinstance(table, dict):
            return pyproject, table
    return None


def _read(path: Path) -> dict[str, Any]:
    import tomllib  # 3 ms: only when there is a file to read

    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DriftError(f"{path}: not valid TOML: {exc}") from exc
    except OSError as exc:
        raise DriftError(f"{path}: cannot be read: {exc.strerror}") from exc


def _table(path: Path) -> dict[str, Any]:
    data = _read(path)
    if path.name == "pyproject.toml":
        table = data.get("tool", {}).get("drift", {})
        return table if isinstance(table, dict) else {}
    return data


def load_settings(cwd: Path, explicit: Path | None) -> Settings:
    """Defaults overlaid with the config file in force (if any)."""
    found = find_config(cwd, explicit)
    if found is None:
        return Settings()
    path, table = found
    return settings_from_table(table, str(path))


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise DriftError(f"{where}: expected a string or a list of strings")


def _env_specs(value: Any, where: str) -> tuple[EnvSpec, ...]:
    if not isinstance(value, list):
        raise DriftError(f"{where}: expected a list of names or {{name, ref, upstream}} tables")
    specs = []
    for i, item in enumerate(value):
        if isinstance(item, str):
            specs.append(EnvSpec(item))
        elif isinstance(item, dict) and isinstance(item.get("name"), str):
            extra = set(item) - {"name", "ref", "upstream"}
            ref, upstream = item.get("ref"), item.get("upstream")
            if extra or any(v is not None and not isinstance(v, str) for v in (ref, upstream)):
                raise DriftError(
                    f"{where}[{i}]: only 'name', 'ref' and 'upstream' (strings) are allowed"
                )
            specs.append(EnvSpec(item["name"], ref, upstream))
        else:
            raise DriftError(f"{where}[{i}]: expected a name or a table with 'name'")
    return tuple(specs)


def settings_from_table(table: dict[str, Any], origin: str) -> Settings:
    """Validate a config table; every error names the file and the key."""
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise DriftError(
            f"{origin}: unknown key {unknown[0]!r} (known: {', '.join(sorted(_KEYS))})"
        )
    settings = Settings(config_file=origin)
    if "environments" in table:
        settings = replace(
            settings, envs=_env_specs(table["environments"], f"{origin}: environments")
        )
    if "remote" in table:
        if not isinstance(table["remote"], str):
            raise DriftError(f"{origin}: remote: expected a string")
        settings = replace(settings, remote=table["remote"])
    if "match" in table:
        methods = _strings(table["match"], f"{origin}: match")
        settings = replace(settings, match=parse_match(",".join(methods), f"{origin}: match"))
    if "since" in table:
        since = table["since"]
        text = since.isoformat() if isinstance(since, date | datetime) else since
        if not isinstance(text, str):
            raise DriftError(f"{origin}: since: expected a date")
        settings = replace(settings, since=parse_time(text, f"{origin}: since"))
    if "ignore" in table:
        settings = replace(settings, ignore=_ignore(table["ignore"], f"{origin}: ignore"))
    if "similar_threshold" in table:
        threshold = parse_threshold(table["similar_threshold"], f"{origin}: similar_threshold")
        settings = replace(settings, similar_threshold=threshold)
    if "gates" in table:
        from drift.ci.gates import gates_from_table  # local: drift.ci imports the engine

        gates_from_table(table["gates"], f"{origin}: gates")
    if "commit_url" in table:
        settings = replace(
            settings, commit_url=parse_commit_url(table["commit_url"], f"{origin}: commit_url")
        )
    if "aliases" in table:
        settings = replace(settings, aliases=_aliases(table["aliases"], f"{origin}: aliases"))
    if "release_lines" in table:
        if not isinstance(table["release_lines"], bool):
            raise DriftError(f"{origin}: release_lines: expected true or false")
        settings = replace(settings, release_lines=table["release_lines"])
    if "all_merges" in table:
        if not isinstance(table["all_merges"], bool):
            raise DriftError(f"{origin}: all_merges: expected true or false")
        settings = replace(settings, all_merges=table["all_merges"])
    return settings


def _aliases(value: Any, where: str) -> tuple[tuple[str, str], ...]:
    """`{ master = "prod", devel = "dev" }`: old branch name -> environment name."""
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise DriftError(
            f'{where}: expected a table of old branch names, e.g. {{ master = "prod" }}'
        )
    return tuple(sorted(value.items()))


def parse_threshold(value: Any, origin: str) -> float:
    """A `similar` threshold: a number greater than 0 and at most 1."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
        raise DriftError(f"{origin}: expected a number greater than 0 and at most 1, got {value!r}")
    return float(value)


def _ignore(value: Any, where: str) -> IgnoreRules:
    if not isinstance(value, dict):
        raise DriftError(f"{where}: expected a table with authors, messages, paths")
    unknown = sorted(set(value) - _IGNORE_KEYS)
    if unknown:
        raise DriftError(f"{where}: unknown key {unknown[0]!r}")
    messages = _strings(value.get("messages", []), f"{where}.messages")
    for pattern in messages:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise DriftError(f"{where}.messages: {pattern!r} is not a valid regex: {exc}") from exc
    return IgnoreRules(
        authors=_strings(value.get("authors", []), f"{where}.authors"),
        messages=messages,
        paths=_strings(value.get("paths", []), f"{where}.paths"),
    )
