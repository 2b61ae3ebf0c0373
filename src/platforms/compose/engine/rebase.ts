import { Readable } from 'node:stream';
import { encodeHeader, padding, ZERO_BLOCK, type TarEntryType } from '../../../bundle/tar-header.js';
import { normalizeMemberPath, readTar } from '../../../bundle/tar-read.js';
import { unsafeError } from '../../../errors.js';

const kinds: Record<string, TarEntryType> = {
  File: 'File',
  OldFile: 'File',
  ContiguousFile: 'File',
  Directory: 'Directory',
  SymbolicLink: 'SymbolicLink',
  Link: 'Link',
};

/**
 * Re-roots a volume tar (`./`, `./a`, …) under `prefix/` (`prefix/`, `prefix/a`, …).
 *
 * Why: the engine's archive extraction skips the `.` entry of an archive entirely, so the volume
 * root's own mode, owner and mtime would be lost (a database volume whose root must be 0700 and
 * owned by the database user would then refuse to start). Extracting at the container's `/` with
 * every path under the mount point's name makes the root an ordinary directory entry.
 * Devices, FIFOs and paths that leave the volume are refused: a restore creates only files,
 * folders and links inside it.
 */
export function rebaseTar(tar: Readable, prefix: string, options: RebaseOptions = {}): Readable {
  return Readable.from(rebase(tar, prefix.replace(/^\/+|\/+$/g, ''), options), { objectMode: false });
}

export interface RebaseOptions {
  /** Keep setuid, setgid and sticky bits (stripped by default, as the bundle's own extractor does). */
  preservePerms?: boolean;
}

const SPECIAL_BITS = 0o7000;

async function* rebase(tar: Readable, prefix: string, options: RebaseOptions): AsyncGenerator<Buffer> {
  const under = (p: string) => {
    const n = normalizeMemberPath(p);
    if (n.startsWith('/') || n.split('/').includes('..')) throw unsafeError('refusing a path outside the volume', p);
    return n === '.' ? prefix : `${prefix}/${n}`;
  };
  for await (const entry of readTar(tar)) {
    const type = kinds[entry.type];
    if (!type) throw unsafeError(`refusing to restore a ${entry.type} entry`, entry.path);
    const path = under(entry.path) + (type === 'Directory' ? '/' : '');
    const linkpath = type === 'Link' ? under(entry.linkpath ?? '') : entry.linkpath;
    const mode = options.preservePerms ? entry.mode : entry.mode & ~SPECIAL_BITS;
    yield encodeHeader({ path, type, size: entry.size, mode, mtime: entry.mtime, uid: entry.uid, gid: entry.gid, linkpath });
    if (type !== 'File') continue;
    for await (const chunk of entry.body) yield chunk;
    const pad = padding(entry.size);
    if (pad) yield ZERO_BLOCK.subarray(0, pad);
  }
  yield ZERO_BLOCK;
  yield ZERO_BLOCK;
}
