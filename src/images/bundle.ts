import type { Readable } from 'node:stream';
import { BundleReader } from '../bundle/reader.js';
import { usageError } from '../errors.js';
import type { RunContext } from '../util/context.js';
import { readSmall } from './digest.js';
import { IMAGE_SLOT, INDEX_FILE, blobPath, exportLayout, parseIndex, type LayoutSource } from './layout.js';
import { MAX_MANIFEST_BYTES, REF_NAME_ANNOTATION } from './media.js';

/** Where the image slot meets the bundle: its layout read through the reader's verified entries. */
const INDEX_ENTRY = `${IMAGE_SLOT}/${INDEX_FILE}`;

export function bundleHasImages(reader: { has(name: string): boolean }): boolean {
  return reader.has(INDEX_ENTRY);
}

/** A bundle's image layout; every read is checked against the bundle trailer and the blob digest. */
export async function bundleLayout(reader: { openEntry(name: string): Readable | Promise<Readable> }): Promise<LayoutSource> {
  const index = parseIndex(await readSmall(await reader.openEntry(INDEX_ENTRY), MAX_MANIFEST_BYTES, INDEX_ENTRY), INDEX_ENTRY);
  return { index, openBlob: async (digest) => reader.openEntry(`${IMAGE_SLOT}/${blobPath(digest)}`) };
}

/** `fatchart images export`: the bundle's layout written to `dir`. Returns the image names in it. */
export async function exportBundleImages(bundle: string, dir: string, ctx: RunContext): Promise<string[]> {
  const reader = await BundleReader.open(bundle);
  if (!bundleHasImages(reader)) throw usageError('carries no images (it was packed without --images)', bundle);
  const layout = await bundleLayout(reader);
  const { blobs, bytes } = await exportLayout(layout, dir);
  ctx.log.info(`wrote ${blobs} blobs (${bytes} bytes) to ${dir}`);
  return layout.index.manifests.map((d) => d.annotations?.[REF_NAME_ANNOTATION] ?? d.digest);
}
