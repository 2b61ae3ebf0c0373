import path from 'node:path';
import type { KubeObject } from '../../model/object.js';
import type { Loss } from '../../model/loss.js';
import { sortObjects } from '../../model/order.js';
import type { ComposeMount, ComposeProject, ComposeService } from '../../platforms/compose/loader/types.js';
import { ENV_FILES, type EnvFileValues } from '../../platforms/compose/loader/index.js';
import { annotation, serviceLabel } from '../annotations.js';
import { diskFiles, flatFiles, isUtf8Text, type HostFiles } from '../util/host-files.js';
import { dnsName } from '../util/names.js';
import { bytesQuantity, cpuQuantity, dockerBytes, durationSeconds } from '../util/quantity.js';
import { controllerKinds, isKomposeLabel, komposeIgnored, komposeLabels as K, komposeProbePrefix, serviceTypes } from './kompose-labels.js';
import { carriedButStale, restoreFromCarried } from './carry.js';

export interface ComposeToModelOptions {
  /** Measured bytes per named volume or bind-mount claim: claim size = bytes × headroom. */
  volumeSizes?: Map<string, number>;
  /** Multiplier on measured sizes (default 1.25). */
  headroom?: number;
  /** Claim size when nothing was measured (default 100Mi, as Kompose). */
  defaultClaimSize?: string;
  /** Image of the init containers that wait for `depends_on` services (default busybox:1.36). */
  waitImage?: string;
  /** Largest bind-mounted file or flat folder turned into a ConfigMap (default 1 MiB). */
  configMapLimit?: number;
  /** Where bind mounts, env, secret and config files are read (default: the disk). */
  files?: HostFiles;
}

export interface Conversion {
  objects: KubeObject[];
  losses: Loss[];
}

type Obj = Record<string, any>;

/** One service on its way to Kubernetes: the pieces the field handlers fill in. */
interface Build {
  name: string;
  service: string;
  svc: ComposeService;
  container: Obj;
  pod: Obj;
  podAnnotations: Record<string, string>;
  meta: { labels: Record<string, string>; annotations: Record<string, string> };
  kind: string;
  replicas?: number;
  restart: 'Always' | 'OnFailure' | 'Never';
  objects: KubeObject[];
  cmCount: number;
  loss(severity: Loss['severity'], field: string, message: string, fix?: string): void;
}

interface Ctx {
  project: ComposeProject;
  opts: Required<Omit<ComposeToModelOptions, 'volumeSizes' | 'files'>> & Pick<ComposeToModelOptions, 'volumeSizes'>;
  files: HostFiles;
  claims: Map<string, { object: KubeObject; users: Set<string> }>;
  losses: Loss[];
}

const defaults = { headroom: 1.25, defaultClaimSize: '100Mi', waitImage: 'busybox:1.36', configMapLimit: 1 << 20 };

/**
 * Compose project → Kubernetes-shaped app model. Every service field is handled by one row of
 * `handlers`; a field with no row is reported as dropped, so the loss report is complete by
 * construction. A project produced by `modelToCompose` converts back to its original objects.
 */
export function composeToModel(project: ComposeProject, options: ComposeToModelOptions = {}): Conversion {
  const carried = restoreFromCarried(project);
  if (carried) return carried;
  const stale = carriedButStale(project);
  const ctx: Ctx = {
    project,
    opts: { ...defaults, ...options },
    files: options.files ?? diskFiles,
    claims: new Map(),
    losses: stale ? [stale] : [],
  };
  const objects: KubeObject[] = [];
  const oneShots = initOnlyServices(project);
  const builds = new Map<string, Build>();
  for (const [service, svc] of Object.entries(project.services)) {
    const b = newBuild(service, svc, ctx);
    for (const [field, value] of Object.entries(svc)) {
      if (value === undefined || field.startsWith('x-') || field === ENV_FILES) continue;
      const handler = handlers[field];
      if (handler === undefined) b.loss('dropped', field, `Compose field ${field} has no Kubernetes equivalent`);
      else if (handler) handler(value, b, ctx);
    }
    envFromFiles(svc, b);
    komposeProbes(b);
    builds.set(service, b);
  }
  for (const [service, b] of builds) {
    dependencies(b, builds, oneShots, ctx);
    if (oneShots.has(service)) continue;
    objects.push(...workloadObjects(b), ...b.objects);
  }
  for (const [name, claim] of ctx.claims) {
    objects.push(claim.object);
    if (claim.users.size > 1) {
      ctx.losses.push({
        severity: 'needs-action',
        subject: `volume/${name}`,
        field: `volumes.${name}`,
        message: `shared by services ${[...claim.users].sort().join(', ')}: one claim mounted by several pods`,
        fix: 'use a ReadWriteMany storage class, or keep the pods on one node (ReadWriteOnce allows that)',
      });
    }
  }
  for (const name of project.disabledServices) {
    ctx.losses.push({ severity: 'approximated', subject: `service/${name}`, field: `services.${name}.profiles`, message: 'not converted: none of its profiles is active', fix: 'pass --profile to include it' });
  }
  for (const b of builds.values()) ctx.losses.push(...(b as unknown as { losses: Loss[] }).losses);
  return { objects: sortObjects(dedupe(objects)), losses: ctx.losses };
}

