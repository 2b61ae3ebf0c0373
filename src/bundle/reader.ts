import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { DecompressStream } from 'zstd-napi';
import { Header, Pax } from 'tar';
import { FatchartError } from '../errors.js';
import type { KubeObject } from '../model/object.js';
import { parseTemplate } from './chart.js';
import { sha256Hex } from './digest.js';
import { allowedEntryPattern, MANIFEST_ENTRY, SIGNATURE_ENTRY, TRAILER_ENTRY } from './layout.js';
import { checkFormatVersion, validateManifest, type Manifest, type VolumeRecord } from './manifest.js';
import { BLOCK, padding } from './tar-header.js';
import { identityOf, parseTrailer, type TrailerLine } from './trailer.js';
import type { IndexRecord } from './volume-index.js';
import { readLines } from '../util/lines.js';
import { ByteLimit, checkDeclaredRatio, declaredIndexBound, declaredTarBound, INDEX_LINE_LIMIT, LineLengthLimit } from '../security/limits.js';

/** Limits that keep a hostile archive from exhausting memory before any digest is checked. */
export const readerLimits = {
  manifestBytes: 64 << 20,
  trailerBytes: 64 << 20,
  smallEntryBytes: 16 << 20,
  entries: 2_000_000,
};

/**
 * Entries are read in 64 KiB pieces: a compressed volume expands by its ratio (10:1 for text)
 * at every stage of the pipe, so larger reads multiply the bytes in flight, not the speed.
 */
const READ_CHUNK = 64 << 10;

export interface EntryInfo {
  name: string;
  size: number;
  /** Offset of the entry's data. */
  offset: number;
}

/**
 * Random access to a fat chart. `open` reads only headers, the manifest and the trailer, and
 * checks that they agree; entry bodies are checked against the trailer as they are streamed,
 * so a consumer sees an error before it can act on a corrupt entry's end.
 */
export class BundleReader {
  private constructor(
    readonly path: string,
    readonly entries: ReadonlyMap<string, EntryInfo>,
    readonly manifest: Manifest,
    readonly trailer: readonly TrailerLine[],
    readonly trailerText: string,
    private readonly digests: ReadonlyMap<string, string>,
  ) {}

  /** `sha256:<hex>` of the trailer: the archive's identity, what a signature signs. */
  get identity(): string {
    return identityOf(this.trailerText);
  }

