import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type Docker from 'dockerode';
import type { BundleReader } from '../../bundle/reader.js';
import { dockerHostFacts, planCheckpointRestore, recordFacts, restoreBundleCheckpointsOnDocker, type CheckpointFallback } from '../../checkpoint/index.js';
import { FatchartError, platformError } from '../../errors.js';
import { quietContext, type RunContext } from '../../util/context.js';
import type { RestoreReport } from '../driver.js';
import { describeEngine, findComposeCli, waitHealthy, type Engine, type EngineJournal, type ServiceStatus } from './engine/index.js';

const run = promisify(execFile);

/** Compose's own labels on a container, rewritten when the project moves (name or folder). */
const LABEL = {
  project: 'com.docker.compose.project',
  workingDir: 'com.docker.compose.project.working_dir',
  configFiles: 'com.docker.compose.project.config_files',
};

type Raw = Record<string, any>;

export interface ProjectMove {
  /** Target project name. */
  project: string;
  /** The unpacked project folder (bind mounts of the source's project folder move here). */
  dir: string;
  composeFile: string;
  /** Keys of the project's own named volumes (`<project>_<key>` on the engine). */
  volumeKeys: string[];
}

/**
 * The container a checkpoint recreates carries the source's names: its project label, its
 * `<project>_<service>_<n>` name, its `<project>_<key>` volumes, bind mounts below the source's
 * project folder. For the target project those all point at the target's names, so Compose
 * adopts the restored container as its own and the container sees the restored volumes.
 */
export function moveContainer(create: Docker.ContainerCreateOptions, move: ProjectMove): Docker.ContainerCreateOptions {
  const labels = { ...(create.Labels ?? {}) };
  const from = labels[LABEL.project];
  const fromDir = labels[LABEL.workingDir];
  if (!from) return create;
  const volume = (name: string) => (move.volumeKeys.some((k) => name === `${from}_${k}`) ? `${move.project}_${name.slice(from.length + 1)}` : name);
  const host = (p: string) => (fromDir && (p === fromDir || p.startsWith(`${fromDir}/`)) ? path.join(move.dir, p.slice(fromDir.length)) : p);
  const source = (s: string) => (s.startsWith('/') ? host(s) : volume(s));
  labels[LABEL.project] = move.project;
  if (fromDir) labels[LABEL.workingDir] = move.dir;
  if (labels[LABEL.configFiles]) labels[LABEL.configFiles] = path.join(move.dir, move.composeFile);
  const hostConfig = { ...create.HostConfig };
  hostConfig.Binds = hostConfig.Binds?.map((b) => {
    const [src, ...rest] = b.split(':');
    return [source(src!), ...rest].join(':');
  });
  hostConfig.Mounts = hostConfig.Mounts?.map((m) => (m.Source ? { ...m, Source: source(m.Source) } : m));
  if (hostConfig.NetworkMode?.startsWith(`${from}_`)) hostConfig.NetworkMode = `${move.project}_${hostConfig.NetworkMode.slice(from.length + 1)}`;
  // The recorded document has no endpoint settings: without the service alias, the other
  // services could not resolve the resumed one by name.
  const service = labels['com.docker.compose.service'];
  const network = hostConfig.NetworkMode;
  const networking = service && network && !/^(none|host|bridge|default|container:.*)$/.test(network) ? { NetworkingConfig: { EndpointsConfig: { [network]: { Aliases: [service] } } } } : {};
  // Compose v1 names containers `<project>_<service>_<n>`, v2 `<project>-<service>-<n>`.
  const name = create.name?.startsWith(from) && /^[-_]/.test(create.name.slice(from.length)) ? `${move.project}${create.name.slice(from.length)}` : create.name;
  return { ...create, name, Labels: labels, HostConfig: hostConfig, ...networking };
}

/**
 * A restored container joins its network at create time, before Compose ever runs: the
 * project's networks are made first, labelled as Compose labels its own so that `up` adopts
 * them and `down` removes them — `<project>_<key>` for each declared one (unless external) and
 * `<project>_default` when a service uses neither `networks` nor `network_mode`.
 */
