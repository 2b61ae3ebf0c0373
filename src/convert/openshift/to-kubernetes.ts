import type { KubeObject } from '../../model/object.js';
import type { Loss } from '../../model/loss.js';
import { objectRef } from '../../model/object.js';
import { annotate, annotation, objectDigest } from '../annotations.js';
import { processTemplate } from './template.js';

/**
 * OpenShift → Kubernetes, one row per OpenShift kind. A converted object carries its source in
 * `fatchart.io/original`; kinds with no Kubernetes equivalent (ImageStream, BuildConfig, the
 * Template itself) ride in `fatchart.io/carried` on a related object, so kubernetesToOpenShift
 * restores them all.
 */
export interface OpenShiftToKubernetesOptions {
  params?: Record<string, string>;
  /** Registry that serves ImageStream tags no stream in the input resolves (default: the internal one). */
  internalRegistry?: string;
  random?: (n: number) => number;
  /** Routes become Gateway API HTTPRoutes attached to this Gateway (`name` or `namespace/name`). */
  gateway?: string;
}

type Obj = Record<string, any>;

interface Ctx {
  streams: Map<string, KubeObject>;
  losses: Loss[];
  opts: OpenShiftToKubernetesOptions;
  /** Carried source objects, keyed by the name of the converted object that will hold them. */
  carry: Map<string, KubeObject[]>;
}

type Rule = (o: KubeObject, ctx: Ctx) => KubeObject[] | null;

const rules: Record<string, Rule> = {
  DeploymentConfig: deploymentConfig,
  Deployment: triggeredDeployment,
  Route: (o, ctx) => (ctx.opts.gateway ? [httpRoute(o, ctx)] : route(o, ctx)),
  ImageStream: () => null,
  ImageStreamTag: () => null,
  BuildConfig: (o, ctx) => {
    const src = (o.spec as Obj)?.source ?? {};
    const from = src.git ? `git ${src.git.uri}${src.git.ref ? `#${src.git.ref}` : ''}${src.contextDir ? ` (dir ${src.contextDir})` : ''}` : `${src.type ?? 'unknown'} source`;
    const out = (o.spec as Obj)?.output?.to;
    ctx.losses.push({ severity: 'needs-action', subject: objectRef(o), field: 'spec', message: `builds are not transferable: built from ${from}${out ? ` into ${out.kind} ${out.name}` : ''}`, fix: 'build the image in CI and point the workload at it (--registry-mirror)' });
    return null;
  },
  Build: (o, ctx) => {
    ctx.losses.push({ severity: 'dropped', subject: objectRef(o), field: '', message: 'a finished build is history, not a blueprint' });
    return null;
  },
};

export function openShiftToKubernetes(input: KubeObject[], opts: OpenShiftToKubernetesOptions = {}): { objects: KubeObject[]; losses: Loss[] } {
  const losses: Loss[] = [];
  const objects: KubeObject[] = [];
  const templates: Array<{ template: KubeObject; names: Set<string> }> = [];
  for (const o of input) {
    if (o.kind !== 'Template') {
      objects.push(o);
      continue;
    }
    const processed = processTemplate(o, opts.params, opts.random);
    losses.push(...processed.losses);
    templates.push({ template: o, names: new Set(processed.objects.map(key)) });
    objects.push(...processed.objects);
  }
  const ctx: Ctx = { streams: new Map(objects.filter((o) => o.kind === 'ImageStream').map((o) => [o.metadata.name, o])), losses, opts, carry: new Map() };
  const out: KubeObject[] = [];
  const unconverted: KubeObject[] = [];
  for (const o of objects) {
    const rule = rules[o.kind];
    if (!rule) {
      out.push(o);
      continue;
    }
    const converted = rule(o, ctx);
    if (converted === null) unconverted.push(o);
    else if (converted.length === 1 && converted[0] === o) out.push(o); // nothing OpenShift-specific in it
    else out.push(...converted.map((c) => annotate(c, { [annotation.original]: JSON.stringify(o) })));
  }
  // objects without a Kubernetes kind ride on the first workload that uses them, else on the first object
  for (const o of unconverted) {
    const host = hostFor(o, out);
    if (!host) {
      losses.push({ severity: 'dropped', subject: objectRef(o), field: '', message: 'no Kubernetes object left to carry it' });
      continue;
    }
    ctx.carry.set(key(host), [...(ctx.carry.get(key(host)) ?? []), o]);
  }
  const templateHosts = new Map<string, string[]>();
  for (const { template, names } of templates) {
    const host = out.find((o) => o.metadata.annotations?.[annotation.original]) ?? out[0];
    if (!host) continue;
    ctx.carry.set(key(host), [...(ctx.carry.get(key(host)) ?? []), template]);
    templateHosts.set(key(host), [...(templateHosts.get(key(host)) ?? []), ...names]);
  }
  const result = out.map((o) => {
    const carried = ctx.carry.get(key(o));
    const produced = templateHosts.get(key(o));
    let withCarry = carried ? annotate(o, { [annotation.carried]: JSON.stringify(carried) }) : o;
    if (produced) withCarry = annotate(withCarry, { [annotation.templateObjects]: JSON.stringify(produced) });
    if (!withCarry.metadata.annotations?.[annotation.original] && !carried) return withCarry;
    return annotate(withCarry, { [annotation.digest]: objectDigest(withCarry) });
  });
  return { objects: result, losses };
}