function dedupe(objects: KubeObject[]): KubeObject[] {
  const seen = new Map<string, KubeObject>();
  for (const o of objects) seen.set(`${o.kind}/${o.metadata.name}`, o);
  return [...seen.values()];
}

function newBuild(service: string, svc: ComposeService, ctx: Ctx): Build {
  const name = dnsName(service);
  const losses: Loss[] = [];
  const b: Build & { losses: Loss[] } = {
    name,
    service,
    svc,
    container: { name, image: svc.image ?? `${ctx.project.name}-${service}` },
    pod: {},
    podAnnotations: {},
    meta: { labels: { [serviceLabel]: name }, annotations: { [annotation.service]: service } },
    kind: 'Deployment',
    restart: 'Always',
    objects: [],
    cmCount: 0,
    losses,
    loss(severity, field, message, fix) {
      losses.push({ severity, subject: `service/${service}`, field: field ? `services.${service}.${field}` : `services.${service}`, message, ...(fix ? { fix } : {}) });
    },
  };
  if (name !== service) {
    b.loss('needs-action', '', `Kubernetes names cannot hold ${JSON.stringify(service)}: the Service is ${name}, and clients using the host name ${service} must use ${name}`);
  }
  const label = (k: string) => svc.labels[k];
  const controller = label(K.controllerType);
  if (controller) b.kind = controllerKinds[controller.toLowerCase()] ?? b.kind;
  if (label(K.cronSchedule)) {
    b.kind = 'CronJob';
    b.restart = 'OnFailure';
  }
  return b;
}

/** Services every dependent waits to complete: they run as init containers of the dependents. */
function initOnlyServices(project: ComposeProject): Set<string> {
  const out = new Set<string>();
  for (const svc of Object.values(project.services)) {
    for (const [dep, d] of Object.entries(svc.depends_on)) if (d.condition === 'service_completed_successfully') out.add(dep);
  }
  return out;
}

type Handler = ((value: any, b: Build, ctx: Ctx) => void) | null;

const restartPolicies: Record<string, Build['restart']> = { no: 'Never', always: 'Always', 'unless-stopped': 'Always', 'on-failure': 'OnFailure', any: 'Always', none: 'Never' };

function setRestart(policy: string, b: Build): void {
  const p = restartPolicies[policy.split(':')[0]];
  if (!p) return b.loss('dropped', 'restart', `unknown restart policy ${policy}`);
  b.restart = p;
  if (b.kind === 'CronJob') {
    if (p === 'Always') b.restart = 'OnFailure';
    return;
  }
  // a service that is not restarted runs to completion: that is a Job in Kubernetes
  if (p !== 'Always' && b.kind === 'Deployment') b.kind = 'Job';
  if (policy.includes(':')) b.loss('approximated', 'restart', `retry count of ${policy} becomes the Job's backoffLimit`);
}

const securityContext = (b: Build): Obj => (b.container.securityContext ??= {});

