import path from 'node:path';
import yaml from 'js-yaml';
import type { KubeObject } from '../../model/object.js';
import type { Loss } from '../../model/loss.js';
import { objectRef } from '../../model/object.js';
import { CARRY_KEY, sourceDigest } from '../../platforms/compose/loader/index.js';
import { composeName } from '../util/names.js';
import { dockerSize, kubeNumber } from '../util/quantity.js';
import type { CarryBlock } from './carry.js';

/**
 * Kubernetes-shaped model → a Compose project. One service per container; init containers become
 * one-shot services the main one waits for (`service_completed_successfully`); claims become named
 * volumes; ConfigMap/Secret volumes become read-only bind mounts / secrets backed by files written
 * beside the compose file. The source objects are carried in `x-fatchart` so converting back is exact.
 */
export interface ModelToComposeOptions {
  /** Compose file name inside the output folder (default compose.yaml). */
  fileName?: string;
  /** Leave out the x-fatchart block that makes the way back exact (default: carry). */
  carry?: boolean;
}

export interface ComposeOutput {
  files: Map<string, string | Buffer>;
  document: Record<string, unknown>;
  losses: Loss[];
}

type Obj = Record<string, any>;

const workloadKinds = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'ReplicationController', 'DeploymentConfig', 'Job', 'CronJob', 'Pod']);
/** Kinds whose meaning Compose expresses another way (no loss), or cannot at all (loss). */
const absorbed = new Set(['Service', 'ConfigMap', 'Secret', 'PersistentVolumeClaim', 'Namespace', 'ImageStream']);

export function modelToCompose(objects: KubeObject[], opts: ModelToComposeOptions = {}): ComposeOutput {
  const losses: Loss[] = [];
  const files = new Map<string, string | Buffer>();
  const byKind = (k: string) => objects.filter((o) => o.kind === k);
  const configMaps = new Map(byKind('ConfigMap').map((o) => [o.metadata.name, o]));
  const secrets = new Map(byKind('Secret').map((o) => [o.metadata.name, o]));
  const services: Obj = {};
  const volumes: Obj = {};
  const topSecrets: Obj = {};
  const ctx = { losses, files, configMaps, secrets, volumes, topSecrets, services: byKind('Service') };
  for (const o of objects) {
    if (workloadKinds.has(o.kind)) Object.assign(services, workload(o, ctx));
    else if (!absorbed.has(o.kind)) losses.push({ severity: 'dropped', subject: objectRef(o), field: '', message: `${o.kind} has no Compose equivalent (kept in x-fatchart for the way back)` });
  }
  for (const pvc of byKind('PersistentVolumeClaim')) {
    const name = composeName(pvc.metadata.name);
    volumes[name] ??= {};
    const size = (pvc.spec as Obj)?.resources?.requests?.storage;
    if (size) losses.push({ severity: 'approximated', subject: objectRef(pvc), field: 'spec.resources.requests.storage', message: `local volumes are not sized (${size} requested)` });
  }
  for (const s of ctx.services) {
    const t = (s.spec as Obj)?.type;
    if (t === 'LoadBalancer' || t === 'NodePort') losses.push({ severity: 'approximated', subject: objectRef(s), field: 'spec.type', message: `${t} becomes ports published on the host` });
  }
  const doc: Obj = { services };
  if (Object.keys(volumes).length) doc.volumes = volumes;
  if (Object.keys(topSecrets).length) doc.secrets = topSecrets;
  const escaped = escapeDollars(doc) as Obj;
  const carry: CarryBlock = { version: 1, digest: sourceDigest([escaped]), objects: escapeDollars(objects) as KubeObject[] };
  const document = opts.carry === false ? escaped : { ...escaped, [CARRY_KEY]: carry };
  files.set(opts.fileName ?? 'compose.yaml', yaml.dump(document, { noRefs: true, lineWidth: -1, quotingType: '"', schema: yaml.CORE_SCHEMA }));
  return { files, document, losses };
}

