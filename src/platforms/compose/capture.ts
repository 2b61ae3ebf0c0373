import { lstat, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { composeToModel } from '../../convert/compose/to-model.js';
import { annotation } from '../../convert/annotations.js';
import { dnsName } from '../../convert/util/names.js';
import type { KubeObject } from '../../model/object.js';
import type { Consistency, VolumeSource } from '../../model/volume.js';
import type { RunContext } from '../../util/context.js';
import type { Capture, CaptureRequest } from '../driver.js';
import { loadComposeProject, type ComposeProject } from './loader/index.js';
import { engineClient, engineVersion, type Engine } from './engine/client.js';
import { inspectProject, type ProjectState } from './engine/project.js';
import { parseQuiesceMode, quiesce, type Quiesced } from './engine/quiesce.js';
import { bindMountSource, namedVolumeSource } from './engine/volume-source.js';
import { projectOriginal } from './project-original.js';
import { captureDockerCheckpoint, type CapturedCheckpoint } from '../../checkpoint/index.js';
import { FatchartError } from '../../errors.js';

/** Where one claim's data comes from: an engine volume or a host folder. */
type DataOrigin = { kind: 'volume'; claim: string; volume: string } | { kind: 'bind'; claim: string; hostPath: string };

/**
 * `pack --source compose`: the project as Compose reads it (files, .env, profiles, extends),
 * converted to the app model, plus the data of every claim the conversion made — named volumes
 * streamed from the engine, bind-mounted folders read from disk. With a reachable engine the
 * project's running containers are quiesced until release(); without one (or with the project
 * not deployed) the pack is offline: bind mounts only, named volumes absent from the engine
 * travel empty, which is reported.
 */
export async function captureCompose(request: CaptureRequest, ctx: RunContext): Promise<Capture> {
  const project = loadComposeProject({
    location: request.location,
    files: request.composeFiles,
    projectName: request.project,
    // The CLI passes [] for flags not given: that must not override .env or COMPOSE_PROFILES.
    envFiles: request.envFiles?.length ? request.envFiles : undefined,
    profiles: request.profiles?.length ? request.profiles : undefined,
    onWarning: (m) => ctx.log.warn(m),
  });
  const mode = parseQuiesceMode(request.quiesce);
  const live = await liveProject(project.name, ctx);
  const origins = dataOrigins(project, conversionClaims(project));
  const volumeSizes = await measure(origins, live);
  const { objects, losses } = composeToModel(project, { volumeSizes });

  const present = live ? new Set(live.state.volumes.filter((v) => v.kind === 'volume').map((v) => v.source)) : new Set<string>();
  for (const o of origins) {
    if (o.kind === 'volume' && !present.has(o.volume)) {
      losses.push({
        severity: 'needs-action',
        subject: `volume/${o.claim}`,
        field: `volumes.${o.claim}`,
        message: live ? `volume ${o.volume} does not exist on the engine: the claim is packed without data` : `no Docker Engine reachable: volume ${o.volume} is packed without data`,
        fix: 'start the project (docker compose up) on a reachable engine before packing',
      });
    }
  }

  // Checkpoints first: the quiesce below pauses the containers, and a paused one cannot be dumped.
  const checkpoints = request.checkpoint ? await checkpointServices(live, project, request.checkpoint, ctx) : [];
  let quiesced: Quiesced | undefined;
  try {
    // Move semantics stopped the checkpointed containers: quiesce what is still running.
    if (live && checkpoints.length && request.checkpoint?.leaveRunning === false) live.state = await inspectProject(live.engine, project.name);
    quiesced = live ? await quiesce(live.engine, live.state.containers, mode, ctx.log) : undefined;
  } catch (err) {
    for (const c of checkpoints) await c.dispose();
    throw err;
  }
  const consistency: Consistency = quiesced?.consistency ?? 'offline';
  const volumes: VolumeSource[] = [];
  for (const o of origins) {
    if (o.kind === 'bind') volumes.push(bindMountSource({ name: o.claim, hostPath: o.hostPath, consistency, claim: claimInfo(objects, o.claim), onSkip: (p, why) => ctx.log.warn(`${o.hostPath}/${p}: ${why}`) }));
    else if (live && present.has(o.volume)) volumes.push(namedVolumeSource(live.engine, { name: o.claim, volume: o.volume, consistency, claim: claimInfo(objects, o.claim), sizeHint: volumeSizes.get(o.claim) }));
  }
  if (quiesced?.containers.length) ctx.log.info(`--quiesce ${mode}: ${quiesced.containers.join(', ')} until the data is copied`);

  let released = false;
  return {
    model: {
      app: { name: request.appName ?? project.name, selector: `com.docker.compose.project=${project.name}` },
      source: { platform: 'compose', ...(live ? { version: live.version } : {}) },
      objects,
      originals: [projectOriginal(project)],
      losses,
    },
    volumes,
    checkpoints,
    imageEngine: live?.engine,
    async release() {
      if (released) return;
      released = true;
      try {
        await quiesced?.resume();
      } finally {
        for (const c of checkpoints) await c.dispose();
      }
    },
  };
}

interface LiveProject {
  engine: Engine;
  version: string;
  state: ProjectState;
}

/** The engine's view of the project, or undefined when no engine answers (an offline pack). */
async function liveProject(name: string, ctx: RunContext): Promise<LiveProject | undefined> {
  const engine = engineClient();
  let version: string;
  try {
    version = await engineVersion(engine);
  } catch (err) {
    ctx.log.warn(`${(err as Error).message}; packing offline (bind mounts only)`);
    return undefined;
  }
  const state = await inspectProject(engine, name);
  ctx.log.info(`${version}: project ${name} has ${state.containers.length} containers and ${state.volumes.filter((v) => v.kind === 'volume').length} volumes`);
  return { engine, version, state };
}

/**
 * `pack --checkpoint [SERVICE…]`: one CRIU checkpoint per running container of the named services
 * (all services when none are named). All or nothing: archives taken before a failure are deleted.
 */
async function checkpointServices(
  live: LiveProject | undefined,
  project: ComposeProject,
  request: { services: string[]; leaveRunning: boolean },
  ctx: RunContext,
): Promise<CapturedCheckpoint[]> {
  const subject = `compose project ${project.name}`;
  if (!live) throw new FatchartError('preflight', '--checkpoint needs the project running on a reachable Docker Engine', { subject });
  const unknown = request.services.filter((s) => !(s in project.services));
  if (unknown.length) throw new FatchartError('usage', `--checkpoint: no service ${unknown.join(', ')} in the project`, { subject });
  const running = live.state.containers.filter((c) => c.state === 'running');
  const services = request.services.length ? request.services : Object.keys(project.services);
  const idle = services.filter((s) => !running.some((c) => c.service === s));
  // A named service must be checkpointed; with none named, services not running just start cold.
  if (request.services.length && idle.length) throw new FatchartError('preflight', `--checkpoint: no running container for service ${idle.join(', ')}`, { subject });
  if (idle.length === services.length) throw new FatchartError('preflight', '--checkpoint: no service of the project is running', { subject });
  if (request.leaveRunning) ctx.log.info('--checkpoint leaves the containers running: what they write between the dump and the volume copy is in the data the resumed processes find (--checkpoint-stop for a consistent move)');
  for (const s of idle) ctx.log.warn(`--checkpoint: service ${s} is not running; it is packed without a checkpoint and will start cold`);
  const selected = running.filter((c) => services.includes(c.service));
  const taken: CapturedCheckpoint[] = [];
  try {
    for (const c of selected) {
      ctx.signal.throwIfAborted();
      taken.push(await captureDockerCheckpoint({ docker: live.engine }, c.id, { leaveRunning: request.leaveRunning }, ctx));
    }
  } catch (err) {
    for (const t of taken) await t.dispose();
    throw err;
  }
  return taken;
}

/** Claim names the conversion produces; a first dry conversion gives them before sizes are known. */
function conversionClaims(project: ComposeProject): KubeObject[] {
  return composeToModel(project).objects.filter((o) => o.kind === 'PersistentVolumeClaim');
}

/**
 * Each claim back to its data: a bind-mount claim names its host folder in an annotation; any
 * other claim is a named volume whose engine name follows Compose's rule (`name:` if given,
 * else `<project>_<key>`, and the key itself for an external volume).
 */
function dataOrigins(project: ComposeProject, claims: KubeObject[]): DataOrigin[] {
  const out: DataOrigin[] = [];
  for (const c of claims) {
    const claim = c.metadata.name;
    const bind = c.metadata.annotations?.[annotation.bindSource];
    if (bind !== undefined) {
      out.push({ kind: 'bind', claim, hostPath: resolve(project.workingDir, bind) });
      continue;
    }
    const key = Object.keys(project.volumes).find((k) => dnsName(k) === claim);
    if (key === undefined) continue;
    const v = project.volumes[key];
    out.push({ kind: 'volume', claim, volume: v.name ?? (v.external ? key : `${project.name}_${key}`) });
  }
  return out;
}

/** Bytes per claim, so claim sizes follow the data: the engine's own accounting, a walk for folders. */
async function measure(origins: DataOrigin[], live: LiveProject | undefined): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  const engineSizes = new Map<string, number>();
  if (live && origins.some((o) => o.kind === 'volume')) {
    const df = (await live.engine.df()) as { Volumes?: Array<{ Name: string; UsageData?: { Size?: number } }> };
    for (const v of df.Volumes ?? []) if ((v.UsageData?.Size ?? -1) >= 0) engineSizes.set(v.Name, v.UsageData!.Size!);
  }
  for (const o of origins) {
    const bytes = o.kind === 'volume' ? engineSizes.get(o.volume) : await folderBytes(o.hostPath);
    if (bytes !== undefined) sizes.set(o.claim, bytes);
  }
  return sizes;
}

async function folderBytes(dir: string): Promise<number | undefined> {
  const st = await lstat(dir).catch(() => undefined);
  if (!st?.isDirectory()) return undefined;
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) total += (await lstat(join(e.parentPath, e.name))).size;
  }
  return total;
}

function claimInfo(objects: KubeObject[], claim: string) {
  const pvc = objects.find((o) => o.kind === 'PersistentVolumeClaim' && o.metadata.name === claim) as
    | (KubeObject & { spec?: { storageClassName?: string; accessModes?: string[]; resources?: { requests?: { storage?: string } } } })
    | undefined;
  if (!pvc?.spec) return undefined;
  return { storageClassName: pvc.spec.storageClassName, accessModes: pvc.spec.accessModes, requested: pvc.spec.resources?.requests?.storage };
}
