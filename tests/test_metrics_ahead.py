"""The delivery metrics begun in a forked child give the same report as the metrics computed in
process, survive a child that fails at any step, and leave no process behind."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from drift.audit import run_audit
from drift.config import EnvSpec, Settings
from drift.git.repository import GitRepository
from drift.readiness import ahead as ahead_module
from drift.readiness import metrics as metrics_module
from drift.readiness import timeline as timeline_module
from drift.readiness import window as window_module
from drift.readiness.ahead import MetricsAhead
from drift.readiness.metrics import Draft
from drift.readiness.window import Window
from drift_fixtures import messy, scenarios
from drift_fixtures.demo import build_demo
from drift_fixtures.expect import Scenario
from drift_fixtures.metrics_scenarios import arrivals_and_hotfixes, hotfix_picked_back
from tests.probes import audit_with_jobs as audit

pytestmark = pytest.mark.skipif(
    sys.platform != "linux" or len(os.sched_getaffinity(0)) < 2, reason="needs Linux and two cores"
)


def built(name: str, root: Path) -> tuple[Path, Settings]:
    """A repository whose metrics list findings of every kind they point at, and its chain."""
    if name == "demo":
        return build_demo(root).path, Settings()
    scenario = {"arrivals_and_hotfixes": arrivals_and_hotfixes, "hotfix": hotfix_picked_back}[name](
        root
    )
    return scenario.path, Settings(envs=tuple(EnvSpec(e) for e in scenario.envs))


def record(monkeypatch: pytest.MonkeyPatch) -> tuple[list[bool], list[str]]:
    """Whether each audit's metrics were begun by a child, and the drafts made in this
    process (a child's are not seen here)."""
    forks: list[bool] = []
    drafts: list[str] = []
    start, draft = MetricsAhead.start.__func__, metrics_module.draft_metrics  # type: ignore[attr-defined]

    def spy_start(cls: type[MetricsAhead], *args: Any) -> MetricsAhead:
        made: MetricsAhead = start(cls, *args)
        forks.append(made.forked)
        return made

    def spy_draft(*args: Any, **kwargs: Any) -> Draft:
        drafts.append(str(os.getpid()))
        result: Draft = draft(*args, **kwargs)
        return result

    monkeypatch.setattr(MetricsAhead, "start", classmethod(spy_start))
    monkeypatch.setattr("drift.audit.draft_metrics", spy_draft)
    return forks, drafts


@pytest.mark.parametrize("name", ["demo", "arrivals_and_hotfixes", "hotfix"])
def test_the_metrics_begun_in_a_child_are_the_metrics_made_here(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, settings = built(name, tmp_path)
    forks, drafts = record(monkeypatch)
    here = audit(path, monkeypatch, "1", settings)
    assert forks == [False] and drafts == [str(os.getpid())]
    forked = audit(path, monkeypatch, None, settings)
    assert forks == [False, True]
    assert drafts == [str(os.getpid())]  # the child's answer was used: no draft made here
    assert forked == here
    assert _pointed(here["metrics"]), "the metrics list findings: the child got those it needs"


def _pointed(metrics: dict[str, Any]) -> list[str]:
    """Every finding id the metrics list (the ones the child must have been sent)."""
    found: list[str] = []

    def visit(value: Any, key: str = "") -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                visit(v, k)
        elif isinstance(value, list):
            if key == "findings":
                found.extend(v for v in value if isinstance(v, str))
            for v in value:
                visit(v)

    visit(metrics)
    return found


@pytest.mark.parametrize("step", ["read", "draft", "finish", "send", "aside"])
def test_a_failing_child_is_replaced_by_the_metrics_made_here(
    step: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The child fails reading the window, drafting (the grouping sent is never read),
    finishing (nor the findings), or this process cannot hand it anything: the same report,
    made here. Or the grandchild the child sets drift over time aside in fails: the child
    computes it itself, and its answer is still the one used."""
    path = build_demo(tmp_path).path
    expected = audit(path, monkeypatch, "1")
    parent = os.getpid()
    real: Callable[..., Any]

    def broken(*args: Any, **kwargs: Any) -> Any:
        if os.getpid() != parent:
            raise RuntimeError("the child cannot go on")
        return real(*args, **kwargs)

    if step == "read":
        real = window_module.read_window
        monkeypatch.setattr("drift.audit.read_window", broken)
    elif step == "draft":
        real = metrics_module.draft_metrics
        monkeypatch.setattr("drift.audit.draft_metrics", broken)
    elif step == "finish":
        real = metrics_module.finish_metrics
        monkeypatch.setattr("drift.audit.finish_metrics", broken)
    elif step == "aside":
        real = timeline_module.drift_over_time
        failed = tmp_path / "the grandchild failed"

        def in_grandchild_only(*args: Any, **kwargs: Any) -> Any:
            if parent not in (os.getpid(), os.getppid()):
                failed.write_text(str(os.getpid()), encoding="utf-8")
                raise RuntimeError("the grandchild cannot go on")
            return real(*args, **kwargs)

        monkeypatch.setattr("drift.readiness.metrics.drift_over_time", in_grandchild_only)
    else:
        monkeypatch.setattr(ahead_module, "frame", lambda answer: _unmarshallable())
    forks, drafts = record(monkeypatch)
    assert audit(path, monkeypatch, None) == expected
    assert forks == [True]
    if step == "aside":
        assert failed.exists()  # a grandchild was forked, and failed
        assert drafts == []  # no draft made here: the child answered


def test_a_child_that_fails_stops_the_grandchild_it_began(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The child fails finishing while its grandchild is still at drift over time: the
    grandchild is killed and reaped as the child leaves. Left running, it would hold the
    child's answer pipe open, and this process would wait for it (here 30 s) before making
    the metrics itself."""
    path = build_demo(tmp_path).path
    expected = audit(path, monkeypatch, "1")
    parent = os.getpid()
    began = tmp_path / "grandchild"
    over_time, finish = timeline_module.drift_over_time, metrics_module.finish_metrics

    def slow_in_grandchild(*args: Any, **kwargs: Any) -> Any:
        if parent not in (os.getpid(), os.getppid()):
            began.write_text(str(os.getpid()), encoding="utf-8")
            time.sleep(30)
        return over_time(*args, **kwargs)

    def failing_in_child(*args: Any, **kwargs: Any) -> Any:
        if os.getpid() != parent:
            while not began.exists():  # the grandchild is at work
                time.sleep(0.01)
            raise RuntimeError("the child cannot go on")
        return finish(*args, **kwargs)

    monkeypatch.setattr("drift.readiness.metrics.drift_over_time", slow_in_grandchild)
    monkeypatch.setattr("drift.audit.finish_metrics", failing_in_child)
    start = time.monotonic()
    assert audit(path, monkeypatch, None) == expected
    assert time.monotonic() - start < 20
    with pytest.raises(ProcessLookupError):
        os.kill(int(began.read_text(encoding="utf-8")), 0)  # killed and reaped


def _unmarshallable() -> bytes:
    raise ValueError("a field marshal cannot carry")


def test_an_unneeded_child_is_reaped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An audit that stops before the metrics (an error in the grouping or the findings)
    leaves no child behind, even one still reading."""
    monkeypatch.delenv("DRIFT_JOBS", raising=False)
    path = build_demo(tmp_path).path
    repo = GitRepository.open_for_audit(path)

    def slow() -> Window:
        time.sleep(30)
        raise AssertionError("killed long before")

    def never(*args: Any) -> Any:
        raise AssertionError("not called here")

    ahead = MetricsAhead.start(repo, slow, never, never)
    assert ahead.forked and ahead._child is not None
    pid = ahead._child
    begun = time.monotonic()
    ahead.close()
    assert time.monotonic() - begun < 10
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # already reaped: no zombie left


def test_both_children_are_forked_before_any_thread_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process forked while another thread runs may inherit a lock that thread holds (and
    Python 3.12 warns): the metrics child is forked first, its sender thread started only
    when it has something to send, and the base-lines child forked before its receiver."""
    monkeypatch.delenv("DRIFT_JOBS", raising=False)
    path = build_demo(tmp_path).path
    threads: list[int] = []
    fork = os.fork

    def counted_fork() -> int:
        threads.append(threading.active_count())
        return fork()

    monkeypatch.setattr(os, "fork", counted_fork)
    run_audit(path, Settings(), now=0)
    assert threads == [1, 1]  # the metrics child, then the base-lines child


ODD: dict[str, Callable[[Path], Scenario]] = {
    **{f"scenario-{name}": build for name, build in scenarios.ALL.items()},
    **{f"messy-{name}": build for name, build in messy.ALL.items()},
}


@pytest.mark.parametrize("name", sorted(ODD))
def test_every_fixture_gives_the_same_report_with_the_children_and_without(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Octopus and criss-cross merges, unrelated roots, release lines in a tree, encodings,
    submodules: both children and no child, one report."""
    scenario = ODD[name](tmp_path)
    settings = (
        Settings()
        if scenario.detect
        else Settings(
            envs=tuple(EnvSpec(e, upstream=scenario.upstream.get(e)) for e in scenario.envs)
        )
    )
    forks, _ = record(monkeypatch)
    here = audit(scenario.path, monkeypatch, "1", settings)
    forked = audit(scenario.path, monkeypatch, None, settings)
    assert forks == ([False, True] if len(here["environments"]) > 1 else [])  # one: no audit
    assert forked == here
