"""What views need of a saved report's environments and steps, from the JSON alone."""

from __future__ import annotations

from typing import Any

from drift.topology import Topology


def topology(data: dict[str, Any]) -> Topology:
    """Which environment feeds which, read leniently from the report (see Topology.of_report)."""
    return Topology.of_report(data["environments"])


def envs_argument(tree: Topology) -> str:
    """The `--envs` value that reproduces these environments and their upstream links."""
    if tree.is_chain:
        return ",".join(tree.names)
    return ",".join(n + (f":{up}" if (up := tree.upstream_of(n)) else "") for n in tree.names)


def lead_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Each step's lead time, then end to end unless that is one of the steps already (two
    environments, or a release line fed straight from the root)."""
    lead = data.get("metrics", {}).get("lead_time", {})
    steps: list[dict[str, Any]] = list(lead.get("steps", []))
    whole = lead.get("end_to_end")
    if whole and all((s["from"], s["to"]) != (whole["from"], whole["to"]) for s in steps):
        steps.append(whole)
    return steps
