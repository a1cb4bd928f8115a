"""The HTML report without a browser: escaping, anchors, links to web hosts, re-rendering."""

from __future__ import annotations

import base64
import copy
import hashlib
import itertools
import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import jinja2
import pytest
from markupsafe import escape

from drift import report as report_module
from drift.audit import run_audit
from drift.cli import main
from drift.config import Settings
from drift.render import dora_bands, load
from drift.render.headline import points_lost, verdict_sentence
from drift.render.html import environment, render_html, tiles
from drift.render.webhost import commit_url_template
from drift_fixtures.demo import build_demo
from drift_fixtures.expect import Scenario
from tests.small_repos import four_envs

PAYLOAD = "</script><img src=x onerror=alert(1)>"
ID = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    return build_demo(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="module")
def demo_data(demo: Scenario) -> dict[str, Any]:
    return run_audit(demo.path, Settings()).to_dict()


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    b = four_envs(tmp_path_factory.mktemp("small"))
    return run_audit(b.path, Settings()).to_dict()


def _hostile(data: dict[str, Any]) -> dict[str, Any]:
    """The report with a hostile subject, author and environment name everywhere."""
    data = copy.deepcopy(data)
    for info in data["commits"].values():
        info["subject"] = PAYLOAD
        info["author"] = PAYLOAD
    data["environments"][0]["name"] = PAYLOAD
    data["notes"] = [PAYLOAD]
    return data


def test_untrusted_text_is_escaped_and_embedded_only_as_json(small: dict[str, Any]) -> None:
    page = render_html(_hostile(small))
    assert "<img" not in page
    assert page.count("</script>") == 2  # the data block's and the code's own
    assert "&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in page
    block = re.search(
        r'<script type="application/json" id="report-data">(.*?)</script>', page, re.S
    )
    assert block is not None
    assert json.loads(block.group(1))["notes"] == [PAYLOAD]


def test_csp_forbids_requests_and_allows_only_the_report_script(small: dict[str, Any]) -> None:
    page = render_html(small)
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert csp is not None
    assert "default-src 'none'" in csp.group(1)
    code = re.search(r"<script>(.*?)</script>", page, re.S)
    assert code is not None
    digest = base64.b64encode(hashlib.sha256(code.group(1).encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in csp.group(1)
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)


def test_templates_are_strict() -> None:
    env = environment()
    assert env.undefined is jinja2.StrictUndefined
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ missing }}").render()


def test_every_finding_has_one_row_with_its_id(demo_data: dict[str, Any]) -> None:
    page = render_html(demo_data)
    for finding in demo_data["findings"]:
        assert page.count(f'<tr id="{finding["id"]}" class="finding"') == 1
    for commit in {f["commit"] for f in demo_data["findings"] if "commit" in f}:
        assert f'value="{commit}"' in page  # the full id, copyable


def test_points_lost_sum_to_what_the_score_lost(demo_data: dict[str, Any]) -> None:
    readiness = demo_data["summary"]["readiness"]
    assert sum(d["lost"] for d in points_lost(readiness)) == 100 - readiness["score"]
    capped = copy.deepcopy(readiness)
    for dim in capped["dimensions"]:
        dim["score"] = 100
    capped["score"], capped["blockers"] = 79, ["1 fix is missing upstream"]
    lost = points_lost(capped)
    assert sum(d["lost"] for d in lost) == 21 and lost[-1]["name"] == "cap"


def test_verdict_is_one_short_sentence(demo_data: dict[str, Any]) -> None:
    sentence = verdict_sentence(demo_data)
    assert len(sentence.split()) <= 40
    assert sentence.startswith("Not ready (far, 23/100)")


@pytest.mark.parametrize(
    ("remote", "url"),
    [
        ("git@github.com:acme/shop.git", f"https://github.com/acme/shop/commit/{ID}"),
        ("https://github.com/acme/shop", f"https://github.com/acme/shop/commit/{ID}"),
        (
            "ssh://git@gitlab.example.com:2222/g/sub/shop.git",
            f"https://gitlab.example.com/g/sub/shop/-/commit/{ID}",
        ),
        ("https://bitbucket.org/acme/shop.git", f"https://bitbucket.org/acme/shop/commits/{ID}"),
        (
            "https://acme@dev.azure.com/acme/Shop/_git/shop",
            f"https://dev.azure.com/acme/Shop/_git/shop/commit/{ID}",
        ),
        (
            "git@ssh.dev.azure.com:v3/acme/Shop/shop",
            f"https://dev.azure.com/acme/Shop/_git/shop/commit/{ID}",
        ),
        ("/srv/git/shop.git", None),
        (None, None),
    ],
)
def test_commit_links_per_web_host(remote: str | None, url: str | None) -> None:
    template = commit_url_template(remote)
    assert (template.replace("{commit}", ID) if template else None) == url


