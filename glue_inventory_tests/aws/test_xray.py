"""OTLP straight to X-Ray: with the credential provider `glue_inventory_xray`, the real OTLP exporter signs each
export with SigV4 for the `xray` service, and the body it signs is the body that arrives."""

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from glue_inventory_tests.otlp_receiver import TRACES_PATH, OTLPReceiver

SECRET_ID, SECRET_KEY = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"


def test_exports_are_signed_for_xray_with_the_tools_credentials(monkeypatch):
    with OTLPReceiver() as receiver:
        monkeypatch.setenv("OTEL_PYTHON_EXPORTER_OTLP_HTTP_TRACES_CREDENTIAL_PROVIDER", "glue_inventory_xray")
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", SECRET_ID)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
        monkeypatch.delenv("AWS_PROFILE", raising=False)
        monkeypatch.setenv("AWS_REGION", "eu-west-1")
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=receiver.endpoint + TRACES_PATH)))
        with provider.get_tracer("test").start_as_current_span("dagster.step glue_jobs"):
            pass
        provider.shutdown()

    assert [span.name for span in receiver.spans] == ["dagster.step glue_jobs"]
    (headers,) = receiver.headers
    authorization = headers["authorization"]
    assert authorization.startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/eu-west-1/xray/aws4_request" in authorization and "Signature=" in authorization
    signed_headers = authorization.split("SignedHeaders=")[1].split(",")[0].split(";")
    assert {"content-type", "host", "x-amz-date"} <= set(signed_headers)
    # The signature, computed again over what arrived, is the one sent.
    arrived = AWSRequest(method="POST", url=receiver.endpoint + TRACES_PATH, data=receiver.bodies[0],
                         headers={name: headers[name] for name in signed_headers})
    arrived.context["timestamp"] = headers["x-amz-date"]
    auth = SigV4Auth(Credentials(SECRET_ID, SECRET_KEY), "xray", "eu-west-1")
    expected = auth.signature(auth.string_to_sign(arrived, auth.canonical_request(arrived)), arrived)
    assert authorization.endswith(f"Signature={expected}")
    assert SECRET_KEY not in str(headers)
