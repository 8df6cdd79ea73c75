"""Alerts from the Kafka topic: every micro-batch is written as one JSON file and mirrored to pandas."""

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


def write_batch(frame, path):
    # the downstream consumer polls a single file per batch
    frame.coalesce(1).write.mode("append").json(path)


def summarise(frame):
    table = frame.toPandas()
    return table.groupby("payload").size().to_dict()


def handle(batch, epoch_id):
    write_batch(batch, args["target_path"])
    counts = summarise(batch)
    print(epoch_id, len(counts))


query = (
    alerts.writeStream.foreachBatch(handle)
    .option("checkpointLocation", args["checkpoint_path"])
    .start()
)
query.awaitTermination()
