"""Python shell job: pulls exchange rates from an HTTP API and stores them in S3.

The API key is read from Secrets Manager at run time; only the secret's id is a job argument.
"""

import json
import logging
import sys
from datetime import datetime, timezone

import boto3
import requests
from awsglue.utils import getResolvedOptions

logging.basicConfig(level=logging.INFO)
logger = logging.getLogger(__name__)

args = getResolvedOptions(sys.argv, ["api_url", "api_key_secret_id", "bucket", "prefix"])

secrets = boto3.client("secretsmanager")
api_key = secrets.get_secret_value(SecretId=args["api_key_secret_id"])["SecretString"]

session = requests.Session()
session.headers.update({"Authorization": f"Bearer {api_key}"})


def fetch_rates(base: str) -> dict:
    response = session.get(args["api_url"], params={"base": base}, timeout=30)
    response.raise_for_status()
    return response.json()


def main() -> int:
    s3 = boto3.client("s3")
    now = datetime.now(timezone.utc)  # noqa: UP017 - Glue Python shell is 3.9: no datetime.UTC
    for base in ("EUR", "USD", "GBP"):
        try:
            rates = fetch_rates(base)
        except requests.RequestException as error:
            logger.error("rates for %s failed: %s", base, error)
            return 1
        key = f"{args['prefix']}/{now:%Y/%m/%d}/{base}.json"
        s3.put_object(Bucket=args["bucket"], Key=key, Body=json.dumps(rates).encode("utf-8"))
        logger.info("stored %d rates for %s at s3://%s/%s", len(rates.get("rates", {})), base, args["bucket"], key)
    return 0


if __name__ == "__main__":
    sys.exit(main())
