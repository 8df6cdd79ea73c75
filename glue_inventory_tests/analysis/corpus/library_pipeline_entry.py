"""Entry point of a job whose Spark work lives in its own library (shipped with --extra-py-files)."""

import logging
import sys

from awsglue.context import GlueContext
from awsglue.job import Job
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext

from inventory_pipeline.steps import load_snapshots, publish_marts

logging.basicConfig(level=logging.INFO)


def start_spark():
    """The job's Glue context and its Spark session."""
    context = GlueContext(SparkContext.getOrCreate())
    return context, context.spark_session


def main() -> None:
    args = getResolvedOptions(sys.argv, ["JOB_NAME", "snapshot_date"])
    glue_context, session = start_spark()
    job = Job(glue_context)
    job.init(args["JOB_NAME"], args)
    frames = load_snapshots(session, args["snapshot_date"])
    publish_marts(session, frames)
    logging.info("published %d marts", len(frames))
    job.commit()


if __name__ == "__main__":
    main()
