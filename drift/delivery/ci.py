"""CI systems and the branch pushes that start their pipelines.

A CI system reads its pipeline from the commit that was pushed, so the file at an
environment's tip is the one that runs when that environment's branch moves. A pipeline that
names environment branches in its triggers builds once per environment: the artifact that
reaches prod is then not the one that was tested upstream.

Read per system: GitHub Actions `on.push.branches` (or, when a workflow runs on every push,
its jobs' `if: github.ref == 'refs/heads/prod'`), GitLab CI `rules: - if:` and `only:` /
`except:` per job (through `extends:`) and `workflow: rules:`, Jenkins `when { branch ... }`
and `BRANCH_NAME ==`, Azure Pipelines `trigger:` (and stage or job `condition: eq(...)` when
every branch triggers), Bitbucket `pipelines.branches.<pattern>` and `pipelines.default`.
"""

from __future__ import annotations

import re
from typing import Any

from drift.delivery.files import basename
from drift.delivery.gitlab import gitlab_triggers
from drift.delivery.triggers import Pipeline, Trigger, patterns
from drift.delivery.yamlfile import as_list, is_blank, line, load_documents, walk

SYSTEMS = ("azure-pipelines", "bitbucket-pipelines", "github-actions", "gitlab-ci", "jenkins")
_YAML = (".yml", ".yaml")
_GITHUB_IF = re.compile(
    r"""github\.ref\s*==\s*['"]refs/heads/([^'"]+)['"]|github\.ref_name\s*==\s*['"]([^'"]+)['"]"""
)
_AZURE_EQ = re.compile(
    r"""eq\(\s*variables(?:\[['"]|\.)Build\.SourceBranch(?:Name)?(?:['"]\])?\s*,\s*"""
    r"""['"](?:refs/heads/)?([^'"]+)['"]\s*\)""",
    re.I,
)
_JENKINS_STAGE = re.compile(r"""\bstage\s*\(\s*(['"])(.+?)\1""")
_JENKINS_BRANCH = re.compile(
    r"""\bbranch\s*\(?\s*(?:pattern\s*:\s*)?(['"])(.+?)\1"""
    r"""(?:\s*,\s*comparator\s*:\s*['"](\w+)['"])?"""
)
_JENKINS_NAME = re.compile(r"""\b(?:env\.)?BRANCH_NAME\s*==\s*(['"])(.+?)\1""")


JENKINSFILE = "Jenkinsfile"
JENKINS_LEAD = f"{JENKINSFILE}."
"""Jenkinsfile.deploy: a Jenkinsfile whatever follows."""
JENKINS_SUFFIX = ".jenkinsfile"


def ci_system(path: str) -> str | None:
    """The CI system that reads the file at `path`, if any."""
    name = basename(path)
    if path.startswith(".github/workflows/") and path.count("/") == 2 and name.endswith(_YAML):
        return "github-actions"
    if path == ".gitlab-ci.yml":
        return "gitlab-ci"
    if name == JENKINSFILE or name.startswith(JENKINS_LEAD) or name.endswith(JENKINS_SUFFIX):
        return "jenkins"
    if name.endswith(_YAML) and (
        name.startswith("azure-pipelines") or path.startswith(".azure-pipelines/")
    ):
        return "azure-pipelines"
    if path == "bitbucket-pipelines.yml":
        return "bitbucket-pipelines"
    return None


def read_pipeline(system: str, path: str, text: str) -> Pipeline:
    """The branch triggers of one pipeline file; `Unreadable` when it does not parse."""
    if system == "jenkins":
        triggers = _jenkins(text)
        return Pipeline(path, system, tuple(triggers), every_branch=True)
    docs = load_documents(text)
    doc = docs[0] if docs else {}
    if not isinstance(doc, dict):
        doc = {}
    reader = {
        "github-actions": _github,
        "gitlab-ci": gitlab_triggers,
        "azure-pipelines": _azure,
        "bitbucket-pipelines": _bitbucket,
    }[system]
    found, every = reader(doc)
    return Pipeline(path, system, tuple(found), every)


