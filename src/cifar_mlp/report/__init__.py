"""The report: notebooks executed and rendered to pages, figures, provenance."""
