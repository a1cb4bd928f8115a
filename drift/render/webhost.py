"""Links to a commit on the repository's web host, from the remote URL in the report."""

from __future__ import annotations

import re

_SCP = re.compile(r"^(?:[\w.-]+@)?(?P<host>[\w.-]+):(?P<path>(?!//).+)$")
_URL = re.compile(r"^(?:https?|ssh|git)://(?:[^@/]+@)?(?P<host>[\w.-]+)(?::\d+)?/(?P<path>.+)$")


def commit_url_template(remote_url: str | None, template: str | None = None) -> str | None:
    """A URL with `{commit}` for the remote's web host; None when the host is not known."""
    if template:
        return template
    if not remote_url:
        return None
    match = _URL.match(remote_url) or _SCP.match(remote_url)
    if match is None:
        return None
    host = match["host"].lower()
    path = match["path"].strip("/")
    path = path.removesuffix(".git")
    if host == "ssh.dev.azure.com" and path.startswith("v3/"):
        org, project, repo = path[3:].split("/", 2)
        return f"https://dev.azure.com/{org}/{project}/_git/{repo}/commit/{{commit}}"
    if host == "dev.azure.com" or host.endswith(".visualstudio.com"):
        return f"https://{host}/{path}/commit/{{commit}}"
    if host == "github.com" or host.startswith("github."):
        return f"https://{host}/{path}/commit/{{commit}}"
    if host == "bitbucket.org":
        return f"https://{host}/{path}/commits/{{commit}}"
    if "gitlab" in host:
        return f"https://{host}/{path}/-/commit/{{commit}}"
    return None
