import { chmod, mkdir, readdir, rename, rm, rmdir } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { FatchartError } from '../errors.js';

/**
 * A folder written in full beside its destination and renamed into place at the end, so the
 * destination holds either nothing (or what it held) or the complete result — never a half.
 */
export class StagingDir {
  private constructor(
    readonly path: string,
    readonly destination: string,
  ) {}

  static async create(destination: string): Promise<StagingDir> {
    const dest = resolve(destination);
    const existing = await readdir(dest).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? undefined : Promise.reject(err)));
    if (existing && existing.length > 0) {
      throw new FatchartError('usage', 'output folder exists and is not empty; choose a new --out', { subject: destination });
    }
    await mkdir(dirname(dest), { recursive: true });
    const path = join(dirname(dest), `.${basename(dest)}.fatchart-staging-${process.pid}-${randomBytes(4).toString('hex')}`);
    await mkdir(path, { mode: 0o700 });
    return new StagingDir(path, dest);
  }

  /** Moves the staging folder to the destination (replacing an empty one). */
  async commit(): Promise<void> {
    // create() checked the destination is absent or empty; rmdir refuses anything else.
    await rmdir(this.destination).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
    await rename(this.path, this.destination);
    // Private (0700) while being written; the mode a plain mkdir would have given once complete.
    await chmod(this.destination, 0o777 & ~process.umask());
  }

  async abort(): Promise<void> {
    await rm(this.path, { recursive: true, force: true });
  }
}
