"""The report templates (installed as the package `drift.templates`)."""
