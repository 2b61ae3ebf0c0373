import { createReadStream, createWriteStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { once } from 'node:events';
import { availableParallelism } from 'node:os';
import { PassThrough, type Readable } from 'node:stream';
import { CompressStream } from 'zstd-napi';
import { FatchartError } from '../errors.js';
import type { AppModel } from '../model/app.js';
import type { KubeObject } from '../model/object.js';
import { summedRequests, storageRequested } from '../model/resources.js';
import type { VolumeSource } from '../model/volume.js';
import type { RunContext } from '../util/context.js';
import { BundleFile, type WrittenEntry } from './bundle-file.js';
import { chartName, renderChartYaml, renderTemplate, VALUES_YAML } from './chart.js';
import {
  CHART_FILE, MANIFEST_ENTRY, originalEntry, SIGNATURE_ENTRY, templateEntry, TRAILER_ENTRY, VALUES_FILE,
  volumeDataEntry, volumeIndexEntry,
} from './layout.js';
import {
  FORMAT_VERSION, manifestUpperBound, serializeManifest, validateManifest,
  type CheckpointRecord, type EntryRef, type ImageRecord, type Manifest, type ObjectRecord, type VolumeRecord,
} from './manifest.js';
import { identityOf, renderTrailer } from './trailer.js';
import { indexTar, serializeRecord, type VolumeStats } from './volume-index.js';

/** An extra entry a slot (images, checkpoints) contributes; streamed straight into the archive. */
export interface SlotEntry {
  entry: string;
  /** When given, the streamed bytes must match (a blob from a registry is checked on the way in). */
  size?: number;
  sha256?: string;
  open(): Promise<Readable>;
}

export interface ImageSlot {
  refs: ImageRecord[];
  entries: SlotEntry[];
}

export interface CheckpointSlot {
  container: string;
  facts: Record<string, unknown>;
  entry: SlotEntry;
}

/** Signs the bundle identity; the result is stored as the fatchart.sig entry (docs/SECURITY.md). */
export interface Signer {
  keyId: string;
  sign(identity: string): Buffer;
}

export interface WriteBundleOptions {
  out: string;
  model: AppModel;
  volumes: readonly VolumeSource[];
  /** Recorded creation time and the mtime of every entry: fixing it makes packs reproducible. */
  created: Date;
  toolVersion: string;
  compressionLevel?: number;
  /** Extra attempts per volume when its source stream breaks (the stream is reopened from the start). */
  retries?: number;
  images?: ImageSlot;
  checkpoints?: readonly CheckpointSlot[];
  signer?: Signer;
}

export interface WriteResult {
  path: string;
  identity: string;
  bytes: number;
  manifest: Manifest;
  timings: Record<string, number>;
}

const PLACEHOLDER = '0'.repeat(64);
const placeholderRef = (entry: string): EntryRef => ({ entry, size: 0, sha256: PLACEHOLDER });

/**
 * Writes one fat chart: manifest (reserved first, filled last), chart, originals, volumes with
 * their indexes, slots, trailer, signature. Everything streams; the output appears only when
 * complete. See docs/FORMAT.md for the layout.
 */
export async function writeBundle(opts: WriteBundleOptions, ctx: RunContext): Promise<WriteResult> {
  const t0 = performance.now();
  const { model } = opts;
  const created = opts.created.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const mtime = Math.floor(opts.created.getTime() / 1000);
  const name = chartName(model.app.name);

  const templates = model.objects.map((o, i) => ({ o, entry: templateEntry(i, o.kind, o.metadata.name), data: Buffer.from(renderTemplate(withoutNamespace(o))) }));
  const originals = model.originals.map((o, i) => ({ o, entry: originalEntry(i, o.kind, o.metadata.name), data: Buffer.from(`${JSON.stringify(o, null, 2)}\n`) }));
  checkUnique([...templates, ...originals].map((t) => t.entry));
  checkUnique(opts.volumes.map((v) => volumeDataEntry(v.name)));

  const manifest: Manifest = {
    format: 'fatchart',
    formatVersion: FORMAT_VERSION,
    tool: { name: 'fatchart', version: opts.toolVersion },
    created,
    source: model.source,
    app: model.app,
    chart: { name, version: '1.0.0', files: [placeholderRef(CHART_FILE), placeholderRef(VALUES_FILE)] },
    objects: templates.map((t) => objectRecord(t.o, placeholderRef(t.entry))),
    originals: originals.map((t) => objectRecord(t.o, placeholderRef(t.entry))),
    volumes: opts.volumes.map((v) => ({
      name: v.name,
      ...placeholderRef(volumeDataEntry(v.name)),
      compression: 'zstd',
      consistency: v.consistency,
      ...(v.claim ? { claim: v.claim } : {}),
      index: placeholderRef(volumeIndexEntry(v.name)),
      stats: { files: 0, dirs: 0, symlinks: 0, hardlinks: 0, special: 0, dataBytes: 0 },
    })),
    checkpoints: (opts.checkpoints ?? []).map((c) => ({ container: c.container, ...placeholderRef(c.entry.entry), facts: c.facts })),
    images: { refs: opts.images?.refs ?? [], entries: (opts.images?.entries ?? []).map((e) => placeholderRef(e.entry)) },
    plan: {
      objects: model.objects.length,
      volumes: opts.volumes.length,
      files: 0,
      dataBytes: 0,
      storedBytes: 0,
      requests: summedRequests(model.objects),
      storageRequestedBytes: storageRequested(model.objects),
    },
    losses: model.losses,
    ...(opts.signer ? { signature: { algorithm: 'ed25519' as const, keyId: opts.signer.keyId } } : {}),
  };
  validateManifest(manifest, MANIFEST_ENTRY);

  const file = await BundleFile.create(opts.out, mtime);
  try {
    const reservation = await file.reserve(MANIFEST_ENTRY, manifestUpperBound(manifest));
    const fill = (ref: EntryRef, w: WrittenEntry) => Object.assign(ref, { size: w.size, sha256: w.sha256 });

    fill(manifest.chart.files[0]!, await file.addBuffer(CHART_FILE, Buffer.from(renderChartYaml(name, model.app.name, model.source.platform, created))));
    fill(manifest.chart.files[1]!, await file.addBuffer(VALUES_FILE, Buffer.from(VALUES_YAML)));
    for (const [i, t] of templates.entries()) fill(manifest.objects[i]!, await file.addBuffer(t.entry, t.data));
    for (const [i, t] of originals.entries()) fill(manifest.originals[i]!, await file.addBuffer(t.entry, t.data));
    const tBlueprints = performance.now();

    for (const [i, v] of opts.volumes.entries()) {
      throwIfAborted(ctx);
      await writeVolume(file, v, manifest.volumes[i]!, opts, ctx);
    }
    const tVolumes = performance.now();

    for (const [i, c] of (opts.checkpoints ?? []).entries()) fill(manifest.checkpoints[i]!, await writeSlotEntry(file, c.entry, ctx));
    for (const [i, e] of (opts.images?.entries ?? []).entries()) fill(manifest.images.entries[i]!, await writeSlotEntry(file, e, ctx));

    manifest.plan.files = manifest.volumes.reduce((n, v) => n + v.stats.files, 0);
    manifest.plan.dataBytes = manifest.volumes.reduce((n, v) => n + v.stats.dataBytes, 0);
    manifest.plan.storedBytes = file.entries.reduce((n, e) => n + e.size, 0);
    validateManifest(manifest, MANIFEST_ENTRY);
    const text = serializeManifest(manifest);
    const padded = Buffer.alloc(reservation.size, 0x20);
    const used = padded.write(text, 'utf8');
    if (used !== Buffer.byteLength(text)) throw new Error('internal: manifest outgrew its reservation');
    await file.fill(reservation, padded);

    const trailer = renderTrailer(file.entries);
    const identity = identityOf(trailer);
    await file.addBuffer(TRAILER_ENTRY, Buffer.from(trailer));
    if (opts.signer) await file.addBuffer(SIGNATURE_ENTRY, opts.signer.sign(identity));
    throwIfAborted(ctx);
    const bytes = await file.commit();
    const tEnd = performance.now();
    return {
      path: opts.out,
      identity,
      bytes,
      manifest,
      timings: { blueprintsMs: tBlueprints - t0, volumesMs: tVolumes - tBlueprints, totalMs: tEnd - t0 },
    };
  } catch (err) {
    await file.abort();
    throw err;
  }
}

/** Chart templates are cluster-neutral: the namespace is recorded in the manifest, not in the template. */
function withoutNamespace(o: KubeObject): KubeObject {
  if (o.metadata.namespace === undefined) return o;
  const { namespace: _ns, ...metadata } = o.metadata;
  return { ...o, metadata: metadata as KubeObject['metadata'] };
}

function objectRecord(o: KubeObject, ref: EntryRef): ObjectRecord {
  return {
    apiVersion: o.apiVersion,
    kind: o.kind,
    name: o.metadata.name,
    ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}),
    ...ref,
  };
}

