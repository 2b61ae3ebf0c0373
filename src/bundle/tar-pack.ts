import { lstat, open, opendir, readlink } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { BLOCK, encodeHeader, padding, ZERO_BLOCK, type TarHeaderFields } from './tar-header.js';

const CHUNK = 1 << 20;

export interface PackDirectoryOptions {
  /** Called for entries a tar cannot carry faithfully (sockets, FIFOs, devices): they are skipped. */
  onSkip?: (path: string, reason: string) => void;
}

/**
 * Streams a folder as a POSIX tar, deterministically: names sorted by code unit at every level,
 * numeric owners only, whole-second mtimes, hard links stored once and then as links. The root
 * folder itself is the entry `./` so its mode and mtime travel too. The stream ends with the
 * two zero blocks of a complete archive.
 */
export function packDirectory(root: string, options: PackDirectoryOptions = {}): Readable {
  return Readable.from(generateTar(root, options), { objectMode: false, highWaterMark: CHUNK });
}

async function* generateTar(root: string, options: PackDirectoryOptions): AsyncGenerator<Buffer> {
  const seenInodes = new Map<string, string>();
  const rootStat = await lstat(root);
  yield encodeHeader(fields('./', 'Directory', rootStat));
  yield* walk(root, '', seenInodes, options);
  yield ZERO_BLOCK;
  yield ZERO_BLOCK;
}

async function* walk(
  root: string,
  rel: string,
  seenInodes: Map<string, string>,
  options: PackDirectoryOptions,
): AsyncGenerator<Buffer> {
  const names: string[] = [];
  for await (const dirent of await opendir(join(root, rel))) names.push(dirent.name);
  names.sort();
  for (const name of names) {
    const path = rel ? `${rel}/${name}` : name;
    const abs = join(root, path);
    const st = await lstat(abs);
    if (st.isDirectory()) {
      yield encodeHeader(fields(`${path}/`, 'Directory', st));
      yield* walk(root, path, seenInodes, options);
    } else if (st.isSymbolicLink()) {
      yield encodeHeader({ ...fields(path, 'SymbolicLink', st), linkpath: await readlink(abs) });
    } else if (st.isFile()) {
      const inode = `${st.dev}:${st.ino}`;
      const first = st.nlink > 1 ? seenInodes.get(inode) : undefined;
      if (first !== undefined) {
        yield encodeHeader({ ...fields(path, 'Link', st), linkpath: first });
        continue;
      }
      if (st.nlink > 1) seenInodes.set(inode, path);
      yield encodeHeader({ ...fields(path, 'File', st), size: st.size });
      yield* fileBody(abs, st.size);
    } else {
      options.onSkip?.(path, 'not a regular file, folder or link (socket, FIFO or device)');
    }
  }
}

async function* fileBody(abs: string, size: number): AsyncGenerator<Buffer> {
  const handle = await open(abs, 'r');
  try {
    let left = size;
    while (left > 0) {
      const want = Math.min(CHUNK, left);
      const buf = Buffer.allocUnsafe(want);
      const { bytesRead } = await handle.read(buf, 0, want, size - left);
      if (bytesRead === 0) throw new Error(`${abs}: file shrank while being read`);
      left -= bytesRead;
      yield bytesRead === want ? buf : buf.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
  const pad = padding(size);
  if (pad) yield ZERO_BLOCK.subarray(0, pad);
}

function fields(path: string, type: TarHeaderFields['type'], st: Stats): TarHeaderFields {
  return { path, type, size: 0, mode: st.mode & 0o7777, mtime: Math.floor(st.mtimeMs / 1000), uid: st.uid, gid: st.gid };
}

export { BLOCK };