const handlers: Record<string, Handler> = {
  image: null,
  build: (v, b) => {
    if (!b.svc.image) b.loss('needs-action', 'build', `built from ${v.context}; the image ${b.container.image} must be built and pushed to a registry the cluster can pull from`, 'docker build and push, or use --registry-mirror');
  },
  command: (v, b) => v && (b.container.args = v.map(kubeLiteral)),
  entrypoint: (v, b) => v && (b.container.command = v.map(kubeLiteral)),
  environment: (env: Record<string, string>, b) => {
    const fromFiles = (b.svc[ENV_FILES] as EnvFileValues[] | undefined) ?? [];
    const explicit = Object.entries(env).filter(([k, v]) => !fromFiles.some((f) => f.values[k] === v && lastFileFor(fromFiles, k) === f));
    if (explicit.length) b.container.env = explicit.sort(([a], [c]) => (a < c ? -1 : a > c ? 1 : 0)).map(([name, value]) => ({ name, value: kubeLiteral(value) }));
  },
  labels: (labels: Record<string, string>, b) => {
    const plain = Object.fromEntries(Object.entries(labels).filter(([k]) => !isKomposeLabel(k)));
    if (Object.keys(plain).length) b.meta.annotations = { ...b.meta.annotations, ...plain };
    for (const k of Object.keys(labels)) if (komposeIgnored[k]) b.loss('approximated', `labels.${k}`, komposeIgnored[k]);
  },
  ports: (ports: ComposeService['ports'], b) => {
    for (const p of ports) addPort(b, p.target, p.protocol, p.published);
    for (const p of ports) if (p.host_ip && !['0.0.0.0', '::'].includes(p.host_ip)) b.loss('approximated', 'ports', `published on ${p.host_ip} only; a Kubernetes Service is reachable inside the cluster`);
  },
  expose: (expose: string[], b) => {
    for (const e of expose) {
      const [port, proto = 'tcp'] = e.split('/');
      addPort(b, Number(port), proto as 'tcp');
    }
  },
  volumes: (mounts: ComposeMount[], b, ctx) => mounts.forEach((m, i) => mount(m, i, b, ctx)),
  tmpfs: (paths: string[], b) => paths.forEach((p, i) => tmpfsMount(p.split(':')[0], `tmpfs-${i}`, b)),
  secrets: (refs: ComposeService['secrets'], b, ctx) => refs.forEach((r) => fileResource('secrets', r, b, ctx)),
  configs: (refs: ComposeService['configs'], b, ctx) => refs.forEach((r) => fileResource('configs', r, b, ctx)),
  depends_on: null, // handled once all services are built
  healthcheck: (h: NonNullable<ComposeService['healthcheck']>, b) => {
    if (h.disable || h.test?.[0] === 'NONE') return;
    const probe = probeFrom(h);
    if (probe) b.container.livenessProbe = probe;
  },
  restart: (v: string, b) => setRestart(v, b),
  deploy: (d: NonNullable<ComposeService['deploy']>, b) => {
    if (d.mode === 'global') b.kind = 'DaemonSet';
    if (d.replicas !== undefined) b.replicas = d.replicas;
    if (d.labels) Object.assign(b.meta.labels, validLabels(d.labels, b, 'deploy.labels'));
    const res = d.resources ?? {};
    setResource(b, 'limits', 'cpu', res.limits?.cpus);
    setResource(b, 'limits', 'memory', res.limits?.memory);
    setResource(b, 'requests', 'cpu', res.reservations?.cpus);
    setResource(b, 'requests', 'memory', res.reservations?.memory);
    if (res.limits?.pids) b.loss('dropped', 'deploy.resources.limits.pids', 'per-container pid limits are a node setting in Kubernetes');
    if (res.reservations?.devices) b.loss('needs-action', 'deploy.resources.reservations.devices', 'device reservations need a device plugin resource (e.g. nvidia.com/gpu)');
    if (d.restart_policy?.condition) setRestart(d.restart_policy.condition === 'none' ? 'no' : d.restart_policy.condition, b);
    if (d.placement?.constraints?.length) b.loss('needs-action', 'deploy.placement', 'placement constraints need a nodeSelector or affinity on the target', 'add one with a patch rule');
    for (const k of Object.keys(d)) if (!['mode', 'replicas', 'labels', 'resources', 'restart_policy', 'placement'].includes(k)) b.loss('dropped', `deploy.${k}`, `deploy.${k} has no Kubernetes equivalent here`);
  },
  scale: (v: number, b) => (b.replicas = Number(v)),
  mem_limit: (v, b) => setResource(b, 'limits', 'memory', v),
  mem_reservation: (v, b) => setResource(b, 'requests', 'memory', v),
  cpus: (v, b) => setResource(b, 'limits', 'cpu', v),
  user: (v: string, b) => {
    const [user, group] = String(v).split(':');
    if (/^\d+$/.test(user)) securityContext(b).runAsUser = Number(user);
    else b.loss('needs-action', 'user', `user ${user} is a name; Kubernetes needs a numeric uid`, 'set runAsUser with a patch rule');
    if (group && /^\d+$/.test(group)) securityContext(b).runAsGroup = Number(group);
  },
  working_dir: (v, b) => (b.container.workingDir = v),
  hostname: (v, b) => (b.pod.hostname = dnsName(v)),
  domainname: (v, b) => b.loss('dropped', 'domainname', `domain name ${v} is set by the cluster DNS`),
  stdin_open: (v, b) => v && (b.container.stdin = true),
  tty: (v, b) => v && (b.container.tty = true),
  privileged: (v, b) => v && (securityContext(b).privileged = true),
  read_only: (v, b) => v && (securityContext(b).readOnlyRootFilesystem = true),
  cap_add: (v: string[], b) => ((securityContext(b).capabilities ??= {}).add = v),
  cap_drop: (v: string[], b) => ((securityContext(b).capabilities ??= {}).drop = v),
  sysctls: (v, b) => {
    const entries: Array<[string, unknown]> = Array.isArray(v) ? v.map((s: string) => s.split('=') as [string, string]) : Object.entries(v);
    (b.pod.securityContext ??= {}).sysctls = entries.map(([name, value]: [string, unknown]) => ({ name, value: String(value) }));
  },
  network_mode: (v: string, b) => {
    if (v === 'host') b.pod.hostNetwork = true;
    else if (v === 'none') {
      // no network at all: a policy that selects the pod and allows nothing, in or out
      b.objects.push({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: `${b.name}-no-network`, labels: { [serviceLabel]: b.name } }, spec: { podSelector: { matchLabels: { [serviceLabel]: b.name } }, policyTypes: ['Ingress', 'Egress'] } });
      b.loss('approximated', 'network_mode', 'network_mode none becomes a deny-all NetworkPolicy: the pod still has an interface, and the policy needs a CNI that enforces it');
    }
    else if (v !== 'bridge') b.loss('approximated', 'network_mode', `network_mode ${v}: pods do not share network namespaces across workloads`, 'run the containers in one pod');
  },
  networks: (v: Record<string, unknown>, b) => {
    const names = Object.keys(v ?? {}).filter((n) => n !== 'default');
    if (names.length > 1) b.loss('approximated', 'networks', `networks ${names.join(', ')} become one flat cluster network`, 'add NetworkPolicies to separate them');
    for (const [n, cfg] of Object.entries(v ?? {})) if ((cfg as Obj | null)?.aliases) b.loss('dropped', `networks.${n}.aliases`, 'network aliases have no Kubernetes equivalent', 'add a Service per alias');
  },
  links: (v: string[], b) => {
    if (v.some((l) => l.includes(':'))) b.loss('dropped', 'links', 'link aliases are not resolvable in Kubernetes; services are reached by their name');
  },
  pid: (v, b) => (v === 'host' ? (b.pod.hostPID = true) : b.loss('dropped', 'pid', `pid ${v}`)),
  ipc: (v, b) => (v === 'host' ? (b.pod.hostIPC = true) : v !== 'private' && b.loss('dropped', 'ipc', `ipc ${v}`)),
  stop_grace_period: (v, b) => (b.pod.terminationGracePeriodSeconds = durationSeconds(v)),
  extra_hosts: (v: string[], b) => {
    const byIp = new Map<string, string[]>();
    for (const entry of v) {
      const at = entry.search(/[:=]/);
      const host = entry.slice(0, at);
      const ip = entry.slice(at + 1).replace(/^\[|\]$/g, '');
      byIp.set(ip, [...(byIp.get(ip) ?? []), host]);
    }
    b.pod.hostAliases = [...byIp].map(([ip, hostnames]) => ({ ip, hostnames }));
  },
  dns: (v: string[], b) => ((b.pod.dnsConfig ??= {}).nameservers = v),
  dns_search: (v: string[], b) => ((b.pod.dnsConfig ??= {}).searches = v),
  dns_opt: (v: string[], b) => ((b.pod.dnsConfig ??= {}).options = v.map((o) => ({ name: o.split(':')[0], ...(o.includes(':') ? { value: o.split(':')[1] } : {}) }))),
  pull_policy: (v: string, b) => {
    const p = ({ always: 'Always', never: 'Never', missing: 'IfNotPresent', if_not_present: 'IfNotPresent' } as Obj)[v];
    if (p) b.container.imagePullPolicy = p;
    else b.loss('approximated', 'pull_policy', `pull_policy ${v} is left to the cluster default`);
  },
  shm_size: (v, b) => {
    const bytes = dockerBytes(v);
    tmpfsMount('/dev/shm', 'dshm', b, bytes ? bytesQuantity(bytes) : undefined);
  },
  container_name: (v, b) => b.loss('approximated', 'container_name', `pods get generated names; ${v} is reachable as the Service ${b.name}`),
  init: (v, b) => v && b.loss('approximated', 'init', 'no init process is injected; use an image with one (tini) if the app needs reaping'),
  profiles: null,
  annotations: (v: Record<string, string>, b) => Object.assign(b.podAnnotations, v),
  platform: (v, b) => b.loss('needs-action', 'platform', `platform ${v}: add a kubernetes.io/arch nodeSelector if the cluster is mixed`),
  logging: (_v, b) => b.loss('dropped', 'logging', 'logging drivers are a cluster setting'),
  ulimits: (_v, b) => b.loss('dropped', 'ulimits', 'ulimits are a node/runtime setting in Kubernetes'),
  security_opt: (v, b) => b.loss('dropped', 'security_opt', `security options ${JSON.stringify(v)} need a seccomp/AppArmor profile on the target`),
  devices: (_v, b) => b.loss('needs-action', 'devices', 'device access needs a device plugin or a privileged pod'),
  stop_signal: (v, b) => b.loss('dropped', 'stop_signal', `stop signal ${v}: Kubernetes sends SIGTERM`),
  env_file: null,
  extends: null,
  volumes_from: (_v, b) => b.loss('dropped', 'volumes_from', 'mount the same volumes explicitly instead'),
};