export const key = (o: KubeObject) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

function hostFor(o: KubeObject, out: KubeObject[]): KubeObject | undefined {
  const uses = (w: KubeObject) => JSON.stringify(JSON.parse(w.metadata.annotations?.[annotation.original] ?? '{}').spec ?? {}).includes(`"${o.metadata.name}`);
  return out.find((w) => w.kind === 'Deployment' && uses(w)) ?? out.find((w) => w.metadata.annotations?.[annotation.original]) ?? out[0];
}

function resolveImage(from: Obj, ctx: Ctx, subject: string, namespace: string | undefined, field: string): string | undefined {
  if (from.kind === 'DockerImage') return from.name;
  const [stream, tag = 'latest'] = String(from.name).split(from.kind === 'ImageStreamImage' ? '@' : ':');
  const is = ctx.streams.get(stream);
  const tagged = (is?.spec as Obj | undefined)?.tags?.find((t: Obj) => String(t.name) === tag);
  if (tagged?.from?.kind === 'DockerImage') return tagged.from.name;
  const registry = ctx.opts.internalRegistry ?? 'image-registry.openshift-image-registry.svc:5000';
  // the stream lives in the trigger's namespace, else in the object's project (unknown offline)
  const ns = from.namespace ?? namespace;
  const ref = `${registry}/${ns ? `${ns}/` : ''}${stream}${from.kind === 'ImageStreamImage' ? '@' : ':'}${tag}`;
  const why = is ? 'is filled by a build inside OpenShift' : 'is not resolvable outside OpenShift';
  ctx.losses.push({ severity: 'needs-action', subject, field, message: `image stream tag ${from.name} ${why}; using ${ref}`, fix: `push the image and map it with --registry-mirror ${registry}=YOUR-REGISTRY` });
  return ref;
}

/**
 * A Deployment (not a DC) can follow image streams too, through the
 * `image.openshift.io/triggers` annotation: resolve those images the same way.
 */
const triggerAnnotation = 'image.openshift.io/triggers';

function triggeredDeployment(o: KubeObject, ctx: Ctx): KubeObject[] | null {
  const raw = o.metadata.annotations?.[triggerAnnotation];
  if (!raw) return [o];
  let triggers: Array<{ from?: Obj; fieldPath?: string; paused?: boolean | string }>;
  try {
    triggers = JSON.parse(raw);
  } catch {
    ctx.losses.push({ severity: 'dropped', subject: objectRef(o), field: `metadata.annotations.${triggerAnnotation}`, message: 'not valid JSON' });
    return [o];
  }
  const out = structuredClone(o) as Obj;
  const containers: Obj[] = [...(out.spec?.template?.spec?.containers ?? []), ...(out.spec?.template?.spec?.initContainers ?? [])];
  for (const t of triggers) {
    const name = /name=="([^"]+)"/.exec(t.fieldPath ?? '')?.[1];
    const image = resolveImage(t.from ?? {}, ctx, objectRef(o), o.metadata.namespace, `metadata.annotations.${triggerAnnotation}`);
    for (const c of containers) if (!name || c.name === name) c.image = image;
  }
  const { [triggerAnnotation]: _t, ...annotations } = out.metadata.annotations;
  out.metadata = { ...out.metadata, annotations };
  if (!Object.keys(annotations).length) delete out.metadata.annotations;
  ctx.losses.push({ severity: 'approximated', subject: objectRef(o), field: `metadata.annotations.${triggerAnnotation}`, message: 'image stream triggers (redeploy on push) are an OpenShift controller feature' });
  return [out as KubeObject];
}

