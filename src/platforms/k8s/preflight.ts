import { FatchartError } from '../../errors.js';
import { apiGroup, type KubeObject } from '../../model/object.js';
import type { RunContext } from '../../util/context.js';
import type { KubeClient } from './client.js';
import { podSpecPaths } from '../../model/resources.js';
import { resourcePath, type ApiResource, type Discovery } from './discovery.js';
import { podSpecOf } from './graph.js';
import { parseQuantity } from './quantity.js';

/**
 * Pre-flight: everything an unpack needs from the target, checked before the first change.
 * All problems are collected (not just the first), each naming the fix, and reported as one
 * `preflight` error so nothing is touched until the target can take the whole app.
 */
export type ConflictPolicy = 'fail' | 'skip' | 'overwrite';
export const conflictPolicies: readonly ConflictPolicy[] = ['fail', 'skip', 'overwrite'];

export interface PlannedObject {
  object: KubeObject;
  resource: ApiResource;
  /** The live object when one of that name exists. */
  existing?: KubeObject;
  action: 'create' | 'update' | 'skip';
}

export interface Plan {
  namespace: string;
  createNamespace: boolean;
  items: PlannedObject[];
}

/** Verbs the unpack needs on every kind it writes; delete is for the rollback. */
const neededVerbs = ['get', 'create', 'patch', 'delete'] as const;