/** Kubernetes expands `$(VAR)` in command, args and env values; Compose does not: escape it. */
const kubeLiteral = (s: string) => s.replace(/\$\(/g, '$$$$(');

function lastFileFor(files: EnvFileValues[], key: string): EnvFileValues | undefined {
  return [...files].reverse().find((f) => key in f.values);
}

/** One ConfigMap per env_file (Kompose's layout, named after the file) referenced by envFrom. */
function envFromFiles(svc: ComposeService, b: Build): void {
  const files = (svc[ENV_FILES] as EnvFileValues[] | undefined) ?? [];
  for (const f of files) {
    const name = dnsName(path.basename(f.path).replace(/\./g, '-'));
    b.objects.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels: { [serviceLabel]: b.name } }, data: { ...f.values } });
    (b.container.envFrom ??= []).push({ configMapRef: { name } });
  }
}

function validLabels(labels: Record<string, string>, b: Build, field: string): Record<string, string> {
  const ok = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) {
    if (ok.test(String(v)) && String(v).length <= 63) out[k] = String(v);
    else {
      b.meta.annotations[k] = String(v);
      b.loss('approximated', field, `label ${k} is not a valid Kubernetes label value; kept as an annotation`);
    }
  }
  return out;
}

function setResource(b: Build, kind: 'limits' | 'requests', res: 'cpu' | 'memory', v: string | number | undefined): void {
  if (v === undefined || v === null) return;
  const resources = (b.container.resources ??= {});
  if (res === 'cpu') (resources[kind] ??= {}).cpu = cpuQuantity(v);
  else {
    const bytes = dockerBytes(v);
    if (bytes === undefined) return b.loss('dropped', `${kind}.memory`, `unreadable memory size ${v}`);
    (resources[kind] ??= {}).memory = bytesQuantity(bytes);
  }
}

