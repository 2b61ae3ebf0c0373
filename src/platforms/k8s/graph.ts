import type { KubeObject } from '../../model/object.js';
import { podSpecPaths } from '../../model/resources.js';
import { derivedReason } from './derived-rules.js';
import { fromLabelSelector, mapSelects, matches, type Requirement } from './selector.js';

/**
 * The app graph: which objects of a namespace make up the app, and why each one is in.
 * Seeds are the objects matching the selector (or every object with --all); then two rule
 * tables grow the set to a fixpoint:
 *  - `referenceRules`: what an included object names (a Deployment's ConfigMaps, a
 *    RoleBinding's Role) comes along;
 *  - `attachmentRules`: what points at an included object (a Service selecting its pods, an
 *    Ingress routing to that Service, an HPA scaling the workload) comes along.
 * Derived objects (derived-rules.ts) never enter. Cluster-scoped objects the app needs are
 * recorded as dependencies, not captured.
 */
export interface Inclusion {
  object: KubeObject;
  reason: string;
}

export interface ClusterDependency {
  kind: 'CustomResourceDefinition' | 'StorageClass' | 'PersistentVolume' | 'ClusterRole';
  name: string;
  reason: string;
}

export interface Exclusion {
  object: KubeObject;
  reason: string;
}

export interface AppGraph {
  included: Inclusion[];
  excluded: Exclusion[];
  dependencies: ClusterDependency[];
}

interface Ref {
  kind: string;
  name: string;
  why: string;
}

type Dependency = Omit<ClusterDependency, 'reason'> & { why: string };

const at = (o: any, path: readonly string[]) => path.reduce((n, k) => (n == null ? undefined : n[k]), o);
export const podSpecOf = (o: KubeObject): any => (podSpecPaths[o.kind] ? at(o, podSpecPaths[o.kind]) : undefined);
/** Labels of the pods a workload makes (a Pod's own labels). */
export const podLabelsOf = (o: KubeObject): Record<string, string> | undefined => {
  const spec = podSpecPaths[o.kind];
  if (!spec) return undefined;
  if (o.kind === 'Pod') return o.metadata.labels;
  return at(o, [...spec.slice(0, -1), 'metadata', 'labels']);
};

function podRefs(spec: any): Ref[] {
  if (!spec) return [];
  const refs: Ref[] = [];
  const containers = [...(spec.containers ?? []), ...(spec.initContainers ?? [])];
  for (const c of containers) {
    for (const e of c.env ?? []) {
      if (e.valueFrom?.configMapKeyRef) refs.push({ kind: 'ConfigMap', name: e.valueFrom.configMapKeyRef.name, why: `env ${e.name} of container ${c.name}` });
      if (e.valueFrom?.secretKeyRef) refs.push({ kind: 'Secret', name: e.valueFrom.secretKeyRef.name, why: `env ${e.name} of container ${c.name}` });
    }
    for (const e of c.envFrom ?? []) {
      if (e.configMapRef) refs.push({ kind: 'ConfigMap', name: e.configMapRef.name, why: `envFrom of container ${c.name}` });
      if (e.secretRef) refs.push({ kind: 'Secret', name: e.secretRef.name, why: `envFrom of container ${c.name}` });
    }
  }
  for (const v of spec.volumes ?? []) {
    if (v.configMap) refs.push({ kind: 'ConfigMap', name: v.configMap.name, why: `volume ${v.name}` });
    if (v.secret) refs.push({ kind: 'Secret', name: v.secret.secretName, why: `volume ${v.name}` });
    if (v.persistentVolumeClaim) refs.push({ kind: 'PersistentVolumeClaim', name: v.persistentVolumeClaim.claimName, why: `volume ${v.name}` });
    for (const s of v.projected?.sources ?? []) {
      if (s.configMap) refs.push({ kind: 'ConfigMap', name: s.configMap.name, why: `projected volume ${v.name}` });
      if (s.secret) refs.push({ kind: 'Secret', name: s.secret.name, why: `projected volume ${v.name}` });
    }
  }
  for (const s of spec.imagePullSecrets ?? []) refs.push({ kind: 'Secret', name: s.name, why: 'imagePullSecrets' });
  const sa = spec.serviceAccountName ?? spec.serviceAccount;
  if (sa) refs.push({ kind: 'ServiceAccount', name: sa, why: 'serviceAccountName' });
  return refs;
}

