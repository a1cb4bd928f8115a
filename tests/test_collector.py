"""The collector is paused inside the block and restored as it was, even on an error."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from drift.collector import collector_paused


@pytest.fixture(autouse=True)
def restore() -> Iterator[None]:
    was = gc.isenabled()
    yield
    gc.unfreeze()
    if was:
        gc.enable()


@pytest.mark.parametrize("enabled", [True, False])
def test_restored_as_it_was_even_after_an_error(enabled: bool) -> None:
    if enabled:
        gc.enable()
    else:
        gc.disable()
    with pytest.raises(RuntimeError), collector_paused():
        assert not gc.isenabled()
        raise RuntimeError("inside")
    assert gc.isenabled() == enabled


def test_freeze_keeps_what_was_made_out_of_later_collections() -> None:
    gc.unfreeze()
    with collector_paused(freeze=True):
        made = [[n] for n in range(1000)]
    assert gc.get_freeze_count() >= len(made)
    with collector_paused():
        pass
    assert gc.get_freeze_count() >= len(made)
