import type Docker from 'dockerode';
import { durationSeconds } from '../../../convert/util/quantity.js';
import { FatchartError, platformError } from '../../../errors.js';
import type { ComposeProject, ComposeService } from '../loader/index.js';
import type { Engine } from './client.js';
import type { EngineJournal } from './journal.js';
import { COMPOSE_ONEOFF, COMPOSE_PROJECT, COMPOSE_SERVICE, COMPOSE_VOLUME } from './labels.js';
import { serviceStatuses, type ServiceStatus } from './compose-cli.js';

/**
 * `--up` without a Compose CLI: the project started through the engine API, one container per
 * service in depends_on order, each dependency's condition (started, healthy, completed) awaited
 * before its dependents start. Resources carry Compose's own labels, so the CLI, inspectProject
 * and the journal's rollback all see them as the project. Fields this starter does not implement
 * are refused up front by name rather than silently dropped.
 */
type Container = Docker.ContainerCreateOptions;
type HostConfig = NonNullable<Container['HostConfig']>;

interface Build {
  config: Container;
  host: HostConfig;
  mounts: NonNullable<HostConfig['Mounts']>;
}

interface Ctx {
  project: ComposeProject;
  name: string;
  volumeName(key: string): string;
}

const ns = (d: string | undefined) => (d === undefined ? undefined : (durationSeconds(d) ?? 0) * 1e9);
const restartPolicies: Record<string, string> = { always: 'always', 'unless-stopped': 'unless-stopped', no: 'no', 'on-failure': 'on-failure' };

/** One row per supported service field: how it shapes the container. */
const fields: Record<string, (value: any, b: Build, svc: ComposeService, ctx: Ctx) => void> = {
  image: (v, b) => (b.config.Image = v),
  command: (v, b) => (b.config.Cmd = v ?? undefined),
  entrypoint: (v, b) => (b.config.Entrypoint = v ?? undefined),
  environment: (v: Record<string, string | null>, b) => (b.config.Env = Object.entries(v).filter(([, x]) => x !== null).map(([k, x]) => `${k}=${x}`)),
  labels: (v: Record<string, string>, b) => Object.assign(b.config.Labels!, v),
  user: (v, b) => (b.config.User = v),
  working_dir: (v, b) => (b.config.WorkingDir = v),
  hostname: (v, b) => (b.config.Hostname = v),
  stop_signal: (v, b) => (b.config.StopSignal = v),
  stop_grace_period: (v, b) => (b.config.StopTimeout = durationSeconds(v)),
  container_name: () => {},
  depends_on: () => {},
  expose: (v: string[], b) => v.forEach((p) => (b.config.ExposedPorts![p.includes('/') ? p : `${p}/tcp`] = {})),
  privileged: (v, b) => (b.host.Privileged = v),
  read_only: (v, b) => (b.host.ReadonlyRootfs = v),
  init: (v, b) => (b.host.Init = v),
  cap_add: (v, b) => (b.host.CapAdd = v),
  cap_drop: (v, b) => (b.host.CapDrop = v),
  network_mode: (v, b) => (b.host.NetworkMode = v),
  tmpfs: (v: string[], b) => v.forEach((t) => b.mounts.push({ Type: 'tmpfs', Target: t.split(':')[0], Source: '' })),
  restart: (v: string, b) => {
    const [policy, retries] = v.split(':');
    b.host.RestartPolicy = { Name: restartPolicies[policy] ?? 'no', ...(retries ? { MaximumRetryCount: Number(retries) } : {}) };
  },
  healthcheck: (h, b) => {
    b.config.Healthcheck = h.disable
      ? { Test: ['NONE'] }
      : { Test: h.test, Interval: ns(h.interval), Timeout: ns(h.timeout), Retries: h.retries, StartPeriod: ns(h.start_period) };
  },
  ports: (ports: ComposeService['ports'], b) => {
    for (const p of ports) {
      const key = `${p.target}/${p.protocol}`;
      b.config.ExposedPorts![key] = {};
      (b.host.PortBindings[key] ??= []).push({ HostIp: p.host_ip ?? '', HostPort: p.published ?? '' });
    }
  },
  volumes: (mounts: ComposeService['volumes'], b, _svc, ctx) => {
    for (const m of mounts) {
      const ro = !!m.read_only;
      if (m.type === 'volume') b.mounts.push({ Type: 'volume', Source: m.source ? ctx.volumeName(m.source) : '', Target: m.target, ReadOnly: ro });
      else if (m.type === 'bind') b.mounts.push({ Type: 'bind', Source: m.source!, Target: m.target, ReadOnly: ro });
      else if (m.type === 'tmpfs') b.mounts.push({ Type: 'tmpfs', Source: '', Target: m.target });
      else throw new FatchartError('unsupported', `${m.type} mounts need the Compose CLI`, { subject: m.target });
    }
  },
  // Compose (without swarm) mounts secrets and configs as read-only bind mounts of their files.
  secrets: (refs: ComposeService['secrets'], b, _svc, ctx) => fileMounts(refs, 'secrets', b, ctx),
  configs: (refs: ComposeService['configs'], b, _svc, ctx) => fileMounts(refs, 'configs', b, ctx),
  networks: (v: Record<string, unknown>) => {
    const names = Object.keys(v ?? {}).filter((n) => n !== 'default');
    if (names.length) throw new FatchartError('unsupported', `networks ${names.join(', ')} need the Compose CLI`);
  },
};