/** What an object names, by kind. */
const referenceRules: Readonly<Record<string, (o: any, all: KubeObject[]) => Ref[]>> = {
  ...Object.fromEntries(Object.keys(podSpecPaths).map((k) => [k, (o: KubeObject) => podRefs(podSpecOf(o))])),
  StatefulSet: (o, all) => [
    ...podRefs(podSpecOf(o)),
    // Claims the controller made from the templates (`<template>-<set>-<ordinal>`): their data is
    // the app's state, and the StatefulSet adopts them on the target by name.
    ...(o.spec?.volumeClaimTemplates ?? []).flatMap((t: any) =>
      all
        .filter((c) => c.kind === 'PersistentVolumeClaim' && new RegExp(`^${escape(`${t.metadata.name}-${o.metadata.name}-`)}\\d+$`).test(c.metadata.name))
        .map((c) => ({ kind: 'PersistentVolumeClaim', name: c.metadata.name, why: `volumeClaimTemplate ${t.metadata.name}` })),
    ),
  ],
  DeploymentConfig: (o) => [
    ...podRefs(podSpecOf(o)),
    ...(o.spec?.triggers ?? [])
      .filter((t: any) => t.imageChangeParams?.from?.kind === 'ImageStreamTag' && !t.imageChangeParams.from.namespace)
      .map((t: any) => ({ kind: 'ImageStream', name: String(t.imageChangeParams.from.name).split(':')[0], why: 'ImageChange trigger' })),
  ],
  ServiceAccount: (o) => [
    ...(o.imagePullSecrets ?? []).map((s: any) => ({ kind: 'Secret', name: s.name, why: 'imagePullSecrets' })),
    ...(o.secrets ?? []).map((s: any) => ({ kind: 'Secret', name: s.name, why: 'secrets' })),
  ],
  RoleBinding: (o) => (o.roleRef?.kind === 'Role' ? [{ kind: 'Role', name: o.roleRef.name, why: 'roleRef' }] : []),
};

const clusterRules: Readonly<Record<string, (o: any) => Dependency[]>> = {
  PersistentVolumeClaim: (o) => [
    ...(o.spec?.storageClassName ? [{ kind: 'StorageClass' as const, name: o.spec.storageClassName, why: 'storageClassName' }] : []),
    ...(o.spec?.volumeName ? [{ kind: 'PersistentVolume' as const, name: o.spec.volumeName, why: 'bound volume (information)' }] : []),
  ],
  StatefulSet: (o) =>
    (o.spec?.volumeClaimTemplates ?? [])
      .filter((t: any) => t.spec?.storageClassName)
      .map((t: any) => ({ kind: 'StorageClass' as const, name: t.spec.storageClassName, why: `volumeClaimTemplate ${t.metadata.name}` })),
  RoleBinding: (o) => (o.roleRef?.kind === 'ClusterRole' ? [{ kind: 'ClusterRole' as const, name: o.roleRef.name, why: 'roleRef' }] : []),
};

/** What points at an included object: returns the reason when `o` attaches to the app. */
const attachmentRules: Readonly<Record<string, (o: any, app: AppIndex) => string | undefined>> = {
  Service: (o, app) => {
    const w = app.workloads.find((w) => mapSelects(o.spec?.selector, podLabelsOf(w)));
    return w ? `selects the pods of ${w.kind}/${w.metadata.name}` : undefined;
  },
  Ingress: (o, app) => {
    const names = [
      o.spec?.defaultBackend?.service?.name,
      o.spec?.backend?.serviceName,
      ...(o.spec?.rules ?? []).flatMap((r: any) => (r.http?.paths ?? []).map((p: any) => p.backend?.service?.name ?? p.backend?.serviceName)),
    ];
    const hit = names.find((n) => n && app.has('Service', n));
    return hit ? `routes to Service/${hit}` : undefined;
  },
  Route: (o, app) => {
    const names = [o.spec?.to, ...(o.spec?.alternateBackends ?? [])]
      .filter((b: any) => b && (b.kind ?? 'Service') === 'Service')
      .map((b: any) => b.name);
    const hit = names.find((n) => app.has('Service', n));
    return hit ? `routes to Service/${hit}` : undefined;
  },
  HorizontalPodAutoscaler: (o, app) => {
    const t = o.spec?.scaleTargetRef;
    return t && app.has(t.kind, t.name) ? `scales ${t.kind}/${t.name}` : undefined;
  },
  PodDisruptionBudget: (o, app) => selectsWorkload(fromLabelSelector(o.spec?.selector), app, 'budgets', !!o.spec?.selector),
  NetworkPolicy: (o, app) => selectsWorkload(fromLabelSelector(o.spec?.podSelector), app, 'applies to', true),
  RoleBinding: (o, app) => {
    const s = (o.subjects ?? []).find(
      (s: any) => s.kind === 'ServiceAccount' && (!s.namespace || s.namespace === o.metadata.namespace) && app.has('ServiceAccount', s.name),
    );
    return s ? `binds ServiceAccount/${s.name}` : undefined;
  },
};

