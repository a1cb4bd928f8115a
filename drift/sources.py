"""drift's own source as an input: results kept between runs are valid only for the code that
derived them."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from types import ModuleType
from typing import Any

from drift import __version__


def add_sources(digest: Any, modules: Iterable[ModuleType]) -> None:
    """Feed each module's source file to `digest` (a hashlib object): any edit of them then
    changes it, even when nobody remembers to raise a version. Where a module has no file to
    read (a frozen or zipped install), drift's version stands for it."""
    for module in modules:
        try:
            digest.update(Path(str(module.__file__)).read_bytes())
        except (OSError, TypeError):
            digest.update(f"{module.__name__} {__version__}".encode())
