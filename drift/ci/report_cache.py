"""The analysed report of a run whose inputs have not changed since an earlier run.

An audit is a function of the commits its refs reach, the repository's configuration, the
settings and drift's own code: `generated_at` is the only part that depends on the clock
(ages are measured at the newest environment tip, or at a given `--as-of`). A weekly job
that finds nothing new can then reuse the analysed report instead of walking and grouping
again. The key covers every input the analysis reads:
- every ref the analysis may read (branches, remote-tracking branches, tags) and the commit
  it points to, the HEAD, the repository's path and its configuration entries;
- the settings (the config file's content is in them) and a digest of drift's source and of
  the Python that runs it.
A repository whose objects may be missing (a partial clone), a shallow clone and a report
that lists unreadable commits are never stored: fetching objects changes their answer
without changing any ref. CI work (accepted findings, gates, baseline, history) is applied
after the cache, on every run; the `Drift-Ignore` trailers it reads are stored beside the
report (they are in commit messages, fixed by the key), so a hit reads no commit at all.
The JSON texts of the report's large sections are stored too (drift.render.json_report's
memo): a hit writes the JSON reusing every section whose value CI work left unchanged.

Entries are `marshal` data (the fastest decoder in the standard library: 0.04 s for a
100k-commit report against 0.06 s for JSON) behind a SHA-256 of the payload, checked before
it is decoded: marshal must never see a truncated or foreign file. A bad entry is a miss and
is deleted. Only the newest `KEEP` entries are kept.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import drift
from drift.collector import collector_paused
from drift.config import Settings
from drift.git.repository import GitRepository
from drift.render.json_report import Memo

FOLDER = "reports-v1"
KEEP = 8
_MAGIC = b"drift-report-cache 1\n"
_DIGEST = hashlib.sha256().digest_size


def _code_digest() -> str:
    """drift's source files and the Python version (marshal's format is the Python's)."""
    digest = hashlib.sha256(sys.version.encode())
    root = Path(drift.__file__).parent
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def report_key(repo: GitRepository, settings: Settings) -> str | None:
    """The key of this audit's inputs, or None when its answer may change without them."""
    if repo.is_partial_clone or repo.is_shallow:
        return None
    digest = hashlib.sha256()
    for part in (
        _code_digest(),
        repr(settings),
        str(repo.path.resolve()),
        repo.head_state(),
        *(f"{name}={value}" for name, value in repo.config_entries()),
        *(f"{ref.name} {ref.commit}" for ref in repo.references()),
    ):
        digest.update(part.encode("utf-8", errors="surrogateescape") + b"\n")
    return digest.hexdigest()


@dataclass
class CachedReport:
    """One entry: the report (no time in it), its trailer reasons, its JSON sections."""

    report: dict[str, Any]
    trailers: dict[str, str]
    json: Memo = field(default_factory=dict)
    """JSON texts of large sections (drift.render.json_report): tagged OWN when rendered from
    this report's own section, else by the digest of the value CI work made of it."""


class ReportCache:
    """Analysed reports by input key, in one folder of the cache directory."""

    def __init__(self, cache_dir: Path) -> None:
        self.folder = cache_dir / FOLDER
        self.notes: list[str] = []
        self.reused: Path | None = None
        """The entry this run's report came from, if it came from one."""

    def load(self, key: str) -> CachedReport | None:
        """The entry stored for `key`, or None (a miss, or an entry that failed its check)."""
        path = self.folder / key
        try:
            blob = path.read_bytes()
        except OSError:
            return None
        # A view, not a slice: the body is 20-60 MB and a slice would copy it.
        head, body = blob[: len(_MAGIC) + _DIGEST], memoryview(blob)[len(_MAGIC) + _DIGEST :]
        if head[: len(_MAGIC)] == _MAGIC and head[len(_MAGIC) :] == hashlib.sha256(body).digest():
            try:
                data = _decode(body)
            except (EOFError, ValueError, TypeError):
                data = None
            if _well_formed(data):
                os.utime(path)  # newest use: kept longest
                self.reused = path
                report, trailers = data["report"], data["trailers"]
                return CachedReport(report, trailers, data.get("json", {}))
        self.notes.append(f"cached report {path} failed its check: deleted")
        path.unlink(missing_ok=True)
        return None

    def store(self, key: str, entry: CachedReport) -> None:
        """Save an entry atomically; on any error say so and go on (the cache is optional)."""
        try:
            # The clock is not an input: the entry holds no time, a hit writes its own.
            timeless = {**entry.report, "generated_at": ""}
            # The stored report has no time, so no text may stand for the time it had.
            texts = {key: text for key, text in entry.json.items() if key != "generated_at"}
            body = marshal.dumps({"report": timeless, "trailers": entry.trailers, "json": texts})
        except ValueError as exc:  # a value marshal cannot hold: nothing to reuse
            self.notes.append(f"report not cached ({exc})")
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.folder, prefix=".tmp-", delete=False) as tmp:
                tmp.write(_MAGIC + hashlib.sha256(body).digest())
                tmp.write(body)  # not concatenated: one copy of a 20-60 MB body is enough
            os.replace(tmp.name, self.folder / key)
            self._prune()
        except OSError as exc:
            self.notes.append(f"report cache {self.folder} cannot be written ({exc})")

    def _prune(self) -> None:
        entries = sorted(
            (p for p in self.folder.iterdir() if not p.name.startswith(".")),
            key=lambda p: p.stat().st_mtime,
            reverse=True,
        )
        for stale in entries[KEEP:]:
            stale.unlink(missing_ok=True)


def _decode(body: bytes | memoryview) -> Any:
    """The entry's data, decoded out of the cycle collector's way: a 300k-commit report is
    millions of lists and dicts, which the rest of the run only reads."""
    with collector_paused(freeze=True):
        return marshal.loads(body)


def _well_formed(data: Any) -> bool:
    return (
        isinstance(data, dict)
        and isinstance(data.get("report"), dict)
        and isinstance(data["report"].get("findings"), list)
        and isinstance(data.get("trailers"), dict)
        and isinstance(data.get("json", {}), dict)
        and all(
            isinstance(v, tuple) and len(v) == 2 and all(isinstance(x, str) for x in v)
            for v in data.get("json", {}).values()
        )
    )
