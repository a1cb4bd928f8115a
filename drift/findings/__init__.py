"""The finding kinds of the audit engine (drift.findings.engine computes them all).

Kept empty so that reading a report's kinds (drift.findings.model) does not import the engine:
a run answered by the report cache never needs it.
"""