function checkUnique(entries: string[]): void {
  const seen = new Set<string>();
  for (const e of entries) {
    if (seen.has(e)) throw new FatchartError('usage', 'two objects or volumes map to the same archive entry; rename one', { subject: e });
    seen.add(e);
  }
}

function throwIfAborted(ctx: RunContext): void {
  if (ctx.signal.aborted) throw new FatchartError('interrupted', 'interrupted; the partial archive was removed');
}

/** Errors of our own output file are final; anything else while reading a source may be a broken stream worth retrying. */
const isOutputError = (err: unknown) => ['ENOSPC', 'EDQUOT', 'EIO', 'EROFS', 'EBADF'].includes((err as NodeJS.ErrnoException)?.code ?? '');

async function writeVolume(file: BundleFile, v: VolumeSource, record: VolumeRecord, opts: WriteBundleOptions, ctx: RunContext): Promise<void> {
  const attempts = 1 + (opts.retries ?? 2);
  const start = file.offset;
  for (let attempt = 1; ; attempt++) {
    const spoolPath = `${file.tempPath}.${record.name}.index`;
    const progress = ctx.progress.start(`volume ${v.name}`, v.sizeHint);
    try {
      const { data, stats } = await streamVolume(file, v, record.entry, spoolPath, opts, ctx, (n) => progress.advance(n));
      const index = await file.addStream(record.index.entry, createReadStream(spoolPath, { highWaterMark: 1 << 20 }));
      Object.assign(record, { size: data.size, sha256: data.sha256, stats });
      Object.assign(record.index, { size: index.size, sha256: index.sha256 });
      progress.done(`${stats.files} files, ${stats.dataBytes} bytes`);
      return;
    } catch (err) {
      progress.done('failed');
      if (attempt >= attempts || ctx.signal.aborted || isOutputError(err) || err instanceof FatchartError) {
        throw err instanceof FatchartError
          ? err
          : new FatchartError('platform', `could not read the volume: ${(err as Error).message}`, { subject: `volume ${v.name}`, cause: err });
      }
      ctx.log.warn(`volume ${v.name}: stream broke (${(err as Error).message}); retrying from the start (attempt ${attempt + 1} of ${attempts})`);
      await file.rewind(start);
    } finally {
      await unlink(spoolPath).catch(() => {});
    }
  }
}

