"""cspkit: Community Safety Partnership strategic assessments from partner data.

The data flows one way: sources -> ingest -> privacy gate -> warehouse -> findings -> priorities -> report.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