/** Compose interpolates `$`: literal dollars are written `$$` so they survive loading. */
function escapeDollars(v: unknown): unknown {
  if (typeof v === 'string') return v.replace(/\$/g, '$$$$');
  if (Array.isArray(v)) return v.map(escapeDollars);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, escapeDollars(x)]));
  return v;
}

interface Ctx {
  losses: Loss[];
  files: Map<string, string | Buffer>;
  configMaps: Map<string, KubeObject>;
  secrets: Map<string, KubeObject>;
  volumes: Obj;
  topSecrets: Obj;
  services: KubeObject[];
}

function podOf(o: KubeObject): { spec: Obj; labels: Obj } {
  const s = (o.spec ?? {}) as Obj;
  if (o.kind === 'Pod') return { spec: s, labels: o.metadata.labels ?? {} };
  const t = o.kind === 'CronJob' ? s.jobTemplate?.spec?.template : s.template;
  return { spec: t?.spec ?? {}, labels: t?.metadata?.labels ?? {} };
}

function workload(o: KubeObject, ctx: Ctx): Obj {
  const { spec: pod, labels: podLabels } = podOf(o);
  const s = (o.spec ?? {}) as Obj;
  const subject = objectRef(o);
  const out: Obj = {};
  const containers: Obj[] = pod.containers ?? [];
  const mainName = composeName(o.metadata.name);
  const inits: string[] = [];
  (pod.initContainers ?? []).forEach((c: Obj) => {
    const name = composeName(`${o.metadata.name}-init-${c.name}`);
    out[name] = { ...container(c, pod, o, ctx), restart: 'no' };
    if (inits.length) out[name].depends_on = { [inits[inits.length - 1]]: { condition: 'service_completed_successfully' } };
    inits.push(name);
  });
  containers.forEach((c, i) => {
    const name = i === 0 ? mainName : composeName(`${o.metadata.name}-${c.name}`);
    const svc = container(c, pod, o, ctx);
    if (i > 0) svc.network_mode = `service:${mainName}`;
    if (inits.length) svc.depends_on = { [inits[inits.length - 1]]: { condition: 'service_completed_successfully' } };
    if (i === 0) {
      Object.assign(svc, exposure(o, podLabels, c, containers, ctx));
      if (pod.hostNetwork) svc.network_mode = 'host';
    }
    const restart = { Job: 'on-failure', CronJob: 'no', Pod: pod.restartPolicy === 'Never' ? 'no' : pod.restartPolicy === 'OnFailure' ? 'on-failure' : 'always' }[o.kind] ?? 'always';
    svc.restart = o.kind === 'Job' && pod.restartPolicy === 'Never' ? 'no' : restart;
    const replicas = s.replicas;
    if (replicas !== undefined && replicas !== 1) svc.deploy = { ...(svc.deploy ?? {}), replicas };
    if (o.kind === 'DaemonSet') ctx.losses.push({ severity: 'approximated', subject, field: 'kind', message: 'one container on this host instead of one per node' });
    if (Object.keys(o.metadata.labels ?? {}).length) svc.labels = { ...o.metadata.labels };
    out[name] = svc;
  });
  if (o.kind === 'CronJob') ctx.losses.push({ severity: 'dropped', subject, field: 'spec.schedule', message: `schedule ${s.schedule}: Compose runs the job once`, fix: 'run `docker compose run` from cron' });
  if (pod.affinity || pod.nodeSelector || pod.tolerations) ctx.losses.push({ severity: 'dropped', subject, field: 'spec.template.spec', message: 'scheduling constraints mean nothing on one host' });
  if (pod.serviceAccountName) ctx.losses.push({ severity: 'dropped', subject, field: 'spec.template.spec.serviceAccountName', message: 'no Kubernetes API access from Compose' });
  return out;
}

