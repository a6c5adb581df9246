"""The long-running worker: workflows plus light dispatch activities, nothing heavy.

It never runs FFmpeg or Satori. SIGTERM/SIGINT start a graceful shutdown: no new tasks are
polled, running workflow tasks finish, and in-flight renders keep going in Lambda (they
report to the server, not to this process).
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import logging
import signal
import sys
from datetime import timedelta
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from pydantic import ValidationError
from temporalio.client import Client
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.service import RPCError
from temporalio.worker import Worker

from orchestrator import json_logs
from orchestrator.billing.grants import GrantCreditsWorkflow
from orchestrator.billing.hold_sweeper import HoldSweeper
from orchestrator.billing.ledger_activities import BillingActivities
from orchestrator.cap.activities import PermitActivities, apply_pool_caps
from orchestrator.cap.models import POOL_FUNCTIONS
from orchestrator.cap.semaphore import SemaphoreWorkflow
from orchestrator.config import WorkerSettings
from orchestrator.dispatch.in_worker import noop_in_worker
from orchestrator.dispatch.lambda_dispatcher import LambdaDispatcher
from orchestrator.dispatch.noop import NoopFanOutWorkflow, NoopWorkflow
from orchestrator.executors import AWS_THREADS
from orchestrator.health import DispatchCounters, HealthServer
from orchestrator.key_refresh import follow_api_key
from orchestrator.publish.payload_cms import PayloadReporter
from orchestrator.publish.postiz import PostizPublisher
from orchestrator.publish.postiz_follow import PostizFollower
from orchestrator.publish.review_links import ReviewAnnouncer
from orchestrator.publish.workflow import PublishCreativeWorkflow
from orchestrator.render.brand_kits import BrandKitStore
from orchestrator.render.image import GenerateImageWorkflow
from orchestrator.render.video import RenderVideoWorkflow
from orchestrator.visibility.attributes import missing_search_attributes
from smm_runtime import log_redaction
from smm_runtime.account_channels import AccountChannels
from smm_runtime.ledger import Ledger
from smm_runtime.process_exit import run_and_exit
from smm_runtime.temporal_conn import TemporalConfigError, connect

WORKFLOWS: list[type] = [
    RenderVideoWorkflow,
    GenerateImageWorkflow,
    PublishCreativeWorkflow,
    GrantCreditsWorkflow,
    SemaphoreWorkflow,
    NoopWorkflow,
    NoopFanOutWorkflow,
]
log = logging.getLogger("smm.worker")
CONNECT_TIMEOUT_S = 30


class WorkerStartError(Exception):
    """The worker could not start; the message says why."""


def lambda_client(settings: WorkerSettings) -> Any:
    # Event invokes return in milliseconds; fail fast and let Temporal's retry policy back off.
    # One kept-alive connection per AWS thread: with botocore's default of 10, invokes beyond
    # the tenth at once opened a connection and threw it away (`make bench` throughput: about
    # 10 % more worker CPU per dispatch and 15 % fewer invokes per second).
    config = Config(
        connect_timeout=5,
        read_timeout=30,
        retries={"max_attempts": 2, "mode": "standard"},
        max_pool_connections=AWS_THREADS,
    )
    return boto3.client(
        "lambda",
        region_name=settings.aws_region,
        endpoint_url=settings.lambda_endpoint_url,
        config=config,
    )


def s3_client(settings: WorkerSettings) -> Any:
    return boto3.client("s3", region_name=settings.aws_region)


def check_pool_caps(settings: WorkerSettings, lambda_api: Any) -> list[str]:
    """Refuse caps above the capped function's reserved concurrency; returns the checks it
    could not make (no permission, no such function), which the worker logs and lets be."""
    unchecked: list[str] = []
    for pool, names in POOL_FUNCTIONS.items():
        cap = int(settings.pool_caps.get(pool, 0))
        for setting in names:
            function = str(getattr(settings, setting))
            if cap <= 0:
                continue
            try:
                answer = lambda_api.get_function_concurrency(FunctionName=function)
            except ClientError as err:
                code = err.response.get("Error", {}).get("Code", "")
                unchecked.append(f"{pool}: {function}: {code}")
                continue
            reserved = answer.get("ReservedConcurrentExecutions")
            if reserved is not None and cap > int(reserved):
                raise WorkerStartError(
                    f"SMM_POOL_CAPS: {pool}={cap} is above {function}'s reserved concurrency "
                    f"{reserved}; lower the cap to {reserved} or raise the function's "
                    "ReservedConcurrentExecutions (template.yaml parameters)"
                )
    return unchecked


def build_worker(
    client: Client,
    settings: WorkerSettings,
    lambda_api: Any,
    s3_api: Any | None = None,
    counters: DispatchCounters | None = None,
) -> Worker:
    log_redaction.install()  # before the first dispatch can log a task token at DEBUG
    dispatcher = LambdaDispatcher(lambda_api, settings.function_names(), counters)
    s3 = s3_api if s3_api is not None else s3_client(settings)
    brand_kits = BrandKitStore(s3)
    postiz = PostizPublisher(
        s3, settings.output_bucket, settings.postiz_url, settings.postiz_api_key.get_secret_value()
    )
    payload = PayloadReporter(
        settings.payload_url,
        settings.payload_user_slug,
        settings.payload_api_key.get_secret_value() if settings.payload_api_key else None,
    )
    dynamodb = boto3.client("dynamodb", region_name=settings.aws_region)
    table = settings.ledger_table
    ledger = Ledger(dynamodb, table) if table else None
    channels = AccountChannels(dynamodb, table) if table else None
    billing = BillingActivities(ledger, settings.price_model, channels)
    review = ReviewAnnouncer(
        settings.review_link_secret.get_secret_value().encode()
        if settings.review_link_secret
        else None,
        settings.review_base_url,
        settings.review_webhook_url,
        settings.review_inboxes,
        settings.review_inbox_template,
    )
    permits = PermitActivities(client, settings.pool_caps)
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=WORKFLOWS,
        activities=[
            *dispatcher.activities(),
            brand_kits.load_brand_kit,
            postiz.create_postiz_post,
            postiz.postiz_channels,
            PostizFollower(postiz).follow_postiz_posts,
            payload.update_payload,
            billing.price_model,
            billing.ledger,
            billing.account_channels,
            review.announce_review,
            permits.pool_caps,
            permits.request_permit,
            noop_in_worker,
        ],
        graceful_shutdown_timeout=timedelta(seconds=settings.graceful_shutdown_s),
        max_cached_workflows=settings.max_cached_workflows,
    )


async def _apply_caps(client: Client, settings: WorkerSettings) -> None:
    """SMM_POOL_CAPS to the semaphores already running; never stops the worker."""
    try:
        for change in await apply_pool_caps(client, settings.task_queue, settings.pool_caps):
            log.info("pool cap applied to the running semaphore: %s", change)
    except Exception as err:  # a query that timed out: the next start tries again
        log.warning("pool caps not applied to the running semaphores: %s", err)


def _release() -> str:
    """The release this worker runs (the CHANGELOG entry an operator reads for it)."""
    try:
        return importlib.metadata.version("smm-creative-engine")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


async def check_search_attributes(client: Client) -> None:
    """Refuse to start without the engine's search attributes: every workflow task that
    upserts one would fail, over and over, until they exist."""
    try:
        absent = await missing_search_attributes(client)
    except RPCError as err:  # a server that does not let this key list them: say so, go on
        log.warning(
            "search attributes not checked (%s); infra/temporal/setup.sh registers them",
            err.message,
        )
        return
    if absent:
        raise WorkerStartError(
            f"namespace {client.namespace}: search attributes {', '.join(absent)} are not "
            "registered; run infra/temporal/setup.sh (it is idempotent) and start again"
        )


async def run_worker(settings: WorkerSettings | None = None) -> None:
    settings = settings or WorkerSettings()
    overrides: dict[str, Any] = {}
    if settings.temporal_metrics_port:
        # Temporal SDK metrics (task latencies, slots, polls) in Prometheus format.
        overrides["runtime"] = Runtime(
            telemetry=TelemetryConfig(
                metrics=PrometheusConfig(bind_address=f"0.0.0.0:{settings.temporal_metrics_port}")
            )
        )
    try:
        # A worker that cannot reach the server exits (its supervisor restarts it) rather
        # than hanging half-started.
        # Traced when export is configured: the client's TracingInterceptor serves the
        # worker too (workflow and activity spans; each dispatch hands its span on).
        client = await asyncio.wait_for(
            connect(service="smm-worker", **overrides), CONNECT_TIMEOUT_S
        )
    except (TimeoutError, RuntimeError) as err:
        raise WorkerStartError(
            f"cannot reach Temporal within {CONNECT_TIMEOUT_S}s: {err}"
        ) from None
    await check_search_attributes(client)
    counters = DispatchCounters()
    health = HealthServer(settings.health_port, counters) if settings.health_port else None
    lambda_api = lambda_client(settings)
    for skipped in check_pool_caps(settings, lambda_api):
        log.warning("pool cap not checked against reserved concurrency (%s)", skipped)
    worker = build_worker(client, settings, lambda_api, counters=counters)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    following = asyncio.ensure_future(
        follow_api_key(client, timedelta(seconds=settings.temporal_key_refresh_s), stop)
    )
    sweeping = None
    if settings.ledger_table:
        sweeper = HoldSweeper(
            Ledger(
                boto3.client("dynamodb", region_name=settings.aws_region), settings.ledger_table
            ),
            client,
        )
        sweeping = asyncio.ensure_future(
            sweeper.run(timedelta(seconds=settings.hold_sweep_every_s), stop)
        )
    log.info(
        "worker polling %s in namespace %s (release %s)",
        settings.task_queue,
        client.namespace,
        _release(),
    )
    if health is not None:
        health.start()
    async with worker:
        if health is not None:
            health.healthy = True
        # Once this worker polls (the semaphores' queries need a worker to answer them).
        capping = asyncio.ensure_future(_apply_caps(client, settings))
        await stop.wait()
        capping.cancel()
        log.info("shutting down gracefully")
        if health is not None:
            health.healthy = False  # the orchestrator sees it draining
    if health is not None:
        health.stop()
    if sweeping is not None:
        await sweeping
    await following


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        settings = WorkerSettings()
        json_logs.configure(settings.log_format)
        asyncio.run(run_worker(settings))
    except (TemporalConfigError, ValidationError) as err:
        print(f"smm-engine worker: configuration error: {err}", file=sys.stderr)
        sys.exit(2)
    except WorkerStartError as err:
        print(f"smm-engine worker: {err}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    run_and_exit(main)  # a graceful shutdown must not end in an abort (process_exit)
