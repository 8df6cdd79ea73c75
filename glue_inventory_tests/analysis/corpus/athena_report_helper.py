"""Python shell: run the finance team's Athena report for a customer chosen at run time."""

import sys
import time

import boto3
from awsglue.utils import getResolvedOptions

args = getResolvedOptions(sys.argv, ["customer_id", "output"])
athena = boto3.client("athena")


def report_query(customer):
    return (
        "SELECT invoice_id, amount, due_date FROM finance.invoices "
        "WHERE customer_id = '" + customer + "' ORDER BY due_date"
    )


def run(query):
    started = athena.start_query_execution(QueryString=query, ResultConfiguration={"OutputLocation": args["output"]})
    while True:
        state = athena.get_query_execution(QueryExecutionId=started["QueryExecutionId"])
        if state["QueryExecution"]["Status"]["State"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            return state
        time.sleep(2)


run("SELECT count(*) FROM finance.invoices WHERE due_date < current_date")
run(report_query(args["customer_id"]))