export async function preflight(
  client: KubeClient,
  discovery: Discovery,
  objects: readonly KubeObject[],
  namespace: string,
  conflict: ConflictPolicy,
  ctx: RunContext,
): Promise<Plan> {
  const problems: string[] = [];
  const nsResource = discovery.find('v1', 'Namespace')!;
  const nsExists = !!(await client.get(resourcePath(nsResource, undefined, namespace), { allow404: true }));

  // 1. Every kind is served.
  const items: PlannedObject[] = [];
  for (const object of objects) {
    const resource = discovery.find(object.apiVersion, object.kind);
    if (resource) {
      items.push({ object, resource, action: 'create' });
      continue;
    }
    const group = apiGroup(object.apiVersion);
    const other = discovery.versionsOf(group, object.kind);
    if (other.length) {
      problems.push(`${object.kind}/${object.metadata.name}: the target serves ${object.kind} only as ${other.join(', ')}, not ${object.apiVersion}; convert the bundle for this server version`);
    } else if (group && !group.endsWith('.k8s.io') && !['apps', 'batch', 'policy', 'autoscaling', 'extensions'].includes(group)) {
      problems.push(`${object.kind}/${object.metadata.name}: kind ${object.kind}.${group} is not installed on the target (missing CRD); install its CustomResourceDefinition (or the operator that owns it) first`);
    } else {
      problems.push(`${object.kind}/${object.metadata.name}: the target has no API for ${object.apiVersion} ${object.kind}`);
    }
  }

  // 2. Authorised for every verb on every kind written (and on the namespace when created).
  const checks = new Map<string, { verb: string; group: string; resource: string; namespace?: string }>();
  for (const { resource } of items) {
    for (const verb of neededVerbs) {
      const ns = resource.namespaced ? namespace : undefined;
      checks.set(`${verb} ${resource.resource}.${resource.group}`, { verb, group: resource.group, resource: resource.resource, namespace: ns });
    }
  }
  if (!nsExists) for (const verb of ['create', 'delete']) checks.set(`${verb} namespaces`, { verb, group: '', resource: 'namespaces' });
  const denied = await Promise.all(
    [...checks.entries()].map(async ([label, attrs]) => {
      const review = await client.request('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
        body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: attrs } },
      });
      return review.status?.allowed ? undefined : label;
    }),
  );
  for (const label of denied.filter(Boolean)) {
    const [verb, what] = label!.split(' ');
    problems.push(`${what}: not allowed to ${verb} in ${namespace}; ask an administrator for a Role granting "${verb}" on ${what} (check with: kubectl auth can-i ${verb} ${what} -n ${namespace})`);
  }

  // 3. Storage classes named by claims exist (or static volumes of that class are available).
  const classes = new Set<string>();
  for (const { object } of items) {
    if (object.kind === 'PersistentVolumeClaim' && (object as any).spec?.storageClassName) classes.add((object as any).spec.storageClassName);
    for (const t of (object as any).spec?.volumeClaimTemplates ?? []) if (t.spec?.storageClassName) classes.add(t.spec.storageClassName);
  }
  if (classes.size) {
    const [scList, pvList] = await Promise.all([
      client.get('/apis/storage.k8s.io/v1/storageclasses').catch(() => ({ items: [] })),
      client.get('/api/v1/persistentvolumes').catch(() => ({ items: [] })),
    ]);
    const known = new Set<string>((scList.items ?? []).map((s: any) => s.metadata.name));
    const staticClasses = new Set<string>(
      (pvList.items ?? []).filter((pv: any) => pv.status?.phase === 'Available').map((pv: any) => pv.spec?.storageClassName ?? ''),
    );
    for (const c of classes) {
      if (known.has(c) || staticClasses.has(c)) continue;
      const choices = [...known].join(', ') || 'none exist; create a StorageClass or PersistentVolumes';
      problems.push(`StorageClass/${c}: does not exist on the target and no available PersistentVolume has that class; map it with --map-storage-class ${c}=NEW (target classes: ${choices})`);
    }
  }

  // 4. Existing objects follow the conflict policy.
  await Promise.all(
    items.map(async (item) => {
      const ns = item.resource.namespaced ? namespace : undefined;
      if (!nsExists && ns) return;
      item.existing = await client.get(resourcePath(item.resource, ns, item.object.metadata.name), { allow404: true });
      if (!item.existing) return;
      if (conflict === 'fail') {
        problems.push(`${item.object.kind}/${item.object.metadata.name}: already exists in ${ns ?? 'the cluster'}; choose --conflict skip (keep it) or --conflict overwrite (take it over, restored on rollback)`);
      }
      item.action = conflict === 'skip' ? 'skip' : 'update';
    }),
  );

  // 5. Quota and LimitRange of an existing namespace fit the new pods and claims.
  if (nsExists) problems.push(...(await quotaProblems(client, namespace, items)));

  if (problems.length) {
    for (const p of problems) ctx.log.warn(`pre-flight: ${p}`);
    throw new FatchartError('preflight', `${problems.length} problem(s), nothing was changed: ${problems.join('; ')}`, {
      subject: `${client.contextName}/${namespace}`,
    });
  }
  return { namespace, createNamespace: !nsExists, items };
}

interface Demand {
  [resource: string]: number;
}

/** How many pods a workload runs at rest. CronJobs run none until scheduled. */
const replicaRules: Readonly<Record<string, (o: any) => number>> = {
  Pod: () => 1,
  Deployment: (o) => o.spec?.replicas ?? 1,
  StatefulSet: (o) => o.spec?.replicas ?? 1,
  ReplicaSet: (o) => o.spec?.replicas ?? 1,
  ReplicationController: (o) => o.spec?.replicas ?? 1,
  DeploymentConfig: (o) => o.spec?.replicas ?? 1,
  DaemonSet: () => 1,
  Job: (o) => o.spec?.parallelism ?? 1,
  CronJob: () => 0,
  PodTemplate: () => 0,
};

