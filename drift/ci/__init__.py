"""drift in CI: gates, accepted drift (baselines and trailers), trends, a persistent cache.

Everything here works on the report dict (`Report.to_dict()`) after the audit, except the
cache, which `drift.git.repository` consults while the audit reads commits.
"""