/**
 * One pass over the source tar: one branch indexes every member (digest per file, spooled to
 * disk so memory stays flat however many files there are), the other compresses into the
 * archive. Both see the same bytes; a failure on either side stops both.
 */
async function streamVolume(
  file: BundleFile, v: VolumeSource, entry: string, spoolPath: string, opts: WriteBundleOptions, ctx: RunContext, advance: (n: number) => void,
): Promise<{ data: WrittenEntry; stats: VolumeStats }> {
  const source = await v.open();
  const toIndex = new PassThrough({ highWaterMark: 1 << 20 });
  const compressor = new CompressStream({
    compressionLevel: opts.compressionLevel ?? 3,
    nbWorkers: Math.min(availableParallelism(), 8),
    checksumFlag: true,
  });
  const spool = createWriteStream(spoolPath);
  const fail = (err: Error) => {
    source.destroy(err);
    toIndex.destroy(err);
    compressor.destroy(err);
  };
  const abort = () => fail(new FatchartError('interrupted', 'interrupted; the partial archive was removed'));
  ctx.signal.addEventListener('abort', abort, { once: true });
  source.on('error', fail);
  source.on('data', (chunk: Buffer) => advance(chunk.length));
  source.pipe(toIndex);
  source.pipe(compressor);
  // A late write after a failure must not raise an unhandled 'error' on the spool.
  spool.on('error', (err) => fail(err));
  const indexing = indexTar(toIndex, async (rec) => {
    if (spool.destroyed) throw new Error('index spool closed');
    if (!spool.write(serializeRecord(rec))) await once(spool, 'drain');
  });
  const compressing = file.addStream(entry, compressor);
  try {
    // Both branches must have stopped before anyone rewinds the file for a retry: a branch
    // still appending after the rewind would corrupt the next attempt.
    const [indexed, written] = await Promise.allSettled([indexing.catch(rethrowAfter(fail)), compressing.catch(rethrowAfter(fail))]);
    if (indexed.status === 'rejected') throw indexed.reason;
    if (written.status === 'rejected') throw written.reason;
    spool.end();
    await once(spool, 'finish');
    return { data: written.value, stats: indexed.value };
  } finally {
    ctx.signal.removeEventListener('abort', abort);
    spool.destroy();
  }
}

/** Stops the other branch as soon as one fails, then rejects with the original error. */
const rethrowAfter = (fail: (err: Error) => void) => (err: Error) => {
  fail(err);
  throw err;
};

async function writeSlotEntry(file: BundleFile, e: SlotEntry, ctx: RunContext): Promise<WrittenEntry> {
  throwIfAborted(ctx);
  const written = await file.addStream(e.entry, await e.open());
  if ((e.size !== undefined && written.size !== e.size) || (e.sha256 !== undefined && written.sha256 !== e.sha256)) {
    throw new FatchartError('verification', `content does not match its descriptor (size ${written.size}, sha256 ${written.sha256})`, { subject: e.entry });
  }
  return written;
}