function demandOf(items: PlannedObject[]): Demand {
  const d: Demand = {};
  const add = (k: string, v: number) => (d[k] = (d[k] ?? 0) + v);
  for (const { object, action } of items) {
    if (action === 'skip') continue;
    const o = object as any;
    if (podSpecPaths[o.kind]) {
      const n = replicaRules[o.kind]?.(o) ?? 1;
      add('pods', n);
      for (const c of podSpecOf(o)?.containers ?? []) {
        for (const [kind, res] of [['requests', c.resources?.requests], ['limits', c.resources?.limits]] as const) {
          for (const r of ['cpu', 'memory']) if (res?.[r] !== undefined) add(`${kind}.${r}`, n * parseQuantity(res[r]));
        }
      }
    }
    if (o.kind === 'PersistentVolumeClaim') {
      add('persistentvolumeclaims', 1);
      const s = o.spec?.resources?.requests?.storage;
      if (s) add('requests.storage', parseQuantity(s));
    }
    if (o.kind === 'Service') add('services', 1);
    if (o.kind === 'ConfigMap') add('configmaps', 1);
    if (o.kind === 'Secret') add('secrets', 1);
  }
  // Quotas name cpu/memory requests both as `requests.cpu` and plain `cpu`.
  for (const r of ['cpu', 'memory']) if (d[`requests.${r}`] !== undefined) d[r] = d[`requests.${r}`];
  return d;
}

async function quotaProblems(client: KubeClient, namespace: string, items: PlannedObject[]): Promise<string[]> {
  const problems: string[] = [];
  const [quotas, limits] = await Promise.all([
    client.get(`/api/v1/namespaces/${namespace}/resourcequotas`),
    client.get(`/api/v1/namespaces/${namespace}/limitranges`),
  ]);
  const demand = demandOf(items);
  for (const q of quotas.items ?? []) {
    for (const [res, hard] of Object.entries<string>(q.spec?.hard ?? {})) {
      const want = demand[res];
      if (!want) continue;
      const used = parseQuantity(q.status?.used?.[res] ?? '0');
      if (used + want > parseQuantity(hard)) {
        problems.push(`ResourceQuota/${q.metadata.name}: ${res} needs ${fmt(want)} more but only ${fmt(parseQuantity(hard) - used)} of ${hard} is free; raise the quota or lower replicas/requests`);
      }
    }
  }
  for (const lr of limits.items ?? []) {
    for (const limit of lr.spec?.limits ?? []) {
      if (limit.type === 'Container') {
        for (const { object } of items) {
          for (const c of podSpecOf(object)?.containers ?? []) {
            for (const r of ['cpu', 'memory']) {
              const lim = c.resources?.limits?.[r] ?? c.resources?.requests?.[r];
              if (lim === undefined) continue;
              if (limit.max?.[r] && parseQuantity(lim) > parseQuantity(limit.max[r])) {
                problems.push(`${object.kind}/${object.metadata.name}: container ${c.name} ${r} ${lim} exceeds LimitRange/${lr.metadata.name} max ${limit.max[r]}; lower it or change the LimitRange`);
              }
              if (limit.min?.[r] && parseQuantity(lim) < parseQuantity(limit.min[r])) {
                problems.push(`${object.kind}/${object.metadata.name}: container ${c.name} ${r} ${lim} is below LimitRange/${lr.metadata.name} min ${limit.min[r]}; raise it or change the LimitRange`);
              }
            }
          }
        }
      }
      if (limit.type === 'PersistentVolumeClaim') {
        for (const { object } of items) {
          const s = (object as any).kind === 'PersistentVolumeClaim' ? (object as any).spec?.resources?.requests?.storage : undefined;
          if (!s) continue;
          if (limit.max?.storage && parseQuantity(s) > parseQuantity(limit.max.storage)) {
            problems.push(`PersistentVolumeClaim/${object.metadata.name}: ${s} exceeds LimitRange/${lr.metadata.name} max ${limit.max.storage}`);
          }
          if (limit.min?.storage && parseQuantity(s) < parseQuantity(limit.min.storage)) {
            problems.push(`PersistentVolumeClaim/${object.metadata.name}: ${s} is below LimitRange/${lr.metadata.name} min ${limit.min.storage}`);
          }
        }
      }
    }
  }
  return problems;
}

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(3);
}
