// Generated from schema/image-result.schema.json by scripts/contract-types.mjs (make schema); do not edit.
export type Height = number;
export type Kind = "render_image";
export type Bucket = string;
export type Key = string;
export type Reused = boolean;
export type SizeBytes = number;
export type DurationMs = number;
export type GbSeconds = number;
export type MemoryMb = number;
export type Width = number;

export interface ImageResult {
  height: Height;
  kind?: Kind;
  output: S3Object;
  reused: Reused;
  size_bytes: SizeBytes;
  usage: ComputeUsage;
  width: Width;
}
export interface S3Object {
  bucket: Bucket;
  key: Key;
}
/**
 * What a function measured about itself; billing turns this into credits.
 */
export interface ComputeUsage {
  duration_ms: DurationMs;
  gb_seconds: GbSeconds;
  memory_mb: MemoryMb;
}
