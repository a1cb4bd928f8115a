"""Views of the report model: each reads `Report.to_dict()` and nothing else."""
