"""The JSON view: the report model itself, sorted and indented for diffs."""

from __future__ import annotations

import json
from typing import Any


def render_json(data: dict[str, Any]) -> str:
    """Deterministic JSON text (keys in model order, UTF-8, trailing newline)."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
