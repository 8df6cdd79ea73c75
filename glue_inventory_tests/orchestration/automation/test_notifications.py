"""Notifications to SNS (moto, read back through an SQS subscription) and to a local webhook server."""

import dataclasses
import json
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import dagster as dg
import pytest

from glue_inventory.config import Settings, load_settings
from glue_inventory.orchestration.automation import build_sensors
from glue_inventory.orchestration.resources import GlueInventoryConfig, InventoryDatabase
from glue_inventory.pipeline import run_pipeline
from glue_inventory.services.notifications import ATTEMPTS, post_webhook, publish_sns
from glue_inventory.simulate import Simulator, build_fleet, start_simulator

SENSORS = {sensor.name: sensor for sensor in build_sensors(Settings())}
inventory_refresh_notification_sensor = SENSORS["inventory_refresh_notification_sensor"]
run_failure_notification_sensor = SENSORS["run_failure_notification_sensor"]
# The path of a Slack webhook URL is its credential.
HOOK_PATH = "/services/T0000/B0000/hunter2hunter2hunter2"
DB_PASSWORD = "S3cretPassw0rd"


class _Hook(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 — http.server's naming
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append((self.path, json.loads(body)))
        status = self.server.statuses.pop(0) if self.server.statuses else 200
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args) -> None:
        return None


@pytest.fixture
def webhook() -> Iterator[ThreadingHTTPServer]:
    """A Slack-like webhook on 127.0.0.1: `received` holds (path, JSON body); `statuses` are answered first."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    server.received, server.statuses = [], []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.url = f"http://127.0.0.1:{server.server_address[1]}{HOOK_PATH}"
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    """moto (SNS, SQS and a 10-job Glue fleet) for this module; the last test adds a job to it."""
    with start_simulator(build_fleet(10, 3, datetime.now(UTC), account_id="910987654321")) as simulator:
        yield simulator


@pytest.fixture
def aws(sim, monkeypatch) -> Simulator:
    for name, value in sim.env().items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "GLUE_INVENTORY_WEBHOOK_URL", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    sim.clear_faults()
    return sim


@pytest.fixture
def topic(aws) -> Iterator[tuple[str, str]]:
    """(topic ARN, queue URL): an SNS topic with an SQS queue subscribed to it."""
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    name = f"glue-inventory-{threading.get_ident()}-{id(aws)}"
    arn = sns.create_topic(Name=name)["TopicArn"]
    queue = sqs.create_queue(QueueName=name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn)
    yield arn, queue
    sns.delete_topic(TopicArn=arn)
    sqs.delete_queue(QueueUrl=queue)


def messages(queue: str) -> list[dict]:
    """The SNS envelopes (Subject, Message) waiting in `queue`."""
    sqs = boto3.client("sqs")
    found = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    return [json.loads(message["Body"]) for message in found]


def settings_file(tmp_path, topic_arn: str | None = None, webhook_url: str | None = None) -> str:
    path = tmp_path / "config.yaml"
    path.write_text(json.dumps({"notifications": {"sns_topic_arn": topic_arn, "webhook_url": webhook_url}}))
    return str(path)


def test_webhook_retries_server_errors_then_delivers(webhook):
    webhook.statuses = [503, 500]
    delivery = post_webhook(webhook.url, "hello", backoff_s=0.01)
    assert delivery.delivered and delivery.detail == "HTTP 200 after 3 attempt(s)"
    assert [body for _, body in webhook.received] == [{"text": "hello"}] * 3


@pytest.mark.parametrize(("statuses", "attempts"), [([500] * ATTEMPTS, ATTEMPTS), ([404], 1)])
def test_webhook_gives_up_without_raising(webhook, statuses, attempts):
    webhook.statuses = list(statuses)
    delivery = post_webhook(webhook.url, "hello", backoff_s=0.01)
    assert not delivery.delivered and f"HTTP {statuses[0]}" in delivery.detail
    assert len(webhook.received) == attempts  # a client error is not retried


def test_an_unreachable_webhook_is_reported_without_its_secret_path():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    delivery = post_webhook(f"http://127.0.0.1:{port}{HOOK_PATH}", "hello", backoff_s=0.01)
    assert not delivery.delivered
    assert "hunter2" not in delivery.detail and "127.0.0.1" in delivery.channel


def test_sns_publish_reaches_subscribers(topic):
    arn, queue = topic
    delivery = publish_sns(arn, "subject line", "the text")
    assert delivery.delivered
    assert [(m["Subject"], m["Message"]) for m in messages(queue)] == [("subject line", "the text")]


def test_sns_publish_is_retried_then_given_up(aws, monkeypatch):
    """An endpoint that drops every connection: botocore tries ATTEMPTS times, then the failure is returned."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted = []

    def drop() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            accepted.append(connection)
            connection.close()

    threading.Thread(target=drop, daemon=True).start()
    monkeypatch.setenv("AWS_ENDPOINT_URL_SNS", f"http://127.0.0.1:{listener.getsockname()[1]}")
    try:
        delivery = publish_sns("arn:aws:sns:us-east-1:910987654321:topic", "s", "t")
    finally:
        listener.close()
    assert not delivery.delivered and "Connection" in delivery.detail
    assert len(accepted) == ATTEMPTS


