"""Load the CRM's accounts into Postgres; credentials come from Secrets Manager, never from the script."""

import json
import logging
import sys

import boto3
import psycopg2
from awsglue.utils import getResolvedOptions

logging.basicConfig(level=logging.INFO)
log = logging.getLogger("crm_load")

args = getResolvedOptions(sys.argv, ["source_key"])

secret_name = "prod/glue/crm-postgres"
api_secret = "prod/glue/crm-api"
region_name = "eu-west-1"


def get_secret(secret_id, region=region_name):
    client = boto3.client("secretsmanager", region_name=region)
    log.info("reading secret %s", secret_id)
    return json.loads(client.get_secret_value(SecretId=secret_id)["SecretString"])


def api_token(name="prod/glue/crm-api-token"):
    return get_secret(name)["token"]


db = get_secret(secret_name)
token = api_token()
print(f"loaded {api_secret}: {len(get_secret(api_secret))} keys")

conn = psycopg2.connect(host=db["host"], user=db["username"], password=db["password"], dbname="crm")
with conn, conn.cursor() as cursor:
    cursor.execute("SELECT count(*) FROM accounts WHERE source_key = %s", (args["source_key"],))
    log.info("accounts already loaded: %s (token %d chars)", cursor.fetchone()[0], len(token))
conn.close()