interface ServicePort {
  port: number;
  targetPort: number;
  protocol: string;
}

function addPort(b: Build, target: number, protocol: string, published?: string): void {
  const proto = protocol.toUpperCase();
  const ports: Obj[] = (b.container.ports ??= []);
  if (!ports.some((p) => p.containerPort === target && p.protocol === proto)) ports.push({ containerPort: target, protocol: proto });
  const svcPorts: ServicePort[] = ((b as Obj).servicePorts ??= []);
  const port = published && /^\d+$/.test(published) ? Number(published) : target;
  if (!svcPorts.some((p) => p.port === port && p.protocol === proto)) svcPorts.push({ port, targetPort: target, protocol: proto });
}

function serviceObject(b: Build): KubeObject | undefined {
  const ports: ServicePort[] = (b as Obj).servicePorts ?? [];
  if (['Job', 'CronJob'].includes(b.kind) && !ports.length) return undefined;
  const label = b.svc.labels[K.serviceType]?.toLowerCase();
  const type = label ? serviceTypes[label] : undefined;
  if (label && !type) b.loss('dropped', `labels.${K.serviceType}`, `unknown service type ${label}`);
  const nodePort = b.svc.labels[K.nodePort];
  const spec: Obj = { selector: { [serviceLabel]: b.name } };
  // compose resolves every service name, ported or not: a headless Service gives the same DNS name
  if (type?.headless || !ports.length) spec.clusterIP = 'None';
  if (type && !type.headless && type.type !== 'ClusterIP') spec.type = type.type;
  if (ports.length) {
    spec.ports = ports.map((p) => ({
      name: p.protocol === 'TCP' ? String(p.port) : `${p.port}-${p.protocol.toLowerCase()}`,
      port: p.port,
      targetPort: p.targetPort,
      ...(p.protocol !== 'TCP' ? { protocol: p.protocol } : {}),
      ...(nodePort && spec.type === 'NodePort' ? { nodePort: Number(nodePort) } : {}),
    }));
  }
  return { apiVersion: 'v1', kind: 'Service', metadata: { name: b.name, labels: { [serviceLabel]: b.name } }, spec };
}

function ingressObject(b: Build): KubeObject | undefined {
  const expose = b.svc.labels[K.expose];
  if (!expose) return undefined;
  const ports: ServicePort[] = (b as Obj).servicePorts ?? [];
  if (!ports.length) {
    b.loss('dropped', `labels.${K.expose}`, 'exposed service has no ports');
    return undefined;
  }
  const hosts = expose === 'true' ? [`${b.name}`] : expose.split(',').map((h) => h.trim()).filter(Boolean);
  const rules = hosts.map((h) => {
    const slash = h.indexOf('/');
    const host = slash < 0 ? h : h.slice(0, slash);
    return {
      ...(expose === 'true' ? {} : { host }),
      http: { paths: [{ path: slash < 0 ? '/' : h.slice(slash), pathType: 'Prefix', backend: { service: { name: b.name, port: { number: ports[0].port } } } }] },
    };
  });
  const spec: Obj = {};
  const cls = b.svc.labels[K.exposeIngressClass];
  if (cls) spec.ingressClassName = cls;
  spec.rules = rules;
  const tls = b.svc.labels[K.exposeTlsSecret];
  if (tls) spec.tls = [{ hosts: rules.map((r) => (r as Obj).host).filter(Boolean), secretName: tls }];
  return { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: b.name, labels: { [serviceLabel]: b.name } }, spec };
}

function probeFrom(h: NonNullable<ComposeService['healthcheck']>): Obj | undefined {
  const test = h.test ?? [];
  let command: string[] | undefined;
  if (test[0] === 'CMD') command = test.slice(1);
  else if (test[0] === 'CMD-SHELL') command = ['/bin/sh', '-c', test.slice(1).join(' ')];
  else if (test.length) command = ['/bin/sh', '-c', test.join(' ')];
  if (!command) return undefined;
  return timings({ exec: { command } }, h);
}

function timings(p: Obj, h: { interval?: string; timeout?: string; retries?: number | string; start_period?: string }): Obj {
  const period = durationSeconds(h.interval);
  const timeout = durationSeconds(h.timeout);
  const start = durationSeconds(h.start_period);
  if (h.retries !== undefined) p.failureThreshold = Number(h.retries);
  if (start) p.initialDelaySeconds = start;
  if (period) p.periodSeconds = period;
  if (timeout) p.timeoutSeconds = timeout;
  return p;
}

/** `kompose.service.healthcheck.{liveness,readiness}.*` labels. */
function komposeProbes(b: Build): void {
  const byProbe: Record<string, Record<string, string>> = {};
  for (const [k, v] of Object.entries(b.svc.labels)) {
    if (!k.startsWith(komposeProbePrefix)) continue;
    const [probe, field] = k.slice(komposeProbePrefix.length).split('.');
    (byProbe[probe] ??= {})[field] = String(v);
  }
  for (const [probe, f] of Object.entries(byProbe)) {
    if (f.disable === 'true') continue;
    let handler: Obj | undefined;
    if (f.test) handler = { exec: { command: f.test.startsWith('[') ? JSON.parse(f.test) : shellWords(f.test) } };
    else if (f.http_get_path || f.http_get_port) handler = { httpGet: { path: f.http_get_path ?? '/', port: Number(f.http_get_port) } };
    else if (f.tcp_port) handler = { tcpSocket: { port: Number(f.tcp_port) } };
    const field = probe === 'readiness' ? 'readinessProbe' : 'livenessProbe';
    if (!handler) {
      // timing-only labels refine the probe the healthcheck produced
      if (b.container[field]) timings(b.container[field], f);
      continue;
    }
    const base = probe === 'liveness' && b.svc.healthcheck ? b.svc.healthcheck : {};
    b.container[field] = timings(handler, { ...base, ...f } as Obj);
  }
}

