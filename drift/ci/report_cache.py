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
The JSON texts of the report's sections are stored too (drift.render.json_report's memo): a
hit writes the JSON reusing every section whose value CI work left unchanged. A hit of a plain
run (no CI work of its own: no gates, baseline, history or trailers) replays what the plain
run that stored the entry wrote, the JSON text and the terminal summary, without decoding the
report at all; only the time is written anew (drift.cli).

An entry is a head (trailers, terminal summaries, where each text lies), the JSON texts as
UTF-8, and the report as `marshal` data (the fastest decoder in the standard library: 0.04 s
for a 100k-commit report against 0.06 s for JSON), behind one CRC-32 of it all, checked before
anything is decoded: marshal must never see a truncated or damaged file. A CRC, not a
cryptographic digest: it guards against accidents (anyone who can write the cache folder can
write a matching digest too), at 2.6 ms for 18 MB against SHA-256's 8.6 ms. The entry is
mapped, so the texts a hit writes are never copied, and the report is decoded only when read.
A bad entry is a miss and is deleted. Only the newest `KEEP` entries are kept.
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import mmap
import os
import sys
import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import drift
from drift.collector import collector_paused
from drift.config import Settings
from drift.errors import DriftError
from drift.git.repository import GitRepository
from drift.render.json_report import Memo, utf8

FOLDER = "reports-v1"
KEEP = 8
_MAGIC = b"drift-report-cache 3\n"
_HEADER = len(_MAGIC) + 8 + 4
"""The magic, the head's length, the CRC-32 of everything after the header."""
CLOCK = "clock"
"""The tag of the clock's place in a stored memo: its text is never kept."""


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
        *(f"{name} unusable: {why}" for name, why in repo.unusable_references().items()),
        f"grafts {hashlib.sha256(grafts).hexdigest() if (grafts := repo.grafts()) else '-'}",
    ):
        digest.update(part.encode("utf-8", errors="surrogateescape") + b"\n")
    return digest.hexdigest()


@dataclass(eq=False)
class CachedReport:
    """One entry: the report (no time in it), its trailer reasons, its JSON sections, and the
    terminal summary of a plain run (drift.ci.run.CiRun.plain), which a hit can replay."""

    source: dict[str, Any] | bytes | memoryview
    """The report, or its marshal bytes (checked) until something reads it: a replayed run
    never does, and a 100k-commit report takes 0.03 s to decode."""
    trailers: dict[str, str]
    json: Memo = field(default_factory=dict)
    """JSON texts of every section of the last rendering (drift.render.json_report): tagged OWN
    when rendered from this report's own section, else by the digest of the value CI work made
    of it; the clock's text is never kept."""
    plain: bool = False
    """`json` is the rendering of a plain run: one without CI work of its own."""
    screens: dict[str, str] = field(default_factory=dict)
    """A plain run's terminal summary, by the console it was rendered for (drift.cli)."""
    clock: str = ""
    """The time of the run a stored report answers (it has none of its own): written into the
    report when it is decoded, and into a replayed JSON text."""

    @property
    def report(self) -> dict[str, Any]:
        if not isinstance(self.source, dict):
            report = _decode(self.source)
            if not isinstance(report, dict) or not isinstance(report.get("findings"), list):
                raise DriftError("a cached report passed its check but is no report")
            report["generated_at"] = self.clock
            self.source = report
        return self.source