  static async open(path: string): Promise<BundleReader> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (err) {
      throw new FatchartError('usage', `cannot open: ${(err as Error).message}`, { subject: path, cause: err });
    }
    try {
      const entries = await scanEntries(handle, path);
      const first = entries.values().next().value;
      if (!first || first.name !== MANIFEST_ENTRY) {
        throw new FatchartError('verification', `not a fat chart: the first entry is ${first ? `"${first.name}"` : 'missing'}, not ${MANIFEST_ENTRY}`, { subject: path });
      }
      const trailerInfo = entries.get(TRAILER_ENTRY);
      if (!trailerInfo) throw new FatchartError('verification', `no ${TRAILER_ENTRY} entry: the archive is truncated or was not written by fatchart`, { subject: path });
      const names = [...entries.keys()];
      const expectedTail = entries.has(SIGNATURE_ENTRY) ? [TRAILER_ENTRY, SIGNATURE_ENTRY] : [TRAILER_ENTRY];
      if (names.slice(-expectedTail.length).join() !== expectedTail.join()) {
        throw new FatchartError('verification', `${TRAILER_ENTRY} must be the last entry (or followed only by ${SIGNATURE_ENTRY})`, { subject: path });
      }

      const trailerText = (await readRange(handle, trailerInfo, readerLimits.trailerBytes, `${path}:${TRAILER_ENTRY}`)).toString('utf8');
      const trailer = parseTrailer(trailerText, `${path}:${TRAILER_ENTRY}`);
      const digests = new Map(trailer.map((l) => [l.entry, l.sha256]));
      const covered = names.filter((n) => n !== TRAILER_ENTRY && n !== SIGNATURE_ENTRY);
      if (trailer.length !== covered.length || digests.size !== trailer.length) {
        throw new FatchartError('verification', `trailer lists ${trailer.length} entries, the archive holds ${covered.length}`, { subject: `${path}:${TRAILER_ENTRY}` });
      }
      for (const [i, name] of covered.entries()) {
        if (trailer[i]!.entry !== name) throw new FatchartError('verification', `entry is not listed in the trailer at its position`, { subject: `${path}:${name}` });
      }

      const manifestBytes = await readRange(handle, first, readerLimits.manifestBytes, `${path}:${MANIFEST_ENTRY}`);
      if (sha256Hex(manifestBytes) !== digests.get(MANIFEST_ENTRY)) {
        throw new FatchartError('verification', `checksum mismatch with ${TRAILER_ENTRY} (the manifest or the trailer was modified or corrupted)`, { subject: `${path}:${MANIFEST_ENTRY}` });
      }
      let data: unknown;
      try {
        data = JSON.parse(manifestBytes.toString('utf8'));
      } catch {
        throw new FatchartError('verification', 'manifest is not valid JSON', { subject: `${path}:${MANIFEST_ENTRY}` });
      }
      checkFormatVersion(data, `${path}:${MANIFEST_ENTRY}`);
      validateManifest(data, `${path}:${MANIFEST_ENTRY}`);
      checkInventory(data, digests, path);
      return new BundleReader(path, entries, data, trailer, trailerText, digests);
    } finally {
      await handle.close();
    }
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** The entry's raw bytes as a stream; errors at the end if they do not match the trailer. */
  openEntry(name: string): Readable {
    const info = this.entries.get(name);
    if (!info) throw new FatchartError('verification', 'entry missing from the archive', { subject: `${this.path}:${name}` });
    const raw = info.size === 0 ? emptyStream() : createReadStream(this.path, { start: info.offset, end: info.offset + info.size - 1, highWaterMark: READ_CHUNK });
    const expected = this.digests.get(name);
    const hash = createHash('sha256');
    let seen = 0;
    const subject = `${this.path}:${name}`;
    const check = new Transform({
      transform(chunk: Buffer, _e, done) {
        hash.update(chunk);
        seen += chunk.length;
        done(null, chunk);
      },
      flush(done) {
        if (seen !== info.size) return done(new FatchartError('verification', `truncated: read ${seen} of ${info.size} bytes`, { subject }));
        if (expected !== undefined && hash.digest('hex') !== expected) return done(new FatchartError('verification', 'checksum mismatch (entry modified or corrupted)', { subject }));
        done();
      },
    });
    raw.on('error', (err: Error) => check.destroy(err));
    return raw.pipe(check);
  }