function selectsWorkload(reqs: Requirement[], app: AppIndex, verb: string, defined: boolean): string | undefined {
  if (!defined) return undefined;
  const w = app.workloads.find((w) => matches(reqs, podLabelsOf(w)));
  return w ? `${verb} the pods of ${w.kind}/${w.metadata.name}` : undefined;
}

class AppIndex {
  private readonly keys = new Set<string>();
  readonly workloads: KubeObject[] = [];
  add(o: KubeObject) {
    this.keys.add(`${o.kind}/${o.metadata.name}`);
    if (podSpecPaths[o.kind]) this.workloads.push(o);
  }
  has(kind: string, name: string) {
    return this.keys.has(`${kind}/${name}`);
  }
}

export interface SelectOptions {
  /** Requirements of `-l`; undefined with --all. */
  selector?: Requirement[];
  /** CRD name serving an object, when it is a custom resource. */
  crdOf?: (o: KubeObject) => string | undefined;
}

export function buildAppGraph(all: readonly KubeObject[], options: SelectOptions): AppGraph {
  const excluded: Exclusion[] = [];
  const candidates: KubeObject[] = [];
  for (const o of all) {
    const reason = derivedReason(o);
    if (reason) excluded.push({ object: o, reason });
    else candidates.push(o);
  }
  const byKey = new Map(candidates.map((o) => [`${o.kind}/${o.metadata.name}`, o]));
  const index = new AppIndex();
  const included: Inclusion[] = [];
  const queue: KubeObject[] = [];
  const include = (o: KubeObject, reason: string) => {
    if (index.has(o.kind, o.metadata.name)) return;
    index.add(o);
    included.push({ object: o, reason });
    queue.push(o);
  };
  const selector = options.selector;
  for (const o of candidates) {
    if (!selector) include(o, 'in the namespace (--all)');
    else if (matches(selector, o.metadata.labels)) include(o, 'matches the selector');
  }

  const deps = new Map<string, ClusterDependency>();
  const depend = (d: Dependency, from: KubeObject) => {
    const key = `${d.kind}/${d.name}`;
    if (!deps.has(key)) deps.set(key, { kind: d.kind, name: d.name, reason: `${d.why} of ${from.kind}/${from.metadata.name}` });
  };
  for (;;) {
    while (queue.length) {
      const o = queue.shift()!;
      for (const ref of referenceRules[o.kind]?.(o, candidates) ?? []) {
        const target = byKey.get(`${ref.kind}/${ref.name}`);
        if (target) include(target, `${ref.why} of ${o.kind}/${o.metadata.name}`);
      }
      for (const d of clusterRules[o.kind]?.(o) ?? []) depend(d, o);
      const crd = options.crdOf?.(o);
      if (crd) depend({ kind: 'CustomResourceDefinition', name: crd, why: 'definition' }, o);
    }
    let grew = false;
    for (const o of candidates) {
      if (index.has(o.kind, o.metadata.name)) continue;
      const reason = attachmentRules[o.kind]?.(o, index);
      if (reason) {
        include(o, reason);
        grew = true;
      }
    }
    if (!grew) break;
  }
  return { included, excluded, dependencies: [...deps.values()] };
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
