import { once } from 'node:events';
import { createGunzip } from 'node:zlib';
import { PassThrough, pipeline, type Readable } from 'node:stream';
import { Parser, type ReadEntry } from 'tar';
import { DecompressStream } from 'zstd-napi';
import { FatchartError } from '../errors.js';

/**
 * Checkpoint archives come as plain, gzip (Podman `--compress gzip`, CRI-O/kubelet) or zstd
 * (Podman's default) tars. The compression is recognised by magic number, never by file name,
 * because archives are stored in bundles exactly as they were exported.
 */
export type ArchiveCompression = 'zstd' | 'gzip' | 'none';

const magics: Array<{ compression: ArchiveCompression; bytes: number[] }> = [
  { compression: 'zstd', bytes: [0x28, 0xb5, 0x2f, 0xfd] },
  { compression: 'gzip', bytes: [0x1f, 0x8b] },
];

export function detectCompression(head: Buffer): ArchiveCompression {
  return magics.find((m) => m.bytes.every((b, i) => head[i] === b))?.compression ?? 'none';
}

/** File-name suffix that tells a human what a stored archive is. */
export const archiveSuffix: Record<ArchiveCompression, string> = { zstd: '.tar.zst', gzip: '.tar.gz', none: '.tar' };

/** Peeks at the first bytes of `src` and returns the decompressed tar stream plus what it was. */
export async function openTar(src: Readable): Promise<{ tar: Readable; compression: ArchiveCompression }> {
  let head = src.read() as Buffer | null;
  while (head === null && !src.readableEnded) {
    await Promise.race([once(src, 'readable'), once(src, 'end')]);
    head = src.read() as Buffer | null;
  }
  if (head) src.unshift(head);
  const compression = detectCompression(head ?? Buffer.alloc(0));
  if (compression === 'none') return { tar: src, compression };
  const out = new PassThrough();
  const decompress = compression === 'gzip' ? createGunzip() : new DecompressStream();
  pipeline(src, decompress, out, () => {});
  return { tar: out, compression };
}

export interface ArchiveListing {
  compression: ArchiveCompression;
  /** Every regular file: normalised path (no `./`) → size. */
  files: Map<string, number>;
  /** Contents of the files `keep` selected. */
  contents: Map<string, Buffer>;
}

/** Metadata files are small; anything larger under a wanted name is refused rather than buffered. */
const MAX_KEPT_BYTES = 8 << 20;

export const normalisePath = (p: string) => p.replace(/^(\.\/)+/, '').replace(/^\/+/, '');

/**
 * Reads a whole checkpoint archive once, listing every file and keeping the small ones `keep`
 * asks for (metadata, CRIU images that hold facts). Page images stream past unbuffered.
 */
export async function listArchive(src: Readable, keep: (path: string) => boolean, subject: string): Promise<ArchiveListing> {
  const { tar, compression } = await openTar(src);
  const files = new Map<string, number>();
  const contents = new Map<string, Buffer>();
  const parser = new Parser({
    strict: true,
    onReadEntry: (entry: ReadEntry) => {
      const path = normalisePath(entry.path);
      if (entry.type !== 'File' && entry.type !== 'OldFile') return void entry.resume();
      files.set(path, entry.size);
      if (!keep(path) || entry.size > MAX_KEPT_BYTES) return void entry.resume();
      const chunks: Buffer[] = [];
      entry.on('data', (c: Buffer) => chunks.push(c));
      entry.on('end', () => contents.set(path, Buffer.concat(chunks)));
    },
  });
  await new Promise<void>((resolve, reject) => {
    const fail = (err: unknown) =>
      reject(
        new FatchartError('verification', `not a readable checkpoint archive: ${err instanceof Error ? err.message : String(err)}`, {
          subject,
          cause: err,
        }),
      );
    tar.on('error', fail);
    parser.on('error', fail);
    parser.on('end', resolve);
    tar.pipe(parser as unknown as NodeJS.WritableStream);
  });
  return { compression, files, contents };
}