function shellWords(s: string): string[] {
  return s.match(/"[^"]*"|'[^']*'|\S+/g)?.map((w) => w.replace(/^["']|["']$/g, '')) ?? [];
}

function addVolume(b: Build, volume: Obj, mountSpec: Obj): void {
  const volumes: Obj[] = (b.pod.volumes ??= []);
  if (!volumes.some((v) => v.name === volume.name)) volumes.push(volume);
  (b.container.volumeMounts ??= []).push(mountSpec);
}

function tmpfsMount(target: string, name: string, b: Build, sizeLimit?: string): void {
  addVolume(b, { name, emptyDir: { medium: 'Memory', ...(sizeLimit ? { sizeLimit } : {}) } }, { name, mountPath: target });
}

function claimSize(ctx: Ctx, claim: string, declared?: string): string {
  const measured = ctx.opts.volumeSizes?.get(claim);
  if (measured !== undefined) {
    const mi = Math.max(1, Math.ceil((measured * ctx.opts.headroom) / 2 ** 20));
    return bytesQuantity(Math.max(mi * 2 ** 20, dockerBytes(ctx.opts.defaultClaimSize.replace(/i$/, '')) ?? 0));
  }
  return declared ?? ctx.opts.defaultClaimSize;
}

function useClaim(ctx: Ctx, b: Build, claim: string, extra: { storageClass?: string; size?: string; annotations?: Record<string, string> } = {}): void {
  const entry = ctx.claims.get(claim);
  if (entry) {
    entry.users.add(b.service);
    return;
  }
  const spec: Obj = { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: claimSize(ctx, claim, extra.size) } } };
  if (extra.storageClass) spec.storageClassName = extra.storageClass;
  const metadata: Obj = { name: claim, labels: { [serviceLabel]: claim } };
  if (extra.annotations) metadata.annotations = extra.annotations;
  ctx.claims.set(claim, { object: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: metadata as KubeObject['metadata'], spec }, users: new Set([b.service]) });
}

/** Claim name for a bind-mounted host path: stable per path, shared by every service binding it. */
export function bindClaimName(project: Pick<ComposeProject, 'workingDir'>, hostPath: string): string {
  const rel = path.relative(project.workingDir, hostPath) || path.basename(hostPath);
  return dnsName(`bind-${rel.replace(/^(\.\.\/)+/, 'up-')}`);
}

function mount(m: ComposeMount, index: number, b: Build, ctx: Ctx): void {
  const readOnly = m.read_only ? { readOnly: true } : {};
  const typeLabel = b.svc.labels[K.volumeType];
  if (m.type === 'tmpfs') return tmpfsMount(m.target, `tmpfs-v${index}`, b, m.tmpfs?.size ? bytesQuantity(dockerBytes(m.tmpfs.size) ?? 0) : undefined);
  if (m.type === 'volume' && !m.source) {
    b.loss('approximated', `volumes[${index}]`, `anonymous volume at ${m.target} becomes an emptyDir (its data does not survive the pod)`);
    const name = `${b.name}-empty${index}`;
    return addVolume(b, { name, emptyDir: {} }, { name, mountPath: m.target, ...readOnly });
  }
  if (m.type === 'volume') {
    const top = ctx.project.volumes[m.source!] ?? {};
    const claim = dnsName(m.source!);
    if (typeLabel === 'emptyDir') return addVolume(b, { name: claim, emptyDir: {} }, { name: claim, mountPath: m.target, ...readOnly });
    if (top.external) b.loss('needs-action', `volumes[${index}]`, `external volume ${m.source} must exist as claim ${claim} on the target`);
    else useClaim(ctx, b, claim, { storageClass: b.svc.labels[K.volumeStorageClass], size: b.svc.labels[K.volumeSize] });
    if (top.driver && top.driver !== 'local') b.loss('needs-action', `volumes.${m.source}.driver`, `volume driver ${top.driver} becomes a plain claim`, 'pick a storage class with --map-storage-class');
    const sub = m.volume?.subpath ? { subPath: m.volume.subpath } : {};
    return addVolume(b, { name: claim, persistentVolumeClaim: { claimName: claim, ...readOnly } }, { name: claim, mountPath: m.target, ...readOnly, ...sub });
  }
  if (m.type === 'bind') return bindMount(m, index, b, ctx);
  b.loss('dropped', `volumes[${index}]`, `${m.type} mounts have no Kubernetes equivalent`);
}

/**
 * A bind mount of a small file or flat folder becomes a ConfigMap (what Kompose does, and right
 * for configuration); anything else becomes a claim seeded with the host data by pack/unpack.
 */
