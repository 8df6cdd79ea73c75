"""Python shell: rotate the export's presigned links; parameter and secret names are configuration, not secrets."""

import boto3

ssm = boto3.client("ssm")
secrets = boto3.client("secretsmanager")

token_param = "/prod/exports/signing-token"
password_secret = "prod/exports/smtp-password"

signing = ssm.get_parameter(Name=token_param, WithDecryption=True)["Parameter"]["Value"]
smtp = secrets.get_secret_value(SecretId=password_secret)["SecretString"]
paths = ssm.get_parameters(Names=["/prod/exports/bucket", "/prod/exports/prefix"])["Parameters"]

s3 = boto3.client("s3")
bucket, prefix = (item["Value"] for item in paths)
links = [s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": f"{prefix}/{name}"})
         for name in ("daily.csv", "weekly.csv")]
print(f"{len(links)} links signed with a {len(signing)}-character token; smtp secret {len(smtp)} characters")