export async function createProjectNetworks(engine: Engine, journal: EngineJournal, document: Raw, project: string): Promise<void> {
  const declared = Object.entries((document.networks ?? {}) as Record<string, Raw | null>).map(([key, n]) => [key, n ?? {}] as const);
  const usesDefault = Object.values((document.services ?? {}) as Record<string, Raw>).some((s) => !s.networks && !s.network_mode);
  const wanted = [...declared.filter(([, n]) => !n.external), ...(usesDefault && !declared.some(([k]) => k === 'default') ? [['default', {}] as const] : [])];
  for (const [key, n] of wanted) {
    const name = n.name ?? `${project}_${key}`;
    if (await engine.getNetwork(name).inspect().then(() => true, () => false)) continue;
    const ipam = n.ipam as Raw | undefined;
    const created = await engine.createNetwork({
      Name: name,
      Driver: n.driver ?? 'bridge',
      Options: n.driver_opts,
      Internal: n.internal,
      Attachable: n.attachable,
      ...(ipam ? { IPAM: { Driver: ipam.driver, Config: (ipam.config ?? []).map((c: Raw) => ({ Subnet: c.subnet, Gateway: c.gateway, IPRange: c.ip_range })) } } : {}),
      Labels: { ...(n.labels ?? {}), 'com.docker.compose.project': project, 'com.docker.compose.network': key, ...journal.labels },
    });
    journal.network(created.id);
  }
}

/**
 * The refusal up front, before any volume is filled: the restore step pre-flights again (and
 * warns then), this one only fails fast when a checkpoint cannot be restored and must not start cold.
 */
export async function preflightCheckpoints(bundle: BundleReader, engine: Engine, fallback: CheckpointFallback, signal: AbortSignal): Promise<void> {
  if (fallback !== 'refuse' || !bundle.manifest.checkpoints.length) return;
  const records = bundle.manifest.checkpoints.map((r) => ({ container: r.container, facts: recordFacts(r) }));
  planCheckpointRestore(records, await dockerHostFacts({ docker: engine }), fallback, quietContext(signal));
}

/**
 * After the volumes: every checkpoint the bundle carries is pre-flighted against this engine and
 * restored (the process resumes), or with fallback `cold` left to the cold start. Restored
 * containers are journalled so a later failure removes them.
 */
export async function restoreCheckpoints(
  bundle: BundleReader,
  engine: Engine,
  journal: EngineJournal,
  move: ProjectMove,
  fallback: CheckpointFallback,
  document: Raw,
  ctx: RunContext,
): Promise<NonNullable<RestoreReport['checkpoints']>> {
  await createProjectNetworks(engine, journal, document, move.project);
  const result = await restoreBundleCheckpointsOnDocker(bundle, { docker: engine }, { fallback, perContainer: () => ({ configure: (c) => moveContainer(c, move) }) }, ctx);
  for (const r of result.restored) journal.container(r.containerId);
  for (const r of result.restored) ctx.log.info(`checkpoint: ${r.name} resumed from its checkpoint`);
  return { restored: result.restored.map((r) => r.name), cold: result.cold.map((c) => ({ container: c.container, reason: c.reason ?? 'not restorable here' })) };
}

/**
 * `--up` around restored containers: Compose starts the other services and must not recreate a
 * restored one (its config hash is the source's and may differ from the unpacked file's), which
 * `--no-recreate` guarantees. Needs the Compose CLI: the engine-API starter does not adopt.
 */
export async function composeUpAround(engine: Engine, journal: EngineJournal, dir: string, move: ProjectMove, signal: AbortSignal): Promise<ServiceStatus[]> {
  const cli = await findComposeCli();
  if (!cli) throw new FatchartError('unsupported', '--up with restored checkpoints needs the Compose CLI (docker-compose or docker compose)', { subject: `compose project ${move.project}` });
  journal.project(move.project);
  try {
    await run(cli[0]!, [...cli.slice(1), '-p', move.project, '-f', move.composeFile, 'up', '-d', '--no-recreate'], {
      cwd: dir,
      env: { ...process.env, DOCKER_HOST: describeEngine(engine) },
      signal,
      maxBuffer: 16 << 20,
    });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw platformError(`docker compose up failed: ${(e.stderr ?? e.message).trim().split('\n').filter(Boolean).slice(-3).join(' | ')}`, `compose project ${move.project}`, err);
  }
  return waitHealthy(engine, move.project, { signal });
}
