"""Delivery configuration at each environment's tip, read from real repositories."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from drift.config import EnvSpec, Settings
from drift.delivery import scan_delivery
from drift.delivery.ci import read_pipeline
from drift.delivery.containers import base_images
from drift.delivery.dependencies import flag_libraries, lock_status, manifest_parser
from drift.delivery.depfiles import Declared
from drift.delivery.files import Unreadable
from drift.delivery.manifests import helm_images, kubernetes_images
from drift.delivery.scan import branch_of
from drift.environments import Environment, resolve_chain
from drift.git import GitRepository
from drift_fixtures.builder import RepoBuilder
from drift_fixtures.delivery_scenarios import (
    DIGEST,
    TEMPLATE,
    DeliveryScenario,
    env_branches,
    trunk,
)
from tests.probes import record_listings, stored_rows


def scan(scenario: DeliveryScenario) -> dict[str, Any]:
    repo = GitRepository.open(scenario.path)
    specs = tuple(EnvSpec(name, ref) for name, ref in scenario.envs)
    return scan_delivery(repo, resolve_chain(repo, Settings(envs=specs)).envs)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], DeliveryScenario]:
    cache: dict[str, DeliveryScenario] = {}

    def get(name: str) -> DeliveryScenario:
        if name not in cache:
            build = {"env_branches": env_branches, "trunk": trunk}[name]
            cache[name] = build(tmp_path_factory.mktemp(name))
        return cache[name]

    return get


def trig(
    branch: str, key: str, line: int, syntax: str = "exact", exclude: bool = False
) -> dict[str, Any]:
    return {"branch": branch, "key": key, "line": line, "syntax": syntax, "exclude": exclude}


# -- env_branches: the triggers each file states, with the line that states them ----------

DEPLOY_STAGING = trig("staging", "on.push.branches", 4)
DEPLOY_PROD = trig("prod", "on.push.branches", 4)
GITLAB_BUILD = trig("/^(dev|test|staging|prod)$/", "build.rules[1].if", 17, "regex")
GITLAB_DEPLOY = trig("prod", ".deploy.rules[0].if", 8)
JENKINS_TEST = trig("test", "stage('Smoke') when branch", 10)
JENKINS_STAGING = trig("staging", "stage('Smoke') when branch", 10)
JENKINS_PROD = trig("prod", "stage('Deploy') when branch", 16)
AZURE_DEV = trig("dev", "trigger.branches.include", 4)
AZURE_TEST = trig("test", "trigger.branches.include", 5)
AZURE_FEATURE = trig("feature/*", "trigger.branches.exclude", 7, "glob", exclude=True)
BITBUCKET_PROD = trig("prod", "pipelines.branches", 7)
BITBUCKET_RELEASE = trig("release/*", "pipelines.branches", 10, "glob")

PIPELINES = [
    (".github/workflows/deploy.yml", "github-actions", False, [DEPLOY_STAGING, DEPLOY_PROD]),
    (".github/workflows/test.yml", "github-actions", True, []),
    (".gitlab-ci.yml", "gitlab-ci", False, [GITLAB_BUILD, GITLAB_DEPLOY]),
    ("Jenkinsfile", "jenkins", True, [JENKINS_TEST, JENKINS_STAGING, JENKINS_PROD]),
    ("azure-pipelines.yml", "azure-pipelines", False, [AZURE_DEV, AZURE_TEST, AZURE_FEATURE]),
    ("bitbucket-pipelines.yml", "bitbucket-pipelines", True, [BITBUCKET_PROD, BITBUCKET_RELEASE]),
]

# which triggers start a build when each environment's own branch is pushed
BUILDS = {
    "dev": {".gitlab-ci.yml": [GITLAB_BUILD], "azure-pipelines.yml": [AZURE_DEV]},
    "test": {
        ".gitlab-ci.yml": [GITLAB_BUILD],
        "Jenkinsfile": [JENKINS_TEST],
        "azure-pipelines.yml": [AZURE_TEST],
    },
    "staging": {
        ".github/workflows/deploy.yml": [DEPLOY_STAGING],
        ".gitlab-ci.yml": [GITLAB_BUILD],
        "Jenkinsfile": [JENKINS_STAGING],
    },
    "prod": {
        ".github/workflows/deploy.yml": [DEPLOY_PROD],
        ".gitlab-ci.yml": [GITLAB_BUILD, GITLAB_DEPLOY],
        "Jenkinsfile": [JENKINS_PROD],
        "bitbucket-pipelines.yml": [BITBUCKET_PROD],
    },
}


def pipelines(env: str) -> list[dict[str, Any]]:
    return [
        {
            "path": path,
            "system": system,
            "every_branch": every,
            "triggers": triggers,
            "builds_this_environment": BUILDS[env].get(path, []),
        }
        for path, system, every, triggers in PIPELINES
    ]


def base(
    path: str, line: int, written: str, image: str, pin: str, how: str = "FROM"
) -> dict[str, Any]:
    return {
        "path": path,
        "line": line,
        "instruction": how,
        "written": written,
        "image": image,
        "pin": pin,
        "pinned": pin == "digest",
    }


def bases(python: str) -> list[dict[str, Any]]:
    distroless = f"gcr.io/distroless/python3@{DIGEST}"
    return [
        base("Dockerfile", 3, "python:${PYTHON}-slim", f"python:{python}-slim", "tag"),
        base("Dockerfile", 7, distroless, distroless, "digest"),
        base("web/Dockerfile", 1, "node:20", "node:20", "tag"),
        base("web/Dockerfile", 3, "nginx", "nginx", "untagged"),
    ]


MANIFESTS = [
    {
        "path": "api/package.json",
        "ecosystem": "npm",
        "status": "locked",
        "lockfile": "api/package-lock.json",
        "detail": "",
    },
    {
        "path": "requirements.txt",
        "ecosystem": "pypi",
        "status": "missing",
        "lockfile": None,
        "detail": "1 of 3 requirements not pinned with == (first: launchdarkly-server-sdk, line 2)",
    },
    {
        "path": "web/package.json",
        "ecosystem": "npm",
        "status": "missing",
        "lockfile": None,
        "detail": "no package-lock.json, npm-shrinkwrap.json, yarn.lock, pnpm-lock.yaml, "
        "bun.lock or bun.lockb beside it or in a folder above",
    },
    {
        "path": "worker/pyproject.toml",
        "ecosystem": "pypi",
        "status": "locked",
        "lockfile": "worker/poetry.lock",
        "detail": "",
    },
]

FLAGS = [
    {
        "path": "requirements.txt",
        "line": 2,
        "ecosystem": "pypi",
        "package": "launchdarkly-server-sdk",
        "vendor": "LaunchDarkly",
    },
    {
        "path": "web/package.json",
        "line": 5,
        "ecosystem": "npm",
        "package": "@openfeature/server-sdk",
        "vendor": "OpenFeature",
    },
]


def image(path: str, line: int, key: str, source: str, ref: str, pin: str) -> dict[str, Any]:
    return {
        "path": path,
        "line": line,
        "key": key,
        "source": source,
        "image": ref,
        "pin": pin,
        "pinned": pin == "digest",
    }


CONTAINERS = "spec.template.spec.containers[0].image"
IMAGES = [
    image("chart/values.yaml", 4, "image.tag", "helm", "registry.example.com/shop:1.4.2", "tag"),
    image(
        "k8s/deployment.yaml",
        10,
        "spec.template.spec.initContainers[0].image",
        "kubernetes",
        f"registry.example.com/shop-migrate@{DIGEST}",
        "digest",
    ),
    image("k8s/deployment.yaml", 13, CONTAINERS, "kubernetes", "shop:1.4.2", "tag"),
    image("k8s/kustomization.yaml", 5, "images[0].newTag", "kustomize", "shop:1.4.2", "tag"),
    image(
        "k8s/kustomization.yaml", 7, "images[1].digest", "kustomize", f"worker@{DIGEST}", "digest"
    ),
]
CANARY = image(
    "k8s/canary.yaml", 8, "spec.containers[0].image", "kubernetes", "shop:1.5.0-rc1", "tag"
)
BAD_JSON = (
    "not valid JSON: Expecting property name enclosed in double quotes: line 1 column 34 (char 33)"
)


def env_entry(scenario: DeliveryScenario, env: str) -> dict[str, Any]:
    """What the scan must say about one environment of `env_branches`."""
    unreadable = [{"path": "tools/package.json", "reason": BAD_JSON}] if env == "test" else []
    images = [IMAGES[0], CANARY, *IMAGES[1:]] if env == "dev" else IMAGES
    return {
        "name": env,
        "ref": f"refs/heads/{env}",
        "branch": env,
        "commit": scenario.builder.rev(env),
        "pipelines": pipelines(env),
        "base_images": bases("3.11" if env == "staging" else "3.12"),
        "dependency_manifests": MANIFESTS,
        "flag_libraries": FLAGS,
        "images": images,
        "unreadable": unreadable,
        "skipped": [],
        "summary": {
            "ci_systems": [
                "azure-pipelines",
                "bitbucket-pipelines",
                "github-actions",
                "gitlab-ci",
                "jenkins",
            ],
            "built_on_push": True,
            "every_branch_pipelines": [
                ".github/workflows/test.yml",
                "Jenkinsfile",
                "bitbucket-pipelines.yml",
            ],
            "unpinned_base_images": 3,
            "images_by_tag": 4 if env == "dev" else 3,
            "lockfiles_missing": ["requirements.txt", "web/package.json"],
            "flag_libraries": ["LaunchDarkly", "OpenFeature"],
            "unreadable": ["tools/package.json"] if env == "test" else [],
        },
    }


def test_environment_branches_scan_exactly(built: Callable[[str], DeliveryScenario]) -> None:
    scenario = built("env_branches")
    result = scan(scenario)
    envs = ["dev", "test", "staging", "prod"]

    def blobs(path: str, present: list[str]) -> dict[str, str | None]:
        return {e: scenario.blob(e, path) if e in present else None for e in envs}

    assert result["environments"] == [env_entry(scenario, env) for env in envs]
    assert result["differing_files"] == [
        {
            "path": ".github/workflows/deploy.yml",
            "category": "ci",
            "blobs": blobs(".github/workflows/deploy.yml", envs),
            "missing_from": [],
        },
        {
            "path": "Dockerfile",
            "category": "container",
            "blobs": blobs("Dockerfile", envs),
            "missing_from": [],
        },
        {
            "path": "k8s/canary.yaml",
            "category": "kubernetes",
            "blobs": blobs("k8s/canary.yaml", ["dev"]),
            "missing_from": ["test", "staging", "prod"],
        },
        {
            "path": "tools/package.json",
            "category": "dependencies",
            "blobs": blobs("tools/package.json", ["test"]),
            "missing_from": ["dev", "staging", "prod"],
        },
    ]
    assert result["summary"] == scenario.expected_summary
    assert result["notes"] == []
    assert result["observations"] == [
        "dev is built on pushes to dev by .gitlab-ci.yml (build.rules[1].if, line 17), "
        "azure-pipelines.yml (trigger.branches.include, line 4)",
        "test is built on pushes to test by .gitlab-ci.yml (build.rules[1].if, line 17), "
        "Jenkinsfile (stage('Smoke') when branch, line 10), "
        "azure-pipelines.yml (trigger.branches.include, line 5)",
        "staging is built on pushes to staging by .github/workflows/deploy.yml "
        "(on.push.branches, line 4), .gitlab-ci.yml (build.rules[1].if, line 17), "
        "Jenkinsfile (stage('Smoke') when branch, line 10)",
        "prod is built on pushes to prod by .github/workflows/deploy.yml "
        "(on.push.branches, line 4), .gitlab-ci.yml (build.rules[1].if, line 17), "
        "Jenkinsfile (stage('Deploy') when branch, line 16), "
        "bitbucket-pipelines.yml (pipelines.branches, line 7)",
        "4 environments (dev, test, staging, prod) are built from their own branch: the "
        "artifact is rebuilt per environment, so what runs on prod is not the build that was "
        "tested on staging",
        ".github/workflows/test.yml runs on pushes to every branch: if it builds an artifact, "
        "each environment branch gets its own build",
        "4 Dockerfile base images are not pinned by digest "
        "(first: Dockerfile line 3, python:3.12-slim)",
        "4 deployed image references use a tag, not a digest "
        "(first: chart/values.yaml line 4, image.tag: registry.example.com/shop:1.4.2)",
        "2 dependency manifests have no lock file, so each build resolves versions anew: "
        "requirements.txt, web/package.json",
        "feature-flag libraries already in use: LaunchDarkly (requirements.txt), "
        "OpenFeature (web/package.json)",
        ".github/workflows/deploy.yml differs between environment branches: "
        "dev, test, staging vs prod",
        "Dockerfile differs between environment branches: dev, test, prod vs staging",
        "k8s/canary.yaml differs between environment branches: dev (absent on test, staging, prod)",
        "tools/package.json differs between environment branches: test "
        "(absent on dev, staging, prod)",
        f"tools/package.json could not be read on test: {BAD_JSON}",
    ]


def test_trunk_scans_clean(built: Callable[[str], DeliveryScenario]) -> None:
    scenario = built("trunk")
    result = scan(scenario)
    release = trig("main", "on.push.branches", 4)
    pinned_python = f"python:3.12-slim@{DIGEST}"

    def env(name: str, ref: str, branch: str | None, builds: list[Any]) -> dict[str, Any]:
        return {
            "name": name,
            "ref": ref,
            "branch": branch,
            "commit": scenario.builder.rev(ref),
            "pipelines": [
                {
                    "path": ".github/workflows/release.yml",
                    "system": "github-actions",
                    "every_branch": False,
                    "triggers": [release],
                    "builds_this_environment": builds,
                }
            ],
            "base_images": [base("Dockerfile", 1, pinned_python, pinned_python, "digest")],
            "dependency_manifests": [
                {
                    "path": "package.json",
                    "ecosystem": "npm",
                    "status": "locked",
                    "lockfile": "package-lock.json",
                    "detail": "",
                },
                {
                    "path": "worker/pyproject.toml",
                    "ecosystem": "pypi",
                    "status": "locked",
                    "lockfile": "uv.lock",
                    "detail": "",
                },
            ],
            "flag_libraries": [
                {
                    "path": "package.json",
                    "line": 4,
                    "ecosystem": "npm",
                    "package": "@openfeature/server-sdk",
                    "vendor": "OpenFeature",
                },
                {
                    "path": "package.json",
                    "line": 5,
                    "ecosystem": "npm",
                    "package": "@openfeature/flagd-provider",
                    "vendor": "OpenFeature",
                },
                {
                    "path": "worker/pyproject.toml",
                    "line": 4,
                    "ecosystem": "pypi",
                    "package": "openfeature-sdk",
                    "vendor": "OpenFeature",
                },
            ],
            "images": [
                image(
                    "deploy/deployment.yaml",
                    10,
                    "spec.template.spec.initContainers[0].image",
                    "kubernetes",
                    f"registry.example.com/shop-migrate@{DIGEST}",
                    "digest",
                ),
                image(
                    "deploy/deployment.yaml",
                    13,
                    CONTAINERS,
                    "kubernetes",
                    f"shop@{DIGEST}",
                    "digest",
                ),
                image(
                    "deploy/kustomization.yaml",
                    5,
                    "images[0].digest",
                    "kustomize",
                    f"shop@{DIGEST}",
                    "digest",
                ),
            ],
            "unreadable": [],
            "skipped": [],
            "summary": {
                "ci_systems": ["github-actions"],
                "built_on_push": bool(builds),
                "every_branch_pipelines": [],
                "unpinned_base_images": 0,
                "images_by_tag": 0,
                "lockfiles_missing": [],
                "flag_libraries": ["OpenFeature"],
                "unreadable": [],
            },
        }

    assert result == {
        "environments": [
            env("main", "refs/heads/main", "main", [release]),
            env("prod", "refs/tags/v1.0.0", None, []),
        ],
        "differing_files": [],
        "summary": scenario.expected_summary,
        "observations": [
            "main is built on pushes to main by .github/workflows/release.yml "
            "(on.push.branches, line 4)",
            "only main is built from its own branch: build once there and promote that "
            "artifact by digest",
            "every Dockerfile base image is pinned by digest",
            "every deployed image is referenced by digest",
            "feature-flag libraries already in use: OpenFeature (package.json, "
            "worker/pyproject.toml)",
        ],
        "notes": [],
    }


def test_scan_is_deterministic(built: Callable[[str], DeliveryScenario]) -> None:
    scenario = built("env_branches")
    assert scan(scenario) == scan(scenario)


# -- robustness: broken, hostile and huge files are findings, never exceptions -------------

ALIAS_BOMB = "\n".join(
    ["apiVersion: v1", "kind: ConfigMap", "a: &a [x, x, x, x, x, x, x, x, x]"]
    + [f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]" for i in range(8)]
)


HELM_TEMPLATE = "{{- if .Values.on }}\nkind: Pod\napiVersion: v1\n{{ end }}\n"


def test_broken_huge_and_hostile_files(tmp_path: Path) -> None:
    b = RepoBuilder.init(tmp_path / "broken", branch="dev")
    b.commit(
        "Delivery",
        {
            ".gitlab-ci.yml": "build:\n  script: [make\n  rules: - if\n",
            "bitbucket-pipelines.yml": "- just\n- a list\n",
            "Dockerfile": b"\xff\xfeFROM \x00garbage\n",
            "pyproject.toml": "[project\nname = 1\n",
            "composer.json": "[" * 100_000,
            "web/pyproject.toml": '[tool.poetry]\ngroup = 3\n[project]\ndependencies = "x"\n',
            "k8s/bomb.yaml": ALIAS_BOMB,
            "k8s/not-yaml.yaml": "apiVersion: v1\nkind: Pod\nspec: {containers: [\n",
            "chart/Chart.yaml": "apiVersion: v2\nname: c\n",
            "chart/templates/pod.yaml": HELM_TEMPLATE,
            "values-huge.yaml": "image: shop:1.0\n" + "# padding\n" * 110_000,
        },
    )
    b.branch("prod", "dev")
    repo = GitRepository.open(b.path)
    envs = resolve_chain(repo, Settings(envs=(EnvSpec("dev"), EnvSpec("prod")))).envs
    result = scan_delivery(repo, envs)
    dev = result["environments"][0]
    assert [u["path"] for u in dev["unreadable"]] == [
        ".gitlab-ci.yml",
        "composer.json",
        "k8s/not-yaml.yaml",
        "pyproject.toml",
    ]
    assert dev["unreadable"][0]["reason"].startswith("not valid YAML at line 3")
    assert dev["unreadable"][1]["reason"] == "nested too deeply to read"
    assert dev["unreadable"][3]["reason"].startswith("not valid TOML")
    assert dev["skipped"] == [{"path": "values-huge.yaml", "reason": "not read: larger than 1 MiB"}]
    assert result["notes"] == [
        "values-huge.yaml on dev: not read: larger than 1 MiB",
        "values-huge.yaml on prod: not read: larger than 1 MiB",
    ]
    assert dev["pipelines"] == [
        {
            "path": "bitbucket-pipelines.yml",
            "system": "bitbucket-pipelines",
            "every_branch": False,
            "triggers": [],
            "builds_this_environment": [],
        }
    ]
    assert dev["base_images"] == [] and dev["images"] == []
    assert result["differing_files"] == []


def test_remote_tracking_and_tag_refs_name_their_branch() -> None:
    assert branch_of("refs/heads/prod") == "prod"
    assert branch_of("refs/remotes/origin/release/prod") == "release/prod"
    assert branch_of("refs/tags/v1.0.0") is None


# -- each CI system's trigger syntax ---------------------------------------------------------


def triggers_of(system: str, text: str, path: str = "ci.yml") -> tuple[list[tuple[str, ...]], bool]:
    pipeline = read_pipeline(system, path, text)
    found: list[tuple[str, ...]] = [
        (t.branch, t.key, t.syntax, "exclude" if t.exclude else "") for t in pipeline.triggers
    ]
    return found, pipeline.every_branch


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("on: push\n", ([], True)),
        ("on:\n  push:\n    tags: ['v*']\n", ([], False)),
        ("on:\n  pull_request:\n    branches: [prod]\n", ([], False)),
        (
            "on:\n  push:\n    branches: ['release/**', '!release/old']\n",
            (
                [
                    ("release/**", "on.push.branches", "glob", ""),
                    ("release/old", "on.push.branches", "exact", "exclude"),
                ],
                False,
            ),
        ),
        (
            "on:\n  push:\n    branches-ignore: [dev]\n",
            ([("dev", "on.push.branches-ignore", "exact", "exclude")], True),
        ),
        (
            "on: [push]\njobs:\n  deploy:\n    if: github.ref == 'refs/heads/prod'\n"
            "    steps:\n      - if: ${{ github.ref_name == 'staging' }}\n        run: x\n",
            (
                [
                    ("prod", "jobs.deploy.if", "exact", ""),
                    ("staging", "jobs.deploy.steps[0].if", "exact", ""),
                ],
                True,
            ),
        ),
        ("on:\n  push:\n    branches: ['**']\n", ([], True)),
    ],
)
def test_github_actions_triggers(text: str, expected: tuple[list[tuple[str, ...]], bool]) -> None:
    assert triggers_of("github-actions", text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("build:\n  script: [make]\n", ([], True)),
        (
            "build:\n  script: [make]\n  only: [branches]\n  except: [/^feature-/]\n",
            ([("/^feature-/", "build.except", "regex", "exclude")], True),
        ),
        (
            "deploy:\n  script: [x]\n  only:\n    refs: [prod, tags]\n"
            "    variables: ['$CI_COMMIT_REF_NAME == \"staging\"']\n",
            (
                [
                    ("prod", "deploy.only", "exact", ""),
                    ("staging", "deploy.only.variables", "exact", ""),
                ],
                False,
            ),
        ),
        (
            "workflow:\n  rules:\n    - if: '$CI_COMMIT_BRANCH == \"main\"'\n"
            "build:\n  script: [make]\n",
            ([("main", "workflow.rules[0].if", "exact", "")], False),
        ),
        (
            ".a:\n  rules:\n    - if: $CI_COMMIT_BRANCH == 'dev'\n"
            ".b:\n  extends: .a\njob:\n  extends: [.b]\n  script: !reference [.a, script]\n",
            ([("dev", ".a.rules[0].if", "exact", "")], False),
        ),
        (
            'job:\n  script: [x]\n  rules:\n    - if: $CI_COMMIT_BRANCH == "prod"\n'
            "      when: never\n    - when: always\n",
            ([("prod", "job.rules[0].if", "exact", "exclude")], True),
        ),
    ],
)
def test_gitlab_triggers(text: str, expected: tuple[list[tuple[str, ...]], bool]) -> None:
    assert triggers_of("gitlab-ci", text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("trigger: none\nsteps: []\n", ([], False)),
        (
            "trigger: [main, refs/heads/prod, refs/tags/v*]\n",
            ([("main", "trigger", "exact", ""), ("prod", "trigger", "exact", "")], False),
        ),
        (
            "stages:\n  - stage: deploy\n"
            "    condition: and(succeeded(),\n"
            "      eq(variables['Build.SourceBranch'], 'refs/heads/prod'))\n",
            ([("prod", "stages[0].condition", "exact", "")], True),
        ),
        ("trigger:\n  tags:\n    include: ['v*']\n", ([], False)),
    ],
)
def test_azure_triggers(text: str, expected: tuple[list[tuple[str, ...]], bool]) -> None:
    assert triggers_of("azure-pipelines", text) == expected


def test_jenkins_comparators_and_negation() -> None:
    text = (
        "stage('Deploy') {\n"
        "  when { branch pattern: 'release-\\\\d+', comparator: 'REGEXP' }\n"
        "  // when { branch 'commented' }\n"
        "  when { not { branch 'dev' } }\n"
        "  script { if (env.BRANCH_NAME == 'prod') { sh 'x' } }\n"
        "}\n"
    )
    assert triggers_of("jenkins", text, "Jenkinsfile") == (
        [
            ("release-\\\\d+", "stage('Deploy') when branch", "regex", ""),
            ("dev", "stage('Deploy') when branch", "exact", "exclude"),
            ("prod", "stage('Deploy') BRANCH_NAME ==", "exact", ""),
        ],
        True,
    )


def test_bitbucket_brace_globs_match_branches() -> None:
    pipeline = read_pipeline(
        "bitbucket-pipelines",
        "bitbucket-pipelines.yml",
        "pipelines:\n  branches:\n    '{staging,prod}':\n      - step: {script: [x]}\n",
    )
    assert [t.branch for t in pipeline.builds_on("prod")] == ["{staging,prod}"]
    assert pipeline.builds_on("dev") == []


# -- Dockerfiles, manifests, dependency files ------------------------------------------------


def test_dockerfile_args_stages_and_copy_from() -> None:
    text = (
        "ARG REGISTRY=docker.io\nARG TAG\n"
        "FROM --platform=$BUILDPLATFORM ${REGISTRY}/golang:1.22 AS Build\n"
        "FROM alpine:${TAG}\nFROM debian:${TAG:-12}\n"
        "FROM build\nFROM scratch\n"
        "COPY --from=Build /out /out\nCOPY --from=0 /a /a\n"
        "COPY --link --from=nginx:1.27 \\\n  /etc/nginx /etc/nginx\n"
    )
    found = [(b.line, b.instruction, b.image, b.pin) for b in base_images("Dockerfile", text)]
    assert found == [
        (3, "FROM", "docker.io/golang:1.22", "tag"),
        (4, "FROM", "alpine:${TAG}", "unresolved"),
        (5, "FROM", "debian:12", "tag"),
        (10, "COPY --from", "nginx:1.27", "tag"),
    ]


def test_registry_ports_and_helm_shapes() -> None:
    pod = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - image: localhost:5000/shop\n"
    images, is_kubernetes = kubernetes_images("pod.yaml", pod)
    assert is_kubernetes and [(i.image, i.pin) for i in images] == [
        ("localhost:5000/shop", "untagged")
    ]
    values = (
        "image: {registry: ghcr.io, repository: acme/api, tag: '1.10', digest: ''}\n"
        "sidecarImage: busybox:1.36\n"
        "worker:\n  image:\n    repository: acme/worker\n"
        "pullImage: 'true'\n"
    )
    assert [(i.key, i.image, i.pin) for i in helm_images("values.yaml", values)] == [
        ("image.tag", "ghcr.io/acme/api:1.10", "tag"),
        ("sidecarImage", "busybox:1.36", "tag"),
        ("worker.image.repository", "acme/worker", "untagged"),
    ]


def declared(path: str, text: str) -> Declared:
    parser = manifest_parser(path)
    assert parser is not None
    return parser[1](text)


@pytest.mark.parametrize(
    ("path", "text", "vendors"),
    [
        ("Gemfile", "source 'https://rubygems.org'\ngem 'flipper-active_record'\n", ["Flipper"]),
        (
            "pom.xml",
            "<project><dependencies>\n<dependency>\n<groupId>org.ff4j</groupId>\n"
            "<artifactId>ff4j-core</artifactId>\n</dependency>\n</dependencies></project>\n",
            ["FF4j"],
        ),
        (
            "build.gradle.kts",
            'dependencies {\n  implementation("org.togglz:togglz-core:4.4.0")\n}\n',
            ["Togglz"],
        ),
        (
            "src/Api/Api.csproj",
            '<Project><ItemGroup>\n<PackageReference Include="LaunchDarkly.ServerSdk" '
            'Version="8.5.0" />\n</ItemGroup></Project>\n',
            ["LaunchDarkly"],
        ),
        ("composer.json", '{"require": {"php": ">=8.2", "unleash/client": "^2"}}', ["Unleash"]),
        (
            "go.mod",
            "module x\n\nrequire (\n\tgithub.com/Unleash/unleash-client-go/v4 v4.1.0\n)\n",
            ["Unleash"],
        ),
        (
            "Cargo.toml",
            '[dependencies]\nflags = { package = "open-feature", version = "0.2" }\n',
            ["OpenFeature"],
        ),
        (
            "requirements/base.in",
            "Flagsmith\nGrowthBook>=1\nsplitio_client\n",
            ["Flagsmith", "GrowthBook", "Split"],
        ),
        (
            "Pipfile",
            '[packages]\nConfigCat-Client = "*"\nstatsig = "*"\n',
            ["ConfigCat", "Statsig"],
        ),
        (
            "package.json",
            '{"dependencies": {"posthog-node": "4", "@flipt-io/flipt": "1"}}',
            ["Flipt", "PostHog"],
        ),
        (
            "gradle/libs.versions.toml",
            '[libraries]\nof = { module = "dev.openfeature:sdk", version = "1" }\n',
            ["OpenFeature"],
        ),
    ],
)
def test_flag_libraries_per_ecosystem(path: str, text: str, vendors: list[str]) -> None:
    parser = manifest_parser(path)
    assert parser is not None
    found = flag_libraries(path, parser[0], parser[1](text))
    assert sorted(f.vendor for f in found) == vendors


def test_lock_status_per_ecosystem() -> None:
    def status(path: str, text: str, others: set[str]) -> tuple[str, str | None] | None:
        manifest = lock_status(path, declared(path, text), {path, *others})
        return None if manifest is None else (manifest.status, manifest.lockfile)

    assert status("requirements.in", "flask\n", {"requirements.txt"}) == (
        "locked",
        "requirements.txt",
    )
    assert status("requirements.txt", "flask>=3\n", {"requirements.in"}) is None
    assert status("requirements-dev.txt", "pytest==8.0\n-r requirements.txt\n", set()) == (
        "pinned",
        None,
    )
    assert status("packages/a/package.json", '{"dependencies": {"x": "1"}}', {"yarn.lock"}) == (
        "locked",
        "yarn.lock",
    )
    assert status("package.json", '{"name": "no-deps"}', set()) is None
    assert status("go.mod", "module x\n\ngo 1.22\n", set()) is None
    assert status("go.mod", "module x\nrequire golang.org/x/text v0.14.0\n", set()) == (
        "missing",
        None,
    )
    assert status(
        "pom.xml", "<dependency><groupId>a</groupId><artifactId>b</artifactId></dependency>", set()
    ) == (
        "no_lock_format",
        None,
    )
    assert status("app/build.gradle", "implementation 'a:b:1'\n", {"gradle.lockfile"}) == (
        "locked",
        "gradle.lockfile",
    )
    assert status("Api.csproj", '<PackageReference Include="Serilog" />', set()) == (
        "missing",
        None,
    )


def test_unreadable_manifests_raise_a_sentence() -> None:
    with pytest.raises(Unreadable, match="not a JSON object"):
        declared("package.json", "[1, 2]")


# -- listing: only files a scan may take, each folder once per path and tree -----------------

NAMES = [
    "app.py",
    "README.md",
    "Dockerfile",
    "Dockerfile.prod",
    "api.dockerfile",
    "Containerfile",
    "Jenkinsfile",
    "Jenkinsfile.deploy",
    "ci.jenkinsfile",
    ".gitlab-ci.yml",
    "values.yaml",
    "values-prod.yml",
    "Chart.yaml",
    "kustomization.yaml",
    "Kustomization",
    "deploy.yaml",
    "package.json",
    "package-lock.json",
    "pyproject.toml",
    "poetry.lock",
    "requirements.txt",
    "requirements-dev.in",
    "go.mod",
    "go.sum",
    "Cargo.toml",
    "app.csproj",
    "pom.xml",
    "build.gradle.kts",
    "gradle.lockfile",
    "notes.txt",
    "Makefile",
    "azure-pipelines.yml",
    "bitbucket-pipelines.yml",
    ".travis.yml",
    "config.yml",
    "image.png",
    "x.YAML",
]
FOLDERS = [
    "",
    ".github/workflows/",
    ".circleci/",
    "requirements/",
    "k8s/",
    "chart/",
    "chart/templates/",
    "src/deep/",
    ".azure-pipelines/",
]


@pytest.mark.parametrize("folder", FOLDERS)
def test_a_file_left_unlisted_is_one_the_scan_never_takes(folder: str) -> None:
    """`may_be_delivery` decides by path which files are listed at all: every path it turns
    away, `_file` leaves alone (it would read the blob, which does not exist here)."""
    from drift.delivery.scan import TipScan, _Scanner, may_be_delivery

    scanner = _Scanner(GitRepository.__new__(GitRepository))  # no repository: nothing read
    env = Environment("dev", "refs/heads/dev", "0" * 40, "")
    for name in NAMES:
        path = folder + name
        if may_be_delivery(path):
            continue
        tip = TipScan(env, "dev")
        scanner._file(tip, path, "0" * 40, {path}, {"chart"})
        assert tip.to_dict() == TipScan(env, "dev").to_dict(), path


def test_deciding_by_file_name_answers_as_the_whole_path(tmp_path: Path) -> None:
    """Most files are decided once per name (`delivery_name`), and only a requirements folder
    makes the rest depend on more: for every name in every folder, the answer by name (where
    there is one) and `may_be_delivery` are its definition's, and a tip lists the same files
    deciding by name as asking of every path."""
    from drift.delivery import scan
    from drift.delivery.files import TipFiles

    for name in NAMES:
        by_name = scan.delivery_name(name)
        for folder in FOLDERS:
            path = folder + name
            assert scan.may_be_delivery(path) == scan._delivery_path(path), path
            assert by_name is None or by_name == scan._delivery_path(path), path
    assert scan.may_be_delivery("requirements/notes.txt")
    assert not scan.may_be_delivery("docs/notes.txt")
    b = RepoBuilder.init(tmp_path / "r", branch="dev")
    b.commit("tree", {folder + name: f"{folder}{name}\n" for folder in FOLDERS for name in NAMES})
    repo = GitRepository.open(b.path)
    every_path = TipFiles(repo, scan.may_be_delivery).files(b.rev("dev"))
    named = TipFiles(repo, scan.may_be_delivery, scan.delivery_name).files(b.rev("dev"))
    assert named == every_path
    assert "requirements/notes.txt" in named and "src/deep/notes.txt" not in named


@pytest.mark.parametrize("path", ["", "a", "a/b", "a/b/", "/x", "//", "a//b", ".github/w/x.yml"])
def test_a_file_name_is_posixpaths(path: str) -> None:
    import posixpath

    from drift.delivery.files import basename

    assert basename(path) == posixpath.basename(path)


def test_a_folder_is_listed_as_libgit2_lists_it(tmp_path: Path) -> None:
    """`tree_entries` parses raw trees: names that are not UTF-8, modes written the old way
    (100664), executables, links, gitlinks and folders come out as pygit2's entries say
    (names and ids as bytes, modes canonical)."""
    import pygit2

    b = RepoBuilder.init(tmp_path / "r", branch="dev")
    b.commit("files", {"a.txt": "a\n", "sub/b.txt": "b\n"})
    blob = bytes.fromhex(b.git("rev-parse", "dev:a.txt"))
    folder = bytes.fromhex(b.git("rev-parse", "dev:sub"))
    raw = b"".join(
        mode + b" " + name + b"\0" + oid
        for mode, name, oid in (
            (b"100664", b"old-mode.txt", blob),
            (b"100755", b"run.sh", blob),
            (b"120000", b"link", blob),
            (b"160000", b"module", blob),
            (b"40000", b"sub", folder),
            (b"100644", b"caf\xe9.txt", blob),
        )
    )
    written = subprocess.run(
        ["git", "hash-object", "-w", "-t", "tree", "--literally", "--stdin"],
        cwd=b.path,
        input=raw,
        capture_output=True,
        check=True,
    )
    tree = written.stdout.decode().strip()
    listed = GitRepository.open(b.path).tree_entries(tree)
    listing = pygit2.Repository(str(b.path))[tree]
    assert isinstance(listing, pygit2.Tree)
    expected = [(e.raw_name, bytes.fromhex(str(e.id)), int(e.filemode)) for e in listing]
    assert listed == expected
    modes = [0o100644, 0o100755, 0o120000, 0o160000, 0o40000, 0o100644]
    assert [mode for _, _, mode in listed] == modes


def test_tips_list_each_folder_once_and_every_file_git_lists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each tip lists only the folders that differ from a tip listed before (same path, same
    tree id); what a tip holds is what `git ls-tree -r` lists, vendored folders left out."""
    from drift.delivery.files import TipFiles

    b = RepoBuilder.init(tmp_path / "r", branch="dev")
    files = {f"pkg{d}/mod{f}.py": f"{d}.{f}\n" for d in range(20) for f in range(5)}
    files |= {"pkg3/Dockerfile": "FROM x\n", "node_modules/a/package.json": "{}\n"}
    b.commit("tree", files)
    b.branch("prod", "dev")
    b.commit("one folder changes", {"pkg7/mod1.py": "changed\n"})
    repo = GitRepository.open(b.path)
    listed = record_listings(monkeypatch)
    tips = TipFiles(repo, lambda path: True)
    for branch in ("prod", "dev"):
        git = b.git("ls-tree", "-r", "--format=%(path) %(objectname)", branch).splitlines()
        expected = dict(line.split(" ") for line in git if not line.startswith("node_modules/"))
        assert tips.files(b.rev(branch)) == expected
    assert len(listed) == 21 + 2  # prod: the root and 20 folders; dev: the root and pkg7