function deploymentConfig(o: KubeObject, ctx: Ctx): KubeObject[] {
  const s = (o.spec ?? {}) as Obj;
  const subject = objectRef(o);
  const template = structuredClone(s.template ?? {});
  const podSpec = (template.spec ??= {});
  for (const t of s.triggers ?? []) {
    if (t.type !== 'ImageChange') continue;
    const p = t.imageChangeParams ?? {};
    const image = resolveImage(p.from ?? {}, ctx, subject, o.metadata.namespace, 'spec.triggers');
    for (const c of [...(podSpec.containers ?? []), ...(podSpec.initContainers ?? [])]) {
      if (!p.containerNames || p.containerNames.includes(c.name)) c.image = image;
    }
    if (p.automatic) ctx.losses.push({ severity: 'approximated', subject, field: 'spec.triggers', message: 'automatic redeploy on image change is not a Kubernetes feature', fix: 'redeploy from CI (or use a tool such as keel/flux image automation)' });
  }
  const strategy: Obj = {};
  const st = s.strategy ?? {};
  if (st.type === 'Recreate') strategy.type = 'Recreate';
  else if (st.type === 'Custom') ctx.losses.push({ severity: 'dropped', subject, field: 'spec.strategy', message: 'custom deployment strategies have no Kubernetes equivalent' });
  else if (st.rollingParams?.maxSurge !== undefined || st.rollingParams?.maxUnavailable !== undefined) {
    strategy.type = 'RollingUpdate';
    strategy.rollingUpdate = Object.fromEntries(['maxSurge', 'maxUnavailable'].filter((k) => st.rollingParams[k] !== undefined).map((k) => [k, st.rollingParams[k]]));
  }
  for (const phase of ['pre', 'mid', 'post']) {
    const hook = st.recreateParams?.[phase] ?? st.rollingParams?.[phase];
    if (hook) ctx.losses.push({ severity: 'dropped', subject, field: `spec.strategy.*Params.${phase}`, message: `${phase} lifecycle hook (${hook.failurePolicy ?? ''}) has no Deployment equivalent`, fix: 'run it as a Job before/after the rollout' });
  }
  if (s.test) ctx.losses.push({ severity: 'dropped', subject, field: 'spec.test', message: 'test deployments (scaled to zero after success) have no equivalent' });
  const selector = s.selector ?? template.metadata?.labels ?? {};
  template.metadata = { ...(template.metadata ?? {}), labels: { ...selector, ...(template.metadata?.labels ?? {}) } };
  const spec: Obj = { replicas: s.replicas ?? 1, selector: { matchLabels: selector } };
  if (Object.keys(strategy).length) spec.strategy = strategy;
  for (const k of ['minReadySeconds', 'revisionHistoryLimit', 'paused']) if (s[k] !== undefined) spec[k] = s[k];
  spec.template = template;
  return [{ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { ...o.metadata }, spec }];
}

