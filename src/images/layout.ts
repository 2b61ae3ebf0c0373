import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { usageError, verificationError } from '../errors.js';
import { digestHex, drainVerified, readSmall, verified } from './digest.js';
import { MAX_MANIFEST_BYTES, MediaType, REF_NAME_ANNOTATION, checkDescriptor, manifestKind, type Descriptor, type ImageIndex, type ImageManifest } from './media.js';

/**
 * The OCI image layout (image-spec `image-layout.md`): an `oci-layout` marker, an `index.json`
 * naming each image by `org.opencontainers.image.ref.name`, and content-addressed
 * `blobs/sha256/<hex>`. The same shape lives in a bundle's `images/` slot and in an exported
 * folder, so `skopeo copy oci:DIR:NAME` can read either once it is on disk.
 */
export const OCI_LAYOUT_FILE = 'oci-layout';
export const INDEX_FILE = 'index.json';
export const OCI_LAYOUT_TEXT = `${JSON.stringify({ imageLayoutVersion: '1.0.0' })}\n`;
/** Where the layout sits inside a bundle. */
export const IMAGE_SLOT = 'images';

export const blobPath = (digest: string): string => `blobs/sha256/${digestHex(digest, 'blob')}`;

/** Anything a layout can be read from: a bundle's image slot, a folder. */
export interface LayoutSource {
  index: ImageIndex;
  /** The blob's raw bytes; callers verify them (walkLayout and exportLayout do). */
  openBlob(digest: string): Promise<Readable>;
}

export function serializeIndex(index: ImageIndex): string {
  return `${JSON.stringify(index, null, 2)}\n`;
}

export function parseIndex(bytes: Buffer, subject: string): ImageIndex {
  let doc: ImageIndex;
  try {
    doc = JSON.parse(bytes.toString('utf8')) as ImageIndex;
  } catch {
    throw verificationError('not JSON', subject);
  }
  if (doc?.schemaVersion !== 2 || !Array.isArray(doc.manifests)) throw verificationError('not an OCI image index', subject);
  for (const d of doc.manifests) checkDescriptor(d, subject);
  return doc;
}

/** A layout in a folder (an export, or one built by skopeo). */
export async function folderLayout(dir: string): Promise<LayoutSource> {
  const indexFile = join(dir, INDEX_FILE);
  const index = parseIndex(await readFile(indexFile), indexFile);
  return { index, openBlob: async (digest) => createReadStream(join(dir, blobPath(digest))) };
}

export interface LoadedManifest {
  descriptor: Descriptor;
  bytes: Buffer;
  kind: 'index' | 'manifest';
  doc: ImageIndex | ImageManifest;
}

export interface LayoutWalk {
  /** Every manifest and index reachable from index.json, children before parents. */
  manifests: LoadedManifest[];
  /** Every config and layer blob, once each however many images share it. */
  blobs: Descriptor[];
}

/** Reads and verifies a manifest blob (small by construction, so it is held in memory). */
export async function loadManifest(layout: LayoutSource, descriptor: Descriptor, subject: string): Promise<LoadedManifest> {
  if (descriptor.size > MAX_MANIFEST_BYTES) throw verificationError(`manifest of ${descriptor.size} bytes refused`, subject);
  const stream = verified(await layout.openBlob(descriptor.digest), descriptor.digest, descriptor.size, subject);
  const bytes = await readSmall(stream, MAX_MANIFEST_BYTES, subject);
  let doc: ImageIndex | ImageManifest;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw verificationError('manifest is not JSON', subject);
  }
  const kind = manifestKind(doc, descriptor.mediaType);
  const ok = kind === 'index' ? Array.isArray((doc as ImageIndex).manifests) : !!(doc as ImageManifest).config && Array.isArray((doc as ImageManifest).layers);
  if (!ok) throw verificationError(`not an image ${kind}`, subject);
  const children = kind === 'index' ? (doc as ImageIndex).manifests : [(doc as ImageManifest).config, ...(doc as ImageManifest).layers];
  for (const child of children) checkDescriptor(child, subject);
  return { descriptor, bytes, kind, doc };
}

/** Walks index.json down to every blob, verifying each manifest on the way. */
export async function walkLayout(layout: LayoutSource): Promise<LayoutWalk> {
  const manifests: LoadedManifest[] = [];
  const blobs = new Map<string, Descriptor>();
  const seen = new Set<string>();
  const visit = async (descriptor: Descriptor, subject: string): Promise<void> => {
    if (seen.has(descriptor.digest)) return;
    seen.add(descriptor.digest);
    const loaded = await loadManifest(layout, descriptor, subject);
    if (loaded.kind === 'index') {
      for (const child of (loaded.doc as ImageIndex).manifests) await visit(child, `${subject} → ${child.digest}`);
    } else {
      const m = loaded.doc as ImageManifest;
      for (const d of [m.config, ...m.layers]) if (!blobs.has(d.digest)) blobs.set(d.digest, d);
    }
    manifests.push(loaded);
  };
  for (const d of layout.index.manifests) await visit(d, `image ${d.annotations?.[REF_NAME_ANNOTATION] ?? d.digest}`);
  return { manifests, blobs: [...blobs.values()] };
}

/** Streams every config and layer through its digest check without keeping any of it. */
export async function verifyLayout(layout: LayoutSource, walk: LayoutWalk): Promise<void> {
  for (const d of walk.blobs) await drainVerified(await layout.openBlob(d.digest), d.digest, d.size, `blob ${d.digest}`);
}

/**
 * Writes `layout` to the folder `dir` (which must not exist or be empty), verifying every blob as
 * it is copied. Everything goes to a sibling temp folder first and is renamed into place, so a
 * failure leaves no half-written layout behind.
 */
export async function exportLayout(layout: LayoutSource, dir: string): Promise<{ blobs: number; bytes: number }> {
  const existing = await readdir(dir).catch(() => undefined);
  if (existing && existing.length) throw usageError('folder exists and is not empty', dir);
  const temp = `${dir}.partial-${process.pid}`;
  await rm(temp, { recursive: true, force: true });
  let bytes = 0;
  try {
    await mkdir(join(temp, 'blobs', 'sha256'), { recursive: true });
    const walk = await walkLayout(layout);
    for (const m of walk.manifests) {
      await writeFile(join(temp, blobPath(m.descriptor.digest)), m.bytes);
      bytes += m.bytes.length;
    }
    for (const d of walk.blobs) {
      const source = verified(await layout.openBlob(d.digest), d.digest, d.size, `blob ${d.digest}`);
      await pipeline(source, createWriteStream(join(temp, blobPath(d.digest))));
      bytes += d.size;
    }
    await writeFile(join(temp, OCI_LAYOUT_FILE), OCI_LAYOUT_TEXT);
    await writeFile(join(temp, INDEX_FILE), serializeIndex(layout.index));
    await syncDir(temp);
    if (existing) await rm(dir, { recursive: true });
    await mkdir(dirname(dir), { recursive: true });
    await rename(temp, dir);
    return { blobs: walk.manifests.length + walk.blobs.length, bytes };
  } catch (err) {
    await rm(temp, { recursive: true, force: true });
    throw err;
  }
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** A layout index over `manifests`, each named for `skopeo copy oci:DIR:NAME`. */
export function layoutIndex(manifests: Descriptor[]): ImageIndex {
  return { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests };
}
