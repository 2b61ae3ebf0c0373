import type { KubeObject } from '../../model/object.js';
import type { Loss } from '../../model/loss.js';
import { objectRef } from '../../model/object.js';
import { annotation, objectDigest, withoutOurAnnotations } from '../annotations.js';
import { key } from './to-kubernetes.js';

/**
 * Kubernetes → OpenShift. Objects that came from OpenShift (fatchart.io/original, digest still
 * matching) turn back into their originals, with the carried ones; an object edited since is
 * converted afresh. Ingress → Route; Deployments stay (DeploymentConfig only on request);
 * settings the default `restricted` SCC refuses are reported.
 */
export interface KubernetesToOpenShiftOptions {
  deploymentConfig?: boolean;
}

type Obj = Record<string, any>;

export function kubernetesToOpenShift(input: KubeObject[], opts: KubernetesToOpenShiftOptions = {}): { objects: KubeObject[]; losses: Loss[] } {
  const losses: Loss[] = [];
  const out = new Map<string, KubeObject>();
  const put = (o: KubeObject) => out.set(key(o), o);
  const produced = new Set<string>();
  const templates: KubeObject[] = [];
  for (const o of input) {
    const restored = restore(o, losses);
    if (restored) {
      for (const r of restored) (r.kind === 'Template' ? templates.push(r) : put(r));
      for (const k of JSON.parse(o.metadata.annotations?.[annotation.templateObjects] ?? '[]') as string[]) produced.add(k);
      continue;
    }
    for (const c of convert(withoutOurAnnotations(o), opts, losses)) put(c);
    scc(o, losses);
  }
  // what a carried Template produced is the Template again
  for (const k of produced) out.delete(k);
  return { objects: [...templates, ...out.values()], losses };
}

function restore(o: KubeObject, losses: Loss[]): KubeObject[] | undefined {
  const ann = o.metadata.annotations ?? {};
  if (!ann[annotation.original] && !ann[annotation.carried]) return undefined;
  if (ann[annotation.digest] !== objectDigest(o)) {
    losses.push({ severity: 'approximated', subject: objectRef(o), field: `metadata.annotations.${annotation.digest}`, message: 'edited after conversion: converted afresh instead of restoring the OpenShift original' });
    return undefined;
  }
  const out: KubeObject[] = [];
  if (ann[annotation.original]) out.push(JSON.parse(ann[annotation.original]));
  else out.push(withoutOurAnnotations(o));
  if (ann[annotation.carried]) out.push(...(JSON.parse(ann[annotation.carried]) as KubeObject[]));
  return out;
}

function convert(o: KubeObject, opts: KubernetesToOpenShiftOptions, losses: Loss[]): KubeObject[] {
  if (o.kind === 'Ingress') return ingressToRoutes(o, losses);
  if (o.kind === 'Deployment' && opts.deploymentConfig) return [toDeploymentConfig(o, losses)];
  return [o];
}

function ingressToRoutes(o: KubeObject, losses: Loss[]): KubeObject[] {
  const s = (o.spec ?? {}) as Obj;
  const routes: KubeObject[] = [];
  const tlsHosts = new Map<string, Obj>();
  for (const t of s.tls ?? []) for (const h of t.hosts ?? ['*']) tlsHosts.set(h, t);
  const entries: Array<{ host?: string; path?: string; backend: Obj }> = [];
  for (const rule of s.rules ?? []) for (const p of rule.http?.paths ?? []) entries.push({ host: rule.host, path: p.path, backend: p.backend });
  if (s.defaultBackend) entries.push({ backend: s.defaultBackend });
  entries.forEach((e, i) => {
    const svc = e.backend.service ?? {};
    const spec: Obj = {};
    if (e.host) spec.host = e.host;
    if (e.path && e.path !== '/') spec.path = e.path;
    spec.to = { kind: 'Service', name: svc.name, weight: 100 };
    if (svc.port) spec.port = { targetPort: svc.port.number ?? svc.port.name };
    const tls = (e.host && tlsHosts.get(e.host)) ?? tlsHosts.get('*');
    if (tls) {
      spec.tls = { termination: 'edge', insecureEdgeTerminationPolicy: 'Redirect' };
      if (tls.secretName) losses.push({ severity: 'needs-action', subject: objectRef(o), field: 'spec.tls', message: `certificate secret ${tls.secretName} is not read by Routes; the router's default certificate is used`, fix: 'copy the certificate into spec.tls of the Route, or use cert-manager with openshift-routes' });
    }
    if (e.backend.resource) losses.push({ severity: 'dropped', subject: objectRef(o), field: 'spec.rules', message: 'resource backends have no Route equivalent' });
    routes.push({ apiVersion: 'route.openshift.io/v1', kind: 'Route', metadata: { ...o.metadata, name: entries.length > 1 ? `${o.metadata.name}-${i}` : o.metadata.name }, spec });
  });
  if (s.ingressClassName) losses.push({ severity: 'approximated', subject: objectRef(o), field: 'spec.ingressClassName', message: 'Routes are served by the OpenShift router, whatever the ingress class' });
  return routes;
}

