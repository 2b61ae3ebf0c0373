import { Readable } from 'node:stream';
import { platformError } from '../../../errors.js';
import type { Engine } from './client.js';
import { HELPER_LABEL } from './labels.js';

/**
 * Helper containers exist only to give the engine's archive API a mount of a volume: they are
 * created, never started, so they need no shell, no tar and no network. Their image is an empty
 * one imported from a tar of two zero blocks — nothing pulled, nothing to trust.
 */
export const HELPER_IMAGE = 'fatchart/volume-helper:empty';
/** Where a helper mounts the volume. */
export const HELPER_MOUNT = '/fatchart-volume';

const EMPTY_TAR = Buffer.alloc(1024);

export async function ensureHelperImage(engine: Engine): Promise<string> {
  try {
    await engine.getImage(HELPER_IMAGE).inspect();
    return HELPER_IMAGE;
  } catch {
    // Not there yet: import it below.
  }
  const [repo, tag] = HELPER_IMAGE.split(':');
  const progress = await engine.importImage(Readable.from([EMPTY_TAR]), { repo, tag });
  await new Promise<void>((resolve, reject) =>
    engine.modem.followProgress(progress, (err: Error | null) => (err ? reject(err) : resolve())),
  );
  return HELPER_IMAGE;
}

export interface HelperOptions {
  volume: string;
  readOnly: boolean;
  /** Extra labels (the journal's run id). */
  labels?: Record<string, string>;
}

/** Creates (never starts) a helper container mounting `volume` at HELPER_MOUNT. */
export async function createHelper(engine: Engine, opts: HelperOptions) {
  const image = await ensureHelperImage(engine);
  try {
    return await engine.createContainer({
      Image: image,
      // Never run; the engine only insists that a container has a command.
      Cmd: ['/fatchart-helper-is-never-started'],
      Labels: { [HELPER_LABEL]: opts.volume, ...opts.labels },
      NetworkDisabled: true,
      HostConfig: {
        NetworkMode: 'none',
        Mounts: [{ Type: 'volume', Source: opts.volume, Target: HELPER_MOUNT, ReadOnly: opts.readOnly }],
      },
    });
  } catch (err) {
    throw platformError(`cannot create a helper container for the volume: ${(err as Error).message}`, `volume ${opts.volume}`, err);
  }
}

/** Removes a helper; a helper that is already gone is fine. */
export async function removeHelper(engine: Engine, id: string): Promise<void> {
  try {
    await engine.getContainer(id).remove({ force: true, v: false });
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode !== 404) throw err;
  }
}