  /** A small entry, verified, in memory. */
  async readEntry(name: string, limit = readerLimits.smallEntryBytes): Promise<Buffer> {
    const info = this.entries.get(name);
    if (info && info.size > limit) throw new FatchartError('unsafe', `entry of ${info.size} bytes exceeds the ${limit}-byte limit for its kind`, { subject: `${this.path}:${name}` });
    const chunks: Buffer[] = [];
    for await (const c of this.openEntry(name)) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  /** The cleaned blueprints, from the chart templates, in manifest order. */
  async objects(): Promise<KubeObject[]> {
    const out: KubeObject[] = [];
    for (const rec of this.manifest.objects) {
      out.push(...parseTemplate((await this.readEntry(rec.entry)).toString('utf8'), `${this.path}:${rec.entry}`));
    }
    return out;
  }

  /** The objects exactly as captured at the source, before cleaning. */
  async originals(): Promise<KubeObject[]> {
    const out: KubeObject[] = [];
    for (const rec of this.manifest.originals) out.push(JSON.parse((await this.readEntry(rec.entry)).toString('utf8')) as KubeObject);
    return out;
  }

  volume(name: string): VolumeRecord {
    const v = this.manifest.volumes.find((x) => x.name === name);
    if (!v) throw new FatchartError('usage', `no volume named "${name}" in the bundle`, { subject: this.path });
    return v;
  }

  /** The volume's tar stream, decompressed; the compressed bytes are checked against the trailer. */
  volumeTar(name: string): Readable {
    const v = this.volume(name);
    const subject = `${this.path}:${v.entry}`;
    checkDeclaredRatio(v, subject);
    const source = this.openEntry(v.entry);
    const decompress = new DecompressStream();
    // A zstd bomb stops at the size the (checksummed) manifest declared, not at a full disk.
    const limit = new ByteLimit(declaredTarBound(v), subject, 'decompressed volume');
    const out = new Transform({ transform: (chunk, _e, done) => done(null, chunk) });
    const fail = (err: Error) =>
      out.destroy(err instanceof FatchartError ? err : new FatchartError('verification', `not a valid zstd stream: ${err.message}`, { subject }));
    source.on('error', fail);
    decompress.on('error', fail);
    limit.on('error', fail);
    return source.pipe(decompress).pipe(limit).pipe(out);
  }

  /** The volume's index, record by record, streamed (a volume may hold millions of files). */
  async *volumeIndex(name: string): AsyncGenerator<IndexRecord> {
    const v = this.volume(name);
    // A line is held whole in memory: an index far larger than its member count allows is refused first.
    const subject = `${this.path}:${v.index.entry}`;
    const bound = declaredIndexBound(v);
    if (v.index.size > bound) throw new FatchartError('unsafe', `index of ${v.index.size} bytes exceeds the ${bound} bytes ${v.name}'s member count allows`, { subject });
    const source = this.openEntry(v.index.entry);
    const limited = new LineLengthLimit(INDEX_LINE_LIMIT, subject);
    source.on('error', (err: Error) => limited.destroy(err));
    const lines = readLines(source.pipe(limited));
    let n = 0;
    for await (const line of lines) {
      n++;
      if (!line) continue;
      let rec: IndexRecord;
      try {
        rec = JSON.parse(line) as IndexRecord;
      } catch {
        throw new FatchartError('verification', `index line ${n} is not valid JSON`, { subject });
      }
      yield rec;
    }
  }
}

function emptyStream(): Readable {
  return Readable.from([]);
}

/** Every entry the manifest names must be in the trailer with the same digest, and vice versa. */
function checkInventory(m: Manifest, digests: ReadonlyMap<string, string>, path: string): void {
  const refs = [
    ...m.chart.files,
    ...m.objects,
    ...m.originals,
    ...m.volumes.flatMap((v) => [v, v.index]),
    ...m.checkpoints,
    ...m.images.entries,
  ];
  const named = new Set<string>([MANIFEST_ENTRY]);
  for (const r of refs) {
    const d = digests.get(r.entry);
    if (d === undefined) throw new FatchartError('verification', 'listed in the manifest but missing from the archive', { subject: `${path}:${r.entry}` });
    if (d !== r.sha256) throw new FatchartError('verification', `${MANIFEST_ENTRY} and ${TRAILER_ENTRY} disagree on its checksum (one of them was modified)`, { subject: `${path}:${r.entry}` });
    if (named.has(r.entry)) throw new FatchartError('verification', 'listed twice in the manifest', { subject: `${path}:${r.entry}` });
    named.add(r.entry);
  }
  for (const entry of digests.keys()) {
    if (!named.has(entry)) throw new FatchartError('verification', 'entry in the archive that the manifest does not account for', { subject: `${path}:${entry}` });
  }
}

/**
 * Bytes no checksum covers (tar padding, the end-of-archive blocks, trailing record padding)
 * must all be zero, so that a flipped byte anywhere in the file is detected. `expected` is how
 * many must be there (the end marker is two blocks); more than 1 MiB of trailing zeros is refused.
 */
async function checkZeros(handle: FileHandle, at: number, length: number, expected: number, what: string, path: string): Promise<void> {
  if (length < expected) throw new FatchartError('verification', `truncated: ${what} is incomplete`, { subject: path });
  if (length > 1 << 20) throw new FatchartError('verification', `${length} unexpected bytes after the end of the archive`, { subject: path });
  if (length === 0) return;
  const buf = Buffer.alloc(length);
  await handle.read(buf, 0, length, at);
  const bad = buf.findIndex((b) => b !== 0);
  if (bad >= 0) throw new FatchartError('verification', `non-zero byte in ${what} (byte ${at + bad}): the archive was modified or corrupted`, { subject: path });
}

async function readRange(handle: FileHandle, info: EntryInfo, limit: number, subject: string): Promise<Buffer> {
  if (info.size > limit) throw new FatchartError('unsafe', `entry of ${info.size} bytes exceeds the ${limit}-byte limit`, { subject });
  const buf = Buffer.alloc(info.size);
  const { bytesRead } = await handle.read(buf, 0, info.size, info.offset);
  if (bytesRead !== info.size) throw new FatchartError('verification', 'truncated', { subject });
  return buf;
}

/**
 * Walks the archive's headers with positioned reads, never reading entry bodies. Only plain
 * files with names the format defines are accepted; anything else (links, devices, `..`,
 * absolute names, duplicates) is refused here, before any byte is used.
 */
async function scanEntries(handle: FileHandle, path: string): Promise<Map<string, EntryInfo>> {
  const fileSize = (await handle.stat()).size;
  const entries = new Map<string, EntryInfo>();
  const block = Buffer.alloc(BLOCK);
  let pos = 0;
  let ex: Pax | undefined;
  for (;;) {
    const { bytesRead } = await handle.read(block, 0, BLOCK, pos);
    if (bytesRead < BLOCK) throw new FatchartError('verification', `truncated: the archive ends at byte ${fileSize} without its end marker`, { subject: path });
    if (block.every((b) => b === 0)) {
      await checkZeros(handle, pos, fileSize - pos, Math.max(2 * BLOCK, fileSize - pos), 'end-of-archive marker and what follows it', path);
      break;
    }
    const at = `${path} (header at byte ${pos})`;
    let header: Header;
    try {
      header = new Header(block, 0, ex);
    } catch (err) {
      // node-tar throws on malformed numeric fields (e.g. a bad base-256 size) before the checksum is looked at.
      throw new FatchartError('verification', `tar header is malformed: ${(err as Error).message}`, { subject: at });
    }
    if (!header.cksumValid) throw new FatchartError('verification', 'tar header checksum mismatch (corrupt archive)', { subject: at });
    const size = header.size ?? 0;
    if (size < 0) throw new FatchartError('verification', 'negative entry size', { subject: at });
    const dataOffset = pos + BLOCK;
    if (dataOffset + size > fileSize) throw new FatchartError('verification', `truncated: entry "${header.path}" runs past the end of the file`, { subject: path });
    if (header.typeKey === 'x') {
      if (size > 64 * 1024) throw new FatchartError('unsafe', 'oversized pax header', { subject: at });
      const body = Buffer.alloc(size);
      await handle.read(body, 0, size, dataOffset);
      ex = Pax.parse(body.toString('utf8'), ex);
      pos = dataOffset + size + padding(size);
      continue;
    }
    const name = header.path ?? '';
    ex = undefined;
    if (header.type !== 'File' && header.type !== 'OldFile') {
      throw new FatchartError('unsafe', `entry "${name}" is a ${header.type}; a fat chart holds only regular files`, { subject: path });
    }
    if (!allowedEntryPattern.test(name)) throw new FatchartError('unsafe', `unexpected entry name "${name}" (not part of format 1.x)`, { subject: path });
    if (entries.has(name)) throw new FatchartError('unsafe', `duplicate entry "${name}"`, { subject: path });
    if (entries.size >= readerLimits.entries) throw new FatchartError('unsafe', `more than ${readerLimits.entries} entries`, { subject: path });
    entries.set(name, { name, size, offset: dataOffset });
    // Padding is covered by no checksum, so it must be exactly what the writer wrote: zeros.
    await checkZeros(handle, dataOffset + size, padding(size), padding(size), `padding after entry "${name}"`, path);
    pos = dataOffset + size + padding(size);
  }
  return entries;
}
