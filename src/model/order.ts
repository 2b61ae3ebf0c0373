import type { KubeObject } from './object.js';

/**
 * The one declared restore order (the idea of Velero's restore priorities): objects that others
 * depend on come first, data is restored after claims bind and before workloads start, and
 * routing and policies come last. Kinds not listed (custom resources, unknown kinds) go after
 * workloads and before routing, ordered by kind name; CRDs come before any custom resource.
 *
 * `phase` tells a target when to apply the kind relative to the volume data restore.
 */
export type RestorePhase = 'foundation' | 'storage' | 'workloads' | 'exposure';

export interface OrderRule {
  kind: string;
  phase: RestorePhase;
}

export const restoreOrder: readonly OrderRule[] = [
  { kind: 'Namespace', phase: 'foundation' },
  { kind: 'CustomResourceDefinition', phase: 'foundation' },
  { kind: 'StorageClass', phase: 'foundation' },
  { kind: 'PriorityClass', phase: 'foundation' },
  { kind: 'ResourceQuota', phase: 'foundation' },
  { kind: 'LimitRange', phase: 'foundation' },
  { kind: 'ServiceAccount', phase: 'foundation' },
  { kind: 'ClusterRole', phase: 'foundation' },
  { kind: 'Role', phase: 'foundation' },
  { kind: 'ClusterRoleBinding', phase: 'foundation' },
  { kind: 'RoleBinding', phase: 'foundation' },
  { kind: 'Secret', phase: 'foundation' },
  { kind: 'ConfigMap', phase: 'foundation' },
  { kind: 'ImageStream', phase: 'foundation' },
  { kind: 'ImageStreamTag', phase: 'foundation' },
  { kind: 'PersistentVolume', phase: 'storage' },
  { kind: 'PersistentVolumeClaim', phase: 'storage' },
  // ---- volume data is restored here ----
  { kind: 'Deployment', phase: 'workloads' },
  { kind: 'DeploymentConfig', phase: 'workloads' },
  { kind: 'StatefulSet', phase: 'workloads' },
  { kind: 'DaemonSet', phase: 'workloads' },
  { kind: 'ReplicaSet', phase: 'workloads' },
  { kind: 'ReplicationController', phase: 'workloads' },
  { kind: 'Job', phase: 'workloads' },
  { kind: 'CronJob', phase: 'workloads' },
  { kind: 'Pod', phase: 'workloads' },
  { kind: 'BuildConfig', phase: 'workloads' },
  { kind: 'Service', phase: 'exposure' },
  { kind: 'Ingress', phase: 'exposure' },
  { kind: 'Route', phase: 'exposure' },
  { kind: 'HTTPRoute', phase: 'exposure' },
  { kind: 'HorizontalPodAutoscaler', phase: 'exposure' },
  { kind: 'PodDisruptionBudget', phase: 'exposure' },
  { kind: 'NetworkPolicy', phase: 'exposure' },
];

const rank = new Map(restoreOrder.map((rule, i) => [rule.kind, i]));
/** Unknown kinds (custom resources) rank after the workloads, before Services. */
const unknownRank = restoreOrder.findIndex((r) => r.kind === 'Service') - 0.5;

export function restoreRank(kind: string): number {
  return rank.get(kind) ?? unknownRank;
}

export function restorePhase(kind: string): RestorePhase {
  const rule = restoreOrder.find((r) => r.kind === kind);
  return rule ? rule.phase : 'workloads';
}

/** Canonical order: restore rank, then kind, namespace, name. Stable across runs and machines. */
export function compareObjects(a: KubeObject, b: KubeObject): number {
  return (
    restoreRank(a.kind) - restoreRank(b.kind) ||
    cmp(a.kind, b.kind) ||
    cmp(a.metadata.namespace ?? '', b.metadata.namespace ?? '') ||
    cmp(a.metadata.name, b.metadata.name) ||
    cmp(a.apiVersion, b.apiVersion)
  );
}

export function sortObjects<T extends KubeObject>(objects: readonly T[]): T[] {
  return [...objects].sort(compareObjects);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
