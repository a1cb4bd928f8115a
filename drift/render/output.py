"""The one place that writes report files: `-` is stdout, a half-written file never stays."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from drift.errors import DriftError


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def write_output(target: str, text: str | list[bytes | memoryview]) -> None:
    """Write `text` to `target` atomically (temp file + rename), or to stdout for `-`.

    A list is UTF-8 text already, in pieces (a replayed report): written piece by piece, as
    they are, never joined (13 MB at 100k commits)."""
    if target == "-":
        try:
            if isinstance(text, list):
                sys.stdout.flush()  # after what was printed before
                sys.stdout.buffer.writelines(text)
                sys.stdout.buffer.flush()
            else:
                sys.stdout.write(text)
                sys.stdout.flush()
        except BrokenPipeError:
            raise  # a reader that stopped early (`| head`): not an error
        except OSError as exc:
            raise DriftError(f"cannot write to stdout: {exc.strerror or exc}") from exc
        return
    # Encoded at once, as a text file's write would: the same bytes, no newline translation.
    utf8 = [text.encode()] if isinstance(text, str) else text
    path = Path(target)
    if path.is_symlink():  # replace what the link points to, never the link itself
        path = path.resolve()
    if path.exists() and not path.is_file():
        # A device or pipe (`--json /dev/null`, a FIFO a CI step reads): renaming a temp file
        # over it would replace the device with a regular file, so write straight into it.
        try:
            with path.open("wb") as handle:
                handle.writelines(utf8)
        except OSError as exc:
            raise DriftError(f"cannot write {target}: {exc.strerror}") from exc
        return
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise DriftError(f"cannot write {target}: folder {folder} does not exist")
    # A folder drift may not write in (read-only, another user's), a full disk, a target that
    # is a folder: the user's to fix, so said in one line, never as a crash.
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
    except OSError as exc:
        raise DriftError(f"cannot write {target}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.writelines(utf8)
        os.chmod(temp, 0o666 & ~_umask())  # mkstemp makes 0600; reports are ordinary files
        os.replace(temp, path)
    except BaseException as exc:
        Path(temp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise DriftError(f"cannot write {target}: {exc.strerror or exc}") from exc
        raise
