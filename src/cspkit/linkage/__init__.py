"""Cross-agency person linkage on keyed features with Splink (DuckDB in process, or Spark)."""
