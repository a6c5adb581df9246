// The other way in: a Payload server that can reach the Temporal frontend may use
// @temporalio/client directly instead of the trigger API. Same workflow, same ids, same
// signal; use the `smm-hub-core` namespace, never `default` (that is Postiz's).
//
import type { PublishRequest, ApprovalDecision } from './trigger-types';

import { Client, Connection, WorkflowIdReusePolicy } from '@temporalio/client';

export async function engineClient(): Promise<Client> {
  const connection = await Connection.connect({
    address: process.env.TEMPORAL_ADDRESS ?? 'temporal:7233',
    apiKey: process.env.TEMPORAL_API_KEY,
    tls: Boolean(process.env.TEMPORAL_API_KEY),
  });
  return new Client({ connection, namespace: process.env.TEMPORAL_NAMESPACE ?? 'smm-hub-core' });
}

export async function startPublish(client: Client, request: PublishRequest, outputBucket: string): Promise<string> {
  const workflowId = `payload-${request.collection}-${request.doc_id}`;
  await client.workflow.start('PublishCreativeWorkflow', {
    taskQueue: 'creative-engine',
    workflowId,
    workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    args: [{ creative: request.creative, post: request.post, approval: request.approval,
             payload: { collection: request.collection, id: request.doc_id }, output_bucket: outputBucket }],
  });
  return workflowId;
}

export async function sendApproval(client: Client, workflowId: string, decision: ApprovalDecision): Promise<void> {
  await client.workflow.getHandle(workflowId).signal('agent_approval', decision);
}