def test_commits_link_to_the_web_host(small: dict[str, Any]) -> None:
    data = copy.deepcopy(small)
    data["repository"]["remote_url"] = "git@github.com:acme/shop.git"
    commit = next(f["commit"] for f in data["findings"] if f["kind"] == "pending")
    assert f'href="https://github.com/acme/shop/commit/{commit}"' in render_html(data)
    custom = render_html(small, "https://git.example/c/{commit}")
    assert f'href="https://git.example/c/{commit}"' in custom


def test_report_rerenders_a_saved_json_identically(demo: Scenario, tmp_path: Path) -> None:
    json_path, first, second = tmp_path / "r.json", tmp_path / "a.html", tmp_path / "b.html"
    md = tmp_path / "r.md"
    args = ["--json", str(json_path), "--html", str(first), "--markdown", str(md)]
    assert main(["audit", str(demo.path), *args]) == 0
    assert main(["report", str(json_path), "--html", str(second)]) == 0
    assert first.read_bytes() == second.read_bytes()
    assert md.read_text().startswith("## drift: readiness")


def test_report_refuses_what_is_not_a_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    for text, words in (
        (None, "cannot read"),
        ("{", "is not JSON"),
        ("[]", "is not a drift report"),
        ('{"schema_version": 99, "findings": []}', "schema 99"),
    ):
        if text is not None:
            bad.write_text(text)
        assert main(["report", str(bad), "--html", str(tmp_path / "x.html")]) == 2
        err = capsys.readouterr().err
        assert words in err and err.count("\n") == 1
    assert not (tmp_path / "x.html").exists()


def _cut(data: dict[str, Any], what: str) -> dict[str, Any]:
    """A real report with one piece taken out or broken, as a hand edit or a tool might."""
    cut = copy.deepcopy(data)
    if what == "finding without id":
        del cut["findings"][0]["id"]
    elif what == "finding not an object":
        cut["findings"][0] = [1]
    elif what == "environment without name":
        cut["environments"][0] = {}
    else:
        del cut[what]
    return cut


CUTS = [*load._TOP, "finding without id", "finding not an object", "environment without name"]


