// The other way in: a Payload server that can reach the Temporal frontend may use
// @temporalio/client directly instead of the trigger API. Same workflow, same ids, same
// signal; use the `smm-hub-core` namespace, never `default` (that is Postiz's).
//
// Payloads are sealed with the worker's keys (@smm-hub/payload-codec, the format of
// smm_runtime/codec.py): the server is shared with Postiz, and a worker with keys refuses a
// plaintext payload, so a client that forgot its keys fails loudly instead of leaking.
// Set SMM_PAYLOAD_KEYS to the worker's keys ({"active": "k1", "keys": {...}}); without
// them dataConverterFromEnv throws, unless SMM_PAYLOAD_ENCRYPTION=off (no encryption anywhere).
//
import type { components } from './trigger-api';

type PublishRequest = components['schemas']['PublishRequest'];
type ApprovalDecision = components['schemas']['ApprovalDecision'];

import { Client, Connection, WorkflowIdReusePolicy } from '@temporalio/client';
import { dataConverterFromEnv } from '@smm-hub/payload-codec';

export async function engineClient(): Promise<Client> {
  const connection = await Connection.connect({
    address: process.env.TEMPORAL_ADDRESS ?? 'temporal:7233',
    apiKey: process.env.TEMPORAL_API_KEY,
    tls: Boolean(process.env.TEMPORAL_API_KEY),
  });
  return new Client({ connection, namespace: process.env.TEMPORAL_NAMESPACE ?? 'smm-hub-core',
                      dataConverter: dataConverterFromEnv() });
}

export async function startPublish(client: Client, request: PublishRequest, outputBucket: string): Promise<string> {
  // As the trigger names it: a revision is a new publish of the same document.
  const revision = request.revision ? `-r${request.revision}` : '';
  const workflowId = `payload-${request.collection}-${request.doc_id}${revision}`;
  await client.workflow.start('PublishCreativeWorkflow', {
    taskQueue: 'creative-engine',
    workflowId,
    workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    args: [{ creative: request.creative, post: request.post, approval: request.approval,
             payload: { collection: request.collection, id: request.doc_id }, output_bucket: outputBucket,
             // Billed to the account (held at the start, charged on approval); without one it
             // runs unbilled, as the operator. The workflow checks the account's channels.
             account: request.account ?? null }],
  });
  return workflowId;
}

export async function sendApproval(client: Client, workflowId: string, decision: ApprovalDecision): Promise<void> {
  await client.workflow.getHandle(workflowId).signal('agent_approval', decision);
}
