import { statfs } from 'node:fs/promises';
import { Transform, type TransformCallback } from 'node:stream';
import { FatchartError } from '../errors.js';
import type { VolumeRecord } from '../bundle/manifest.js';

/**
 * Bounds that hold whatever an archive claims. The manifest's per-volume stats are covered by
 * the trailer (and the signature), so they are what the packer declared; these limits make a
 * volume that decompresses to more than it declared, or declares more than zstd can produce,
 * stop with an "unsafe" error instead of filling a disk.
 */

/** A tar member's header overhead at most: ustar block + pax header for 4 KiB path and link names. */
const MEMBER_OVERHEAD = 512 + 512 + 9 * 1024;
/** End-of-archive blocks and the record padding some tar writers add. */
const TAR_SLACK = 1 << 20;
/**
 * zstd's ceiling: its densest block (RLE) turns 4 bytes into 128 KiB, and a GiB of zeros
 * compresses to ~33 KB (≈ 32 000:1). A volume declaring more than twice that ratio cannot be
 * honest. FATCHART_MAX_RATIO lowers it for stricter sites.
 */
export const DEFAULT_MAX_RATIO = 65_536;
/** An index line holds a path and a link name (≤ 4 KiB each) plus fixed fields. */
const INDEX_LINE_MAX = 9 * 1024 + 512;

export const maxRatio = (): number => Number(process.env.FATCHART_MAX_RATIO) || DEFAULT_MAX_RATIO;

const members = (v: VolumeRecord) => v.stats.files + v.stats.dirs + v.stats.symlinks + v.stats.hardlinks + v.stats.special;

/** The most bytes the volume's tar stream may decompress to, from its declared stats. */
export function declaredTarBound(v: VolumeRecord): number {
  return v.stats.dataBytes + (members(v) + 1) * MEMBER_OVERHEAD + TAR_SLACK;
}

/** The most bytes the volume's index may hold, from its declared member count. */
export function declaredIndexBound(v: VolumeRecord): number {
  return (members(v) + 1) * INDEX_LINE_MAX;
}

/** Refuses, before decompressing anything, a volume whose declared size zstd could not produce. */
export function checkDeclaredRatio(v: VolumeRecord, subject: string): void {
  // The least the declared members can take as tar (one header block each, no padding): if even
  // that is beyond what zstd can expand the compressed bytes to, the declaration is a lie.
  const least = v.stats.dataBytes + members(v) * 512;
  const ratio = maxRatio();
  if (least > Math.max(v.size, 1) * ratio + TAR_SLACK) {
    throw new FatchartError('unsafe', `declares ${v.stats.dataBytes} bytes of data from ${v.size} compressed bytes, beyond the ${ratio}:1 ratio cap (zstd bomb?)`, { subject });
  }
}

/**
 * Passes bytes through and fails the stream as soon as more than `limit` have passed: put after
 * a decompressor, it stops a zstd bomb at its declared size, with memory bounded by one chunk.
 */
export class ByteLimit extends Transform {
  private seen = 0;

  constructor(
    private readonly limit: number,
    private readonly subject: string,
    private readonly what: string,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.limit) {
      done(new FatchartError('unsafe', `${this.what} exceeds the ${this.limit} bytes its manifest entry allows (zstd bomb?)`, { subject: this.subject }));
      return;
    }
    done(null, chunk);
  }
}

/**
 * Fails a stream of newline-separated records as soon as one line outgrows `max` bytes: put
 * in front of readline, which would otherwise hold an endless line in memory.
 */
export class LineLengthLimit extends Transform {
  private run = 0;

  constructor(
    private readonly max: number,
    private readonly subject: string,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    const last = chunk.lastIndexOf(0x0a);
    const first = chunk.indexOf(0x0a);
    // The longest line in this chunk: the run carried in plus the head, or a line inside, or the tail.
    let longest = this.run + (first < 0 ? chunk.length : first);
    for (let i = first; i >= 0 && i < last; ) {
      const next = chunk.indexOf(0x0a, i + 1);
      longest = Math.max(longest, next - i - 1);
      i = next;
    }
    this.run = last < 0 ? this.run + chunk.length : chunk.length - last - 1;
    longest = Math.max(longest, this.run);
    if (longest > this.max) {
      done(new FatchartError('unsafe', `a line longer than ${this.max} bytes; no index record is that long`, { subject: this.subject }));
      return;
    }
    done(null, chunk);
  }
}

export const INDEX_LINE_LIMIT = INDEX_LINE_MAX;

/** Free bytes for an unprivileged writer on the file system holding `dir`. */
export async function freeBytes(dir: string): Promise<number> {
  const s = await statfs(dir);
  return Number(s.bavail) * Number(s.bsize);
}

/** Refuses up front when `dir` cannot take `needed` bytes, instead of failing half-way with ENOSPC. */
export async function ensureFreeSpace(dir: string, needed: number, what: string): Promise<void> {
  const free = await freeBytes(dir);
  if (free < needed) {
    throw new FatchartError('platform', `${what} needs ${needed} bytes, but only ${free} are free there`, { subject: dir });
  }
}
