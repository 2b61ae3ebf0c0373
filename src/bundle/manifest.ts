import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { AppIdentity, SourceInfo } from '../model/app.js';
import type { Loss } from '../model/loss.js';
import type { ClaimInfo, Consistency } from '../model/volume.js';
import { FatchartError } from '../errors.js';
import type { VolumeStats } from './volume-index.js';

/** The format this code writes. Readers accept any minor of their major (docs/FORMAT.md). */
export const FORMAT_MAJOR = 1;
export const FORMAT_MINOR = 0;
export const FORMAT_VERSION = `${FORMAT_MAJOR}.${FORMAT_MINOR}`;

/** An archive entry as the manifest inventories it. */
export interface EntryRef {
  entry: string;
  size: number;
  sha256: string;
}

export interface ObjectRecord extends EntryRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

export interface VolumeRecord extends EntryRef {
  name: string;
  compression: 'zstd';
  consistency: Consistency;
  claim?: ClaimInfo;
  index: EntryRef;
  stats: VolumeStats;
}

export interface CheckpointRecord extends EntryRef {
  container: string;
  /** Facts parsed from the archive's own metadata (runtime, CRIU, kernel, arch, cgroup, …). */
  facts: Record<string, unknown>;
}

export interface ImageRecord {
  /** Reference as the workloads named it (`docker.io/library/postgres:16`). */
  ref: string;
  /** Manifest or index digest it resolved to at pack time. */
  digest: string;
  platform?: string;
  size: number;
}

export interface Plan {
  objects: number;
  volumes: number;
  files: number;
  /** Bytes of file data in all volumes (uncompressed). */
  dataBytes: number;
  /** Bytes of all entries in the archive (what has to be read on restore). */
  storedBytes: number;
  /** Summed container requests × replicas of all workloads. */
  requests: { cpuMillis: number; memoryBytes: number };
  /** Summed storage requests of all claims. */
  storageRequestedBytes: number;
}

export interface Manifest {
  format: 'fatchart';
  formatVersion: string;
  tool: { name: 'fatchart'; version: string };
  created: string;
  source: SourceInfo;
  app: AppIdentity;
  chart: { name: string; version: string; files: EntryRef[] };
  objects: ObjectRecord[];
  originals: ObjectRecord[];
  volumes: VolumeRecord[];
  checkpoints: CheckpointRecord[];
  images: { refs: ImageRecord[]; entries: EntryRef[] };
  plan: Plan;
  losses: Loss[];
  signature?: { algorithm: 'ed25519'; keyId: string };
}

const schemaUrl = new URL('../../schema/manifest.v1.schema.json', import.meta.url);
let validator: ((data: unknown) => boolean) & { errors?: Array<{ instancePath: string; message?: string }> | null };

function getValidator() {
  if (!validator) {
    const ajv = new Ajv2020({ allErrors: false, strict: true });
    addFormats.default(ajv);
    validator = ajv.compile(JSON.parse(readFileSync(schemaUrl, 'utf8')));
  }
  return validator;
}

/** Validates against schema/manifest.v1.schema.json; throws naming the first offending field. */
export function validateManifest(data: unknown, subject: string): asserts data is Manifest {
  const validate = getValidator();
  if (!validate(data)) {
    const e = validate.errors?.[0];
    throw new FatchartError('verification', `manifest fails its schema at ${e?.instancePath || '/'}: ${e?.message}`, { subject });
  }
}

/**
 * Checks the version before the schema: a newer major must be refused with a message saying
 * so, not with a confusing schema error about fields this reader has never heard of.
 */
export function checkFormatVersion(data: unknown, subject: string): void {
  const v = (data as { formatVersion?: unknown })?.formatVersion;
  const m = typeof v === 'string' ? /^(\d+)\.(\d+)$/.exec(v) : null;
  if (!m) throw new FatchartError('verification', 'manifest has no valid formatVersion', { subject });
  const major = Number(m[1]);
  if (major > FORMAT_MAJOR) {
    throw new FatchartError(
      'unsupported',
      `format version ${v} is newer than this fatchart reads (${FORMAT_MAJOR}.x); upgrade fatchart to restore it`,
      { subject },
    );
  }
  if (major < 1) throw new FatchartError('unsupported', `format version ${v} was never released`, { subject });
}

/** Stable, readable JSON: the key order is the order the writer built the object in. */
export const serializeManifest = (m: Manifest): string => `${JSON.stringify(m, null, 2)}\n`;

/**
 * The longest the manifest can become once sizes and digests are known: every number as
 * its maximum width and every digest at full length. The writer reserves this much up front
 * and pads the final manifest with spaces (valid JSON whitespace), so the manifest can be the
 * first entry while its digests are computed last.
 */
export function manifestUpperBound(m: Manifest): number {
  const widened = JSON.stringify(
    m,
    (_k, v) => (typeof v === 'number' ? Number.MAX_SAFE_INTEGER : typeof v === 'string' && /^[0-9a-f]{64}$/.test(v) ? 'f'.repeat(64) : v),
    2,
  );
  return Buffer.byteLength(widened) + 1 + 64;
}
