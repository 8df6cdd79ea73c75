"""Ray job: score yesterday's transactions with the fraud model and write the scores next to them."""

import sys

import ray
from awsglue.utils import getResolvedOptions

args = getResolvedOptions(sys.argv, ["source_path", "target_path", "threshold"])
THRESHOLD = float(args["threshold"])

ray.init("auto")
transactions = ray.data.read_parquet(args["source_path"])


def score(batch):
    batch["risk"] = (batch["amount"] / batch["avg_amount_30d"]).clip(upper=10.0) / 10.0
    batch["flagged"] = batch["risk"] > THRESHOLD
    return batch


scored = transactions.map_batches(score, batch_format="pandas")
scored.write_parquet(args["target_path"])
