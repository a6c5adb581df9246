// Lambda handler: render a branded image with Satori + resvg, complete the activity by token.
import type { Context } from 'aws-lambda';
import { Assets, s3Client, settings } from './assets.mjs';
import { KINDS } from './contract.mjs';
import { imageJob } from './image_job.mjs';
import { runActivity, type Work } from './runner.mjs';

const config = settings(); // a misconfigured function fails at cold start, not mid-render
const job = imageJob(new Assets(s3Client(), config));

// The kinds this function serves (a pytest test holds them against the table of kinds).
export const handler = Object.assign(
  async (event: unknown, context: Context) => runActivity(event, context, { [KINDS.render_image]: job as Work }),
  { kinds: [KINDS.render_image] });
