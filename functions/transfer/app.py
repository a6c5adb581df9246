"""Lambda handler: move media without passing it through the worker (S3 -> Postiz upload)."""

from __future__ import annotations

from functools import cache

import boto3
from aws_lambda_powertools import Logger, Tracer

from functions.transfer.import_asset import AssetImporter
from functions.transfer.postiz_upload import PostizUploader, TransferSettings
from smm_runtime.contract.kinds import IMPORT_ASSET, POSTIZ_UPLOAD
from smm_runtime.lambda_entry import lambda_entry
from smm_runtime.runner import ActivityRunner
from smm_runtime.safe_fetch import FetchPolicy

logger = Logger(service="transfer")
tracer = Tracer(service="transfer")  # X-Ray; off locally (POWERTOOLS_TRACE_DISABLED)
settings = TransferSettings()  # validated at cold start
runner = ActivityRunner(logger)


@cache
def uploader() -> PostizUploader:
    return PostizUploader(s3=boto3.client("s3"), settings=settings)


@cache
def importer() -> AssetImporter:
    return AssetImporter(
        s3=boto3.client("s3"),
        asset_buckets=settings.allowed_asset_buckets(),
        policy=FetchPolicy(allow_hosts=settings.import_hosts()),
    )


lambda_handler = lambda_entry(
    logger, tracer, runner.handler({POSTIZ_UPLOAD: uploader, IMPORT_ASSET: importer})
)
