"""OpenCX analytics: metric definitions and statistics, usable without the web app.

Import from here in a notebook: `from opencx.analytics.metrics.nps import nps_from_counts`.
This package imports neither Django nor any other part of OpenCX (import-linter checks it).
"""
