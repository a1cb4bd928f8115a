"""Readiness for trunk-based delivery: delivery metrics reconstructed from history."""
