"""Splink's Spark backend for ``cspkit link --engine spark`` (optional extra: ``pip install 'cspkit[spark]'``).

Only the person records' keyed features are sent to Spark; the clusters come back to the warehouse. Without a
session given, a local one is made (``local[2]``, UI off, four shuffle partitions, Splink's similarity jar, a
checkpoint folder in the temporary folder). To use a cluster, set ``SPARK_MASTER`` (``spark://host:7077``,
``yarn``...) and, for further settings, ``CSPKIT_SPARK_CONF`` as ``key=value`` pairs separated by commas.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

import pyarrow as pa

from cspkit.errors import CspkitError

__all__ = ["spark_api", "spark_session"]


def spark_session() -> Any:
    """A SparkSession from ``SPARK_MASTER`` and ``CSPKIT_SPARK_CONF``, or a small local one.

    Raises:
        CspkitError: pyspark is not installed.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise CspkitError(
            "The Spark engine needs pyspark: pip install 'cspkit[spark]' (and Java 17), or use --engine duckdb."
        ) from None
    from splink.backends.spark import similarity_jar_location

    builder = (
        SparkSession.builder.appName("cspkit-link")
        .master(os.environ.get("SPARK_MASTER", "local[2]"))
        .config("spark.jars", similarity_jar_location())
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.default.parallelism", "4")
        .config("spark.driver.memory", os.environ.get("CSPKIT_SPARK_DRIVER_MEMORY", "2g"))
    )
    for pair in filter(None, os.environ.get("CSPKIT_SPARK_CONF", "").split(",")):
        name, _, value = pair.partition("=")
        builder = builder.config(name.strip(), value.strip())
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    spark.sparkContext.setCheckpointDir(tempfile.mkdtemp(prefix="cspkit-spark-"))
    return spark


def spark_api(records: pa.Table, spark: Any = None) -> tuple[Any, Any]:
    """(SparkAPI, registered records) for Splink, from the person records as Arrow."""
    from pyspark.sql import types as T
    from splink.backends.spark import SparkAPI

    session = spark if spark is not None else spark_session()
    # An explicit schema: a column that is all NULL (no partner references, say) has no type to infer.
    fields = []
    for field in records.schema:
        if pa.types.is_list(field.type):
            spark_type: Any = T.ArrayType(T.StringType())
        elif pa.types.is_date(field.type):
            spark_type = T.DateType()
        else:
            spark_type = T.StringType()
        fields.append(T.StructField(field.name, spark_type, True))
    frame = session.createDataFrame(records.to_pylist(), schema=T.StructType(fields))
    db_api = SparkAPI(spark_session=session, break_lineage_method="parquet")
    return db_api, db_api.register(frame, table_name="person_records")
