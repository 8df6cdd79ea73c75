"""Pure analysis logic: plain data in, plain data out; no Dagster, no boto3."""