function toDeploymentConfig(o: KubeObject, losses: Loss[]): KubeObject {
  const s = (o.spec ?? {}) as Obj;
  if (s.selector?.matchExpressions) losses.push({ severity: 'approximated', subject: objectRef(o), field: 'spec.selector.matchExpressions', message: 'DeploymentConfig selectors are plain label maps' });
  const strategy = s.strategy?.type === 'Recreate' ? { type: 'Recreate' } : { type: 'Rolling', ...(s.strategy?.rollingUpdate ? { rollingParams: s.strategy.rollingUpdate } : {}) };
  return {
    apiVersion: 'apps.openshift.io/v1',
    kind: 'DeploymentConfig',
    metadata: o.metadata,
    spec: { replicas: s.replicas ?? 1, selector: s.selector?.matchLabels ?? {}, strategy, template: s.template, triggers: [{ type: 'ConfigChange' }] },
  };
}

/** What the default `restricted-v2` SCC refuses, with the SCC the workload would need. */
const sccChecks: Array<{ test: (pod: Obj, c: Obj) => boolean; what: string; scc: string }> = [
  { test: (_p, c) => !!c.securityContext?.privileged, what: 'privileged container', scc: 'privileged' },
  { test: (p, c) => (c.securityContext?.runAsUser ?? p.securityContext?.runAsUser) === 0, what: 'runs as root (uid 0)', scc: 'anyuid' },
  { test: (p) => !!(p.hostNetwork || p.hostPID || p.hostIPC), what: 'host namespaces', scc: 'hostnetwork / privileged' },
  { test: (p) => (p.volumes ?? []).some((v: Obj) => v.hostPath), what: 'hostPath volume', scc: 'hostmount-anyuid' },
  { test: (_p, c) => (c.securityContext?.capabilities?.add ?? []).some((x: string) => x !== 'NET_BIND_SERVICE'), what: 'added capabilities', scc: 'anyuid or a custom SCC' },
  { test: (_p, c) => (c.ports ?? []).some((p: Obj) => p.hostPort), what: 'host ports', scc: 'hostnetwork' },
];

function scc(o: KubeObject, losses: Loss[]): void {
  const spec = o.spec as Obj | undefined;
  const pod = o.kind === 'Pod' ? spec : o.kind === 'CronJob' ? spec?.jobTemplate?.spec?.template?.spec : spec?.template?.spec;
  if (!pod) return;
  const containers = [...(pod.containers ?? []), ...(pod.initContainers ?? [])];
  for (const check of sccChecks) {
    if (containers.some((c: Obj) => check.test(pod, c))) {
      losses.push({ severity: 'needs-action', subject: objectRef(o), field: 'spec.template.spec', message: `${check.what}: refused by the restricted SCC`, fix: `grant the ${check.scc} SCC to the service account` });
    }
  }
  if (containers.some((c: Obj) => c.securityContext?.runAsUser !== undefined)) {
    losses.push({ severity: 'approximated', subject: objectRef(o), field: 'spec.template.spec.containers[].securityContext.runAsUser', message: 'OpenShift assigns a uid from the namespace range unless anyuid is granted; the image must run as any uid' });
  }
}