function route(o: KubeObject, ctx: Ctx): KubeObject[] {
  const s = (o.spec ?? {}) as Obj;
  const subject = objectRef(o);
  const port = s.port?.targetPort;
  const backend = { service: { name: s.to?.name, port: typeof port === 'number' || /^\d+$/.test(String(port ?? '')) ? { number: Number(port ?? 80) } : { name: port } } };
  if (port === undefined) ctx.losses.push({ severity: 'needs-action', subject, field: 'spec.port', message: 'the route sends to every port of the Service; the Ingress uses port 80', fix: 'set the backend port with a patch rule' });
  const rule: Obj = { http: { paths: [{ path: s.path || '/', pathType: 'Prefix', backend }] } };
  if (s.host) rule.host = s.host;
  else ctx.losses.push({ severity: 'needs-action', subject, field: 'spec.host', message: 'OpenShift generates route hosts; the Ingress has none', fix: 'set spec.rules[0].host with a patch rule' });
  const spec: Obj = { rules: [rule] };
  const objects: KubeObject[] = [];
  if (s.tls) {
    const tls: Obj = { ...(s.host ? { hosts: [s.host] } : {}) };
    if (s.tls.certificate && s.tls.key) {
      const secret = `${o.metadata.name}-tls`;
      tls.secretName = secret;
      objects.push({ apiVersion: 'v1', kind: 'Secret', metadata: { name: secret, ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}) }, type: 'kubernetes.io/tls', data: { 'tls.crt': Buffer.from(s.tls.certificate).toString('base64'), 'tls.key': Buffer.from(s.tls.key).toString('base64') } });
    }
    spec.tls = [tls];
    if (s.tls.termination !== 'edge') ctx.losses.push({ severity: 'approximated', subject, field: 'spec.tls.termination', message: `${s.tls.termination} termination becomes edge termination at the ingress controller`, fix: 'use controller-specific annotations (e.g. ssl-passthrough) if needed' });
    if (s.tls.insecureEdgeTerminationPolicy) ctx.losses.push({ severity: 'approximated', subject, field: 'spec.tls.insecureEdgeTerminationPolicy', message: `${s.tls.insecureEdgeTerminationPolicy} for plain HTTP is controller-specific` });
  }
  if (s.alternateBackends?.length) ctx.losses.push({ severity: 'dropped', subject, field: 'spec.alternateBackends', message: 'weighted backends need Gateway API HTTPRoute', fix: 'convert with --gateway-api GATEWAY' });
  if (s.wildcardPolicy && s.wildcardPolicy !== 'None') ctx.losses.push({ severity: 'approximated', subject, field: 'spec.wildcardPolicy', message: 'wildcard routes need a wildcard host rule' });
  objects.unshift({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { ...o.metadata }, spec });
  return objects;
}

/** Route → Gateway API HTTPRoute (`--gateway-api`): hosts, path prefix, backend port, weights. */
function httpRoute(o: KubeObject, ctx: Ctx): KubeObject {
  const s = (o.spec ?? {}) as Obj;
  const subject = objectRef(o);
  const [gwNs, gwName] = ctx.opts.gateway!.includes('/') ? ctx.opts.gateway!.split('/') : [undefined, ctx.opts.gateway!];
  const port = s.port?.targetPort;
  const ref = (to: Obj) => ({
    name: to.name,
    ...(typeof port === 'number' || /^\d+$/.test(String(port ?? '')) ? { port: Number(port) } : {}),
    ...(to.weight !== undefined ? { weight: to.weight } : {}),
  });
  if (typeof port === 'string' && !/^\d+$/.test(port)) ctx.losses.push({ severity: 'needs-action', subject, field: 'spec.port.targetPort', message: `named port ${port}: HTTPRoute backends need a port number`, fix: 'set backendRefs[].port with a patch rule' });
  if (s.tls) ctx.losses.push({ severity: 'needs-action', subject, field: 'spec.tls', message: 'TLS is configured on the Gateway listener, not on the HTTPRoute', fix: `add an HTTPS listener with the certificate to Gateway ${ctx.opts.gateway}` });
  const spec: Obj = {
    parentRefs: [{ name: gwName, ...(gwNs ? { namespace: gwNs } : {}) }],
    ...(s.host ? { hostnames: [s.host] } : {}),
    rules: [{
      matches: [{ path: { type: 'PathPrefix', value: s.path || '/' } }],
      backendRefs: [s.to ?? {}, ...(s.alternateBackends ?? [])].map(ref),
    }],
  };
  return { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { ...o.metadata }, spec };
}