def test_an_sns_failure_is_returned_not_raised(aws):
    delivery = publish_sns("arn:aws:sns:us-east-1:910987654321:no-such-topic", "s", "t")
    assert not delivery.delivered and "NotFound" in delivery.detail


@dg.asset
def broken() -> None:
    raise RuntimeError(f"cannot connect to postgresql://inventory:{DB_PASSWORD}@db.internal:5432/inventory")


def test_a_failed_run_sends_its_failed_step_with_secrets_redacted(topic, webhook, tmp_path):
    arn, queue = topic
    config = GlueInventoryConfig(config_path=settings_file(tmp_path, arn, webhook.url))
    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize([broken], instance=instance, raise_on_error=False)
        context = dg.build_run_status_sensor_context(
            sensor_name="run_failure_notification_sensor", dagster_event=result.get_run_failure_event(),
            dagster_instance=instance, dagster_run=result.dagster_run, resources={"config": config},
        ).for_run_failure()
        run_failure_notification_sensor(context)
    [envelope] = messages(queue)
    [(path, body)] = webhook.received
    assert path == HOOK_PATH and body["text"] == envelope["Message"]
    assert "step broken: RuntimeError: cannot connect to postgresql://inventory:***REDACTED***@db" in body["text"]
    assert DB_PASSWORD not in json.dumps(envelope) and "broken" in envelope["Subject"]


def _succeeded(instance: dg.DagsterInstance, run_id: str, config: GlueInventoryConfig):
    [record] = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.RUN_SUCCESS).records
    context = dg.build_run_status_sensor_context(
        sensor_name="inventory_refresh_notification_sensor", dagster_event=record.event_log_entry.dagster_event,
        dagster_instance=instance, dagster_run=instance.get_run_by_id(run_id),
        resources={"config": config, "inventory_db": InventoryDatabase()})
    return inventory_refresh_notification_sensor(context)


def test_a_refresh_sends_spend_new_candidates_and_savings(aws, webhook, postgres_url, tmp_path, monkeypatch):
    monkeypatch.setenv("GLUE_INVENTORY_DATABASE_URL", postgres_url)
    monkeypatch.setenv("GLUE_INVENTORY_REPORTS_DIR", str(tmp_path / "reports"))
    config = GlueInventoryConfig(config_path=settings_file(tmp_path, webhook_url=webhook.url))
    with dg.DagsterInstance.ephemeral() as instance:
        run_pipeline(instance, log=lambda _: None)
        candidates_run = instance.get_latest_materialization_event(dg.AssetKey("deep_analysis_candidates")).run_id
        lister_run = instance.get_latest_materialization_event(dg.AssetKey("glue_jobs")).run_id
        assert isinstance(_succeeded(instance, lister_run, config), dg.SkipReason)
        assert webhook.received == []
        _succeeded(instance, candidates_run, config)

        template = next(job for job in aws.fleet.jobs if job.region == "us-east-1" and job.secrets)
        aws.add_job(dataclasses.replace(template, name="copied_with_its_secrets", runs=list(template.runs)))
        run_pipeline(instance, log=lambda _: None)
        _succeeded(instance, instance.get_latest_materialization_event(
            dg.AssetKey("deep_analysis_candidates")).run_id, config)

    first, second = (body["text"] for _, body in webhook.received)
    assert "estimated spend $" in first and "savings identified $" in first and "potential $" in first
    count = int(first.split(" candidates for deep analysis")[0].rsplit("\n", 1)[1])
    assert f"({count} new)" in first
    assert f"{count + 1} candidates for deep analysis (1 new)" in second
    assert "New: 910987654321/us-east-1/copied_with_its_secrets" in second
    assert not any(secret in second for secret in template.secrets)


def test_nothing_is_sent_when_no_target_is_configured(aws, tmp_path):
    settings = load_settings(settings_file(tmp_path))
    assert settings.notifications.sns_topic_arn is None and settings.notifications.webhook_url is None
    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize([broken], instance=instance, raise_on_error=False)
        context = dg.build_run_status_sensor_context(
            sensor_name="run_failure_notification_sensor", dagster_event=result.get_run_failure_event(),
            dagster_instance=instance, dagster_run=result.dagster_run,
            resources={"config": GlueInventoryConfig(config_path=settings_file(tmp_path))}).for_run_failure()
        assert isinstance(run_failure_notification_sensor(context), dg.SkipReason)
