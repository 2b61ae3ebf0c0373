import { createHash } from 'node:crypto';
import { chmod, chown, lchown, link, lutimes, mkdir, open, symlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { FatchartError } from '../errors.js';
import { readTar, type TarEntry } from './tar-read.js';
import { countRecord, emptyStats, recordOf, type IndexRecord, type VolumeStats } from './volume-index.js';

export interface ExtractOptions {
  /** Keep setuid and setgid bits (stripped by default: an archive is not trusted with them). */
  preservePerms?: boolean;
  /** Restore numeric owners; default: when running as root, like GNU tar. */
  sameOwner?: boolean;
  /** Names the volume in errors (`bundle.fatchart:volumes/db.tar.zst`). */
  subject: string;
}

const ZEROS = Buffer.alloc(1 << 20);
const isZero = (chunk: Buffer) => chunk.length <= ZEROS.length && chunk.equals(ZEROS.subarray(0, chunk.length));
// setuid and setgid; the sticky bit (shared upload folders) is harmless and kept.
const SPECIAL_BITS = 0o6000;
// Linux limits (NAME_MAX, PATH_MAX less the staging prefix): longer names cannot be restored anywhere.
const NAME_MAX = 255;
const PATH_MAX = 3840;

/**
 * Extracts a volume tar into `dir` (which must exist and be empty: a staging folder), checking
 * every member against the volume index as it goes: same order, path, type, size, mode, mtime,
 * owner, link target and file digest. Refuses anything that could write outside `dir`:
 * absolute or `..` paths, writing through a symlink, hard links to anything but a file
 * extracted before, device and FIFO nodes. Zero-filled regions become holes, so sparse files
 * stay sparse. Folder modes and mtimes are applied last, deepest first.
 */
export async function extractVolume(
  tar: Readable | AsyncIterable<Buffer>,
  index: AsyncIterable<IndexRecord>,
  dir: string,
  options: ExtractOptions,
): Promise<VolumeStats> {
  const sameOwner = options.sameOwner ?? process.getuid?.() === 0;
  const stats = emptyStats();
  const seen = new Map<string, IndexRecord['type']>();
  const dirs: IndexRecord[] = [];
  const expected = index[Symbol.asyncIterator]();
  const fail = (code: 'unsafe' | 'verification', path: string, message: string) =>
    new FatchartError(code, message, { subject: `${options.subject}: ${path}` });

  try {
    for await (const entry of readTar(tar)) {
      const rec = recordOf(entry);
      checkSafe(rec, seen, fail);
      const want = (await expected.next()).value as IndexRecord | undefined;
      if (!want) throw fail('verification', rec.path, 'member is not in the volume index');
      compareMeta(rec, want, fail);
      if (!options.preservePerms) rec.mode &= ~SPECIAL_BITS;
      const target = rec.path === '.' ? dir : join(dir, rec.path);
      switch (rec.type) {
        case 'dir':
          await mkdir(target, { recursive: true, mode: 0o700 });
          dirs.push(rec);
          break;
        case 'file': {
          await ensureParent(dir, rec.path, seen, fail);
          const digest = await writeFile(target, entry, rec.size);
          if (digest !== want.sha256) throw fail('verification', rec.path, 'file digest does not match the volume index');
          await applyMeta(target, rec, sameOwner, false);
          break;
        }
        case 'symlink':
          await ensureParent(dir, rec.path, seen, fail);
          await symlink(rec.linkname ?? '', target);
          await applyMeta(target, rec, sameOwner, true);
          break;
        case 'hardlink':
          await ensureParent(dir, rec.path, seen, fail);
          await link(join(dir, rec.linkname!), target);
          break;
        default:
          throw fail('unsafe', rec.path, `a ${rec.type} node cannot be restored from an archive`);
      }
      seen.set(rec.path, rec.type);
      countRecord(stats, rec);
    }
    if (!(await expected.next()).done) throw new FatchartError('verification', 'volume index lists members the data does not hold (truncated volume?)', { subject: options.subject });
  } catch (err) {
    if (err instanceof FatchartError) throw err;
    // The tar reader's own errors (bad header, truncation) mean corrupt data, not a fatchart bug;
    // a system error (ENOSPC, EACCES) is the target's.
    const system = typeof (err as NodeJS.ErrnoException).code === 'string';
    throw new FatchartError(system ? 'platform' : 'verification', `${system ? 'cannot write the volume' : 'volume data is corrupt'}: ${(err as Error).message}`, { subject: options.subject, cause: err });
  } finally {
    await expected.return?.(undefined);
  }
  // Deepest first, so setting a parent's mtime is not undone by touching its children.
  for (const rec of dirs.sort((a, b) => depth(b.path) - depth(a.path))) {
    await applyMeta(rec.path === '.' ? dir : join(dir, rec.path), rec, sameOwner, false);
  }
  return stats;
}

type Fail = (code: 'unsafe' | 'verification', path: string, message: string) => FatchartError;

function checkSafe(rec: IndexRecord, seen: Map<string, IndexRecord['type']>, fail: Fail): void {
  const p = rec.path;
  if (p.includes('\0')) throw fail('unsafe', JSON.stringify(p), 'member name contains a NUL byte');
  if (p.startsWith('/')) throw fail('unsafe', p, 'absolute member path');
  // Refused here, not as a raw ENAMETOOLONG half-way through writing the staging folder.
  if (Buffer.byteLength(p) > PATH_MAX || p.split('/').some((s) => Buffer.byteLength(s) > NAME_MAX)) {
    throw fail('unsafe', `${p.slice(0, 64)}…`, `member name exceeds file system limits (${NAME_MAX} bytes a name, ${PATH_MAX} a path)`);
  }
  if (p.split('/').some((s) => s === '..')) throw fail('unsafe', p, 'member path climbs out of the volume with ..');
  if (seen.has(p) && !(p === '.' && rec.type === 'dir')) throw fail('unsafe', p, 'duplicate member (a second write to the same path)');
  if (rec.type === 'hardlink') {
    const t = rec.linkname ?? '';
    if (t.startsWith('/') || t.split('/').includes('..')) throw fail('unsafe', p, `hard link to "${t}" outside the volume`);
    if (seen.get(t) !== 'file') throw fail('unsafe', p, `hard link to "${t}", which is not a file extracted before it`);
  }
}

/** No member may be written through a symlink the archive itself planted. */
async function ensureParent(dir: string, path: string, seen: Map<string, IndexRecord['type']>, fail: Fail): Promise<void> {
  const parts = path.split('/');
  for (let i = 1; i < parts.length; i++) {
    const prefix = parts.slice(0, i).join('/');
    const type = seen.get(prefix);
    if (type && type !== 'dir') throw fail('unsafe', path, `would be written through "${prefix}", which is a ${type}`);
  }
  if (parts.length > 1) await mkdir(join(dir, ...parts.slice(0, -1)), { recursive: true, mode: 0o755 });
}

function compareMeta(got: IndexRecord, want: IndexRecord, fail: Fail): void {
  for (const key of ['path', 'type', 'size', 'mode', 'mtime', 'uid', 'gid', 'linkname'] as const) {
    if ((got[key] ?? '') !== (want[key] ?? '')) {
      throw fail('verification', got.path, `${key} is ${JSON.stringify(got[key])} in the data but ${JSON.stringify(want[key])} in the volume index`);
    }
  }
}

async function writeFile(target: string, entry: TarEntry, size: number): Promise<string> {
  const hash = createHash('sha256');
  // 'wx': never follow or replace anything already at the path.
  const handle = await open(target, 'wx', 0o600);
  try {
    let pos = 0;
    for await (const chunk of entry.body) {
      hash.update(chunk);
      if (!isZero(chunk)) {
        let written = 0;
        while (written < chunk.length) written += (await handle.write(chunk, written, chunk.length - written, pos + written)).bytesWritten;
      }
      pos += chunk.length;
    }
    if (pos !== size) throw new Error(`short file: ${pos} of ${size} bytes`);
    await handle.truncate(size);
  } finally {
    await handle.close();
  }
  return hash.digest('hex');
}

async function applyMeta(target: string, rec: IndexRecord, sameOwner: boolean, isLink: boolean): Promise<void> {
  if (isLink) {
    if (sameOwner) await lchown(target, rec.uid, rec.gid);
    await lutimes(target, rec.mtime, rec.mtime);
    return;
  }
  if (sameOwner) await chown(target, rec.uid, rec.gid);
  await chmod(target, rec.mode);
  await utimes(target, rec.mtime, rec.mtime);
}

const depth = (p: string) => (p === '.' ? 0 : p.split('/').length);
