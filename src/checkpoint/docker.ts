import { createReadStream, createWriteStream } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { create as createTar, extract as extractTar } from 'tar';
import { CompressStream } from 'zstd-napi';
import { FatchartError, platformError } from '../errors.js';
import { HashingStream } from '../bundle/digest.js';
import type { RunContext } from '../util/context.js';
import { openTar } from './archive.js';
import { criuVersion, dirtyTracking } from './criu.js';
import { CRIU_DIR, ENGINE_CONFIG_FILE, HOST_FILE, readCheckpointFacts, type HostFacts } from './metadata.js';
import type { CheckpointFile } from './slot.js';

/**
 * Checkpoint and restore through a Docker Engine (experimental mode, CRIU on the daemon's PATH).
 *
 * The engine API creates a checkpoint (`POST /containers/{id}/checkpoints`) and restores one
 * (`POST /containers/{id}/start?checkpoint=NAME`) but has no call to download or upload the CRIU
 * image directory: it lives in the daemon's data root at `containers/<id>/checkpoints/<name>`.
 * Both directions therefore need local access to that directory (same machine, or the data root
 * mounted here at the same or a given path via `dataRoot`). Docker 20.10 refuses a custom
 * checkpoint directory on start, so restore writes into the default location of a new container.
 */
export interface DockerHost {
  docker: Docker;
  /** The daemon's data root as seen from here; default: what `GET /info` reports. */
  dataRoot?: string;
}

export interface DockerCheckpointOptions {
  /** Keep the container running after the dump (default). False stops it: move semantics. */
  leaveRunning?: boolean;
  /** Checkpoint name in the engine; default `fatchart-<time>`. */
  name?: string;
  /** Incremental dumps need memory dirty tracking; asking for one where it is missing is refused. */
  preDump?: boolean;
  /** Where the archive is written (a temp dir by default); the caller removes it via `dispose`. */
  workDir?: string;
}

/** One captured checkpoint: a zstd tar in the Podman/CRI-O export layout, ready for the bundle. */
export interface CapturedCheckpoint extends CheckpointFile {
  dispose(): Promise<void>;
}

interface EngineFacts extends HostFacts {
  dataRoot: string;
  experimental: boolean;
}

async function dial<T>(docker: Docker, options: Record<string, unknown>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const modem = docker.modem as unknown as { dial(o: object, cb: (err: unknown, data: T) => void): void };
    modem.dial(options, (err, data) => (err ? reject(err) : resolve(data)));
  });
}

const engineMessage = (err: unknown) => {
  const e = err as { json?: { message?: string }; reason?: string; message?: string };
  return (e.json?.message ?? e.message ?? String(err)).trim();
};

/** The facts a restore is compared against, and the ones a capture records. */
export async function dockerHostFacts(host: DockerHost): Promise<EngineFacts> {
  const [info, version, criu] = await Promise.all([host.docker.info(), host.docker.version(), criuVersion()]);
  const component = (name: string) =>
    (version.Components as Array<{ Name: string; Version: string }> | undefined)?.find((c) => c.Name === name)?.Version;
  const runtime = String(info.DefaultRuntime ?? 'runc');
  return {
    engine: 'docker',
    engineVersion: String(info.ServerVersion),
    runtime,
    runtimeVersion: component(runtime) ?? component('runc'),
    criuVersion: criu,
    kernelVersion: String(info.KernelVersion),
    cgroupVersion: info.CgroupVersion === '2' ? '2' : '1',
    architecture: String(info.Architecture),
    dataRoot: host.dataRoot ?? String(info.DockerRootDir),
    experimental: info.ExperimentalBuild === true,
  };
}

/**
 * The engine's error only names CRIU's log, which goes away with the container. With local
 * access the log says what really failed (e.g. a socket option the kernel will not report).
 * Errors CRIU also prints on successful dumps (rlimit) and its closing summaries are skipped.
 */
async function criuLogCause(engineError: string): Promise<string | undefined> {
  const path = /path=\s*(\S+criu-(?:dump|restore)\.log)/.exec(engineError)?.[1];
  if (!path) return undefined;
  const text = await readFile(path, 'utf8').catch(() => '');
  const errors = text
    .split('\n')
    .map((l) => /Error \([^)]*\):\s*(.*)$/.exec(l)?.[1]?.trim())
    .filter((l): l is string => !!l && !/^rlimit:|FAILED|failed with -?\d+$/.test(l));
  return errors.length ? [...new Set(errors)].slice(0, 3).join('; ') : undefined;
}

const checkpointDir = (dataRoot: string, containerId: string, name: string) =>
  join(dataRoot, 'containers', containerId, 'checkpoints', name);

