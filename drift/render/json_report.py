"""The JSON view: the report model itself, laid out for diffs and written fast.

The report and its sections are indented, one key per line; deeper down, an object that holds
only values and lists of values (a commit's facts, a count table) is one line, and an array of
objects or arrays puts one element per line, each written compactly. A finding, a commit or a
sample is then one line, so a diff of two reports reads as findings added and removed, and
each line is encoded by the json module's C encoder: `json.dumps(indent=2)` falls back to the
pure-Python encoder, which took 0.17 s for a 100k-commit report against 0.06 s for this.

A run answered from the report cache renders the same sections again: `render_json` can take
the texts of an earlier rendering (`memo`) and reuse each top-level section whose value is
unchanged. A section that is the very object its text was rendered from (`own`: the cached
report's own section, which CI work left alone) is known unchanged without looking at it; any
other is recognised by a digest of its value. At 300k commits the digests of a whole report
cost 0.09 s against 0.17 s for rendering it, so the report's own sections are never digested.
A memo holds every section of its rendering in order, so `replay_json` writes that rendering
again from the memo alone, with only the sections it is given (the clock) rendered anew.
"""

from __future__ import annotations

import hashlib
import json
import marshal
from collections.abc import Mapping
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from typing import Any

_C_ENCODER = c_make_encoder and c_make_encoder(
    None,  # no circular-reference check: a report is a tree of plain data
    json.JSONEncoder().default,  # raises TypeError for anything that is not JSON data
    encode_basestring,  # UTF-8 text, not \u escapes (ensure_ascii=False)
    None,  # one line
    ": ",
    ", ",
    False,  # keys in model order
    False,
    True,  # NaN and infinities as json.dumps writes them
)


_FALLBACK = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": "))


def _compact(value: Any) -> str:
    """`json.dumps(value, ensure_ascii=False, separators=(", ", ": "))`, by one C encoder made
    once: JSONEncoder.encode builds a new one per call, a third of the time of a finding's line
    (0.21 -> 0.17 s for a 300k-commit report). A Python without the C encoder uses json's."""
    if isinstance(value, str):
        return str(encode_basestring(value))
    if _C_ENCODER is None:
        return _FALLBACK.encode(value)
    return "".join(_C_ENCODER(value, 0))


Memo = dict[str, tuple[str, str | bytes | memoryview]]
"""Top-level key -> (tag, its JSON text) of an earlier rendering, every key in its order; the
tag is `OWN` for a text rendered from the `own` value given with it, else the digest of the
value it was rendered from (empty when the value has none: that text is never reused). A text
is a str as rendered, or its UTF-8 bytes as a cache entry keeps them (a view of the entry):
written as they are, decoded only when reused in a new rendering.
"""

OWN = "own"
"""The tag of a text rendered from the owner's own value (never a digest: those are hex)."""


def value_digest(value: Any) -> str | None:
    """A digest of plain data that is equal exactly when the values render alike.

    marshal's version 0 is canonical for equal data: it writes no back-references (version 3
    and up share objects seen twice, which depends on how the data was built) and no
    interning flags (version 1 and up), and floats by their repr. It tells True from 1 and
    -0.0 from 0.0, as JSON does. None when the value is not plain data.
    """
    try:
        return hashlib.blake2b(marshal.dumps(value, 0), digest_size=16).hexdigest()
    except ValueError:
        return None


Ahead = dict[str, tuple[Any, str]]
"""Top-level key -> (the value, its section text), rendered before the rest of the report
existed (`sections_ahead`)."""


