"""GitLab CI: which branches each job runs on, from `rules:`, `only:` and `except:`.

A job inherits `rules`/`only`/`except` through `extends:` (the last parent that has the key
wins, as GitLab merges them). A job with none of them runs in every pipeline, unless
`workflow: rules:` limits which pipelines exist. Branch conditions are the comparisons of
`$CI_COMMIT_BRANCH` (or `$CI_COMMIT_REF_NAME`) with `==` and `=~ /regex/`; a rule with
`when: never` keeps its branches out. Other conditions (pipeline source, variables) are
not branch conditions and are neither triggers nor catch-alls.
"""

from __future__ import annotations

import re
from typing import Any

from drift.delivery.triggers import Trigger
from drift.delivery.yamlfile import as_list, line

_RESERVED = frozenset(
    {
        "default",
        "include",
        "stages",
        "variables",
        "workflow",
        "image",
        "services",
        "cache",
        "before_script",
        "after_script",
        "types",
    }
)
_SPECIAL = frozenset(
    {
        "tags",
        "api",
        "external",
        "pipelines",
        "pushes",
        "schedules",
        "triggers",
        "web",
        "merge_requests",
        "external_pull_requests",
        "chat",
    }
)
_VAR = r"\$\{?(?:CI_COMMIT_BRANCH|CI_COMMIT_REF_NAME)\}?"
_EQ = re.compile(_VAR + r"""\s*==\s*(?:"([^"]*)"|'([^']*)')""")
_MATCH = re.compile(_VAR + r"""\s*=~\s*(/(?:[^/\\]|\\.)*/[a-z]*)""")


def gitlab_triggers(doc: dict[Any, Any]) -> tuple[list[Trigger], bool]:
    """Branch triggers of every job, and whether some job runs on every branch push."""
    jobs = {str(k): v for k, v in doc.items() if isinstance(v, dict) and k not in _RESERVED}
    found: list[Trigger] = []
    every = False
    for name in sorted(jobs):
        if name.startswith("."):
            continue  # a hidden job is a template, run only through `extends:`
        triggers, catch_all = _job(jobs, name)
        found += triggers
        every = every or catch_all
    workflow = doc.get("workflow")
    rules = workflow.get("rules") if isinstance(workflow, dict) else None
    if every and isinstance(rules, list):
        gate, open_gate = _rules(rules, "workflow")
        found += gate
        every = open_gate
    return found, every


def _job(jobs: dict[str, Any], name: str) -> tuple[list[Trigger], bool]:
    rules, source = _inherited(jobs, name, "rules", frozenset())
    if isinstance(rules, list):
        return _rules(rules, source)
    only, source = _inherited(jobs, name, "only", frozenset())
    excepted, except_source = _inherited(jobs, name, "except", frozenset())
    exclusions, _ = _refs(excepted, f"{except_source}.except", exclude=True)
    if only is None:
        return exclusions, True
    found, every = _refs(only, f"{source}.only", exclude=False)
    return found + exclusions, every


def _inherited(jobs: dict[str, Any], name: str, key: str, seen: frozenset[str]) -> tuple[Any, str]:
    """A job's own value for `key`, else the nearest through `extends:` (last parent first)."""
    job = jobs.get(name)
    if not isinstance(job, dict):
        return None, name
    if key in job:
        return job[key], name
    for parent in reversed(as_list(job.get("extends"))):
        if isinstance(parent, str) and parent not in seen:
            value, source = _inherited(jobs, parent, key, seen | {name})
            if value is not None:
                return value, source
    return None, name


def _rules(rules: list[Any], source: str) -> tuple[list[Trigger], bool]:
    found: list[Trigger] = []
    every = False
    for index, rule in enumerate(rules):
        if not isinstance(rule, dict):
            continue
        never = rule.get("when") == "never"
        condition = rule.get("if")
        if not isinstance(condition, str):
            every = every or not never
            continue
        found += _expression(condition, f"{source}.rules[{index}].if", exclude=never)
    return found, every


def _expression(text: str, key: str, *, exclude: bool) -> list[Trigger]:
    at = line(text)
    found = [
        Trigger(m.group(1) if m.group(1) is not None else m.group(2), key, at, "exact", exclude)
        for m in _EQ.finditer(text)
    ]
    found += [Trigger(m.group(1), key, at, "regex", exclude) for m in _MATCH.finditer(text)]
    return found


def _refs(value: Any, key: str, *, exclude: bool) -> tuple[list[Trigger], bool]:
    """`only:`/`except:` as a list of refs, or as a mapping with `refs:` and `variables:`."""
    found: list[Trigger] = []
    refs = value.get("refs") if isinstance(value, dict) else value
    every = False
    for ref in as_list(refs):
        if not isinstance(ref, str) or ref in _SPECIAL:
            continue
        if ref == "branches":
            every = not exclude
        elif ref.startswith("/"):
            found.append(Trigger(ref, key, line(ref), "regex", exclude))
        else:
            found.append(Trigger(ref, key, line(ref), "exact", exclude))
    if isinstance(value, dict):
        for condition in as_list(value.get("variables")):
            if isinstance(condition, str):
                found += _expression(condition, f"{key}.variables", exclude=exclude)
    return found, every
