"""Dockerfile base images, and whether each is pinned by digest.

`FROM python:3.12-slim` names whatever that tag points to on the day of the build: two
builds of the same commit can differ. `FROM python:3.12-slim@sha256:...` cannot. Global
`ARG`s (before the first FROM) are substituted with their defaults, `FROM builder` naming an
earlier stage is not an image, and `COPY --from=image` pulls an image as well.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from drift.delivery.files import basename

_ARG = re.compile(r"^ARG\s+([A-Za-z_][A-Za-z0-9_]*)(?:=(.*))?$", re.I)
_FROM = re.compile(r"^FROM\s+(.*)$", re.I)
_COPY_FROM = re.compile(r"^(?:COPY|ADD)\b.*?--from=(\S+)", re.I)
_VAR = re.compile(
    r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::?([-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))"
)


@dataclass(frozen=True)
class BaseImage:
    """One image a Dockerfile builds from.

    `pin` is `digest` (pinned), `tag`, `untagged` (implicitly `latest`) or `unresolved` (an
    ARG with no default: the image is chosen at build time, so the file pins nothing).
    """

    path: str
    line: int
    instruction: str
    written: str
    image: str
    pin: str

    @property
    def pinned(self) -> bool:
        """Pinned by digest."""
        return self.pin == "digest"

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "path": self.path,
            "line": self.line,
            "instruction": self.instruction,
            "written": self.written,
            "image": self.image,
            "pin": self.pin,
            "pinned": self.pinned,
        }


DOCKERFILE_NAMES = ("Dockerfile", "Containerfile")
DOCKERFILE_LEADS = tuple(f"{name}." for name in DOCKERFILE_NAMES)
"""Dockerfile.prod: a Dockerfile whatever follows."""
DOCKERFILE_SUFFIX = ".dockerfile"
"""Compared with the name in lower case."""


def is_dockerfile(path: str) -> bool:
    """Dockerfile, Containerfile, Dockerfile.prod, api.Dockerfile, ..."""
    name = basename(path)
    lower = name.lower()
    return (
        name in DOCKERFILE_NAMES
        or name.startswith(DOCKERFILE_LEADS)
        or lower.endswith(DOCKERFILE_SUFFIX)
    )


def base_images(path: str, text: str) -> list[BaseImage]:
    """The images of every FROM (and COPY --from) line, stage names left out."""
    args: dict[str, str | None] = {}
    stages: set[str] = set()
    found: list[BaseImage] = []
    seen_from = False
    for number, instruction in _instructions(text):
        arg = _ARG.match(instruction)
        if arg and not seen_from:
            args[arg.group(1)] = _unquote(arg.group(2)) if arg.group(2) is not None else None
        source = _FROM.match(instruction)
        if source:
            seen_from = True
            words = [w for w in source.group(1).split() if not w.startswith("--")]
            if not words:
                continue
            if len(words) >= 3 and words[1].lower() == "as":
                stages.add(words[2].lower())
            image = _reference(path, number, "FROM", words[0], args, stages)
            if image is not None:
                found.append(image)
        copy = _COPY_FROM.match(instruction)
        if copy and not copy.group(1).isdigit():
            image = _reference(path, number, "COPY --from", copy.group(1), args, stages)
            if image is not None:
                found.append(image)
    return found


def pin_of(reference: str) -> str:
    """`digest`, `tag` or `untagged` for an image reference such as `shop:1.4.2`."""
    if "@" in reference:
        return "digest"
    last = reference.rsplit("/", 1)[-1]
    return "tag" if ":" in last else "untagged"


def _reference(
    path: str,
    number: int,
    instruction: str,
    written: str,
    args: dict[str, str | None],
    stages: set[str],
) -> BaseImage | None:
    written = _unquote(written)
    image, resolved = _substitute(written, args)
    if image.lower() in stages or image.lower() == "scratch":
        return None
    pin = pin_of(image) if resolved else "unresolved"
    return BaseImage(path, number, instruction, written, image, pin)


def _substitute(text: str, args: dict[str, str | None]) -> tuple[str, bool]:
    resolved = True

    def value(match: re.Match[str]) -> str:
        nonlocal resolved
        name = match.group(1) or match.group(4)
        current = args.get(name)
        if match.group(2) == "-" and not current:
            return match.group(3)
        if match.group(2) == "+":
            return match.group(3) if current else ""
        if current is None:
            resolved = False
            return match.group(0)
        return current

    return _VAR.sub(value, text), resolved


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def _instructions(text: str) -> list[tuple[int, str]]:
    """(first line, instruction) with comments dropped and `\\` continuations joined."""
    out: list[tuple[int, str]] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        content = raw.strip()
        if not content or content.startswith("#"):
            continue
        if not pending:
            start = number
        pending.append(content.removesuffix("\\").strip())
        if not content.endswith("\\"):
            out.append((start, " ".join(pending)))
            pending = []
    if pending:
        out.append((start, " ".join(pending)))
    return out
