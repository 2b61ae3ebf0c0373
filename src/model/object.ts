/**
 * The platform-neutral app model speaks the Kubernetes resource model: every blueprint is an
 * object with apiVersion, kind and metadata. Compose services, OpenShift kinds and custom
 * resources all convert into and out of this shape (see src/convert), and the bundle's Helm chart
 * holds it verbatim.
 */
export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [field: string]: unknown;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

/** `Kind/name`, or `Kind/namespace/name` when namespaced: how messages and reports name objects. */
export function objectRef(o: Pick<KubeObject, 'kind' | 'metadata'>): string {
  return o.metadata.namespace ? `${o.kind}/${o.metadata.namespace}/${o.metadata.name}` : `${o.kind}/${o.metadata.name}`;
}

export function apiGroup(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

export function isKubeObject(value: unknown): value is KubeObject {
  if (!value || typeof value !== 'object') return false;
  const o = value as Record<string, unknown>;
  const meta = o.metadata as Record<string, unknown> | undefined;
  return typeof o.apiVersion === 'string' && typeof o.kind === 'string' && !!meta && typeof meta.name === 'string';
}