def render_json(
    data: dict[str, Any],
    memo: Memo | None = None,
    own: Mapping[str, Any] | None = None,
    ahead: Ahead | None = None,
) -> str:
    """Deterministic JSON text (keys in model order, UTF-8, trailing newline).

    With `memo`, a top-level section reuses the text of an earlier rendering when its value is
    unchanged; afterwards `memo` holds exactly this rendering's sections, for the next run.
    `own` maps keys to the values the memo's `OWN` texts were rendered from (a cached report's
    sections): a section that is that same object is unchanged by identity. `ahead` holds
    sections rendered already (`sections_ahead`), used where the section is that same object.
    """
    earlier = dict(memo or {})
    if memo is not None:
        memo.clear()
    out: list[str] = []  # one list for every piece: the text is joined once (34 MB at 300k)
    for n, (key, item) in enumerate(data.items()):
        out.append(_opening(n, str(key)))
        done = ahead.get(str(key)) if ahead else None
        text = done[1] if done is not None and done[0] is item else None
        if memo is not None:
            out.append(_reused(str(key), item, earlier, memo, own, text))
        elif text is not None:
            out.append(text)
        else:
            _write(item, "  ", out, 1)
    out.append(_closing(bool(data)))
    return "".join(out)


def sections_ahead(sections: Mapping[str, Any]) -> Ahead:
    """Sections of a report rendered before the rest of it exists: while an audit waits for
    its metrics (drift.audit's `meanwhile`), the findings and commits, the two longest (0.4 s
    of a re-run at 100k commits). Reports must not change a section after this: `render_json`
    uses the text wherever the section is the same object."""
    return {key: (value, _section(value)) for key, value in sections.items()}


def replay_json(memo: Memo, live: Mapping[str, Any]) -> list[bytes | memoryview]:
    """The UTF-8 text of the rendering `memo` holds, in pieces, its sections named in `live`
    rendered from those values instead (a cached report's clock): no section is looked at, or
    digested, and the pieces are written as they are (drift.render.output), never joined."""
    out: list[bytes | memoryview] = []
    for n, (key, (_, text)) in enumerate(memo.items()):
        out.append(_opening(n, key).encode())
        text = _section(live[key]) if key in live else text
        out.append(utf8(text))
    out.append(_closing(bool(memo)).encode())
    return out


def utf8(text: str | bytes | memoryview) -> bytes | memoryview:
    """A memo's text as UTF-8: kept texts are already, and are written as they are."""
    return text.encode() if isinstance(text, str) else text


def _opening(n: int, key: str) -> str:
    return ("{\n" if n == 0 else ",\n") + "  " + _compact(key) + ": "


def _closing(any_key: bool) -> str:
    return "\n}\n" if any_key else "{}\n"


def _section(item: Any) -> str:
    out: list[str] = []
    _write(item, "  ", out, 1)
    return "".join(out)


def _reused(
    key: str,
    item: Any,
    earlier: Memo,
    memo: Memo,
    own: Mapping[str, Any] | None,
    text: str | None = None,
) -> str:
    """A section's text from the earlier rendering when its value is unchanged, else `text`
    (rendered ahead) or rendered now; kept in `memo` either way."""
    before = earlier.get(key)
    tag = OWN if own is not None and key in own and own[key] is item else value_digest(item)
    if before is not None and tag is not None and before[0] == tag:
        memo[key] = before  # as it was kept (bytes stay bytes for the next entry)
        return before[1] if isinstance(before[1], str) else str(before[1], "utf-8")
    if text is None:
        text = _section(item)
    memo[key] = (tag or "", text)
    return text


def _write(value: Any, indent: str, out: list[str], depth: int) -> None:
    inner = indent + "  "
    if isinstance(value, dict) and value and (depth < 2 or not _flat(value)):
        out.append("{")
        for n, (key, item) in enumerate(value.items()):
            out.append(("\n" if n == 0 else ",\n") + inner + _compact(str(key)) + ": ")
            _write(item, inner, out, depth + 1)
        out.append("\n" + indent + "}")
    elif _nested(value):
        out.append("[")
        out.append(",".join("\n" + inner + _compact(item) for item in value))
        out.append("\n" + indent + "]")
    else:
        out.append(_compact(value))


def _nested(value: Any) -> bool:
    """An array of objects or arrays. The report's arrays are homogeneous, so the first
    element tells (a mixed array would be laid out by its first element: still valid JSON)."""
    return isinstance(value, list) and bool(value) and isinstance(value[0], dict | list)


def _flat(data: dict[str, Any]) -> bool:
    """Holds only values and arrays of values (one line reads better than one per key)."""
    return not any(isinstance(v, dict) or _nested(v) for v in data.values())
