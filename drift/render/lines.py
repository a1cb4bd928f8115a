"""How a saved report's environments feed each other, for views that only have the JSON.

Reports carry each environment's `upstream`; reports written before release lines existed
do not, and are chains (each environment fed by the one before it).
"""

from __future__ import annotations

from typing import Any


def upstreams(data: dict[str, Any]) -> dict[str, str | None]:
    """Environment -> its upstream (None for the most upstream one), in report order.

    An upstream that is not an environment listed earlier (a hand-edited report) reads as the
    previous one, as in a chain, so every view can still lay the environments out."""
    out: dict[str, str | None] = {}
    previous: str | None = None
    for env in data["environments"]:
        upstream = env.get("upstream", previous)
        out[env["name"]] = upstream if upstream is None or upstream in out else previous
        previous = env["name"]
    return out


def is_chain(data: dict[str, Any]) -> bool:
    """Each environment fed by the one listed before it."""
    names = [env["name"] for env in data["environments"]]
    return all(up == (names[i - 1] if i else None) for i, up in enumerate(upstreams(data).values()))


def leaves(data: dict[str, Any]) -> list[str]:
    """The most downstream environments: the last of a chain, every release line of a tree."""
    lines = upstreams(data)
    fed = set(lines.values())
    return [name for name in lines if name not in fed]


def describe(data: dict[str, Any], arrow: str = "->") -> str:
    """`dev -> test -> prod`, or `main -> release/2.x, main -> release/1.x` for a tree."""
    lines = upstreams(data)
    if is_chain(data):
        return f" {arrow} ".join(lines)
    return ", ".join(f"{up} {arrow} {name}" for name, up in lines.items() if up is not None)


def envs_argument(data: dict[str, Any]) -> str:
    """The `--envs` value that reproduces these environments and their upstream links."""
    if is_chain(data):
        return ",".join(upstreams(data))
    return ",".join(name + (f":{up}" if up else "") for name, up in upstreams(data).items())


def lead_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Each step's lead time, then end to end unless that is one of the steps already (two
    environments, or a release line fed straight from the root)."""
    lead = data.get("metrics", {}).get("lead_time", {})
    steps: list[dict[str, Any]] = list(lead.get("steps", []))
    whole = lead.get("end_to_end")
    if whole and all((s["from"], s["to"]) != (whole["from"], whole["to"]) for s in steps):
        steps.append(whole)
    return steps