function fileMounts(refs: ComposeService['secrets'], section: 'secrets' | 'configs', b: Build, ctx: Ctx): void {
  for (const r of refs) {
    const file = ctx.project[section][r.source]?.file;
    if (!file) throw new FatchartError('unsupported', `${section}.${r.source}: only file-backed ${section} can be started without the Compose CLI`);
    const target = r.target?.startsWith('/') ? r.target : section === 'secrets' ? `/run/secrets/${r.target ?? r.source}` : `/${r.target ?? r.source}`;
    b.mounts.push({ Type: 'bind', Source: file, Target: target, ReadOnly: true });
  }
}

/** Services in an order where every dependency comes first. */
function startOrder(project: ComposeProject): string[] {
  const order: string[] = [];
  const visiting = new Set<string>();
  const visit = (s: string) => {
    if (order.includes(s)) return;
    if (visiting.has(s)) throw new FatchartError('usage', 'depends_on has a cycle', { subject: `service ${s}` });
    visiting.add(s);
    for (const dep of Object.keys(project.services[s].depends_on)) visit(dep);
    order.push(s);
  };
  Object.keys(project.services).sort().forEach(visit);
  return order;
}

export async function engineUp(engine: Engine, journal: EngineJournal, project: ComposeProject, name: string, opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<ServiceStatus[]> {
  const ctx: Ctx = {
    project,
    name,
    volumeName: (key) => {
      const v = project.volumes[key] ?? {};
      return v.name ?? (v.external ? key : `${name}_${key}`);
    },
  };
  for (const [svc, s] of Object.entries(project.services)) {
    const unknown = Object.keys(s).filter((f) => !(f in fields) && !f.startsWith('x-') && s[f] !== undefined);
    if (unknown.length) throw new FatchartError('preflight', `cannot start without the Compose CLI: ${unknown.join(', ')} not supported by the engine starter`, { subject: `service ${svc}` });
  }
  journal.project(name);
  const base = { [COMPOSE_PROJECT]: name, ...journal.labels };
  for (const key of Object.keys(project.volumes)) {
    const vol = ctx.volumeName(key);
    if (await engine.getVolume(vol).inspect().then(() => true, () => false)) continue;
    if (project.volumes[key].external) throw new FatchartError('preflight', 'external volume does not exist', { subject: `volume ${vol}` });
    await engine.createVolume({ Name: vol, Labels: { ...base, [COMPOSE_VOLUME]: key } });
  }
  const network = `${name}_default`;
  await engine.createNetwork({ Name: network, Driver: 'bridge', Labels: { ...base, 'com.docker.compose.network': 'default' } });

  for (const svc of startOrder(project)) {
    opts.signal?.throwIfAborted();
    const s = project.services[svc];
    for (const [dep, { condition }] of Object.entries(s.depends_on)) await waitFor(engine, name, dep, condition, opts);
    const b: Build = {
      config: { Labels: { ...base, [COMPOSE_SERVICE]: svc, [COMPOSE_ONEOFF]: 'False', 'com.docker.compose.container-number': '1' }, ExposedPorts: {} },
      host: { PortBindings: {} },
      mounts: [],
    };
    for (const [field, value] of Object.entries(s)) if (value !== undefined && fields[field]) fields[field](value, b, s, ctx);
    const own = !b.host.NetworkMode;
    const options: Container = {
      ...b.config,
      name: typeof s.container_name === 'string' ? s.container_name : `${name}_${svc}_1`,
      HostConfig: { ...b.host, Mounts: b.mounts, ...(own ? { NetworkMode: network } : {}) },
      ...(own ? { NetworkingConfig: { EndpointsConfig: { [network]: { Aliases: [svc] } } } } : {}),
    };
    await (await engine.createContainer(options)).start();
  }
  const statuses = await serviceStatuses(engine, name);
  for (const st of statuses) await waitFor(engine, name, st.service, 'service_healthy_if_any', opts);
  return serviceStatuses(engine, name);
}

type Condition = 'service_started' | 'service_healthy' | 'service_completed_successfully' | 'service_healthy_if_any';

/** Polls one service's container until its condition holds; fails as soon as it cannot. */
async function waitFor(engine: Engine, project: string, service: string, condition: Condition, opts: { timeoutMs?: number; signal?: AbortSignal }): Promise<void> {
  const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
  for (;;) {
    opts.signal?.throwIfAborted();
    const st = (await serviceStatuses(engine, project)).find((x) => x.service === service);
    const exited = st?.state === 'exited' || st?.state === 'dead';
    const ok =
      condition === 'service_completed_successfully' ? exited && st?.exitCode === 0
      : condition === 'service_started' ? st?.state === 'running'
      : condition === 'service_healthy' ? st?.health === 'healthy'
      : (st?.state === 'running' && st.health !== 'starting') || (exited && st?.exitCode === 0);
    if (ok) return;
    const failed = st?.health === 'unhealthy' || (exited && (condition !== 'service_completed_successfully' && condition !== 'service_healthy_if_any' || st?.exitCode !== 0));
    if (failed || Date.now() > deadline) {
      throw platformError(`service ${service} ${failed ? `failed (${st?.health === 'unhealthy' ? 'unhealthy' : `exit ${st?.exitCode}`})` : 'timed out'} waiting for ${condition.replace('_if_any', '')}`, `compose project ${project}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}
