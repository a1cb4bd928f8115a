"""Feature-flag libraries, by package name per ecosystem.

Flags let unfinished work ship dark from one trunk, which is what makes environment
branches unnecessary; a repository that already depends on one has that step half done.
A name ending in `*` is a prefix (`@openfeature/*` covers every OpenFeature package).
"""

from __future__ import annotations

import re

CATALOGUE: dict[str, dict[str, tuple[str, ...]]] = {
    "pypi": {
        "OpenFeature": ("openfeature-sdk", "openfeature-provider-*"),
        "LaunchDarkly": ("launchdarkly-server-sdk", "ldclient-py"),
        "Unleash": ("unleashclient",),
        "Flagsmith": ("flagsmith",),
        "GrowthBook": ("growthbook",),
        "Split": ("splitio-client",),
        "ConfigCat": ("configcat-client",),
        "Flipt": ("flipt", "flipt-client"),
        "PostHog": ("posthog",),
        "Optimizely": ("optimizely-sdk",),
        "Statsig": ("statsig", "statsig-python-core"),
    },
    "npm": {
        "OpenFeature": ("@openfeature/*",),
        "LaunchDarkly": ("@launchdarkly/*", "launchdarkly-*"),
        "Unleash": ("unleash-client", "unleash-proxy-client", "@unleash/*"),
        "Flagsmith": ("flagsmith", "flagsmith-nodejs", "flagsmith-es"),
        "GrowthBook": ("@growthbook/*",),
        "Split": ("@splitsoftware/*",),
        "ConfigCat": ("configcat-*",),
        "Flipt": ("@flipt-io/*",),
        "PostHog": ("posthog-js", "posthog-node"),
        "Optimizely": ("@optimizely/optimizely-sdk", "@optimizely/react-sdk"),
        "Statsig": ("@statsig/*", "statsig-js", "statsig-node"),
    },
    "go": {
        "OpenFeature": ("github.com/open-feature/go-sdk*",),
        "LaunchDarkly": ("github.com/launchdarkly/go-server-sdk*", "gopkg.in/launchdarkly/*"),
        "Unleash": ("github.com/unleash/unleash-client-go*",),
        "Flagsmith": ("github.com/flagsmith/flagsmith-go-client*",),
        "GrowthBook": ("github.com/growthbook/growthbook-golang*",),
        "Split": ("github.com/splitio/go-client*",),
        "ConfigCat": ("github.com/configcat/go-sdk*",),
        "Flipt": ("go.flipt.io/*",),
        "PostHog": ("github.com/posthog/posthog-go*",),
        "Optimizely": ("github.com/optimizely/go-sdk*",),
        "Statsig": ("github.com/statsig-io/go-sdk*",),
    },
    "cargo": {
        "OpenFeature": ("open-feature",),
        "LaunchDarkly": ("launchdarkly-server-sdk",),
        "Unleash": ("unleash-api-client",),
        "Flagsmith": ("flagsmith",),
        "ConfigCat": ("configcat",),
        "Flipt": ("flipt",),
        "PostHog": ("posthog-rs",),
        "Statsig": ("statsig-rust",),
    },
    "rubygems": {
        "OpenFeature": ("openfeature-sdk",),
        "LaunchDarkly": ("launchdarkly-server-sdk", "ldclient-rb"),
        "Unleash": ("unleash",),
        "Flagsmith": ("flagsmith",),
        "GrowthBook": ("growthbook",),
        "Split": ("splitclient-rb",),
        "ConfigCat": ("configcat",),
        "Flipt": ("flipt_client",),
        "PostHog": ("posthog-ruby",),
        "Optimizely": ("optimizely-sdk",),
        "Statsig": ("statsig",),
        "Flipper": ("flipper", "flipper-*"),
    },
    "composer": {
        "OpenFeature": ("open-feature/*",),
        "LaunchDarkly": ("launchdarkly/*",),
        "Unleash": ("unleash/client",),
        "Flagsmith": ("flagsmith/*",),
        "GrowthBook": ("growthbook/growthbook",),
        "Split": ("splitsoftware/split-sdk-php",),
        "ConfigCat": ("configcat/configcat-client",),
        "PostHog": ("posthog/posthog-php",),
        "Optimizely": ("optimizely/optimizely-sdk",),
        "Statsig": ("statsig/statsigsdk",),
    },
    "maven": {
        "OpenFeature": ("dev.openfeature:*",),
        "LaunchDarkly": ("com.launchdarkly:*",),
        "Unleash": ("io.getunleash:*",),
        "Flagsmith": ("com.flagsmith:*",),
        "GrowthBook": ("io.growthbook.sdk:*",),
        "Split": ("io.split.client:*",),
        "ConfigCat": ("com.configcat:*",),
        "Flipt": ("io.flipt:*",),
        "PostHog": ("com.posthog:*", "com.posthog.java:*"),
        "Optimizely": ("com.optimizely.ab:*",),
        "Statsig": ("com.statsig:*",),
        "FF4j": ("org.ff4j:*",),
        "Togglz": ("org.togglz:*",),
    },
    "nuget": {
        "OpenFeature": ("openfeature", "openfeature.*"),
        "LaunchDarkly": ("launchdarkly.*",),
        "Unleash": ("unleash.client",),
        "Flagsmith": ("flagsmith",),
        "GrowthBook": ("growthbook",),
        "Split": ("splitio", "splitio.*"),
        "ConfigCat": ("configcat.client",),
        "Flipt": ("flipt", "flipt.*"),
        "PostHog": ("posthog", "posthog.*"),
        "Optimizely": ("optimizely.sdk",),
        "Statsig": ("statsig",),
    },
}


def normalise(ecosystem: str, name: str) -> str:
    """A package name as its registry compares it (PEP 503 for PyPI, case-folded for Go,
    NuGet and Composer)."""
    if ecosystem == "pypi":
        return re.sub(r"[-_.]+", "-", name).lower()
    if ecosystem in ("go", "nuget", "composer", "rubygems"):
        return name.lower()
    return name


def flag_vendor(ecosystem: str, name: str) -> str | None:
    """The feature-flag product a package belongs to, or None."""
    key = normalise(ecosystem, name)
    for vendor, names in CATALOGUE.get(ecosystem, {}).items():
        for pattern in names:
            if key == pattern or (pattern.endswith("*") and key.startswith(pattern[:-1])):
                return vendor
    return None