@pytest.mark.parametrize("what", CUTS)
def test_a_report_missing_what_views_read_is_refused_in_one_line(
    small: dict[str, Any], what: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`drift report` and `--previous` once failed halfway through a view (exit 3)."""
    whole, bad = tmp_path / "whole.json", tmp_path / "bad.json"
    whole.write_text(json.dumps(small))
    bad.write_text(json.dumps(_cut(small, what)))
    html = tmp_path / "x.html"
    assert main(["report", str(whole), "--html", str(html)]) == 0  # the report as drift wrote it
    html.unlink()
    assert main(["report", str(bad), "--html", str(html), "--markdown", "-"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"drift: error: {bad} ")  # without summary or findings: older checks
    assert err.count("\n") == 1 and not html.exists()


def test_a_previous_report_missing_what_views_read_is_refused(
    small: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    b = four_envs(tmp_path / "repo")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(_cut(small, "settings")))
    code = main(["audit", str(b.path), "-q", "--previous", str(bad), "--html", "-"])
    assert code == 2
    assert (
        capsys.readouterr().err
        == f"drift: error: {bad} is not a whole drift report: no settings (dict)\n"
    )


def test_a_report_saved_as_utf16_renders_as_the_utf8_one(
    small: dict[str, Any], tmp_path: Path
) -> None:
    """PowerShell 5's `>` saves a report as UTF-16 with a byte-order mark: JSON allows it."""
    utf8, utf16 = tmp_path / "a.json", tmp_path / "b.json"
    utf8.write_text(json.dumps(small), encoding="utf-8")
    utf16.write_bytes(json.dumps(small).encode("utf-16"))
    pages = [tmp_path / "a.html", tmp_path / "b.html"]
    for saved, page in zip((utf8, utf16), pages, strict=True):
        assert main(["report", str(saved), "--html", str(page)]) == 0
    assert pages[0].read_bytes() == pages[1].read_bytes()


def _deeper(data: dict[str, Any], what: str) -> dict[str, Any]:
    """A real report with a value below the top level broken, as a hand edit might."""
    broken = copy.deepcopy(data)
    if what == "summary null":
        broken["summary"] = None
    elif what == "an age that is a word":
        for finding in broken["findings"]:
            if "age_days" in finding:
                finding["age_days"] = "old"
    elif what == "metrics null":
        broken["metrics"] = None
    elif what == "no environments":
        broken["environments"] = []
    return broken


@pytest.mark.parametrize(
    "what", ["summary null", "an age that is a word", "metrics null", "no environments"]
)
def test_a_report_broken_below_the_top_is_refused_in_one_line(
    small: dict[str, Any], what: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Once an internal error (exit 3) from inside a view: now the file's fault, in one line,
    and no view half written."""
    bad, page, md = tmp_path / "bad.json", tmp_path / "x.html", tmp_path / "x.md"
    bad.write_text(json.dumps(_deeper(small, what)))
    assert main(["report", str(bad), "--html", str(page), "--markdown", str(md)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"drift: error: {bad} ") and err.count("\n") == 1
    assert not page.exists() and not md.exists()


def test_the_broken_report_is_named_not_the_good_previous_one(
    small: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`drift report BROKEN --previous GOOD`: the view's failure once blamed GOOD alone."""
    bad, good = tmp_path / "bad.json", tmp_path / "good.json"
    bad.write_text(json.dumps(_deeper(small, "no environments")))
    good.write_text(json.dumps(small))
    page = tmp_path / "x.html"
    assert main(["report", str(bad), "--previous", str(good), "--html", str(page)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"drift: error: {bad} ") and not page.exists()


def test_a_previous_report_broken_below_the_top_is_refused_in_one_line(
    small: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    b = four_envs(tmp_path / "repo")
    broken = copy.deepcopy(small)
    broken["summary"]["by_kind"] = None
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(broken))
    assert main(["audit", str(b.path), "-q", "--previous", str(bad), "--markdown", "-"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"drift: error: {bad} is not a report as drift writes it")
    assert err.count("\n") == 1


def test_loader_reads_the_schema_the_engine_writes() -> None:
    assert load.SCHEMA_VERSION == report_module.SCHEMA_VERSION


def test_renderers_import_neither_pygit2_nor_networkx() -> None:
    code = (
        "import sys, drift.render.html, drift.render.markdown, drift.render.load; "
        "print(sorted(m for m in ('pygit2', 'networkx') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_previous_report_gives_deltas(small: dict[str, Any], tmp_path: Path) -> None:
    older = copy.deepcopy(small)
    older["summary"]["readiness"]["score"] = small["summary"]["readiness"]["score"] - 5
    older["summary"]["by_kind"]["pending"] = small["summary"]["by_kind"]["pending"] + 2
    older["settings"]["as_of"] = "2020-01-31T00:00:00Z"
    now_path, old_path = tmp_path / "now.json", tmp_path / "old.json"
    now_path.write_text(json.dumps(small))
    old_path.write_text(json.dumps(older))
    page, md = tmp_path / "r.html", tmp_path / "r.md"
    args = ["--previous", str(old_path), "--html", str(page), "--markdown", str(md)]
    assert main(["report", str(now_path), *args]) == 0
    score = small["summary"]["readiness"]["score"]
    assert f"Since the report of 2020-01-31: {score - 5} &rarr; {score} (+5)" in page.read_text()
    assert "(\u22122 since the last report)" in md.read_text()


def test_long_tables_are_cut_with_a_pointer_to_the_json(
    small: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("drift.render.evidence.MAX_ROWS", 1)
    pending = [f for f in small["findings"] if f["kind"] == "pending"]
    assert len(pending) > 1
    page = render_html(small)
    assert page.count('class="finding" data-dims=') <= len(small["summary"]["by_kind"])
    assert f"{len(pending) - 1} more in report.json." in page


class _Structure(HTMLParser):
    """Collects what the accessibility checks need from a page."""

    def __init__(self) -> None:
        super().__init__()
        self.svgs: list[dict[str, str | None]] = []
        self.tables = 0
        self.captions = 0
        self.headers_without_scope = 0
        self.headings: list[int] = []
        self.svg_children: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "svg":
            self.svgs.append(dict(attrs))
            self.svg_children = []
        elif tag in ("title", "desc") and self.svgs:
            self.svg_children.append(tag)
        elif tag == "table":
            self.tables += 1
        elif tag == "caption":
            self.captions += 1
        elif tag == "th" and "scope" not in dict(attrs):
            self.headers_without_scope += 1
        elif re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self.svgs[-1]["children"] = " ".join(self.svg_children)


def test_charts_tables_and_headings_are_accessible(demo_data: dict[str, Any]) -> None:
    page = _Structure()
    page.feed(render_html(demo_data))
    assert len(page.svgs) >= 5
    for svg in page.svgs:
        assert svg["role"] == "img" and svg["aria-labelledby"], svg
        assert svg["children"] is not None and svg["children"].startswith("title desc"), svg
    assert page.tables == page.captions and page.headers_without_scope == 0
    assert page.headings[0] == 1 and page.headings.count(1) == 1
    assert all(b - a <= 1 for a, b in itertools.pairwise(page.headings))


def test_a_kind_added_later_still_renders(small: dict[str, Any]) -> None:
    data = copy.deepcopy(small)
    commit = next(iter(data["commits"]))
    data["findings"].append({"id": "stale_branch-1", "kind": "stale_branch", "commit": commit})
    assert '<tr id="stale_branch-1" class="finding"' in render_html(data)


def test_change_fail_tile_and_trunk_measures_render(demo_data: dict[str, Any]) -> None:
    page = render_html(demo_data)
    fail = demo_data["metrics"]["change_fail_proxy"]
    assert fail["releases"] >= 5 and fail["share"] is not None
    title = f"releases of {fail['env']} followed within {fail['days']} days by a hotfix or revert"
    assert title in page
    assert f"{round(100 * fail['share'], 1)} %" in page
    assert f"{fail['followed']} of {fail['releases']} releases" in page
    for commit in fail["releases_followed"]:
        assert f"<code>{commit[:10]}</code>" in page
    trunk = demo_data["metrics"]["trunk"]
    assert 'id="trunk"' in page and "Trunk-based measures from history" in page
    merges = trunk["merge_days"]
    assert f"{merges['days_with_merges']} of {merges['days']} days" in page
    assert f"<strong>{trunk['freeze_windows']['count']}</strong> freeze" in page
    assert "DORA bands not drawn" not in page


def test_dora_strips_place_each_value_in_the_cited_years_bands(demo_data: dict[str, Any]) -> None:
    """Three tiles have a DORA counterpart; each strip says where its own value falls."""
    page = render_html(demo_data)
    assert f"DORA's published performance bands of {dora_bands.YEAR}" in page
    assert "Apache DevLake" in page and "Accelerate State of DevOps 2021" in page
    shown = {t["title"]: t for t in tiles(demo_data)}
    banded = [t for t in shown.values() if "band" in t]
    assert len(banded) == 3
    scales = {
        "Lead time": dora_bands.LEAD_TIME,
        "Change-fail proxy": dora_bands.CHANGE_FAILURE,
        "Releases of": dora_bands.DEPLOY_FREQUENCY,
    }
    for title, tile in shown.items():
        scale = next((s for prefix, s in scales.items() if title.startswith(prefix)), None)
        if scale is None:
            assert "band" not in tile
            continue
        text = f"DORA 2021, {scale.metric.lower()}: {dora_bands.place(scale, tile['value'])}"
        assert tile["band"]["text"] == text
        assert str(escape(text)) in page
        assert str(escape(dora_bands.place(scale, tile["value"]))) in str(tile["band"]["svg"])
    lead = demo_data["metrics"]["lead_time"]["end_to_end"]["median_days"]
    assert 7 < lead < 30  # the demo's lead time falls in the gap between High and Medium
    assert (
        "in no published band"
        in shown[next(t for t in shown if t.startswith("Lead"))]["band"]["text"]
    )


def test_no_strip_without_enough_data(demo_data: dict[str, Any]) -> None:
    data = copy.deepcopy(demo_data)
    data["metrics"]["change_fail_proxy"].update(releases=4, followed=1, share=0.25)
    fail = next(t for t in tiles(data) if t["title"].startswith("Change-fail"))
    assert fail["value"] is None and "band" not in fail


def test_change_fail_tile_says_not_enough_data_below_five(demo_data: dict[str, Any]) -> None:
    data = copy.deepcopy(demo_data)
    data["metrics"]["change_fail_proxy"].update(releases=4, followed=1, share=0.25)
    page = render_html(data)
    start = page.index("Change-fail proxy")
    assert "Not enough data</span> <small>n = 4 (&lt; 5)" in page[start : start + 400]


def test_previous_report_gives_pending_deltas_per_pair(
    small: dict[str, Any],
) -> None:
    older = copy.deepcopy(small)
    series = older["metrics"]["drift_over_time"]
    last = series[0]["months"][-1]
    last["pending"] += 3
    last["oldest_days"] = (last["oldest_days"] or 0) + 2.5
    page = render_html(small, previous=older)
    now = small["metrics"]["drift_over_time"][0]["months"][-1]
    pair = f"{series[0]['upstream']} &rarr; {series[0]['downstream']}"
    row = page[page.index('id="drift-since"') :]
    row = row[row.index(pair) :].split("</tr>", 1)[0]
    cells = re.findall(r'<td class="n">([^<]*)</td>', row)
    assert cells[:3] == [str(now["pending"] + 3), str(now["pending"]), "\u22123"]
    if now["oldest_days"] is not None:
        assert cells[5] == "\u22122.5"


def test_ladder_counts_name_one_finding_in_the_singular(demo_data: dict[str, Any]) -> None:
    counts = re.findall(r"\((\d+) (findings?): ", render_html(demo_data))
    assert ("1", "finding") in counts and any(int(n) > 1 for n, _ in counts)
    assert all((n == "1") == (word == "finding") for n, word in counts)
