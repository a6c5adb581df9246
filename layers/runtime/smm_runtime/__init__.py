"""Runtime library shared by the orchestrator worker and every Python Lambda function.

``smm_runtime.contract`` is the contract (shapes and names only); beside it: the Temporal
connection, the activity-runner wrapper that functions use to heartbeat/complete/fail by task
token, S3 key builders, media safety helpers, the payload codec and the credit ledger (read by
the trigger's balance endpoint). It is shipped to Lambda as a layer (layers/runtime).
"""
