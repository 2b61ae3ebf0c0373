import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { packDirectory } from '../../../bundle/tar-pack.js';
import { platformError } from '../../../errors.js';
import type { ClaimInfo, Consistency, VolumeSource } from '../../../model/volume.js';
import type { Engine } from './client.js';
import { createHelper, HELPER_MOUNT, removeHelper } from './helper.js';

/**
 * A named volume's contents as a POSIX tar stream, from the engine's archive API on a helper
 * container that mounts the volume read-only. Paths come out as `./`, `./dir/`, `./dir/file`
 * (relative to the volume root, the root itself first), with pax headers for long or non-ASCII
 * names, hard links as links, numeric owners and modes as on disk. The helper is removed when the
 * stream ends, fails or is destroyed by the reader.
 */
export async function volumeTar(engine: Engine, volume: string): Promise<Readable> {
  const helper = await createHelper(engine, { volume, readOnly: true });
  let raw: Readable;
  try {
    raw = (await helper.getArchive({ path: `${HELPER_MOUNT}/.` })) as Readable;
  } catch (err) {
    await removeHelper(engine, helper.id);
    throw platformError(`cannot read the volume through the engine: ${(err as Error).message}`, `volume ${volume}`, err);
  }
  // The helper is gone before the stream ends (or once it is destroyed), not some time after.
  return Readable.from(
    (async function* () {
      try {
        yield* raw;
      } finally {
        raw.destroy();
        await removeHelper(engine, helper.id);
      }
    })(),
    { objectMode: false },
  );
}

export interface NamedVolumeSourceOptions {
  /** Name in the bundle (the claim name). */
  name: string;
  /** Engine volume name. */
  volume: string;
  consistency: Consistency;
  claim?: ClaimInfo;
  sizeHint?: number;
}

/** A VolumeSource over an engine volume; every open() starts a fresh helper and stream. */
export function namedVolumeSource(engine: Engine, opts: NamedVolumeSourceOptions): VolumeSource {
  return {
    name: opts.name,
    consistency: opts.consistency,
    claim: opts.claim,
    sizeHint: opts.sizeHint,
    open: () => volumeTar(engine, opts.volume),
  };
}

export interface BindMountSourceOptions {
  name: string;
  /** Absolute host folder (as the engine reports the bind's source). */
  hostPath: string;
  consistency: Consistency;
  claim?: ClaimInfo;
  onSkip?: (path: string, reason: string) => void;
}

/**
 * A bind-mounted host folder, read from disk (the engine runs on this host) with the bundle's
 * deterministic folder walker. Single-file bind mounts are configs, not volumes: refused here.
 */
export function bindMountSource(opts: BindMountSourceOptions): VolumeSource {
  return {
    name: opts.name,
    consistency: opts.consistency,
    claim: opts.claim,
    async open() {
      const st = await stat(opts.hostPath).catch((err: Error) => {
        throw platformError(`cannot read the bind-mounted folder: ${err.message}`, opts.hostPath, err);
      });
      if (!st.isDirectory()) throw platformError('a bind-mounted file is carried as a config, not as a volume', opts.hostPath);
      return packDirectory(opts.hostPath, { onSkip: opts.onSkip });
    },
  };
}
