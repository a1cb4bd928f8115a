"""Progress for long walks: a rich bar on a terminal, nothing in CI logs or JSON mode."""

from __future__ import annotations

from types import TracebackType
from typing import IO, TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from rich.progress import TaskID


class ProgressSink(Protocol):
    """Where the engine reports how far it got."""

    def phase(self, name: str, total: int | None = None) -> None:
        """Start a named phase; `total` None when the amount of work is unknown."""

    def advance(self, amount: int = 1) -> None:
        """Count `amount` units of the current phase as done."""


class NullProgress:
    """Shows nothing."""

    def phase(self, name: str, total: int | None = None) -> None:
        """Nothing to show."""

    def advance(self, amount: int = 1) -> None:
        """Nothing to show."""


class RichProgress:
    """A transient rich progress bar on a terminal's stderr. rich's progress module is
    imported here, not with drift: 15 ms of every run that shows no bar (CI logs, pipes)."""

    def __init__(self, stream: IO[str]) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(file=stream),
            transient=True,
        )
        self._task: TaskID | None = None

    def __enter__(self) -> RichProgress:
        self._progress.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def phase(self, name: str, total: int | None = None) -> None:
        """Replace the current bar with one for this phase."""
        if self._task is not None:
            self._progress.remove_task(self._task)
        self._task = self._progress.add_task(name, total=total)

    def advance(self, amount: int = 1) -> None:
        """Move the current bar."""
        if self._task is not None:
            self._progress.advance(self._task, amount)
