// Generated from schema/image-event.schema.json by scripts/contract-types.mjs (make schema); do not edit.
export type ActivityId = string;
export type Attempt = number;
export type ContractVersion = number;
/**
 * The previous attempt's last heartbeat: the checkpoint.
 */
export type HeartbeatDetails = {
  [k: string]: unknown | undefined;
} | null;
/**
 * The attempt's heartbeat timeout: a function that has not heartbeaten for this long knows the server has timed the attempt out.
 */
export type HeartbeatTimeoutS = number | null;
export type Kind = "render_image";
/**
 * Whose work this is: every object it names must be under accounts/<account>/ (or shared/ to read); unset for the operator's own work.
 */
export type Account = string | null;
export type Id = string;
export type Logo = string | null;
export type Name = string;
/**
 * SHA-256 of the rest; marks the output as done.
 */
export type Fingerprint = string;
export type Height = number;
export type Bucket = string;
export type Key = string;
export type Template = string;
export type Width = number;
export type RunId = string;
export type TaskToken = string;
/**
 * The dispatch's W3C trace context (traceparent, tracestate): the function's span continues the worker's trace.
 */
export type Trace = {
  [k: string]: string | undefined;
} | null;
export type WorkflowId = string;

export interface ImageEvent {
  activity_id: ActivityId;
  attempt: Attempt;
  contract_version: ContractVersion;
  heartbeat_details?: HeartbeatDetails;
  heartbeat_timeout_s?: HeartbeatTimeoutS;
  kind: Kind;
  request: ImageRequest;
  run_id?: RunId;
  task_token: TaskToken;
  trace?: Trace;
  workflow_id: WorkflowId;
}
/**
 * Render one image from a template with the brand kit, to a PNG at ``output``.
 */
export interface ImageRequest {
  account?: Account;
  brand: BrandKit;
  fingerprint: Fingerprint;
  height: Height;
  output: S3Object;
  props: Props;
  template: Template;
  width: Width;
}
/**
 * Stored as JSON at ``brand-kits/<id>.json`` in the assets bucket.
 */
export interface BrandKit {
  colors?: Colors;
  fonts: Fonts;
  id: Id;
  logo?: Logo;
  name?: Name;
}
export interface Colors {
  [k: string]: string | undefined;
}
/**
 * role -> TTF/OTF, e.g. heading
 */
export interface Fonts {
  [k: string]: string | undefined;
}
export interface S3Object {
  bucket: Bucket;
  key: Key;
}
export interface Props {
  [k: string]: unknown | undefined;
}
