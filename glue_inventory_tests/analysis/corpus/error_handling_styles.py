"""Nightly sync of product images: downloads each new image and records failures."""

import sys

import boto3
import requests
from awsglue.utils import getResolvedOptions

args = getResolvedOptions(sys.argv, ["bucket", "manifest_key"])
s3 = boto3.client("s3")

manifest = s3.get_object(Bucket=args["bucket"], Key=args["manifest_key"])["Body"].read().decode("utf-8")
failures = []
for url in manifest.splitlines():
    try:
        image = requests.get(url, timeout=20)
        image.raise_for_status()
        s3.put_object(Bucket=args["bucket"], Key="images/" + url.rsplit("/", 1)[-1], Body=image.content)
    except Exception:
        failures.append(url)

try:
    s3.put_object(Bucket=args["bucket"], Key="images/_failures.txt", Body="\n".join(failures).encode())
except:
    print("could not write the failure list")

print(f"{len(failures)} failures of {len(manifest.splitlines())}; last run id {last_run_id}")
