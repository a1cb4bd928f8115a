"""Delivery configuration at each environment's tip: what the move to one trunk depends on.

CI triggers on environment branches (the artifact rebuilt per environment), base images and
deployed images not pinned by digest, dependency manifests without lock files, feature-flag
libraries already in use, and delivery files that differ between environment branches.
"""

from drift.delivery.scan import scan_delivery

__all__ = ["scan_delivery"]