class ReportCache:
    """Analysed reports by input key, in one folder of the cache directory."""

    def __init__(self, cache_dir: Path) -> None:
        self.folder = cache_dir / FOLDER
        self.notes: list[str] = []
        self.reused: Path | None = None
        """The entry this run's report came from, if it came from one."""

    def load(self, key: str) -> CachedReport | None:
        """The entry stored for `key`, or None (a miss, or an entry that failed its check).

        The whole file is checked; the report itself is decoded only when read."""
        path = self.folder / key
        try:
            blob = _mapped(path)
        except OSError:
            return None
        parts = _checked(blob)
        if parts is not None:
            os.utime(path)  # newest use: kept longest
            self.reused = path
            head, data = parts
            start, end = head["report"]
            return CachedReport(
                data[start:end],
                head["trailers"],
                {k: (tag, data[a:b]) for k, (tag, a, b) in head["json"].items()},
                plain=head["plain"],
                screens=head["screens"],
            )
        self.notes.append(f"cached report {path} failed its check: deleted")
        path.unlink(missing_ok=True)
        return None

    def store(self, key: str, entry: CachedReport) -> None:
        """Save an entry atomically; on any error say so and go on (the cache is optional)."""
        try:
            if isinstance(entry.source, dict):
                # The clock is not an input: the entry holds no time, a hit writes its own.
                report: bytes | memoryview = marshal.dumps({**entry.source, "generated_at": ""})
            else:
                report = entry.source  # never decoded: stored as it was read
            data: list[bytes | memoryview] = []
            spans: dict[str, tuple[str, int, int]] = {}
            at = 0
            for k, (tag, text) in timeless_texts(entry.json).items():
                data.append(utf8(text))  # kept as UTF-8: written as is, never decoded
                spans[k] = (tag, at, at + len(data[-1]))
                at = spans[k][2]
            data.append(report)
            head = marshal.dumps(
                {
                    "trailers": entry.trailers,
                    "plain": entry.plain,
                    "screens": entry.screens,
                    "json": spans,
                    "report": (at, at + len(report)),
                }
            )
        except ValueError as exc:  # a value marshal cannot hold: nothing to reuse
            self.notes.append(f"report not cached ({exc})")
            return
        crc = zlib.crc32(head)
        for piece in data:
            crc = zlib.crc32(piece, crc)
        written: str | None = None
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.folder, prefix=".tmp-", delete=False) as tmp:
                written = tmp.name
                tmp.write(_MAGIC + len(head).to_bytes(8, "little") + crc.to_bytes(4, "little"))
                # Piece by piece: one copy of a 20-60 MB entry is enough.
                tmp.write(head)
                tmp.writelines(data)
            os.replace(tmp.name, self.folder / key)
            written = None
            self._prune()
        except OSError as exc:
            self.notes.append(f"report cache {self.folder} cannot be written ({exc})")
        finally:
            if written is not None:  # not moved into place: a temporary file left is litter
                with contextlib.suppress(OSError):
                    os.unlink(written)

    def _prune(self) -> None:
        entries = sorted(
            (p for p in self.folder.iterdir() if not p.name.startswith(".")),
            key=lambda p: p.stat().st_mtime,
            reverse=True,
        )
        for stale in entries[KEEP:]:
            stale.unlink(missing_ok=True)


def _mapped(path: Path) -> bytes | mmap.mmap:
    """The entry's bytes, mapped where the system allows replacing a mapped file (POSIX): the
    pages are read where they are, not copied (18 MB at 100k commits). The mapping stays
    valid, unchanged, when a later run replaces the entry: it holds the file it opened."""
    if os.name != "posix":
        return path.read_bytes()
    with path.open("rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        return mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) if size else b""


def _checked(blob: bytes | mmap.mmap) -> tuple[dict[str, Any], memoryview] | None:
    """An entry's head (trailers, screens, where each text and the report lie) and a view of
    the data its spans index, if the whole entry passes its check and the head is well formed."""
    if blob[: len(_MAGIC)] != _MAGIC or len(blob) < _HEADER:
        return None
    length = int.from_bytes(blob[len(_MAGIC) : len(_MAGIC) + 8], "little")
    crc = int.from_bytes(blob[len(_MAGIC) + 8 : _HEADER], "little")
    # Views, not slices: the entry is 20-60 MB and a slice would copy it.
    body = memoryview(blob)[_HEADER:]
    if length > len(body) or zlib.crc32(body) != crc:
        return None
    try:
        head = _decode(body[:length])
    except (EOFError, ValueError, TypeError):
        return None
    data = body[length:]
    return (head, data) if _well_formed(head, len(data)) else None


def _decode(body: bytes | memoryview) -> Any:
    """The entry's data, decoded out of the cycle collector's way: a 300k-commit report is
    millions of lists and dicts, which the rest of the run only reads."""
    with collector_paused(freeze=True):
        return marshal.loads(body)


def timeless_texts(memo: Memo) -> Memo:
    """The texts an entry keeps of a rendering: the stored report has no time, so no text may
    stand for the time it had; its place is kept, for a replay to write its own time there."""
    return {k: (CLOCK, b"") if k == "generated_at" else text for k, text in memo.items()}


def _well_formed(head: Any, size: int) -> bool:
    def span(value: Any) -> bool:
        return (
            isinstance(value, tuple)
            and len(value) == 2
            and all(type(x) is int for x in value)
            and 0 <= value[0] <= value[1] <= size
        )

    return (
        isinstance(head, dict)
        and isinstance(head.get("trailers"), dict)
        and isinstance(head.get("plain"), bool)
        and isinstance(head.get("screens"), dict)
        and all(isinstance(t, str) for t in head["screens"].values())
        and span(head.get("report"))
        and isinstance(head.get("json"), dict)
        and all(
            isinstance(v, tuple) and len(v) == 3 and isinstance(v[0], str) and span(v[1:])
            for v in head["json"].values()
        )
    )
