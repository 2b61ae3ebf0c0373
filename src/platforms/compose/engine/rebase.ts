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
 * Devices and FIFOs are refused: a restore creates only files, folders and links.
 */
export function rebaseTar(tar: Readable, prefix: string): Readable {
  return Readable.from(rebase(tar, prefix.replace(/^\/+|\/+$/g, '')), { objectMode: false });
}

async function* rebase(tar: Readable, prefix: string): AsyncGenerator<Buffer> {
  const under = (p: string) => {
    const n = normalizeMemberPath(p);
    return n === '.' ? prefix : `${prefix}/${n}`;
  };
  for await (const entry of readTar(tar)) {
    const type = kinds[entry.type];
    if (!type) throw unsafeError(`refusing to restore a ${entry.type} entry`, entry.path);
    const path = under(entry.path) + (type === 'Directory' ? '/' : '');
    const linkpath = type === 'Link' ? under(entry.linkpath ?? '') : entry.linkpath;
    yield encodeHeader({ path, type, size: entry.size, mode: entry.mode, mtime: entry.mtime, uid: entry.uid, gid: entry.gid, linkpath });
    if (type !== 'File') continue;
    for await (const chunk of entry.body) yield chunk;
    const pad = padding(entry.size);
    if (pad) yield ZERO_BLOCK.subarray(0, pad);
  }
  yield ZERO_BLOCK;
  yield ZERO_BLOCK;
}
