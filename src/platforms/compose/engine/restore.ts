import type { Readable } from 'node:stream';
import { FatchartError, platformError } from '../../../errors.js';
import type { Engine } from './client.js';
import { createHelper, HELPER_MOUNT, removeHelper } from './helper.js';
import { rebaseTar, type RebaseOptions } from './rebase.js';
import type { EngineJournal } from './journal.js';
import { COMPOSE_PROJECT, COMPOSE_VOLUME } from './labels.js';

export interface CreateVolumeOptions {
  /** Engine volume name (`<project>_<key>` for a Compose project). */
  name: string;
  /** With project and key, Compose adopts the volume as its own instead of warning. */
  project?: string;
  composeName?: string;
  driver?: string;
  labels?: Record<string, string>;
}

/**
 * Creates an empty named volume, refusing to reuse one that exists (its data is not ours to
 * overwrite), and records it in the journal.
 */
export async function createVolume(engine: Engine, journal: EngineJournal, opts: CreateVolumeOptions): Promise<void> {
  const exists = await engine
    .getVolume(opts.name)
    .inspect()
    .then(() => true, () => false);
  if (exists) throw new FatchartError('preflight', 'the volume already exists on the target engine', { subject: `volume ${opts.name}` });
  const labels: Record<string, string> = { ...journal.labels, ...opts.labels };
  if (opts.project && opts.composeName) {
    labels[COMPOSE_PROJECT] = opts.project;
    labels[COMPOSE_VOLUME] = opts.composeName;
  }
  try {
    await engine.createVolume({ Name: opts.name, Driver: opts.driver ?? 'local', Labels: labels });
  } catch (err) {
    throw platformError(`cannot create the volume: ${(err as Error).message}`, `volume ${opts.name}`, err);
  }
  journal.volume(opts.name);
}

export interface FillOptions extends RebaseOptions {
  /** Labels for the helper container (the journal's run id). */
  labels?: Record<string, string>;
}

/**
 * Fills a volume from a tar stream (paths relative to the volume root) through the engine's
 * archive API on a helper container: modes, mtimes, links and numeric owners are kept
 * (copyUIDGID), the volume root's included; nothing in the volume is executed.
 */
export async function fillVolume(engine: Engine, volume: string, tar: Readable, options: FillOptions = {}): Promise<void> {
  const helper = await createHelper(engine, { volume, readOnly: false, labels: options.labels });
  try {
    // Extracted at / with paths under the mount point, so the volume root's metadata is kept too.
    await helper.putArchive(rebaseTar(tar, HELPER_MOUNT, options), { path: '/', copyUIDGID: '1', noOverwriteDirNonDir: '1' });
  } catch (err) {
    throw platformError(`cannot write the volume through the engine: ${(err as Error).message}`, `volume ${volume}`, err);
  } finally {
    tar.destroy();
    await removeHelper(engine, helper.id);
  }
}
