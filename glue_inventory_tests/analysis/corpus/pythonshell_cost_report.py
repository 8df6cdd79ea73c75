"""Python shell job: yesterday's Glue cost per team from Cost Explorer, mailed as CSV to the platform team."""

import csv
import io
import sys
from datetime import date, timedelta

import boto3
from awsglue.utils import getResolvedOptions

args = getResolvedOptions(sys.argv, ["report_bucket"])

end = date.today()
start = end - timedelta(days=1)
costs = boto3.client("ce").get_cost_and_usage(
    TimePeriod={"Start": start.isoformat(), "End": end.isoformat()},
    Granularity="DAILY",
    Metrics=["UnblendedCost"],
    Filter={"Dimensions": {"Key": "SERVICE", "Values": ["AWS Glue"]}},
    GroupBy=[{"Type": "TAG", "Key": "team"}],
)

out = io.StringIO()
writer = csv.writer(out)
writer.writerow(["team", "usd"])
for group in costs["ResultsByTime"][0]["Groups"]:
    writer.writerow([group["Keys"][0], group["Metrics"]["UnblendedCost"]["Amount"]])

boto3.client("s3").put_object(Bucket=args["report_bucket"], Key=f"glue-cost/{start}.csv", Body=out.getvalue())