/** Podman/CRI-O's config.dump fields, so checkpointctl and our parser read Docker captures alike. */
function configDump(inspect: Docker.ContainerInspectInfo, imageDigest: string | undefined, checkpointedTime: string) {
  const image = inspect.Config.Image;
  return {
    id: inspect.Id,
    name: inspect.Name.replace(/^\//, ''),
    rootfsImage: imageDigest ? `${image.replace(/[:@].*$/, '')}@${imageDigest}` : undefined,
    rootfsImageRef: inspect.Image,
    rootfsImageName: image,
    runtime: inspect.HostConfig.Runtime ?? 'runc',
    createdTime: inspect.Created,
    checkpointedTime,
  };
}

export async function captureDockerCheckpoint(
  host: DockerHost,
  containerRef: string,
  options: DockerCheckpointOptions,
  ctx: RunContext,
): Promise<CapturedCheckpoint> {
  const subject = `container ${containerRef}`;
  const { docker } = host;
  const facts = await dockerHostFacts(host);
  if (!facts.experimental) {
    throw new FatchartError('preflight', 'the Docker Engine is not in experimental mode (dockerd --experimental), needed for checkpoints', { subject });
  }
  const tracking = await dirtyTracking();
  if (options.preDump && !tracking.available) {
    throw new FatchartError('preflight', `incremental (pre-dump) checkpoints need memory dirty tracking, unavailable here: ${tracking.reason}`, { subject });
  }
  if (!tracking.available) ctx.log.debug(`memory dirty tracking unavailable (${tracking.reason}): taking a full dump`);

  const container = docker.getContainer(containerRef);
  const inspect = await container.inspect().catch((err: unknown) => {
    throw platformError(`cannot inspect: ${engineMessage(err)}`, subject, err);
  });
  if (!inspect.State.Running) throw new FatchartError('preflight', 'is not running; only a running container can be checkpointed', { subject });
  const name = options.name ?? `fatchart-${Date.now()}`;
  const imageInfo = await docker.getImage(inspect.Image).inspect().catch(() => undefined);
  const imageDigest = imageInfo?.RepoDigests?.[0]?.split('@')[1];

  const started = Date.now();
  await dial(docker, {
    path: `/containers/${inspect.Id}/checkpoints`,
    method: 'POST',
    options: { CheckpointID: name, Exit: options.leaveRunning === false },
    statusCodes: { 200: true, 201: true, 400: 'bad parameter', 404: 'no such container', 500: 'server error' },
  }).catch(async (err: unknown) => {
    const message = engineMessage(err);
    const cause = await criuLogCause(message);
    throw platformError(`checkpoint failed: ${cause ? `CRIU: ${cause} (engine said: ${message})` : message}`, subject, err);
  });
  const checkpointedTime = new Date().toISOString();
  ctx.log.info(`${inspect.Name.replace(/^\//, '')}: checkpoint taken in ${Date.now() - started} ms (${options.leaveRunning === false ? 'stopped' : 'left running'})`);

  const source = checkpointDir(facts.dataRoot, inspect.Id, name);
  const work = await mkdtemp(join(options.workDir ?? tmpdir(), 'fatchart-checkpoint-'));
  const dispose = () => rm(work, { recursive: true, force: true });
  try {
    await stat(source).catch((err: unknown) => {
      throw platformError(
        `the engine wrote the checkpoint to ${source}, which is not readable here; checkpoint capture needs local access to the Docker data root (pass its local path as dataRoot)`,
        subject,
        err,
      );
    });
    const stage = join(work, 'stage');
    await cp(source, join(stage, CRIU_DIR), { recursive: true });
    const { dataRoot: _dataRoot, experimental: _experimental, ...hostFacts } = facts;
    await writeFile(join(stage, HOST_FILE), `${JSON.stringify(hostFacts, null, 2)}\n`);
    await writeFile(join(stage, 'config.dump'), `${JSON.stringify(configDump(inspect, imageDigest, checkpointedTime), null, 2)}\n`);
    await writeFile(join(stage, ENGINE_CONFIG_FILE), `${JSON.stringify(inspect, null, 2)}\n`);

    const file = join(work, `${inspect.Name.replace(/^\//, '')}.tar.zst`);
    const hashing = new HashingStream();
    await pipeline(
      createTar({ cwd: stage, portable: true }, ['config.dump', HOST_FILE, ENGINE_CONFIG_FILE, CRIU_DIR]),
      new CompressStream(),
      hashing,
      createWriteStream(file),
    );
    await rm(stage, { recursive: true, force: true });
    const { facts: recorded } = await readCheckpointFacts(createReadStream(file), file, inspect.Name.replace(/^\//, ''));
    return { container: recorded.container, file, size: hashing.bytes, sha256: hashing.digest(), compression: 'zstd', facts: recorded, dispose };
  } catch (err) {
    await dispose();
    throw err;
  } finally {
    // The engine's copy is in the archive now; leaving it would grow the source data root.
    await dial(docker, { path: `/containers/${inspect.Id}/checkpoints/${name}`, method: 'DELETE', statusCodes: { 200: true, 204: true, 404: true } }).catch(
      (err: unknown) => ctx.log.warn(`${subject}: could not delete engine checkpoint ${name}: ${engineMessage(err)}`),
    );
  }
}

export interface DockerRestoreOptions {
  /** Name of the new container (default: the original name). */
  name?: string;
  /** Image to run (default: the one recorded); the target must already hold it. */
  image?: string;
  /** Last chance to adjust the create call, e.g. to rename volumes for the target. */
  configure?: (create: Docker.ContainerCreateOptions) => Docker.ContainerCreateOptions;
  /** How long the restored process must stay running to count as restored (default 1 s). */
  settleMs?: number;
}

export interface DockerRestoreResult {
  containerId: string;
  name: string;
}

/** The inspect document → a create call for an equal container (the engine accepts its own shape). */
function createOptionsFrom(inspect: Docker.ContainerInspectInfo, options: DockerRestoreOptions): Docker.ContainerCreateOptions {
  const { Hostname, Domainname, User, Env, Cmd, Entrypoint, WorkingDir, Labels, Tty, OpenStdin, StdinOnce, ExposedPorts, StopSignal } =
    inspect.Config as Docker.ContainerInspectInfo['Config'] & { StopSignal?: string };
  const create: Docker.ContainerCreateOptions = {
    name: options.name ?? inspect.Name.replace(/^\//, ''),
    Image: options.image ?? inspect.Config.Image,
    Hostname,
    Domainname,
    User,
    Env,
    Cmd,
    Entrypoint: Entrypoint as string[] | undefined,
    WorkingDir,
    Labels,
    Tty,
    OpenStdin,
    StdinOnce,
    ExposedPorts,
    StopSignal,
    HostConfig: inspect.HostConfig as Docker.HostConfig,
  };
  return options.configure ? options.configure(create) : create;
}

/**
 * Restores a container from a checkpoint archive made by `captureDockerCheckpoint`: creates a new
 * container from the recorded configuration, puts the CRIU images into its default checkpoint
 * location and starts it from there. Verifies the process is running; on any failure the new
 * container is removed again.
 */
export async function restoreDockerCheckpoint(
  host: DockerHost,
  archive: Readable,
  subject: string,
  options: DockerRestoreOptions,
  ctx: RunContext,
): Promise<DockerRestoreResult> {
  const { docker } = host;
  const facts = await dockerHostFacts(host);
  if (!facts.experimental) {
    throw new FatchartError('preflight', 'the target Docker Engine is not in experimental mode (dockerd --experimental), needed to restore checkpoints', { subject });
  }
  const work = await mkdtemp(join(tmpdir(), 'fatchart-restore-'));
  let created: Docker.Container | undefined;
  try {
    const { tar } = await openTar(archive);
    // Only plain files and folders; node-tar also strips absolute paths and `..`.
    await pipeline(tar, extractTar({ cwd: work, strict: true, filter: (_p, e) => 'type' in e && (e.type === 'File' || e.type === 'Directory') }));
    const inspectText = await readFile(join(work, ENGINE_CONFIG_FILE), 'utf8').catch(() => {
      throw new FatchartError('unsupported', `has no ${ENGINE_CONFIG_FILE}: not a Docker checkpoint; restore it with the engine that made it`, { subject });
    });
    const inspect = JSON.parse(inspectText) as Docker.ContainerInspectInfo;
    const create = createOptionsFrom(inspect, options);
    created = await docker.createContainer(create).catch((err: unknown) => {
      throw platformError(`cannot create container ${create.name}: ${engineMessage(err)}`, subject, err);
    });
    const name = `fatchart-restore`;
    const target = checkpointDir(facts.dataRoot, created.id, name);
    await mkdir(join(target, '..'), { recursive: true });
    await rename(join(work, CRIU_DIR), target).catch(async () => cp(join(work, CRIU_DIR), target, { recursive: true }));
    const started = Date.now();
    // Through dial: dockerode's start() also sends its options as a body, which the engine
    // refuses. Without options the modem drops the path's last character (meant for a bare
    // trailing `?`), hence the trailing `&`.
    await dial(docker, {
      path: `/containers/${created.id}/start?checkpoint=${encodeURIComponent(name)}&`,
      method: 'POST',
      statusCodes: { 204: true, 304: true, 404: 'no such container', 500: 'server error' },
    }).catch(async (err: unknown) => {
      const message = engineMessage(err);
      const cause = await criuLogCause(message);
      throw platformError(`restore from checkpoint failed: ${cause ? `CRIU: ${cause} (engine said: ${message})` : message}`, subject, err);
    });
    await new Promise((r) => setTimeout(r, options.settleMs ?? 1000));
    const state = (await created.inspect()).State;
    if (!state.Running) {
      throw platformError(`restored process is not running (status ${state.Status}, exit code ${state.ExitCode}${state.Error ? `: ${state.Error}` : ''})`, subject);
    }
    ctx.log.info(`${create.name}: restored from checkpoint in ${Date.now() - started} ms`);
    return { containerId: created.id, name: String(create.name) };
  } catch (err) {
    if (created) await created.remove({ force: true }).catch(() => {});
    throw err;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
