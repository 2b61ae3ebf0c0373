import type { KubeObject } from './object.js';

/**
 * Kubernetes quantities and the pod templates of workloads, for the plan block (summed requests,
 * storage requested) and quota fitting.
 */

/**
 * Where each workload kind keeps its pod spec: the one table every walker of containers uses
 * (cleaning, image collection, requests). Kinds not listed run no containers.
 */
export const podSpecPaths: Readonly<Record<string, readonly string[]>> = {
  Pod: ['spec'],
  PodTemplate: ['template', 'spec'],
  Deployment: ['spec', 'template', 'spec'],
  StatefulSet: ['spec', 'template', 'spec'],
  DaemonSet: ['spec', 'template', 'spec'],
  ReplicaSet: ['spec', 'template', 'spec'],
  ReplicationController: ['spec', 'template', 'spec'],
  DeploymentConfig: ['spec', 'template', 'spec'],
  Job: ['spec', 'template', 'spec'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
};

const suffixes: Record<string, number> = {
  n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4, Pi: 1024 ** 5, Ei: 1024 ** 6,
};

/** Parses a Kubernetes quantity (`500m`, `1.5Gi`, `2e3`) to a number of base units. */
export function parseQuantity(q: unknown): number {
  if (typeof q === 'number') return q;
  if (typeof q !== 'string') return 0;
  const m = /^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$/.exec(q.trim());
  if (!m) return 0;
  return Number(m[1]) * (suffixes[m[2] ?? ''] ?? 1);
}

export function podSpecOf(o: KubeObject): Record<string, unknown> | undefined {
  const path = podSpecPaths[o.kind];
  if (!path) return undefined;
  let cur: unknown = o;
  for (const key of path) cur = (cur as Record<string, unknown> | undefined)?.[key];
  return cur && typeof cur === 'object' ? (cur as Record<string, unknown>) : undefined;
}

export function replicasOf(o: KubeObject): number {
  if (o.kind === 'Pod' || o.kind === 'Job' || o.kind === 'CronJob' || o.kind === 'DaemonSet') return 1;
  const r = (o.spec as { replicas?: unknown } | undefined)?.replicas;
  return typeof r === 'number' ? r : 1;
}

type Container = { resources?: { requests?: Record<string, unknown> } };

/** Summed requests of every workload: containers × replicas (init containers excluded: they do not run alongside). */
export function summedRequests(objects: readonly KubeObject[]): { cpuMillis: number; memoryBytes: number } {
  let cpu = 0;
  let mem = 0;
  for (const o of objects) {
    // A PodTemplate is only a template: it runs nothing until a controller uses it.
    const spec = o.kind === 'PodTemplate' ? undefined : podSpecOf(o);
    if (!spec) continue;
    const n = replicasOf(o);
    for (const c of (spec.containers as Container[] | undefined) ?? []) {
      cpu += parseQuantity(c.resources?.requests?.cpu) * 1000 * n;
      mem += parseQuantity(c.resources?.requests?.memory) * n;
    }
  }
  return { cpuMillis: Math.round(cpu), memoryBytes: Math.round(mem) };
}

/** Storage requested by claims, including StatefulSet volumeClaimTemplates × replicas. */
export function storageRequested(objects: readonly KubeObject[]): number {
  let total = 0;
  const claimBytes = (c: unknown) =>
    parseQuantity((c as { spec?: { resources?: { requests?: { storage?: unknown } } } })?.spec?.resources?.requests?.storage);
  for (const o of objects) {
    if (o.kind === 'PersistentVolumeClaim') total += claimBytes(o);
    if (o.kind === 'StatefulSet') {
      const templates = ((o.spec as { volumeClaimTemplates?: unknown[] })?.volumeClaimTemplates ?? []) as unknown[];
      for (const t of templates) total += claimBytes(t) * replicasOf(o);
    }
  }
  return Math.round(total);
}
