"""The HTML report in a real headless Chromium (Debian's), driven over the DevTools protocol.

Chromium runs with `--remote-debugging-pipe`: commands and events are NUL-terminated JSON
on file descriptors 3 and 4, so no port, no websocket library and no driver are needed.
Every page load fails the test on a console error, an uncaught exception, a log entry of
level error (CSP violations land there), a dialog, or any network request besides the
report file itself. Skipped, with the reason, only where no chromium is installed; CI
(`.ci/run`) installs it.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import queue
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from drift.audit import run_audit
from drift.config import EnvSpec, Settings
from drift.render.html import render_html
from drift_fixtures.builder import RepoBuilder
from drift_fixtures.demo import build_demo
from drift_fixtures.scenarios import release_lines

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Skipped only off CI: under CI (where .ci/run installs chromium) a missing browser fails.
pytestmark = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"),
    reason="chromium is not installed (apt-get install chromium; .ci/run installs it)",
)
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--remote-debugging-pipe",
)
TIMEOUT = 30.0
DOCS = Path(__file__).resolve().parent.parent / "docs"
# Read at import: the hermetic fixture empties the environment before tests run.
UPDATE_SCREENSHOT = bool(os.environ.get("DRIFT_UPDATE_SCREENSHOT"))


class Browser:
    """One Chromium process and one page, over the DevTools pipe."""

    def __init__(self, profile: Path) -> None:
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()

        def fds() -> None:  # in the child: its fd 3 reads commands, fd 4 writes answers
            read = fcntl.fcntl(to_child_r, fcntl.F_DUPFD, 10)
            write = fcntl.fcntl(from_child_w, fcntl.F_DUPFD, 10)
            os.dup2(read, 3)
            os.dup2(write, 4)

        assert CHROMIUM is not None, "CI=true but chromium is not installed"
        self.proc = subprocess.Popen(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=fds,
            pass_fds=(3, 4, to_child_r, from_child_w),
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self._inbox: queue.Queue[dict[str, Any] | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self._next = 0
        self.events: list[dict[str, Any]] = []
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable")
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": 1366, "height": 768, "deviceScaleFactor": 1, "mobile": False},
        )
        self.send("Page.setInterceptFileChooserDialog", {"enabled": False})

    def _read(self) -> None:
        buffer = b""
        while chunk := os.read(self._from_child, 1 << 16):
            buffer += chunk
            *messages, buffer = buffer.split(b"\0")
            for message in messages:
                self._inbox.put(json.loads(message))
        self._inbox.put(None)

    def call(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None
    ) -> dict[str, Any]:
        """Send one command and wait for its answer; events seen meanwhile are kept."""
        self._next += 1
        message: dict[str, Any] = {"id": self._next, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_child, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + TIMEOUT
        while True:
            reply = self._inbox.get(timeout=max(deadline - time.monotonic(), 0.01))
            assert reply is not None, "chromium closed the pipe"
            if reply.get("id") == self._next:
                assert "error" not in reply, (method, reply["error"])
                result: dict[str, Any] = reply["result"]
                return result
            self.events.append(reply)

    def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """A command to the page's session."""
        return self.call(method, params, self.session)

    def wait_for(self, method: str) -> dict[str, Any]:
        """The first event `method` not consumed yet."""
        deadline = time.monotonic() + TIMEOUT
        while True:
            for i, event in enumerate(self.events):
                if event.get("method") == method:
                    return self.events.pop(i)
            reply = self._inbox.get(timeout=max(deadline - time.monotonic(), 0.01))
            assert reply is not None, "chromium closed the pipe"
            self.events.append(reply)

    def open(self, path: Path, javascript: bool = True) -> None:
        """Load a file; fail on anything the page should never do."""
        self.send("Emulation.setScriptExecutionDisabled", {"value": not javascript})
        self.events.clear()
        self.send("Page.navigate", {"url": path.as_uri()})
        self.wait_for("Page.loadEventFired")
        self.evaluate("1")  # flush events queued during the load
        self.assert_quiet(path)

    def assert_quiet(self, path: Path) -> None:
        """No console error, exception, error log entry, dialog or foreign request so far."""
        bad = [event for event in self.events if _forbidden(event, path.as_uri())]
        assert not bad, json.dumps(bad, indent=1)[:3000]

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (works with page scripts off)."""
        result = self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        assert "exceptionDetails" not in result, result
        return result["result"].get("value")

    def close(self) -> None:
        """End the browser process this object started."""
        with contextlib.suppress(AssertionError, queue.Empty, OSError):
            self.call("Browser.close")
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_child)


def _forbidden(event: dict[str, Any], page: str) -> bool:
    method, params = event.get("method"), event.get("params", {})
    if method == "Runtime.consoleAPICalled":
        return params.get("type") in ("error", "assert")
    if method == "Log.entryAdded":
        return bool(params["entry"]["level"] == "error")
    if method == "Network.requestWillBeSent":
        return bool(params["request"]["url"] != page)
    return method in ("Runtime.exceptionThrown", "Page.javascriptDialogOpening")


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    b = Browser(tmp_path_factory.mktemp("profile"))
    try:
        yield b
    finally:
        b.close()


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    root = tmp_path_factory.mktemp("demo")
    scenario = build_demo(root)
    data = run_audit(scenario.path, Settings()).to_dict()
    page = root / "report.html"
    page.write_text(render_html(data), encoding="utf-8")
    return page, data


HEADLINES = """Array.from(document.querySelectorAll('#summary a.num')).map(a => {
  const target = document.getElementById(a.getAttribute('href').slice(1));
  const rows = target === null ? -1 : target.matches('tr')
    ? target.querySelectorAll('a.dimrow').length
    : target.querySelectorAll('tbody tr.finding').length;
  return {text: a.textContent, kind: a.dataset.kind || null, href: a.getAttribute('href'),
          claimed: Number(a.dataset.rows), rows: rows};
})"""


def test_headline_numbers_equal_the_json_and_link_to_that_many_rows(
    browser: Browser, demo_report: tuple[Path, dict[str, Any]]
) -> None:
    page, data = demo_report
    browser.open(page)
    links = browser.evaluate(HEADLINES)
    by_kind = data["summary"]["by_kind"]
    risks = [link for link in links if link["kind"]]
    assert len(risks) == 3
    for link in risks:
        assert int(link["text"]) == by_kind[link["kind"]] == link["rows"], link
    for link in links:
        assert link["claimed"] == link["rows"], link
    score = browser.evaluate("document.querySelector('#score .ring text').textContent")
    assert int(score) == data["summary"]["readiness"]["score"]
    verdict = browser.evaluate("document.getElementById('verdict').textContent")
    assert 0 < len(verdict.split()) <= 40


def test_filtering_and_sorting_work(
    browser: Browser, demo_report: tuple[Path, dict[str, Any]]
) -> None:
    page, data = demo_report
    browser.open(page)
    pending = [f for f in data["findings"] if f["kind"] == "pending"]
    target = pending[0]
    subject = data["commits"][target["commit"]]["subject"]
    shown = browser.evaluate(
        f"""(() => {{
        const s = document.getElementById('kind-pending');
        const input = s.querySelector('input.filter');
        input.value = {json.dumps(target["commit"][:12])};
        input.dispatchEvent(new Event('input'));
        return Array.from(s.querySelectorAll('tbody tr')).filter(r => !r.hidden)
          .map(r => r.textContent);
        }})()"""
    )
    assert len(shown) == 1 and subject in shown[0]
    ages = browser.evaluate(
        """(() => {
        const s = document.getElementById('kind-pending');
        const input = s.querySelector('input.filter');
        input.value = ''; input.dispatchEvent(new Event('input'));
        const col = Array.from(s.querySelectorAll('thead th')).findIndex(
          th => th.textContent.startsWith('age'));
        const button = s.querySelectorAll('thead th')[col].querySelector('button');
        button.click(); button.click();
        return Array.from(s.querySelectorAll('tbody tr'))
          .map(r => Number(r.cells[col].dataset.sort));
        })()"""
    )
    assert ages == sorted((f["age_days"] for f in pending), reverse=True)
    browser.assert_quiet(page)


def test_readable_without_javascript(
    browser: Browser, demo_report: tuple[Path, dict[str, Any]]
) -> None:
    page, data = demo_report
    browser.open(page, javascript=False)
    try:
        assert browser.evaluate("document.documentElement.className") == "nojs"
        text = browser.evaluate("document.body.innerText")
        assert "Verdict" in text and "What to do first" in text
        assert "Lead time" in text  # a delivery tile
        rows = browser.evaluate("document.querySelectorAll('tr.finding').length")
        assert rows == len(data["findings"])
        visible = browser.evaluate(
            "document.getElementById('kind-missing_hotfix').querySelector('tbody').offsetHeight"
        )
        assert visible > 0
    finally:
        browser.send("Emulation.setScriptExecutionDisabled", {"value": False})


def test_first_screen_screenshot_and_summary_prints_on_two_pages(
    browser: Browser, demo_report: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    page, _ = demo_report
    browser.open(page)
    shot = base64.b64decode(browser.send("Page.captureScreenshot", {"format": "png"})["data"])
    assert shot.startswith(b"\x89PNG")
    (tmp_path / "first-screen.png").write_bytes(shot)
    if UPDATE_SCREENSHOT:
        (DOCS / "report-first-screen.png").write_bytes(shot)
    pages = {}
    for size, (width, height) in {"a4": (8.27, 11.69), "letter": (8.5, 11.0)}.items():
        pdf = base64.b64decode(
            browser.send("Page.printToPDF", {"paperWidth": width, "paperHeight": height})["data"]
        )
        assert pdf.startswith(b"%PDF")
        pages[size] = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert 1 <= pages["a4"] <= 2 and 1 <= pages["letter"] <= 2, pages
    browser.assert_quiet(page)


PAYLOAD = "</script><img src=x onerror=alert(1)>"


def test_hostile_subject_and_branch_name_stay_text(browser: Browser, tmp_path: Path) -> None:
    b = RepoBuilder.init(tmp_path / "evil")
    b.commit("base", {"app.py": "1\n"}, label="base")
    branch = "prod-</script><img/src=x/onerror=alert(1)>"
    b.branch(branch, "dev")
    b.commit(PAYLOAD, {"app.py": "2\n"}, label="evil")
    settings = Settings(envs=(EnvSpec("dev"), EnvSpec(PAYLOAD, f"refs/heads/{branch}")))
    data = run_audit(b.path, settings).to_dict()
    assert data["environments"][1]["name"] == PAYLOAD
    page = tmp_path / "evil.html"
    page.write_text(render_html(data), encoding="utf-8")
    browser.open(page)
    assert browser.evaluate("document.images.length") == 0
    assert browser.evaluate("document.scripts.length") == 2
    text = browser.evaluate("document.body.innerText")
    assert PAYLOAD in text
    embedded = browser.evaluate("JSON.parse(document.getElementById('report-data').textContent)")
    assert embedded["environments"][1]["name"] == PAYLOAD
    browser.assert_quiet(page)


def test_the_watch_catches_errors_and_requests(browser: Browser, tmp_path: Path) -> None:
    """The checks above are not vacuous: a console error and a request each fail a load."""
    page = tmp_path / "noisy.html"
    page.write_text("<!DOCTYPE html><script>console.error('boom')</script><img src='x.png'>")
    with pytest.raises(AssertionError) as failure:
        browser.open(page)
    assert "boom" in str(failure.value) and "x.png" in str(failure.value)


def test_a_link_to_a_collapsed_section_opens_it(
    browser: Browser, demo_report: tuple[Path, dict[str, Any]]
) -> None:
    page, _ = demo_report
    browser.open(page)
    closed = "document.querySelector('#kind-promotion_merge details').open"
    assert browser.evaluate(closed) is False
    browser.evaluate("location.hash = '#kind-promotion_merge'")
    browser.evaluate("new Promise(r => setTimeout(r, 50))")
    assert browser.evaluate(closed) is True
    browser.assert_quiet(page)


def test_print_with_evidence_prints_every_section(
    browser: Browser, demo_report: tuple[Path, dict[str, Any]]
) -> None:
    page, _ = demo_report
    browser.open(page)
    browser.evaluate(
        "document.body.classList.add('print-evidence');"
        "document.querySelectorAll('details').forEach(d => { d.open = true; })"
    )
    pdf = base64.b64decode(browser.send("Page.printToPDF", {})["data"])
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) > 2
    browser.assert_quiet(page)


def test_a_tree_of_release_lines_renders_quietly(browser: Browser, tmp_path: Path) -> None:
    """Release lines (a tree): the page loads without an error or request, shows the tree, and
    its headline numbers link to as many rows as in a chain report."""
    scenario = release_lines(tmp_path)
    data = run_audit(scenario.path, Settings()).to_dict()
    assert data["settings"]["topology"] == "tree"
    page = tmp_path / "tree.html"
    page.write_text(render_html(data), encoding="utf-8")
    browser.open(page)
    for link in browser.evaluate(HEADLINES):
        assert link["claimed"] == link["rows"], link
    text = browser.evaluate("document.body.innerText")
    assert "main \u2192 release/2.x, main \u2192 release/1.x" in text
    assert "Merges between release lines" in text
    rows = browser.evaluate(
        "document.querySelectorAll('#kind-cross_merge tbody tr.finding').length"
    )
    assert rows == data["summary"]["by_kind"]["cross_merge"] == 1
    browser.assert_quiet(page)
