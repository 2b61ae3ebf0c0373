import type { KubeObject } from '../../model/object.js';
import { kubeNumber } from '../util/quantity.js';

/**
 * `--fit-quota`: scale requests and limits down proportionally so the whole app (every container
 * × replicas) fits the target namespace's ResourceQuota, then clamp each container into the
 * LimitRange's [min, max]. Only ever scales down; the report says by how much.
 */
export interface QuotaTarget {
  /** spec.hard of a ResourceQuota: `requests.cpu`, `limits.memory`, `cpu` (= requests.cpu), ... */
  hard?: Record<string, string>;
  /** spec.limits[type=Container] of a LimitRange. */
  container?: { min?: Record<string, string>; max?: Record<string, string> };
}

type Obj = Record<string, any>;

/** Which quota key bounds which container field. */
const quotaKeys: Array<{ keys: string[]; kind: 'requests' | 'limits'; resource: 'cpu' | 'memory' }> = [
  { keys: ['requests.cpu', 'cpu'], kind: 'requests', resource: 'cpu' },
  { keys: ['requests.memory', 'memory'], kind: 'requests', resource: 'memory' },
  { keys: ['limits.cpu'], kind: 'limits', resource: 'cpu' },
  { keys: ['limits.memory'], kind: 'limits', resource: 'memory' },
];

export function quotaFromObjects(objects: KubeObject[]): QuotaTarget {
  const quota = objects.find((o) => o.kind === 'ResourceQuota');
  const range = objects.find((o) => o.kind === 'LimitRange');
  const container = ((range?.spec as Obj)?.limits ?? []).find((l: Obj) => l.type === 'Container');
  return { hard: (quota?.spec as Obj)?.hard, container: container ? { min: container.min, max: container.max } : undefined };
}

function replicasOf(o: Obj): number {
  if (o.kind === 'DaemonSet') return 1;
  return typeof o.spec?.replicas === 'number' ? o.spec.replicas : 1;
}

export function podSpecOf(o: Obj): Obj | undefined {
  return o.kind === 'Pod' ? o.spec : o.kind === 'CronJob' ? o.spec?.jobTemplate?.spec?.template?.spec : o.spec?.template?.spec;
}

/** Factor per `kind.resource` (< 1 where the app is over quota). */
export function quotaFactors(objects: readonly KubeObject[], q: QuotaTarget): Map<string, number> {
  const factors = new Map<string, number>();
  for (const { keys, kind, resource } of quotaKeys) {
    const key = keys.find((k) => q.hard?.[k] !== undefined);
    if (!key) continue;
    const hard = kubeNumber(q.hard![key]) ?? Infinity;
    let total = 0;
    for (const o of objects) {
      const pod = podSpecOf(o);
      if (!pod) continue;
      for (const c of pod.containers ?? []) total += (kubeNumber(c.resources?.[kind]?.[resource] ?? 0) ?? 0) * replicasOf(o);
    }
    if (total > hard) factors.set(`${kind}.${resource}`, hard / total);
  }
  return factors;
}

const format = (resource: string, n: number) => (resource === 'cpu' ? `${Math.max(1, Math.floor(n * 1000))}m` : `${Math.max(1, Math.floor(n / 2 ** 20))}Mi`);

export function fitContainer(c: Obj, factors: Map<string, number>, q: QuotaTarget, note: (d: string) => void): void {
  for (const kind of ['requests', 'limits'] as const) {
    for (const resource of ['cpu', 'memory'] as const) {
      const current = c.resources?.[kind]?.[resource];
      if (current === undefined) continue;
      let n = kubeNumber(current)!;
      const f = factors.get(`${kind}.${resource}`);
      if (f !== undefined) n *= f;
      const max = q.container?.max?.[resource];
      if (max !== undefined) n = Math.min(n, kubeNumber(max)!);
      const next = format(resource, n);
      if (kubeNumber(next) !== kubeNumber(current)) {
        note(`${c.name} ${kind}.${resource} ${current} → ${next} (×${(kubeNumber(next)! / kubeNumber(current)!).toFixed(2)})`);
        c.resources[kind][resource] = next;
      }
    }
  }
}