function container(c: Obj, pod: Obj, o: KubeObject, ctx: Ctx): Obj {
  const subject = objectRef(o);
  const svc: Obj = { image: c.image };
  if (c.command) svc.entrypoint = c.command.map(composeLiteral);
  if (c.args) svc.command = c.args.map(composeLiteral);
  if (c.workingDir) svc.working_dir = c.workingDir;
  const env = environment(c, o, ctx);
  if (Object.keys(env).length) svc.environment = env;
  const sc = { ...(pod.securityContext ?? {}), ...(c.securityContext ?? {}) };
  if (sc.runAsUser !== undefined) svc.user = `${sc.runAsUser}${sc.runAsGroup !== undefined ? `:${sc.runAsGroup}` : ''}`;
  if (sc.privileged) svc.privileged = true;
  if (sc.readOnlyRootFilesystem) svc.read_only = true;
  if (sc.capabilities?.add) svc.cap_add = sc.capabilities.add;
  if (sc.capabilities?.drop) svc.cap_drop = sc.capabilities.drop;
  if (c.stdin) svc.stdin_open = true;
  if (c.tty) svc.tty = true;
  if (pod.hostname) svc.hostname = pod.hostname;
  const probe = c.readinessProbe ?? c.livenessProbe ?? c.startupProbe;
  if (probe) svc.healthcheck = healthcheck(probe, c, subject, ctx);
  const res = c.resources ?? {};
  const resources: Obj = {};
  for (const [kube, compose] of [['limits', 'limits'], ['requests', 'reservations']]) {
    const r = res[kube] ?? {};
    const out: Obj = {};
    if (r.cpu !== undefined) out.cpus = String(kubeNumber(r.cpu));
    if (r.memory !== undefined) out.memory = dockerSize(Math.ceil(kubeNumber(r.memory) ?? 0));
    if (Object.keys(out).length) resources[compose] = out;
  }
  if (Object.keys(resources).length) svc.deploy = { resources };
  const vols = mounts(c, pod, o, ctx);
  for (const [k, v] of Object.entries(vols)) if ((v as unknown[]).length) svc[k] = v;
  if (c.imagePullPolicy) svc.pull_policy = { Always: 'always', Never: 'never', IfNotPresent: 'missing' }[c.imagePullPolicy as string];
  return svc;
}

