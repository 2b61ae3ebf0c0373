/**
 * The `fatchart.io/...` annotations that make conversions reversible. Values are JSON so any
 * original can ride along; a digest of the converted object says whether it was edited since,
 * in which case the original is no longer trusted and a fresh conversion runs instead.
 */
import { createHash } from 'node:crypto';
import type { KubeObject } from '../model/object.js';

export const annotation = {
  /** The source object this one was converted from (JSON). */
  original: 'fatchart.io/original',
  /** Source objects the target has no kind for, carried on a related object (JSON array). */
  carried: 'fatchart.io/carried',
  /** Objects an OpenShift Template produced (JSON array of Kind/namespace/name), on the Template's host. */
  templateObjects: 'fatchart.io/template-objects',
  /** sha256 of the converted object without fatchart.io annotations, at conversion time. */
  digest: 'fatchart.io/digest',
  /** The Compose service this workload came from. */
  service: 'fatchart.io/compose-service',
  /** Host path a bind-mount claim is seeded from (relative to the project folder). */
  bindSource: 'fatchart.io/bind-source',
  /** Labels of the Compose service (JSON), since label values need not be valid Kubernetes labels. */
  composeLabels: 'fatchart.io/compose-labels',
  /** Compose dependency conditions (JSON map) behind generated wait init containers. */
  dependsOn: 'fatchart.io/depends-on',
} as const;

export const serviceLabel = 'fatchart.io/service';

/** Canonical JSON: keys sorted at every level, so digests do not depend on key order. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

export function digestOf(v: unknown): string {
  return createHash('sha256').update(canonicalJson(v)).digest('hex').slice(0, 32);
}

/** The object without fatchart.io annotations (and without an emptied annotations map). */
export function withoutOurAnnotations(o: KubeObject): KubeObject {
  const ann = o.metadata.annotations;
  if (!ann || !Object.keys(ann).some((k) => k.startsWith('fatchart.io/'))) return o;
  const kept = Object.fromEntries(Object.entries(ann).filter(([k]) => !k.startsWith('fatchart.io/')));
  const { annotations: _a, ...meta } = o.metadata;
  return { ...o, metadata: Object.keys(kept).length ? { ...meta, annotations: kept } : meta } as KubeObject;
}

export function objectDigest(o: KubeObject): string {
  return digestOf(withoutOurAnnotations(o));
}

export function annotate(o: KubeObject, values: Record<string, string>): KubeObject {
  return { ...o, metadata: { ...o.metadata, annotations: { ...(o.metadata.annotations ?? {}), ...values } } };
}