def _ls_tree(b: RepoBuilder, branch: str, wanted: Callable[[str], bool]) -> dict[str, str]:
    """What `git ls-tree -r` lists at a branch, as `TipFiles.files` answers it."""
    lines = b.git("ls-tree", "-r", "--format=%(path) %(objectname)", branch).splitlines()
    found = dict(line.split(" ") for line in lines)
    return {path: blob for path, blob in found.items() if wanted(path)}


def _rows(cache_folder: Path) -> dict[str, Any]:
    """The folder listings a cache file holds, by folder, decoded (each sorted)."""
    from drift.ci.cache import _unsealed

    rows = {}
    for folder, data in stored_rows(cache_folder, "SELECT folder, data FROM folders"):
        _, (files, folders, whole) = _unsealed(data)
        rows[folder] = (sorted(files), sorted(folders), None if whole is None else sorted(whole))
    return rows


def test_a_later_run_lists_only_the_folders_new_commits_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a persistent cache, each folder's listing is kept by (tree id, path): a run after
    a commit that changed one file lists the folders on its path and nothing else, and every
    tip still lists what `git ls-tree -r` lists. The same tree at two paths is two answers (a
    requirements folder wants .txt files, another folder does not)."""
    from drift.ci.cache import CommitCache
    from drift.delivery import scan
    from drift.delivery.files import TipFiles

    b = RepoBuilder.init(tmp_path / "r", branch="dev")
    files = {
        f"pkg{d}/sub{s}/app{f}.yaml": f"{d}.{s}.{f}\n"
        for d in range(6)
        for s in range(4)
        for f in range(3)
    }
    files |= {"requirements/base.txt": "flask\n", "docs/base.txt": "flask\n"}
    b.commit("tree", files)
    b.branch("prod", "dev")
    assert b.git("rev-parse", "dev:requirements") == b.git("rev-parse", "dev:docs")
    listed = record_listings(monkeypatch)
    wanted = scan.may_be_delivery

    def tips(cache: CommitCache | None, definition: str = scan.definition()) -> TipFiles:
        return TipFiles(GitRepository.open(b.path, cache), wanted, scan.delivery_name, definition)

    with CommitCache.open(tmp_path / "cache") as cache:
        assert tips(cache).files(b.rev("prod")) == _ls_tree(b, "prod", wanted)
    assert len(listed) == 1 + 6 + 6 * 4 + 2  # every folder, once
    assert "requirements/base.txt" in _ls_tree(b, "prod", wanted)
    assert "docs/base.txt" not in _ls_tree(b, "prod", wanted)

    b.commit("one file changes", {"pkg4/sub2/app1.yaml": "changed\n"})
    listed.clear()
    with CommitCache.open(tmp_path / "cache") as cache:
        answers = tips(cache)
        assert answers.files(b.rev("dev")) == _ls_tree(b, "dev", wanted)
        assert answers.files(b.rev("prod")) == _ls_tree(b, "prod", wanted)
        assert cache.misses == 3  # the folders on the changed path
    assert listed == [b.git("rev-parse", f"dev:{p}") for p in ("", "pkg4", "pkg4/sub2")]
    # A row per folder: its own entries, and every wanted file below it when there are at
    # most SMALL (the root has 73, pkg4 12): the file grows by the folders changed.
    rows = _rows(tmp_path / "cache")
    assert len(rows) == 1 + 6 + 6 * 4 + 2 + 3
    top = [f"pkg{d}" for d in range(6)] + ["docs", "requirements"]
    expected = sorted((f"{name}/", b.git("rev-parse", f"dev:{name}")) for name in top)
    assert rows[b.git("rev-parse", "dev^{tree}") + ":"] == ([], expected, None)
    pkg4 = rows[b.git("rev-parse", "dev:pkg4") + ":pkg4/"]
    assert pkg4[0] == [] and len(pkg4[1]) == 4
    assert pkg4[2] == sorted(
        (p, blob) for p, blob in _ls_tree(b, "dev", wanted).items() if p.startswith("pkg4/")
    )
    base = [("requirements/base.txt", b.git("rev-parse", "dev:requirements/base.txt"))]
    assert rows[b.git("rev-parse", "dev:requirements") + ":requirements/"] == (base, [], base)
    assert rows[b.git("rev-parse", "dev:docs") + ":docs/"] == ([], [], [])

    listed.clear()  # a new definition of wanted files: nothing kept is used
    with CommitCache.open(tmp_path / "cache") as cache:
        assert tips(cache, "another").files(b.rev("dev")) == _ls_tree(b, "dev", wanted)
    assert len(listed) == 1 + 6 + 6 * 4 + 2
    listed.clear()
    assert tips(None).files(b.rev("dev")) == _ls_tree(b, "dev", wanted)
    assert len(listed) == 1 + 6 + 6 * 4 + 2


def test_a_folder_nested_deeper_than_pythons_stack_is_listed(tmp_path: Path) -> None:
    """Folders are gathered without recursion: 1,200 levels (Python stops at 1,000 calls).
    The trees are written by pygit2 (a checkout that deep would pass the system's limits)."""
    import pygit2

    from drift.delivery.files import TipFiles

    b = RepoBuilder.init(tmp_path / "r", branch="dev")
    b.commit("root", {"Dockerfile": "FROM y\n"})
    raw = pygit2.Repository(str(b.path))
    blob = raw.create_blob(b"FROM x\n")
    folder = raw.TreeBuilder()
    folder.insert("Dockerfile", blob, pygit2.enums.FileMode.BLOB)
    tree = folder.write()
    for _ in range(1199):
        folder = raw.TreeBuilder()
        folder.insert("d", tree, pygit2.enums.FileMode.TREE)
        tree = folder.write()
    top = raw.TreeBuilder(b.git("rev-parse", "dev^{tree}"))
    top.insert("d", tree, pygit2.enums.FileMode.TREE)
    commit = b.git("commit-tree", str(top.write()), "-p", "dev", "-m", "deep")
    deep = "/".join(["d"] * 1200)
    found = TipFiles(GitRepository.open(b.path), lambda path: True).files(commit)
    assert sorted(found) == ["Dockerfile", f"{deep}/Dockerfile"]
    assert found[f"{deep}/Dockerfile"] == str(blob)


def test_what_decides_the_listed_files_is_in_the_definitions_digest(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Every module `may_be_delivery` reaches (through the functions and values it names) is
    one whose source the digest covers, and an edit of any of them changes the digest: a
    listing kept under an older definition is never read as this one's."""
    import sys
    import types

    from drift.delivery import scan

    reached: set[str] = set()
    todo: list[Any] = [scan.may_be_delivery]
    seen: set[int] = set()
    while todo:
        item = todo.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, types.FunctionType):
            reached.add(item.__module__)
            todo += [item.__globals__[n] for n in item.__code__.co_names if n in item.__globals__]
        elif isinstance(item, types.ModuleType):
            continue
    assert reached <= set(scan._DEFINING), reached - set(scan._DEFINING)
    assert "drift.delivery.files" in scan._DEFINING  # VENDORED, basename
    before = scan.definition.__wrapped__()
    for name in scan._DEFINING:
        module = sys.modules[name]
        edited = tmp_path / f"{name}.py"
        edited.write_bytes(Path(str(module.__file__)).read_bytes() + b"\n# edited\n")
        monkeypatch.setattr(module, "__file__", str(edited))
        assert scan.definition.__wrapped__() != before, name
        monkeypatch.undo()
    assert scan.definition.__wrapped__() == before


def test_an_audit_after_new_commits_reads_kept_folders_and_reports_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """End to end: an audit with the persistent cache after a commit in a chart's templates
    lists only the folders on that path at dev's tip, and its report is the report of an
    audit without any cache."""
    from drift.audit import run_audit
    from drift.ci.cache import CommitCache
    from drift.git.store import using_store

    scenario = env_branches(tmp_path)
    settings = Settings(envs=tuple(EnvSpec(name, ref) for name, ref in scenario.envs))

    def audited(cache_folder: Path | None) -> dict[str, Any]:
        cache = CommitCache.open(cache_folder) if cache_folder is not None else None
        with using_store(cache):
            data = run_audit(scenario.path, settings, now=0).to_dict()
        if cache is not None:
            cache.close()
        return data

    audited(tmp_path / "cache")
    b = scenario.builder
    b.checkout("dev")
    b.commit("Chart: one more label", {"chart/templates/deployment.yaml": TEMPLATE + "# x\n"})
    listed = record_listings(monkeypatch)
    plain = audited(None)
    everything = len(listed)
    listed.clear()
    assert audited(tmp_path / "cache") == plain
    changed = {b.git("rev-parse", f"dev:{p}") for p in ("", "chart", "chart/templates")}
    assert set(listed) == changed and everything > len(changed) + 3


def _names_to_judge() -> set[str]:
    """File names to hold the quick answer to the rules with: every name of the Python that
    runs the tests (stdlib and installed packages: tens of thousands, as in a real tree), the
    names of NAMES, and every name the rules know, with its case changed and with a suffix
    before and after it."""
    import sysconfig

    from drift.delivery import ci, containers, dependencies, manifests

    names = set(NAMES)
    for key in ("stdlib", "purelib", "platlib"):
        root = Path(sysconfig.get_paths()[key])
        names.update(path.name for path in root.rglob("*") if path.is_file())
    known = {
        *dependencies._FORMATS,
        *dependencies.LOCK_NAMES,
        *manifests.KUSTOMIZATION,
        *containers.DOCKERFILE_NAMES,
        ci.JENKINSFILE,
        ".gitlab-ci.yml",
        "bitbucket-pipelines.yml",
        "azure-pipelines.yml",
        *(f"app.{s}" for s in dependencies._PROJECT_SUFFIXES),
        f"api{containers.DOCKERFILE_SUFFIX}",
        f"deploy{ci.JENKINS_SUFFIX}",
        *(f"values{s}" for s in manifests.YAML_SUFFIXES),
    }
    for name in known:
        for variant in (name, name.upper(), name.lower(), name.capitalize()):
            names.update({variant, f"{variant}.bak", f"old.{variant}", f"{variant}.py"})
    return names


def test_the_quick_answer_by_name_is_the_rules_answer() -> None:
    """`delivery_name` turns a name away without asking the rules when no rule takes its
    suffix and no rule takes it by how it starts: for every name of a real tree and every
    name the rules know (and variants), its answer is the rules' own."""
    from drift.delivery import scan

    names = _names_to_judge()
    assert len(names) > 5000
    quick = 0
    for name in names:
        decided = scan.delivery_name(name)
        if decided is None:
            assert name.endswith((".txt", ".in")), name
            continue
        assert decided == scan._delivery_path(name), name
        quick += not decided
    assert quick > len(names) // 2  # most names are turned away (most of them quickly)
    assert scan.delivery_name("Dockerfile.py") and scan.delivery_name("x.DOCKERFILE")
    assert scan.delivery_name("Jenkinsfile.groovy") and not scan.delivery_name("app.py")