/** `$$(` is Kubernetes' escape for a literal `$(`; a `$(VAR)` reference has no Compose form. */
const composeLiteral = (s: string) => s.replace(/\$\$\(/g, '$(');

function environment(c: Obj, o: KubeObject, ctx: Ctx): Obj {
  const env: Obj = {};
  const decode = (s: KubeObject | undefined, key: string) =>
    s ? ((s.data as Obj)?.[key] !== undefined ? Buffer.from((s.data as Obj)[key], 'base64').toString('utf8') : (s.stringData as Obj)?.[key]) : undefined;
  for (const from of c.envFrom ?? []) {
    const prefix = from.prefix ?? '';
    if (from.configMapRef) Object.entries((ctx.configMaps.get(from.configMapRef.name)?.data as Obj) ?? {}).forEach(([k, v]) => (env[prefix + k] = String(v)));
    if (from.secretRef) {
      const s = ctx.secrets.get(from.secretRef.name);
      for (const k of Object.keys({ ...((s?.data as Obj) ?? {}), ...((s?.stringData as Obj) ?? {}) })) env[prefix + k] = decode(s, k);
    }
  }
  for (const e of c.env ?? []) {
    if (!e.valueFrom) env[e.name] = composeLiteral(String(e.value ?? ''));
    else if (e.valueFrom.configMapKeyRef) env[e.name] = String((ctx.configMaps.get(e.valueFrom.configMapKeyRef.name)?.data as Obj)?.[e.valueFrom.configMapKeyRef.key] ?? '');
    else if (e.valueFrom.secretKeyRef) env[e.name] = decode(ctx.secrets.get(e.valueFrom.secretKeyRef.name), e.valueFrom.secretKeyRef.key) ?? '';
    else ctx.losses.push({ severity: 'dropped', subject: objectRef(o), field: `env.${e.name}`, message: 'field/resource references have no Compose equivalent' });
  }
  return env;
}

function healthcheck(p: Obj, c: Obj, subject: string, ctx: Ctx): Obj {
  const h: Obj = {};
  // probes may name a container port; a shell command needs its number
  const port = (x: unknown) => (typeof x === 'string' ? ((c.ports ?? []).find((cp: Obj) => cp.name === x)?.containerPort ?? x) : x);
  if (p.exec) h.test = ['CMD', ...p.exec.command];
  else if (p.httpGet) {
    h.test = ['CMD-SHELL', `wget -q -O /dev/null http://localhost:${port(p.httpGet.port)}${p.httpGet.path ?? '/'} || exit 1`];
    ctx.losses.push({ severity: 'approximated', subject, field: 'probe.httpGet', message: 'HTTP probe becomes a wget health check: the image needs wget' });
  } else if (p.tcpSocket) {
    h.test = ['CMD-SHELL', `nc -z localhost ${port(p.tcpSocket.port)} || exit 1`];
    ctx.losses.push({ severity: 'approximated', subject, field: 'probe.tcpSocket', message: 'TCP probe becomes an nc health check: the image needs nc' });
  }
  if (p.periodSeconds) h.interval = `${p.periodSeconds}s`;
  if (p.timeoutSeconds) h.timeout = `${p.timeoutSeconds}s`;
  if (p.failureThreshold) h.retries = p.failureThreshold;
  if (p.initialDelaySeconds) h.start_period = `${p.initialDelaySeconds}s`;
  return h;
}

/** Services selecting this pod publish its ports; other Service names become network aliases. */
function exposure(o: KubeObject, podLabels: Obj, c: Obj, containers: Obj[], ctx: Ctx): Obj {
  const out: Obj = {};
  const ports: Obj[] = [];
  const expose: string[] = [];
  const aliases: string[] = [];
  for (const s of ctx.services) {
    const spec = (s.spec ?? {}) as Obj;
    const sel = spec.selector ?? {};
    if (!Object.keys(sel).length || !Object.entries(sel).every(([k, v]) => podLabels[k] === v)) continue;
    if (s.metadata.name !== o.metadata.name) aliases.push(s.metadata.name);
    for (const p of spec.ports ?? []) {
      const target = typeof p.targetPort === 'string' ? containers.flatMap((x) => x.ports ?? []).find((cp: Obj) => cp.name === p.targetPort)?.containerPort : p.targetPort ?? p.port;
      const protocol = (p.protocol ?? 'TCP').toLowerCase();
      if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') ports.push({ target, published: String(spec.type === 'NodePort' && p.nodePort ? p.nodePort : p.port), protocol });
      else if (p.port === target) expose.push(`${target}${protocol === 'tcp' ? '' : `/${protocol}`}`);
      else ctx.losses.push({ severity: 'approximated', subject: objectRef(s), field: 'spec.ports', message: `port ${p.port} → ${target}: reachable on ${target} only (Compose does not remap ports between services)` });
    }
  }
  for (const p of c.ports ?? []) {
    if (p.hostPort) ports.push({ target: p.containerPort, published: String(p.hostPort), protocol: (p.protocol ?? 'TCP').toLowerCase() });
    else if (!expose.includes(String(p.containerPort))) expose.push(String(p.containerPort));
  }
  if (ports.length) out.ports = ports;
  if (expose.length) out.expose = [...new Set(expose)];
  if (aliases.length) out.networks = { default: { aliases } };
  return out;
}

function mounts(c: Obj, pod: Obj, o: KubeObject, ctx: Ctx): { volumes: Obj[]; secrets: Obj[]; tmpfs: string[] } {
  const out = { volumes: [] as Obj[], secrets: [] as Obj[], tmpfs: [] as string[] };
  const byName = new Map<string, Obj>((pod.volumes ?? []).map((v: Obj) => [v.name, v]));
  const claimTemplates = new Set<string>(((o.spec as Obj)?.volumeClaimTemplates ?? []).map((t: Obj) => t.metadata?.name));
  for (const m of c.volumeMounts ?? []) {
    const v = byName.get(m.name);
    const ro = m.readOnly ? { read_only: true } : {};
    if (claimTemplates.has(m.name) || v?.persistentVolumeClaim) {
      const claim = composeName(v?.persistentVolumeClaim?.claimName ?? m.name);
      ctx.volumes[claim] ??= {};
      out.volumes.push({ type: 'volume', source: claim, target: m.mountPath, ...ro, ...(m.subPath ? { volume: { subpath: m.subPath } } : {}) });
    } else if (v?.emptyDir) {
      if (v.emptyDir.medium === 'Memory') out.tmpfs.push(m.mountPath);
      else out.volumes.push({ type: 'volume', target: m.mountPath, ...ro });
    } else if (v?.hostPath) out.volumes.push({ type: 'bind', source: v.hostPath.path, target: m.mountPath, ...ro });
    else if (v?.configMap || v?.secret) fileMount(m, v, o, ctx, out);
    else ctx.losses.push({ severity: 'dropped', subject: objectRef(o), field: `volumes.${m.name}`, message: `${v ? Object.keys(v).filter((k) => k !== 'name').join(',') : 'unknown'} volume has no Compose equivalent` });
  }
  return out;
}

/** ConfigMap/Secret volumes: each key a file under configs/ or secrets/, mounted where the pod had it. */
function fileMount(m: Obj, v: Obj, o: KubeObject, ctx: Ctx, out: { volumes: Obj[]; secrets: Obj[] }): void {
  const isSecret = !!v.secret;
  const src = isSecret ? ctx.secrets.get(v.secret.secretName) : ctx.configMaps.get(v.configMap.name);
  const srcName = isSecret ? v.secret.secretName : v.configMap.name;
  if (!src) {
    ctx.losses.push({ severity: 'needs-action', subject: objectRef(o), field: `volumes.${v.name}`, message: `${isSecret ? 'Secret' : 'ConfigMap'} ${srcName} is not in the app` });
    return;
  }
  const content = new Map<string, Buffer>();
  for (const [k, val] of Object.entries((src.data as Obj) ?? {})) content.set(k, isSecret ? Buffer.from(String(val), 'base64') : Buffer.from(String(val)));
  for (const [k, val] of Object.entries((src.binaryData as Obj) ?? {})) content.set(k, Buffer.from(String(val), 'base64'));
  for (const [k, val] of Object.entries((src.stringData as Obj) ?? {})) content.set(k, Buffer.from(String(val)));
  const items: Array<{ key: string; path: string }> = (isSecret ? v.secret.items : v.configMap.items) ?? [...content.keys()].map((k) => ({ key: k, path: k }));
  for (const item of items) {
    if (m.subPath && m.subPath !== item.path) continue;
    const name = composeName(`${srcName}-${item.key}`);
    const rel = path.posix.join(isSecret ? 'secrets' : 'configs', composeName(srcName), item.key);
    ctx.files.set(rel, content.get(item.key) ?? Buffer.alloc(0));
    const target = m.subPath ? m.mountPath : path.posix.join(m.mountPath, item.path);
    // ConfigMap files become read-only bind mounts: Compose v1 (Debian's docker-compose) ignores
    // `configs` outside swarm, while file-backed secrets work in both
    if (isSecret) {
      ctx.topSecrets[name] = { file: `./${rel}` };
      out.secrets.push({ source: name, target });
    } else out.volumes.push({ type: 'bind', source: `./${rel}`, target, read_only: true });
  }
}
