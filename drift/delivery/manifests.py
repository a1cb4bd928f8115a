"""Deployment manifests and the images they run: by tag, or by digest.

GitOps promotion by digest means the manifest for prod names `shop@sha256:...`, the same
bytes staging ran. `image: shop:1.4.2` names whatever that tag points to when the pod is
scheduled. Read here: Kubernetes documents (any YAML document with `apiVersion` and `kind`,
every `image:` below them), Kustomize `images:` (`digest` vs `newTag`) and Helm values
(`image: {repository, tag, digest}` or `image: repo:tag`). A chart's `templates/` hold Go
templates, not YAML, and are not read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from drift.delivery.containers import pin_of
from drift.delivery.files import basename, dirname, join
from drift.delivery.yamlfile import is_blank, line, load_documents, walk

KUSTOMIZATION = frozenset({"kustomization.yaml", "kustomization.yml", "Kustomization"})
YAML_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class ImageRef:
    """An image a manifest deploys, the key and line that name it, and how it is pinned.

    `pin` is `digest`, `tag`, `untagged` or `unresolved` (a template expression).
    """

    path: str
    line: int | None
    key: str
    source: str
    image: str
    pin: str

    @property
    def pinned(self) -> bool:
        """Pinned by digest."""
        return self.pin == "digest"

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "path": self.path,
            "line": self.line,
            "key": self.key,
            "source": self.source,
            "image": self.image,
            "pin": self.pin,
            "pinned": self.pinned,
        }


def manifest_kind(path: str, chart_roots: set[str]) -> str | None:
    """`kustomize`, `helm` (values files) or `yaml` (maybe Kubernetes) for a path."""
    name = basename(path)
    if name in KUSTOMIZATION:
        return "kustomize"
    if not name.endswith(YAML_SUFFIXES):
        return None
    if any(path.startswith(join(root, "templates/")) for root in chart_roots):
        return None
    if name.startswith("values") or (dirname(path) in chart_roots and name != "Chart.yaml"):
        return "helm"
    return "yaml"


def chart_roots(paths: set[str]) -> set[str]:
    """Folders that hold a Helm chart (a Chart.yaml)."""
    return {dirname(p) for p in paths if basename(p) == "Chart.yaml"}


def looks_like_kubernetes(text: str) -> bool:
    """Cheap pre-check before parsing: both keys a Kubernetes object needs are there."""
    return "apiVersion" in text and "kind" in text


def kubernetes_images(path: str, text: str) -> tuple[list[ImageRef], bool]:
    """Every `image:` of every Kubernetes document, and whether the file held any."""
    found: list[ImageRef] = []
    any_object = False
    for index, doc in enumerate(load_documents(text)):
        if not isinstance(doc, dict) or not isinstance(doc.get("apiVersion"), str):
            continue
        if not isinstance(doc.get("kind"), str) or doc.get("kind") == "Kustomization":
            continue
        any_object = True
        root = f"[{index}]" if index else ""
        for key, value in walk(doc, root):
            if key.rsplit(".", 1)[-1] == "image" and isinstance(value, str) and value.strip():
                found.append(_ref(path, key, value, "kubernetes"))
    return found, any_object


def kustomize_images(path: str, text: str) -> list[ImageRef]:
    """Kustomize `images:` entries that set a tag or a digest."""
    found: list[ImageRef] = []
    for doc in load_documents(text)[:1]:
        images = doc.get("images") if isinstance(doc, dict) else None
        for index, entry in enumerate(images if isinstance(images, list) else []):
            if not isinstance(entry, dict):
                continue
            name = entry.get("newName") or entry.get("name") or ""
            digest, tag = entry.get("digest"), entry.get("newTag")
            if not is_blank(digest):
                image, key, value, pin = f"{name}@{digest}", "digest", digest, "digest"
            elif not is_blank(tag):
                image, key, value, pin = f"{name}:{tag}", "newTag", tag, "tag"
            else:
                continue
            found.append(
                ImageRef(path, line(value), f"images[{index}].{key}", "kustomize", image, pin)
            )
    return found


def helm_images(path: str, text: str) -> list[ImageRef]:
    """Helm values: `image: repo:tag` strings and `image: {repository, tag, digest}` maps."""
    found: list[ImageRef] = []
    for doc in load_documents(text)[:1]:
        for key, value in walk(doc):
            last = key.rsplit(".", 1)[-1]
            if not last.lower().endswith("image"):
                continue
            if isinstance(value, str) and any(c in value for c in "/:@"):
                found.append(_ref(path, key, value, "helm"))
            elif isinstance(value, dict) and "repository" in value:
                found.append(_helm_map(path, key, value))
    return found


def _helm_map(path: str, key: str, image: dict[Any, Any]) -> ImageRef:
    repository = str(image.get("repository") or "")
    registry = image.get("registry")
    if isinstance(registry, str) and not is_blank(registry):
        repository = f"{registry}/{repository}"
    digest, tag = image.get("digest"), image.get("tag")
    if not is_blank(digest):
        return ImageRef(
            path, line(digest), f"{key}.digest", "helm", f"{repository}@{digest}", "digest"
        )
    if not is_blank(tag):
        pin = "unresolved" if "{{" in str(tag) else "tag"
        return ImageRef(path, line(tag), f"{key}.tag", "helm", f"{repository}:{tag}", pin)
    at = line(image.get("repository"))
    return ImageRef(path, at, f"{key}.repository", "helm", repository, "untagged")


def _ref(path: str, key: str, value: str, source: str) -> ImageRef:
    text = value.strip()
    pin = "unresolved" if "{{" in text or "$" in text else pin_of(text)
    return ImageRef(path, line(value), key, source, text, pin)
