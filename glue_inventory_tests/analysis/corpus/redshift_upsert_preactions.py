"""Upsert the day's shipments into Redshift through a staging table."""

import sys

from awsglue.context import GlueContext
from awsglue.job import Job
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext

args = getResolvedOptions(sys.argv, ["JOB_NAME", "TempDir", "load_date", "redshift_connection"])
glueContext = GlueContext(SparkContext.getOrCreate())
job = Job(glueContext)
job.init(args["JOB_NAME"], args)

shipments = glueContext.create_dynamic_frame.from_catalog(
    database="logistics",
    table_name="shipments",
    push_down_predicate=f"load_date = '{args['load_date']}'",
    transformation_ctx="shipments",
)

connection_options = {
    "dbtable": "staging.shipments",
    "database": "dwh",
    "preactions": "TRUNCATE staging.shipments;",
    "postactions": (
        "BEGIN; DELETE FROM public.shipments USING staging.shipments s "
        f"WHERE public.shipments.id = s.id AND s.load_date = '{args['load_date']}'; "
        "INSERT INTO public.shipments SELECT * FROM staging.shipments; END;"
    ),
}
glueContext.write_dynamic_frame.from_jdbc_conf(
    frame=shipments,
    catalog_connection=args["redshift_connection"],
    connection_options=connection_options,
    redshift_tmp_dir=args["TempDir"],
    transformation_ctx="redshift_sink",
)
job.commit()
