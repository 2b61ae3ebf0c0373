import { open, readdir, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes, createHash, type Hash } from 'node:crypto';
import { BLOCK, encodeFixedHeader, encodeHeader, padding, ZERO_BLOCK } from './tar-header.js';
import type { TrailerLine } from './trailer.js';
import { isAlive } from '../util/process.js';

const FLUSH_AT = 1 << 20;

export interface WrittenEntry extends TrailerLine {
  size: number;
  /** Offset of the entry's first header block. */
  headerOffset: number;
  dataOffset: number;
}

/**
 * The archive being written: a temp file beside the output, renamed over it only when complete,
 * so an interrupted pack never leaves a file that looks finished. Writes are positioned, which
 * lets an entry's header (size) or the manifest be rewritten in place once known.
 */
export class BundleFile {
  private position = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  readonly entries: WrittenEntry[] = [];

  private constructor(
    private readonly handle: FileHandle,
    readonly tempPath: string,
    readonly finalPath: string,
    private readonly mtime: number,
  ) {}

  static async create(finalPath: string, mtime: number): Promise<BundleFile> {
    await sweepStaleTemps(finalPath);
    const tempPath = join(dirname(finalPath), `${tempPrefix(finalPath)}${process.pid}-${randomBytes(4).toString('hex')}`);
    const handle = await open(tempPath, 'wx', 0o644);
    return new BundleFile(handle, tempPath, finalPath, mtime);
  }

  get offset(): number {
    return this.position + this.pendingBytes;
  }

  private async append(buf: Buffer): Promise<void> {
    if (buf.length === 0) return;
    this.pending.push(buf);
    this.pendingBytes += buf.length;
    if (this.pendingBytes >= FLUSH_AT) await this.flush();
  }

  private async flush(): Promise<void> {
    if (!this.pendingBytes) return;
    const data = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    let written = 0;
    while (written < data.length) {
      const { bytesWritten } = await this.handle.write(data, written, data.length - written, this.position + written);
      written += bytesWritten;
    }
    this.position += data.length;
    this.pendingBytes = 0;
  }

  private async writeAt(buf: Buffer, at: number): Promise<void> {
    await this.flush();
    await this.handle.write(buf, 0, buf.length, at);
  }

  /** A small entry held in memory (chart files, originals, manifest-sized things). */
  async addBuffer(entry: string, data: Buffer): Promise<WrittenEntry> {
    const headerOffset = this.offset;
    await this.append(encodeHeader({ path: entry, type: 'File', size: data.length, mode: 0o644, mtime: this.mtime, uid: 0, gid: 0 }));
    const dataOffset = this.offset;
    await this.append(data);
    await this.append(ZERO_BLOCK.subarray(0, padding(data.length)));
    return this.record({ entry, sha256: createHash('sha256').update(data).digest('hex'), size: data.length, headerOffset, dataOffset });
  }

  /**
   * An entry streamed from chunks whose total is not known in advance (a compressed volume).
   * The header is rewritten with the real size at the end. Returns undefined-safe rewind info
   * so a broken source can be retried from the entry's start.
   */
  async addStream(entry: string, chunks: AsyncIterable<Buffer>): Promise<WrittenEntry> {
    const headerOffset = this.offset;
    await this.append(encodeFixedHeader(entry, 0, this.mtime));
    const dataOffset = this.offset;
    const hash: Hash = createHash('sha256');
    let size = 0;
    for await (const chunk of chunks) {
      hash.update(chunk);
      size += chunk.length;
      await this.append(chunk);
    }
    await this.append(ZERO_BLOCK.subarray(0, padding(size)));
    await this.writeAt(encodeFixedHeader(entry, size, this.mtime), headerOffset);
    return this.record({ entry, sha256: hash.digest('hex'), size, headerOffset, dataOffset });
  }

  /** Reserves an entry of a fixed size, filled later with `fill` (the manifest). */
  async reserve(entry: string, size: number): Promise<{ entry: string; size: number; headerOffset: number; dataOffset: number }> {
    const headerOffset = this.offset;
    await this.append(encodeHeader({ path: entry, type: 'File', size, mode: 0o644, mtime: this.mtime, uid: 0, gid: 0 }));
    const dataOffset = this.offset;
    await this.append(Buffer.alloc(size + padding(size)));
    return { entry, size, headerOffset, dataOffset };
  }

  async fill(reservation: { entry: string; size: number; headerOffset: number; dataOffset: number }, data: Buffer): Promise<WrittenEntry> {
    if (data.length !== reservation.size) throw new Error(`internal: ${reservation.entry} is ${data.length} bytes, reserved ${reservation.size}`);
    await this.writeAt(data, reservation.dataOffset);
    const written = { ...reservation, sha256: createHash('sha256').update(data).digest('hex') };
    // Reserved entries are recorded where they sit in the archive, not where they were filled.
    const i = this.entries.findIndex((e) => e.headerOffset > reservation.headerOffset);
    this.entries.splice(i < 0 ? this.entries.length : i, 0, written);
    return written;
  }

  /** Drops everything from `offset` on: used to retry a volume whose source stream broke. */
  async rewind(offset: number): Promise<void> {
    await this.flush();
    await this.handle.truncate(offset);
    this.position = offset;
    while (this.entries.length && this.entries[this.entries.length - 1]!.headerOffset >= offset) this.entries.pop();
  }

  private record(e: WrittenEntry): WrittenEntry {
    this.entries.push(e);
    return e;
  }

  /** Ends the archive, makes it durable and moves it to its final name. */
  async commit(): Promise<number> {
    await this.append(ZERO_BLOCK);
    await this.append(ZERO_BLOCK);
    await this.flush();
    await this.handle.sync();
    await this.handle.close();
    await rename(this.tempPath, this.finalPath);
    return this.position;
  }

  /** Removes the temp file; safe to call after a failure at any point. */
  async abort(): Promise<void> {
    await this.handle.close().catch(() => {});
    await unlink(this.tempPath).catch(() => {});
  }
}

const tempPrefix = (finalPath: string) => `.${basename(finalPath)}.tmp-`;

/**
 * A pack killed with SIGKILL cannot remove its temp file (it never reaches the output path, so
 * nothing looks finished); the next pack to the same path removes those whose process is gone.
 */
async function sweepStaleTemps(finalPath: string): Promise<void> {
  const prefix = tempPrefix(finalPath);
  const names = await readdir(dirname(finalPath)).catch(() => [] as string[]);
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(/^(\d+)-/.exec(name.slice(prefix.length))?.[1]);
    if (!pid || pid === process.pid || isAlive(pid)) continue;
    await unlink(join(dirname(finalPath), name)).catch(() => {});
  }
}

export { BLOCK };
