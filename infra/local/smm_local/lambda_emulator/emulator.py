"""The emulator: one pool per function of template.yaml, failure destinations."""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Mapping
from typing import Any

from smm_local.iam import ACCOUNT, REGION, Policy
from smm_local.lambda_emulator.chaos import Chaos
from smm_local.lambda_emulator.cpus import SETTING as CPU_PER_ENVIRONMENT
from smm_local.lambda_emulator.cpus import CpuAllotter
from smm_local.lambda_emulator.host import INHERITED_ENV, Outcome
from smm_local.lambda_emulator.pool import FunctionPool
from smm_local.principals import ADMIN_KEY, credentials
from smm_local.template import FunctionSpec

log = logging.getLogger("smm.emulator")


class Emulator:
    def __init__(
        self,
        specs: dict[str, FunctionSpec],
        overrides: dict[str, str],
        policies: Mapping[str, Policy] | None = None,
    ) -> None:
        self.chaos = Chaos()
        # With policies, IAM as the template grants it: each function signs as its execution
        # role, and Invoke and destination deliveries are authorised (smm_local.principals).
        self.policies = policies
        overrides = dict(overrides)
        cpus = CpuAllotter() if overrides.pop(CPU_PER_ENVIRONMENT, "") == "1" else None
        base = {k: os.environ[k] for k in INHERITED_ENV if k in os.environ}
        self.pools: dict[str, FunctionPool] = {}
        for name, spec in specs.items():
            env = {
                **base,
                "AWS_LAMBDA_FUNCTION_NAME": name,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
                "AWS_LAMBDA_FUNCTION_TIMEOUT": str(spec.timeout_s),
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "AWS_REGION": overrides.get("AWS_REGION", "us-east-1"),
                "AWS_DEFAULT_REGION": overrides.get("AWS_REGION", "us-east-1"),
                "LAMBDA_TASK_ROOT": str(spec.code_dir),
                "_HANDLER": spec.handler,
                "TZ": ":UTC",
                **spec.environment,
                **overrides,
                # Lambda gives the function its execution role's credentials (reserved
                # variables: no setting overrides them).
                **(credentials(spec.role) if policies is not None and spec.role else {}),
            }
            self.pools[name] = FunctionPool(
                spec,
                env,
                self.deliver_failure,
                kill_delay=self.chaos.kill_delay,
                count_kill=self.chaos.count_kill,
                cpus=cpus,
            )
            if spec.unresolved:
                log.warning(
                    "%s: environment left unset (not resolvable locally): %s",
                    name,
                    ", ".join(spec.unresolved),
                )

    def start(self) -> None:
        for pool in self.pools.values():
            pool.start_event_workers()
        threading.Thread(target=self._reaper, daemon=True).start()

    def _reaper(self) -> None:
        while True:
            time.sleep(30)
            for pool in self.pools.values():
                pool.reap_idle()

    def pool(self, function_name: str) -> FunctionPool | None:
        # Accept a name or an ARN (arn:aws:lambda:region:acct:function:Name[:qualifier]).
        name = function_name.split(":function:", 1)[-1].split(":", 1)[0]
        return self.pools.get(name)

    def deliver_failure(
        self, spec: FunctionSpec, event: Any, outcome: Outcome | None, invoked: int
    ) -> None:
        """Send Lambda's invocation record to the on-failure destination (Lambda developer
        guide, "Capturing records of Lambda asynchronous invocations"): after the last
        attempt failed (RetriesExhausted, with the function's response), or when the event
        outlived MaximumEventAgeInSeconds before an attempt (EventAgeExceeded)."""
        target = self.pools.get(spec.on_failure or "")
        if target is None:
            return
        if not self.may_invoke(spec.role or "", target.spec.logical_id):
            # Lambda sends the record with the function's execution role: without
            # lambda:InvokeFunction on the destination, the record is lost.
            log.error(
                "%s: on-failure record not delivered: its role %s may not invoke %s",
                spec.logical_id,
                spec.role,
                target.spec.logical_id,
            )
            return
        record: dict[str, Any] = {
            "version": "1.0",
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                # Qualified with the version that ran, as Lambda sends it.
                "functionArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{spec.logical_id}"
                ":$LATEST",
                "condition": "EventAgeExceeded" if outcome is None else "RetriesExhausted",
                "approximateInvokeCount": invoked,
            },
            "requestPayload": event,
        }
        if outcome is not None:
            record["responseContext"] = {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                "functionError": "Unhandled",
            }
            record["responsePayload"] = {
                "errorType": outcome.error_type,
                "errorMessage": outcome.error_message,
            }
        # An asynchronous invocation of the destination: its own retry settings apply.
        target.events.put((record, time.monotonic(), 0))

    def may_invoke(self, principal: str, function: str, action: str = "InvokeFunction") -> bool:
        """Whether ``principal`` may call ``lambda:<action>`` on ``function`` (always, when the
        emulator runs without IAM, or for the stack's administrator)."""
        if self.policies is None or principal == ADMIN_KEY:
            return True
        policy = self.policies.get(principal)
        arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function}"
        return policy is not None and policy.allows(f"lambda:{action}", arn)

    def shutdown(self) -> None:
        for pool in self.pools.values():
            pool.shutdown()
