import { Readable } from 'node:stream';
import { platformError } from '../errors.js';
import { digestHex, sha256Digest, verified } from './digest.js';
import { IMAGE_SLOT, INDEX_FILE, OCI_LAYOUT_FILE, OCI_LAYOUT_TEXT, blobPath, layoutIndex, serializeIndex } from './layout.js';
import {
  MediaType,
  REF_NAME_ANNOTATION,
  formatPlatform,
  parsePlatform,
  platformMatches,
  type Descriptor,
  type ImageManifest,
  type Platform,
} from './media.js';

/**
 * The bundle's image slot, whatever the images came from (a registry, the local Docker Engine):
 * oci-layout first, every blob once however many images share it, index.json last with one
 * entry per image named by `org.opencontainers.image.ref.name`.
 *
 * Manifests and configs are small and already verified when a slot is assembled, so they are
 * held in memory. Layers are not: their size and digest come from the verified manifest, and
 * each entry's `open()` streams the layer through a digest check, so a layer is read once, never
 * held in memory, and wrong bytes fail the stream (and with it the bundle write, which the writer
 * discards).
 */
/** Shaped as the bundle writer's SlotEntry, so a slot is handed over as it is. */
export interface ImageSlotEntry {
  /** `images/oci-layout`, `images/index.json`, `images/blobs/sha256/<hex>`. */
  entry: string;
  size: number;
  /** Hex sha256 of the entry's bytes. */
  sha256: string;
  open(): Promise<Readable>;
}

export interface PackedImage {
  /** Fully qualified reference as resolved (`docker.io/library/postgres:16`). */
  ref: string;
  /** The platform manifest's digest: what the target will run. */
  digest: string;
  platform: string;
  /** Manifest + config + layers, counting shared layers in each image that uses them. */
  size: number;
}

/** The manifest's `images` section (`refs`) and the entries of the `images/` slot. */
export interface ImageSlot {
  refs: PackedImage[];
  entries: ImageSlotEntry[];
}

/** One image ready to go into the slot. */
export interface SlotImage {
  /** Fully qualified reference. */
  name: string;
  manifest: { bytes: Buffer; digest: string; mediaType: string };
  doc: ImageManifest;
  /** The config blob's bytes, already verified against `doc.config`. */
  config: Buffer;
  platform: string;
  /** A layer's raw bytes; the slot verifies them. */
  openLayer(d: Descriptor): Promise<Readable>;
}

const slotPath = (digest: string) => `${IMAGE_SLOT}/${blobPath(digest)}`;

function bufferEntry(entry: string, bytes: Buffer): ImageSlotEntry {
  return { entry, size: bytes.length, sha256: digestHex(sha256Digest(bytes), entry), open: async () => Readable.from([bytes]) };
}

export function assembleSlot(images: SlotImage[]): ImageSlot {
  const entries = new Map<string, ImageSlotEntry>();
  const packed: PackedImage[] = [];
  const indexManifests: Descriptor[] = [];
  for (const r of images) {
    const path = slotPath(r.manifest.digest);
    if (!entries.has(path)) entries.set(path, bufferEntry(path, r.manifest.bytes));
    const configPath = slotPath(r.doc.config.digest);
    if (!entries.has(configPath)) entries.set(configPath, bufferEntry(configPath, r.config));
    for (const d of r.doc.layers) {
      const blob = slotPath(d.digest);
      if (entries.has(blob)) continue;
      entries.set(blob, {
        entry: blob,
        size: d.size,
        sha256: digestHex(d.digest, blob),
        open: async () => verified(await r.openLayer(d), d.digest, d.size, `${r.name} blob ${d.digest}`),
      });
    }
    indexManifests.push({
      mediaType: r.doc.mediaType ?? r.manifest.mediaType ?? MediaType.ociManifest,
      digest: r.manifest.digest,
      size: r.manifest.bytes.length,
      platform: parsePlatform(r.platform),
      annotations: { [REF_NAME_ANNOTATION]: r.name },
    });
    const size = r.manifest.bytes.length + r.doc.config.size + r.doc.layers.reduce((n, l) => n + l.size, 0);
    packed.push({ ref: r.name, digest: r.manifest.digest, platform: r.platform, size });
  }
  const index = Buffer.from(serializeIndex(layoutIndex(indexManifests)));
  return {
    entries: [
      bufferEntry(`${IMAGE_SLOT}/${OCI_LAYOUT_FILE}`, Buffer.from(OCI_LAYOUT_TEXT)),
      ...entries.values(),
      bufferEntry(`${IMAGE_SLOT}/${INDEX_FILE}`, index),
    ],
    refs: packed,
  };
}

/**
 * The config says which platform an image really is (an index entry or a single-platform tag
 * could be wrong or absent): an arm64-only image is refused for an amd64 target here, at pack
 * time, instead of failing to start on arrival.
 */
export function configPlatform(config: Buffer, wanted: string, name: string, listed?: Platform): string {
  const doc = JSON.parse(config.toString('utf8')) as { os?: string; architecture?: string; variant?: string };
  if (!doc.os || !doc.architecture) return listed ? formatPlatform(listed) : wanted;
  const have = { os: doc.os, architecture: doc.architecture, variant: doc.variant };
  if (!platformMatches(have, { ...parsePlatform(wanted), variant: undefined })) {
    throw platformError(`image is ${formatPlatform(have)}, not ${wanted}`, name);
  }
  // An index entry often names the variant the config leaves out (arm64/v8): the more precise wins.
  return formatPlatform(listed ?? have);
}

