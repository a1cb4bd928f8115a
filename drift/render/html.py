"""The self-contained HTML report: one file, no network, readable without JavaScript.

The template context is the report dict plus a few derived values (headline risks, points
lost per dimension, rows per finding kind); every string from the repository reaches the
page through jinja2's autoescape, and the embedded JSON only through `|tojson`.
"""

from __future__ import annotations

import base64
import hashlib
from importlib import resources
from typing import Any

import jinja2

from drift.render import charts, dora_bands
from drift.render.evidence import (
    GLYPH_WORDS,
    MAX_ROWS,
    columns_of,
    dimensions_of,
    presence,
    sections,
)
from drift.render.headline import headline_risks, points_lost, signed, trend, verdict_sentence
from drift.render.lines import envs_argument, lead_rows, topology
from drift.render.webhost import commit_url_template
from drift.wording import plural

STATUS_SHAPES = {"done": "\u25cf", "todo": "\u25cb", "partial": "\u25d0"}
BAND_SHAPES = {"ready": "\u25cf", "close": "\u25d5", "work needed": "\u25d1", "far": "\u25cb"}


def environment() -> jinja2.Environment:
    """The jinja2 environment of every report template, loaded from the installed package."""
    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(_load),
        # HTML templates escape everything; Markdown ones escape with `md_escape` explicitly.
        autoescape=jinja2.select_autoescape(("html.j2",), default_for_string=True, default=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["short"] = lambda commit: (commit or "")[:10]
    env.filters["plural"] = plural
    return env


def _load(name: str) -> str:
    return resources.files("drift.templates").joinpath(name).read_text(encoding="utf-8")


def render_html(
    data: dict[str, Any],
    commit_url: str | None = None,
    previous: dict[str, Any] | None = None,
) -> str:
    """The HTML report of one report dict (with deltas since `previous`, if given)."""
    script = _load("report.js")
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    template = environment().get_template("report.html.j2")
    return template.render(
        data=data,
        script=script,
        script_hash=f"sha256-{digest}",
        trend=trend(data, previous),
        signed=signed,
        **context(data, commit_url),
    )


def context(data: dict[str, Any], commit_url: str | None = None) -> dict[str, Any]:
    """The values the template derives from the report."""
    readiness = data["summary"]["readiness"]
    names = [env["name"] for env in data["environments"]]
    tree = topology(data)
    return {
        "repo_name": repo_name(data["repository"]),
        "names": names,
        "band_shape": BAND_SHAPES.get(readiness["band"], "\u25cb"),
        "band_shapes": BAND_SHAPES,
        "bands": [(80, "ready"), (60, "close"), (40, "work needed"), (0, "far")],
        "lost": points_lost(readiness),
        "risks": headline_risks(data),
        "verdict_sentence": verdict_sentence(data),
        "first_step": next((s for s in data.get("plan", []) if s["status"] != "done"), None),
        "status_shapes": STATUS_SHAPES,
        "sections": sections(data),
        "url": commit_url_template(data["repository"].get("remote_url"), commit_url),
        "flow_chart": charts.flow_chart(data),
        "flow_rows": charts.flow_rows(data),
        "drift_charts": charts.drift_multiples(data),
        "lead_chart": charts.lead_time_chart(data),
        "lead_rows": lead_rows(data),
        "monthly_chart": charts.monthly_chart(data),
        "runs_chart": charts.runs_chart(data),
        "runs": charts.history_runs(data),
        "tiles": tiles(data),
        "dora_year": dora_bands.YEAR,
        "dora_source": dora_bands.SOURCE,
        "trunk": trunk_view(data),
        "dims_of": dimensions_of(readiness),
        "max_rows": MAX_ROWS,
        "columns_of": columns_of,
        "matrix": lambda finding: presence(finding, tree),
        "chain_text": tree.describe("\u2192"),
        "envs_arg": envs_argument(tree),
        "is_chain": tree.is_chain,
        "glyph_words": GLYPH_WORDS,
        "zip": zip,
    }


def repo_name(repository: dict[str, Any]) -> str:
    """A short name for the repository: the remote's last path part, else the folder's."""
    where = str(repository.get("remote_url") or repository.get("path") or "")
    where = where.rstrip("/").removesuffix("/.git").removesuffix(".git").rstrip("/")
    return where.replace(":", "/").rsplit("/", 1)[-1] or where


def _stat(value: Any, n: int, unit: str) -> dict[str, Any]:
    if value is None or n < 5:
        return {"value": None, "n": n, "unit": unit}
    return {"value": value, "n": n, "unit": unit}


def tiles(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Delivery tiles reconstructed from history; None where n < 5. Tiles with a DORA
    counterpart carry `band`: the strip of the cited year's bands and the value's place."""
    metrics = data.get("metrics")
    if not metrics:
        return []
    window = metrics["window"]
    span = f"{window['start'][:10]} to {window['end'][:10]}"
    out = []
    e2e = metrics["lead_time"].get("end_to_end")
    if e2e:
        out.append(
            {
                "title": f"Lead time {e2e['from']} \u2192 {e2e['to']}",
                "stat": "median (p90)",
                **_stat(e2e["median_days"], e2e["count"], "days"),
                "extra": e2e["p90_days"],
                "window": span,
                "dora": dora_bands.LEAD_TIME,
            }
        )
    hot = metrics["hotfixes"]
    back = hot.get("back_propagation") or {}
    out.append(
        {
            "title": f"Hotfix back-propagation to {back.get('to', '-')}",
            "stat": "median (p90)",
            **_stat(back.get("median_days"), back.get("count", 0), "days"),
            "extra": back.get("p90_days"),
            "window": span,
        }
    )
    out.append(
        {
            "title": "Rework proxy: hotfixes among changes",
            "stat": "share",
            **_stat(
                None if hot["rate"] is None else round(100 * hot["rate"], 1), hot["out_of"], "%"
            ),
            "extra": None,
            "window": span,
        }
    )
    fail = metrics.get("change_fail_proxy")
    if fail:
        share = fail["share"]
        out.append(
            {
                "title": (
                    f"Change-fail proxy: releases of {fail['env']} followed within "
                    f"{fail['days']} days by a hotfix or revert"
                ),
                "stat": "share",
                **_stat(None if share is None else round(100 * share, 1), fail["releases"], "%"),
                "extra": None,
                "window": span,
                "dora": dora_bands.CHANGE_FAILURE,
                "detail": f"{fail['followed']} of {fail['releases']} releases"
                + (
                    f" ({len(fail['too_recent'])} more too recent to judge)"
                    if fail["too_recent"]
                    else ""
                ),
                "ids": fail["releases_followed"],
                "by": fail["by"],
            }
        )
    cadence = metrics.get("cadence") or {}
    weeks = cadence.get("weeks", [])
    if weeks:
        releases = sum(w["first_parent_commits"]["count"] for w in weeks)
        out.append(
            {
                "title": f"Releases of {cadence.get('env', '')}",
                "stat": "per week",
                **_stat(round(releases / len(weeks), 2), releases, "/week"),
                "extra": None,
                "window": span,
                "dora": dora_bands.DEPLOY_FREQUENCY,
            }
        )
    for n, tile in enumerate(out):
        scale = tile.pop("dora", None)
        if scale is not None and tile["value"] is not None:
            tile["band"] = {
                "svg": dora_bands.strip(scale, tile["value"], f"dora-{n}"),
                "text": f"DORA {dora_bands.YEAR}, {scale.metric.lower()}: "
                + dora_bands.place(scale, tile["value"]),
            }
    return out


def trunk_view(data: dict[str, Any]) -> dict[str, Any] | None:
    """The trunk-based measures of the ladder area (None for reports without them)."""
    trunk = (data.get("metrics") or {}).get("trunk")
    if not trunk:
        return None
    share = trunk["merge_days"]["share"]
    return {
        "integration": trunk["integration"],
        "branches": trunk["long_lived_branches"],
        "merge_days": {
            **trunk["merge_days"],
            "share_pct": None if share is None else round(100 * share, 1),
        },
        "freezes": trunk["freeze_windows"],
    }
