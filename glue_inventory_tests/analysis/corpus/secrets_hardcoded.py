"""Load the CRM's accounts into MySQL (legacy job: credentials written into the script)."""

import sys

import pymysql
from awsglue.utils import getResolvedOptions

args = getResolvedOptions(sys.argv, ["source_key"])

DB_HOST = "crm-mysql.internal.example"
DB_PASSWORD = "Crm-Load-2019!x"
API_TOKEN = "tok_live_8JqL2mZx7VwRt4Yp"

connection = pymysql.connect(DB_HOST, "crm_loader", DB_PASSWORD, "crm")
legacy = pymysql.connect("crm-replica.internal.example", "crm_reader", "Replica-Read-11", "crm")
try:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM accounts WHERE source_key = %s", (args["source_key"],))
        print("accounts:", cursor.fetchone()[0], "token length:", len(API_TOKEN))
finally:
    connection.close()
    legacy.close()