def _github(doc: dict[Any, Any]) -> tuple[list[Trigger], bool]:
    on = doc.get("on")
    events: dict[Any, Any] = (
        on if isinstance(on, dict) else {e: None for e in as_list(on) if isinstance(e, str)}
    )
    if "push" not in events:
        return [], False
    push = events["push"]
    filters = push if isinstance(push, dict) else {}
    if "branches" in filters:
        found, every = patterns(as_list(filters["branches"]), "on.push.branches")
    elif "branches-ignore" in filters:
        found, _ = patterns(as_list(filters["branches-ignore"]), "on.push.branches-ignore")
        found = [Trigger(t.branch, t.key, t.line, t.syntax, exclude=True) for t in found]
        every = True
    else:  # a tags-only filter means branch pushes never run it
        found, every = [], not ({"tags", "tags-ignore"} & set(filters))
    if every:
        found += _conditions(doc.get("jobs"), "jobs", "if", _GITHUB_IF)
    return found, every


def _azure(doc: dict[Any, Any]) -> tuple[list[Trigger], bool]:
    trigger = doc.get("trigger")
    found: list[Trigger] = []
    every = False
    if "trigger" not in doc or is_blank(trigger):
        every = True
    elif isinstance(trigger, str) and trigger.strip() == "none":
        return [], False
    elif isinstance(trigger, dict):
        branches = trigger.get("branches")
        if isinstance(branches, dict):
            found, every = patterns(as_list(branches.get("include")), "trigger.branches.include")
            excluded, _ = patterns(
                as_list(branches.get("exclude")), "trigger.branches.exclude", exclude=True
            )
            found += excluded
        else:
            every = "tags" not in trigger
    else:
        found, every = patterns(as_list(trigger), "trigger")
    if every:
        found += _conditions(doc, "", "condition", _AZURE_EQ)
    return found, every


def _bitbucket(doc: dict[Any, Any]) -> tuple[list[Trigger], bool]:
    pipelines = doc.get("pipelines")
    if not isinstance(pipelines, dict):
        return [], False
    branches = pipelines.get("branches")
    keys = list(branches) if isinstance(branches, dict) else []
    found, every = patterns(keys, "pipelines.branches")
    return found, every or "default" in pipelines


def _conditions(node: Any, root: str, field: str, regex: re.Pattern[str]) -> list[Trigger]:
    """Branches named in equality conditions (`field:` values) anywhere below `node`."""
    found: list[Trigger] = []
    for key, value in walk(node, root):
        if not isinstance(value, str) or (not key.endswith(f".{field}") and key != field):
            continue
        for match in regex.finditer(value):
            name = next(g for g in match.groups() if g)
            found.append(Trigger(name, key, line(value), "exact"))
    return found


def _jenkins(text: str) -> list[Trigger]:
    """`when { branch 'prod' }`, `branch pattern: ..., comparator: ...`, `BRANCH_NAME == ...`.

    A multibranch Jenkins job builds every branch that carries the Jenkinsfile; these
    conditions say which stages run on which branch.
    """
    found: list[Trigger] = []
    stage = ""
    for number, content in enumerate(text.splitlines(), 1):
        code = content.strip()
        if code.startswith(("//", "/*", "*", "sh ", "sh(", "bat ", "echo ", "powershell ")):
            continue  # comments, and shell lines such as `sh 'git branch ...'`
        for match in _JENKINS_STAGE.finditer(code):
            stage = match.group(2)
        where = f"stage('{stage}') " if stage else ""
        negated = re.search(r"\bnot\s*\{\s*branch\b", code) is not None
        for match in _JENKINS_BRANCH.finditer(code):
            comparator = (match.group(3) or "GLOB").upper()
            syntax = {"REGEXP": "regex", "EQUALS": "exact"}.get(comparator, "glob")
            if syntax == "glob" and not any(c in match.group(2) for c in "*?[{"):
                syntax = "exact"
            key = f"{where}when branch"
            found.append(Trigger(match.group(2), key, number, syntax, negated))
        for match in _JENKINS_NAME.finditer(code):
            found.append(Trigger(match.group(2), f"{where}BRANCH_NAME ==", number, "exact"))
    return found
