"""Alerts from the Kafka topic, written per micro-batch with the batch's own parallelism."""

import sys

from awsglue.context import GlueContext
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from pyspark.sql import functions as F

args = getResolvedOptions(sys.argv, ["bootstrap_servers", "target_path", "checkpoint_path"])
glue_context = GlueContext(SparkContext.getOrCreate())
spark = glue_context.spark_session

alerts = (
    spark.readStream.format("kafka")
    .option("kafka.bootstrap.servers", args["bootstrap_servers"])
    .option("subscribe", "alerts")
    .load()
    .select(F.col("value").cast("string").alias("payload"), "timestamp")
)


def handle(batch, epoch_id):
    counts = batch.groupBy("payload").count().withColumn("epoch_id", F.lit(epoch_id))
    counts.write.mode("append").parquet(args["target_path"] + "/counts/")
    batch.write.mode("append").option("maxRecordsPerFile", 100000).json(args["target_path"])


query = (
    alerts.writeStream.foreachBatch(handle)
    .option("checkpointLocation", args["checkpoint_path"])
    .start()
)
query.awaitTermination()
