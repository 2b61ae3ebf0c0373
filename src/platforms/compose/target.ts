import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { BundleReader } from '../../bundle/reader.js';
import { extractVolume } from '../../bundle/volume-extract.js';
import { canonicalJson } from '../../convert/annotations.js';
import { FatchartError } from '../../errors.js';
import type { RunContext } from '../../util/context.js';
import type { RestoreReport, RestoreRequest } from '../driver.js';
import { composeUp } from './engine/compose-cli.js';
import { engineClient, engineVersion } from './engine/client.js';
import { EngineJournal } from './engine/journal.js';
import { projectExists } from './engine/project.js';
import { createVolume, fillVolume } from './engine/restore.js';
import { verifyVolume } from './engine/verify.js';
import { normalizeProjectName } from './loader/index.js';
import { isProjectOriginal } from './project-original.js';
import { COMPOSE_FILE, planFromModel, planFromOriginal, type ComposePlan } from './plan.js';
import { composeUpAround, preflightCheckpoints, restoreCheckpoints, type ProjectMove } from './checkpoints.js';

/**
 * `unpack --target compose --out DIR [-p PROJECT] [--up]`: a runnable Compose project in DIR, its
 * named volumes created and filled on the engine (DOCKER_HOST) with every file's digest re-read
 * and checked, and with --up the project started and healthy. Transactional: DIR appears only
 * complete (written in a sibling staging folder, then renamed), and on any failure everything
 * this unpack created on the engine is removed and DIR is left absent.
 */