function bindMount(m: ComposeMount, index: number, b: Build, ctx: Ctx): void {
  const src = m.source!;
  const st = ctx.files.stat(src);
  const typeLabel = b.svc.labels[K.volumeType];
  const readOnly = m.read_only ? { readOnly: true } : {};
  if (typeLabel === 'hostPath') {
    const name = `${b.name}-hostpath${index}`;
    b.loss('needs-action', `volumes[${index}]`, `hostPath ${src} must exist on every node`);
    return addVolume(b, { name, hostPath: { path: src } }, { name, mountPath: m.target, ...readOnly });
  }
  if (typeLabel === 'emptyDir') {
    const name = `${b.name}-empty${index}`;
    return addVolume(b, { name, emptyDir: {} }, { name, mountPath: m.target, ...readOnly });
  }
  const entries = st?.type === 'file' ? [{ name: path.basename(src), size: st.size }] : st?.type === 'dir' ? flatFiles(ctx.files, src) : undefined;
  const small = entries && entries.length > 0 && entries.reduce((n, e) => n + e.size, 0) <= ctx.opts.configMapLimit;
  if (small && typeLabel !== 'persistentVolumeClaim') {
    const name = `${b.name}-cm${b.cmCount++}`;
    const data: Record<string, string> = {};
    const binaryData: Record<string, string> = {};
    for (const e of entries!) {
      const buf = ctx.files.read(st!.type === 'file' ? src : path.join(src, e.name));
      if (isUtf8Text(buf)) data[e.name] = buf.toString('utf8');
      else binaryData[e.name] = buf.toString('base64');
    }
    const cm: Obj = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels: { [serviceLabel]: b.name }, annotations: { [annotation.bindSource]: path.relative(ctx.project.workingDir, src) || '.' } } };
    if (Object.keys(data).length) cm.data = data;
    if (Object.keys(binaryData).length) cm.binaryData = binaryData;
    b.objects.push(cm as KubeObject);
    if (!m.read_only) b.loss('approximated', `volumes[${index}]`, `bind mount ${m.target} becomes a ConfigMap: read-only, and host edits no longer show`);
    if (st!.type === 'file') {
      const fileName = path.basename(m.target);
      return addVolume(b, { name, configMap: { name, items: [{ key: entries![0].name, path: fileName }] } }, { name, mountPath: m.target, subPath: fileName, ...readOnly });
    }
    return addVolume(b, { name, configMap: { name } }, { name, mountPath: m.target, ...readOnly });
  }
  const claim = bindClaimName(ctx.project, src);
  if (!st) b.loss('needs-action', `volumes[${index}]`, `bind source ${src} does not exist; claim ${claim} starts empty`);
  else b.loss('approximated', `volumes[${index}]`, `bind mount of ${src} becomes claim ${claim}, seeded with the host data when packed`);
  useClaim(ctx, b, claim, { annotations: { [annotation.bindSource]: path.relative(ctx.project.workingDir, src) || '.' } });
  addVolume(b, { name: claim, persistentVolumeClaim: { claimName: claim, ...readOnly } }, { name: claim, mountPath: m.target, ...readOnly });
}

/** Top-level secrets/configs → Secret/ConfigMap mounted where Compose mounts them. */
function fileResource(section: 'secrets' | 'configs', ref: { source: string; target?: string; mode?: unknown }, b: Build, ctx: Ctx): void {
  const def = ctx.project[section][ref.source];
  if (!def) return b.loss('dropped', section, `${section} ${ref.source} is not defined at the top level`);
  const name = dnsName(`${section === 'secrets' ? '' : 'config-'}${ref.source}`);
  const key = path.basename(def.file ?? ref.source);
  let content: Buffer | undefined;
  if (def.file) content = ctx.files.stat(def.file)?.type === 'file' ? ctx.files.read(def.file) : undefined;
  else if (def.environment !== undefined) content = Buffer.from(ctx.project.environment[def.environment] ?? '');
  else if (def.content !== undefined) content = Buffer.from(String(def.content));
  if (def.external) b.loss('needs-action', section, `external ${section} ${ref.source} must exist on the target as ${name}`);
  else if (!content) b.loss('needs-action', section, `${section} ${ref.source}: ${def.file} not found; ${name} is created empty`);
  if (!def.external) {
    const obj: Obj = section === 'secrets'
      ? { apiVersion: 'v1', kind: 'Secret', metadata: { name }, type: 'Opaque', data: { [key]: (content ?? Buffer.alloc(0)).toString('base64') } }
      : { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, ...(content && !isUtf8Text(content) ? { binaryData: { [key]: content.toString('base64') } } : { data: { [key]: (content ?? Buffer.alloc(0)).toString('utf8') } }) };
    b.objects.push(obj as KubeObject);
  }
  const target = ref.target ?? (section === 'secrets' ? ref.source : `/${ref.source}`);
  const mountPath = target.startsWith('/') ? target : `/run/secrets/${target}`;
  const volName = `${section === 'secrets' ? 'secret' : 'config'}-${name}`;
  const items = [{ key, path: path.basename(mountPath) }];
  const mode = ref.mode !== undefined ? { defaultMode: typeof ref.mode === 'string' ? parseInt(ref.mode, 8) : Number(ref.mode) } : {};
  const volume = section === 'secrets' ? { name: volName, secret: { secretName: name, items, ...mode } } : { name: volName, configMap: { name, items, ...mode } };
  addVolume(b, volume, { name: volName, mountPath, subPath: path.basename(mountPath), readOnly: true });
}

