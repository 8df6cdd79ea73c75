"""OTLP straight to AWS X-Ray: a requests session that signs each trace export with SigV4 (service `xray`).

X-Ray's OTLP endpoint (`https://xray.<region>.amazonaws.com/v1/traces`, with CloudWatch Transaction Search
enabled) accepts OTLP/HTTP signed like any AWS API call. The OTLP exporter takes its session from an entry point
named by `OTEL_PYTHON_EXPORTER_OTLP_HTTP_TRACES_CREDENTIAL_PROVIDER`: ours is `glue_inventory_xray`
(pyproject.toml), signing with the tool's own credentials in `AWS_REGION` (docs/OBSERVABILITY.md).
"""

from __future__ import annotations

import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from glue_inventory.aws.clients import new_session
from glue_inventory.config import home_region

SERVICE = "xray"


class SigV4(requests.auth.AuthBase):
    """Signs a prepared request (its final, possibly gzipped, body) for `service` in `region`."""

    def __init__(self, credentials: Credentials, region: str, service: str = SERVICE) -> None:
        self.credentials = credentials
        self.region = region
        self.service = service

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        headers = {name: value for name, value in request.headers.items()
                   if name.lower() in {"content-type", "content-encoding"}}
        signed = AWSRequest(method=request.method, url=request.url, data=request.body, headers=headers)
        # Frozen per export: botocore renews role credentials before they expire.
        SigV4Auth(self.credentials.get_frozen_credentials(), self.service, self.region).add_auth(signed)
        request.headers.update(dict(signed.headers.items()))
        return request


def otlp_session() -> requests.Session:
    """The OTLP exporter's session for X-Ray (entry point `glue_inventory_xray`)."""
    region = home_region()
    credentials = new_session(region_name=region).get_credentials()
    if credentials is None:
        raise RuntimeError("glue_inventory_xray: no AWS credentials to sign the trace exports with — set "
                           "AWS_PROFILE or the role the tool runs as (it needs AWSXrayWriteOnlyPolicy)")
    session = requests.Session()
    session.auth = SigV4(credentials, region)
    return session