export async function restoreCompose(bundle: BundleReader, request: RestoreRequest, ctx: RunContext): Promise<RestoreReport> {
  const timings: Record<string, number> = {};
  // Per-phase durations: the CLI adds them up to the total.
  let last = performance.now();
  const mark = (phase: string) => {
    const now = performance.now();
    timings[phase] = now - last;
    last = now;
  };
  if (!request.out) throw new FatchartError('usage', 'unpack --target compose needs --out DIR');
  const out = path.resolve(request.out);
  if (await stat(out).then(() => true, () => false)) throw new FatchartError('preflight', 'already exists; unpack writes a new folder', { subject: out });

  const objects = request.objects ?? (await bundle.objects());
  const original = (await bundle.originals()).find(isProjectOriginal);
  const rewritten = canonicalJson(objects) !== canonicalJson(await bundle.objects());
  const claims = new Set(request.skipData ? [] : bundle.manifest.volumes.map((v) => v.name).filter((v) => !request.onlyVolume || v === request.onlyVolume));
  const plan: ComposePlan = original && !rewritten ? planFromOriginal(original, objects, claims) : planFromModel(objects, claims);
  for (const w of plan.warnings) ctx.log.warn(w);
  if (original && rewritten) ctx.log.info('rewrites changed the blueprints: the compose project is generated from them instead of the recorded one');
  const project = normalizeProjectName(request.project ?? original?.metadata.name ?? bundle.manifest.app.name);
  const report: RestoreReport = { destination: `${out} (compose project ${project})`, objects: objects.length, volumes: 0, files: 0, bytes: 0, digestsVerified: true, timings };
  if (request.planOnly || request.dryRun) return report;

  // Checkpoints resume processes on the restored volumes: without the data, everything starts cold.
  const checkpoints = request.skipData || request.onlyVolume ? [] : bundle.manifest.checkpoints;
  if (checkpoints.length !== bundle.manifest.checkpoints.length) {
    report.checkpoints = { restored: [], cold: bundle.manifest.checkpoints.map((c) => ({ container: c.container, reason: 'volume data not restored (--skip-data/--only-volume)' })) };
  }
  const staging = `${out}.partial-${randomBytes(4).toString('hex')}`;
  const needsEngine = plan.volumes.length > 0 || !!request.up || checkpoints.length > 0;
  const engine = needsEngine ? engineClient() : undefined;
  const journal = engine ? new EngineJournal(engine) : undefined;
  let renamed = false;
  try {
    if (engine) {
      ctx.log.info(`${await engineVersion(engine)}: restoring compose project ${project}`);
      if (await projectExists(engine, project)) throw new FatchartError('preflight', 'the engine already has containers, volumes or networks of this project; pick another -p', { subject: `compose project ${project}` });
      if (checkpoints.length) await preflightCheckpoints(bundle, engine, request.checkpointFallback ?? 'refuse', ctx.signal);
    }
    await mkdir(staging, { recursive: true });
    for (const [rel, content] of plan.files) {
      await mkdir(path.dirname(path.join(staging, rel)), { recursive: true });
      await writeFile(path.join(staging, rel), content, { mode: rel.startsWith('secrets/') ? 0o600 : 0o644 });
    }
    mark('files');

    for (const f of plan.folders) {
      ctx.signal.throwIfAborted();
      const dir = path.join(staging, f.rel);
      await mkdir(dir, { recursive: true });
      const stats = await extractVolume(bundle.volumeTar(f.claim), bundle.volumeIndex(f.claim), dir, { preservePerms: request.preservePerms, subject: `${bundle.path}:volume ${f.claim}` });
      count(report, stats.files, stats.dataBytes);
      ctx.log.info(`bind-mount data ${f.claim} → ${f.rel}: ${stats.files} files verified`);
    }
    mark('folders');

    for (const v of plan.volumes) {
      ctx.signal.throwIfAborted();
      const top = (plan.document.volumes as Record<string, { name?: string; external?: boolean }>)[v.key] ?? {};
      const name = top.name ?? (top.external ? v.key : `${project}_${v.key}`);
      await createVolume(engine!, journal!, { name, ...(top.external ? {} : { project, composeName: v.key }) });
      await fillVolume(engine!, name, bundle.volumeTar(v.claim), { labels: journal!.labels, preservePerms: request.preservePerms });
      const verified = await verifyVolume(engine!, name, bundle.volumeIndex(v.claim), { preservePerms: request.preservePerms });
      count(report, verified.files, verified.bytes);
      ctx.log.info(`volume ${name}: ${verified.files} files, ${verified.bytes} bytes, digests verified`);
    }
    mark('volumes');

    await rename(staging, out);
    renamed = true;
    // After the volumes (the resumed processes find their data) and before up (Compose must not
    // create the containers that resume); after the rename, since bind mounts point into `out`.
    const move: ProjectMove = { project, dir: out, composeFile: COMPOSE_FILE, volumeKeys: plan.volumes.map((v) => v.key) };
    if (checkpoints.length) {
      report.checkpoints = await restoreCheckpoints(bundle, engine!, journal!, move, request.checkpointFallback ?? 'refuse', plan.document, ctx);
      if (!request.up && report.checkpoints.restored.length) ctx.log.info(`start the other services with: docker compose -p ${project} up -d --no-recreate (keeps the resumed containers)`);
      mark('checkpoints');
    }
    if (request.up && report.checkpoints?.restored.length) {
      const services = await composeUpAround(engine!, journal!, out, move, ctx.signal);
      ctx.log.info(`up: ${services.map((s) => `${s.service} ${s.health === 'none' ? s.state : s.health}`).join(', ')}`);
      mark('up');
    } else if (request.up) {
      const services = await composeUp(engine!, journal!, out, project, { files: [COMPOSE_FILE], signal: ctx.signal });
      ctx.log.info(`up: ${services.map((s) => `${s.service} ${s.health === 'none' ? s.state : s.health}`).join(', ')}`);
      mark('up');
    }
    journal?.commit();
    return report;
  } catch (err) {
    const failures = (await journal?.rollback()) ?? [];
    for (const f of failures) ctx.log.warn(`rollback: ${f}`);
    await rm(renamed ? out : staging, { recursive: true, force: true });
    throw err;
  }
}

function count(report: RestoreReport, files: number, bytes: number): void {
  report.volumes++;
  report.files += files;
  report.bytes += bytes;
}
