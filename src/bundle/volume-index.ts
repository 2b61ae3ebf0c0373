import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { normalizeMemberPath, readTar, type TarEntry } from './tar-read.js';

/**
 * One line of a volume index (`volumes/NAME.index.jsonl`): what a restored file must look like.
 * `sha256` is present for regular files only; `linkname` for symlinks and hard links.
 */
export interface IndexRecord {
  path: string;
  type: IndexType;
  size: number;
  mode: number;
  mtime: number;
  uid: number;
  gid: number;
  linkname?: string;
  sha256?: string;
}

export type IndexType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'fifo' | 'chardev' | 'blockdev' | 'other';

const typeNames: Record<string, IndexType> = {
  File: 'file',
  OldFile: 'file',
  ContiguousFile: 'file',
  Directory: 'dir',
  SymbolicLink: 'symlink',
  Link: 'hardlink',
  FIFO: 'fifo',
  CharacterDevice: 'chardev',
  BlockDevice: 'blockdev',
};

export interface VolumeStats {
  files: number;
  dirs: number;
  symlinks: number;
  hardlinks: number;
  /** Entries a restore refuses (devices, FIFOs): packed as found, reported. */
  special: number;
  /** Sum of regular file sizes. */
  dataBytes: number;
}

export const emptyStats = (): VolumeStats => ({ files: 0, dirs: 0, symlinks: 0, hardlinks: 0, special: 0, dataBytes: 0 });

export function recordOf(entry: TarEntry): IndexRecord {
  const type = typeNames[entry.type] ?? 'other';
  const rec: IndexRecord = {
    path: normalizeMemberPath(entry.path),
    type,
    size: type === 'file' ? entry.size : 0,
    mode: entry.mode & 0o7777,
    mtime: entry.mtime,
    uid: entry.uid,
    gid: entry.gid,
  };
  if (type === 'symlink' || type === 'hardlink') rec.linkname = type === 'hardlink' ? normalizeMemberPath(entry.linkpath ?? '') : entry.linkpath ?? '';
  return rec;
}

export function countRecord(stats: VolumeStats, rec: IndexRecord): void {
  if (rec.type === 'file') {
    stats.files++;
    stats.dataBytes += rec.size;
  } else if (rec.type === 'dir') stats.dirs++;
  else if (rec.type === 'symlink') stats.symlinks++;
  else if (rec.type === 'hardlink') stats.hardlinks++;
  else stats.special++;
}

/**
 * Reads a volume tar stream and calls `onRecord` for every member with its file digest. Used on
 * the way into the bundle (the index) and by `verify --deep` (recomputing it).
 */
export async function indexTar(stream: Readable | AsyncIterable<Buffer>, onRecord: (rec: IndexRecord) => void | Promise<void>): Promise<VolumeStats> {
  const stats = emptyStats();
  for await (const entry of readTar(stream)) {
    const rec = recordOf(entry);
    if (rec.type === 'file') {
      const hash = createHash('sha256');
      for await (const chunk of entry.body) hash.update(chunk);
      rec.sha256 = hash.digest('hex');
    }
    countRecord(stats, rec);
    await onRecord(rec);
  }
  return stats;
}

export const serializeRecord = (rec: IndexRecord): string => `${JSON.stringify(rec)}\n`;
