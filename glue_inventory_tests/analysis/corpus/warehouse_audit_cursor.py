"""Python shell job: write an audit row per load into the warehouse with bind parameters."""

import sys

import boto3
import pg8000.native
from awsglue.utils import getResolvedOptions

args = getResolvedOptions(sys.argv, ["load_id", "table_name", "secret_id", "host"])

secret = boto3.client("secretsmanager").get_secret_value(SecretId=args["secret_id"])["SecretString"]
user, _, password = secret.partition(":")
connection = pg8000.native.Connection(user, host=args["host"], database="dwh", password=password)

AUDIT = "INSERT INTO audit.loads (load_id, table_name, loaded_at) VALUES (:load_id, :table_name, now())"
connection.run(AUDIT, load_id=args["load_id"], table_name=args["table_name"])

rows = connection.run("SELECT count(*) FROM audit.loads WHERE load_id = :load_id", load_id=args["load_id"])
print(f"audit rows for {args['load_id']}: {rows[0][0]}")
connection.close()
