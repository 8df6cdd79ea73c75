"""AWS error codes and how an error is described: `<Code>: <Message>`, the form tables and logs keep."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

ACCESS_DENIED = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"})
# Error codes botocore's retry handler treats as throttling (botocore/retries/standard.py).
THROTTLING = frozenset({"Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
                        "TooManyRequestsException", "ProvisionedThroughputExceededException",
                        "TransactionInProgressException", "RequestLimitExceeded", "BandwidthLimitExceeded",
                        "LimitExceededException", "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
                        "EC2ThrottledException"})
# What a call to AWS can raise that is AWS's answer or the way to it, not a bug of ours.
AWS_ERRORS = (ClientError, BotoCoreError)


def error_code(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Code", "")


def describe_error(exc: ClientError) -> str:
    return f"{error_code(exc) or 'ClientError'}: {exc.response.get('Error', {}).get('Message', exc)}"


def describe_any(exc: Exception) -> str:
    """`<Code>: <Message>` for an AWS answer, `<ExceptionType>: <text>` for anything else."""
    return describe_error(exc) if isinstance(exc, ClientError) else f"{type(exc).__name__}: {exc}"