/**
 * `depends_on` → ordering that waits: a dependency that must complete runs as an init container
 * of each dependent; one that must be started or healthy is waited for by an init container that
 * polls its Service (a Service only routes to ready pods, so with a readiness probe this waits
 * for "healthy").
 */
function dependencies(b: Build, builds: Map<string, Build>, oneShots: Set<string>, ctx: Ctx): void {
  const deps = Object.entries(b.svc.depends_on);
  if (!deps.length) return;
  const inits: Obj[] = [];
  for (const [dep, d] of deps) {
    const other = builds.get(dep)!;
    if (d.condition === 'service_completed_successfully' && oneShots.has(dep)) {
      inits.push({ ...other.container, name: other.name });
      for (const v of other.pod.volumes ?? []) if (!(b.pod.volumes ?? []).some((x: Obj) => x.name === v.name)) (b.pod.volumes ??= []).push(v);
      b.loss('approximated', `depends_on.${dep}`, `${dep} runs as an init container of ${b.name}: once per pod start, not once per project`);
      continue;
    }
    const ports: ServicePort[] = (other as Obj).servicePorts ?? [];
    if (d.condition === 'service_healthy') {
      if (other.container.livenessProbe && !other.container.readinessProbe) other.container.readinessProbe = { ...other.container.livenessProbe };
      if (!other.container.readinessProbe) b.loss('approximated', `depends_on.${dep}`, `${dep} has no healthcheck; waiting for it to be started instead`);
    }
    if (!ports.length) {
      b.loss('approximated', `depends_on.${dep}`, `${dep} exposes no port to wait on; start order is not enforced`);
      continue;
    }
    const tcp = ports.find((p) => p.protocol === 'TCP');
    if (!tcp) continue;
    inits.push({
      name: dnsName(`wait-for-${other.name}`),
      image: ctx.opts.waitImage,
      command: ['/bin/sh', '-c', `until nc -z -w 2 ${other.name} ${tcp.port}; do echo waiting for ${other.name}; sleep 2; done`],
    });
  }
  if (inits.length) {
    b.pod.initContainers = inits;
    b.meta.annotations[annotation.dependsOn] = JSON.stringify(b.svc.depends_on);
  }
}

function workloadObjects(b: Build): KubeObject[] {
  const labels = { [serviceLabel]: b.name };
  const pod: Obj = { ...b.pod, containers: [b.container] };
  if (pod.initContainers) {
    const { initContainers, ...rest } = pod;
    Object.assign(pod, { ...rest }, { initContainers });
  }
  pod.restartPolicy = b.kind === 'Job' || b.kind === 'CronJob' ? (b.restart === 'Always' ? 'OnFailure' : b.restart) : 'Always';
  const template: Obj = { metadata: { labels: { ...labels }, ...(Object.keys(b.podAnnotations).length ? { annotations: b.podAnnotations } : {}) }, spec: pod };
  const hasClaims = (pod.volumes ?? []).some((v: Obj) => v.persistentVolumeClaim || v.configMap);
  let spec: Obj;
  switch (b.kind) {
    case 'Job':
      spec = { backoffLimit: jobBackoff(b), template };
      break;
    case 'CronJob': {
      const l = b.svc.labels;
      spec = {
        schedule: l[K.cronSchedule],
        ...(l[K.cronConcurrency] ? { concurrencyPolicy: l[K.cronConcurrency] } : {}),
        jobTemplate: { spec: { ...(l[K.cronBackoffLimit] ? { backoffLimit: Number(l[K.cronBackoffLimit]) } : {}), template } },
      };
      break;
    }
    case 'DaemonSet':
      spec = { selector: { matchLabels: labels }, template };
      break;
    case 'StatefulSet':
      spec = { replicas: b.replicas ?? 1, serviceName: b.name, selector: { matchLabels: labels }, template };
      break;
    case 'ReplicationController':
      spec = { replicas: b.replicas ?? 1, selector: labels, template };
      break;
    default:
      // claims are usually ReadWriteOnce: a rolling update would start the new pod beside the old one
      spec = { replicas: b.replicas ?? 1, selector: { matchLabels: labels }, ...(hasClaims ? { strategy: { type: 'Recreate' } } : {}), template };
  }
  const apiVersion = { Job: 'batch/v1', CronJob: 'batch/v1', ReplicationController: 'v1' }[b.kind] ?? 'apps/v1';
  const out: KubeObject[] = [{ apiVersion, kind: b.kind, metadata: { name: b.name, labels: b.meta.labels, annotations: b.meta.annotations }, spec }];
  const service = serviceObject(b);
  if (service) out.push(service);
  const ingress = ingressObject(b);
  if (ingress) out.push(ingress);
  return out;
}

function jobBackoff(b: Build): number {
  const m = /on-failure:(\d+)/.exec(String(b.svc.restart ?? ''));
  return m ? Number(m[1]) : b.restart === 'Never' ? 0 : 6;
}
