"""Runtime library shared by the orchestrator worker and every Python Lambda function.

It holds the versioned dispatch contract, the Temporal connection, the activity-runner
wrapper that functions use to heartbeat/complete/fail by task token, typed errors, S3 key
builders and media safety helpers. It is shipped to Lambda as a layer (layers/runtime).
"""

CONTRACT_VERSION = 1
NAMESPACE_DEFAULT = "smm-hub-core"
TASK_QUEUE = "creative-engine"
