import { Readable } from 'node:stream';
import { platformError } from '../errors.js';
import { quietContext, type RunContext } from '../util/context.js';
import { RegistryClient, type ClientOptions, type FetchedManifest } from './client.js';
import { digestHex, readSmall, sha256Digest, verified } from './digest.js';
import { IMAGE_SLOT, INDEX_FILE, OCI_LAYOUT_FILE, OCI_LAYOUT_TEXT, blobPath, layoutIndex, serializeIndex } from './layout.js';
import {
  DEFAULT_PLATFORM,
  MediaType,
  REF_NAME_ANNOTATION,
  formatPlatform,
  manifestKind,
  parsePlatform,
  platformMatches,
  type Descriptor,
  type ImageIndex,
  type ImageManifest,
  type Platform,
} from './media.js';
import { formatImageRef, normalizeImageRef, parseImageRef, type ImageRef } from './ref.js';

/**
 * The pack side: resolves each reference to one platform's manifest and describes the bundle's
 * image slot as entries the bundle writer streams in.
 *
 * Manifests (small, bounded) are fetched and verified up front. Configs and layers are NOT fetched
 * here: their size and digest come from the verified manifest that names them, and each entry's
 * `open()` streams the blob from the registry through a digest check, so every layer crosses the
 * network once and is never held in memory. A registry serving wrong bytes makes that stream fail,
 * which fails the bundle write (the writer writes to a temp file and discards it).
 */
export interface PullOptions extends ClientOptions {
  /** `os/arch[/variant]` picked from multi-arch indexes; default linux/amd64. */
  platform?: string;
}

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

interface Resolved {
  ref: ImageRef;
  name: string;
  manifest: FetchedManifest;
  doc: ImageManifest;
  config: Buffer;
  platform: string;
}

/** Configs are small JSON documents; a larger one is refused rather than buffered. */
const MAX_CONFIG_BYTES = 16 * 1024 * 1024;

const slotPath = (digest: string) => `${IMAGE_SLOT}/${blobPath(digest)}`;

function bufferEntry(entry: string, bytes: Buffer): ImageSlotEntry {
  return { entry, size: bytes.length, sha256: digestHex(sha256Digest(bytes), entry), open: async () => Readable.from([bytes]) };
}

async function resolveOne(text: string, clients: (registry: string) => RegistryClient, platform: string): Promise<Resolved> {
  const ref = parseImageRef(text);
  const name = formatImageRef(ref);
  const client = clients(ref.registry);
  let manifest = await client.getManifest(ref.repository, ref.digest ?? ref.tag!);
  let doc = JSON.parse(manifest.bytes.toString('utf8')) as ImageIndex | ImageManifest;
  let listed: Platform | undefined;
  if (manifestKind(doc, manifest.mediaType) === 'index') {
    const want = parsePlatform(platform);
    const match = (doc as ImageIndex).manifests.find((d) => platformMatches(d.platform, want));
    if (!match) {
      const offered = (doc as ImageIndex).manifests.map((d) => (d.platform ? formatPlatform(d.platform) : '?')).join(', ');
      throw platformError(`no ${platform} image in its index (offers ${offered || 'nothing'})`, name);
    }
    listed = match.platform;
    manifest = await client.getManifest(ref.repository, match.digest);
    doc = JSON.parse(manifest.bytes.toString('utf8')) as ImageManifest;
    if (manifestKind(doc, manifest.mediaType) === 'index') throw platformError('index nested in an index is not supported', name);
  }
  const image = doc as ImageManifest;
  if (!image.config || !Array.isArray(image.layers)) throw platformError('manifest has no config or layers', name);
  const subject = `${name} config ${image.config.digest}`;
  const config = await readSmall(
    verified(await client.openBlob(ref.repository, image.config.digest), image.config.digest, image.config.size, subject),
    MAX_CONFIG_BYTES,
    subject,
  );
  return { ref, name, manifest, doc: image, config, platform: configPlatform(config, platform, name, listed) };
}

/**
 * The config says which platform an image really is (an index entry or a single-platform tag
 * could be wrong or absent): an arm64-only image is refused for an amd64 target here, at pack
 * time, instead of failing to start on arrival.
 */
function configPlatform(config: Buffer, wanted: string, name: string, listed?: Platform): string {
  const doc = JSON.parse(config.toString('utf8')) as { os?: string; architecture?: string; variant?: string };
  if (!doc.os || !doc.architecture) return listed ? formatPlatform(listed) : wanted;
  const have = { os: doc.os, architecture: doc.architecture, variant: doc.variant };
  if (!platformMatches(have, { ...parsePlatform(wanted), variant: undefined })) {
    throw platformError(`image is ${formatPlatform(have)}, not ${wanted}`, name);
  }
  // An index entry often names the variant the config leaves out (arm64/v8): the more precise wins.
  return formatPlatform(listed ?? have);
}

/** Resolves `refs` and describes the image slot: oci-layout, every blob once, index.json last. */
export async function resolveImageSlot(refs: string[], options: PullOptions = {}, ctx: RunContext = quietContext()): Promise<ImageSlot> {
  const platform = options.platform ?? DEFAULT_PLATFORM;
  const clientByRegistry = new Map<string, RegistryClient>();
  const clients = (registry: string) => {
    let c = clientByRegistry.get(registry);
    if (!c) clientByRegistry.set(registry, (c = new RegistryClient(registry, { ...options, signal: options.signal ?? ctx.signal })));
    return c;
  };
  const resolved: Resolved[] = [];
  // `nginx:1.25` and `docker.io/library/nginx:1.25` are one image: resolve and name it once.
  for (const text of [...new Set(refs.map(normalizeImageRef))]) {
    const r = await resolveOne(text, clients, platform);
    ctx.log.info(`image ${r.name} → ${r.manifest.digest} (${r.platform})`);
    resolved.push(r);
  }

  const entries = new Map<string, ImageSlotEntry>();
  const packed: PackedImage[] = [];
  const indexManifests: Descriptor[] = [];
  for (const r of resolved) {
    const path = slotPath(r.manifest.digest);
    if (!entries.has(path)) entries.set(path, bufferEntry(path, r.manifest.bytes));
    const configPath = slotPath(r.doc.config.digest);
    if (!entries.has(configPath)) entries.set(configPath, bufferEntry(configPath, r.config));
    for (const d of r.doc.layers) {
      const blob = slotPath(d.digest);
      if (entries.has(blob)) continue;
      const client = clients(r.ref.registry);
      entries.set(blob, {
        entry: blob,
        size: d.size,
        sha256: digestHex(d.digest, blob),
        open: async () => verified(await client.openBlob(r.ref.repository, d.digest), d.digest, d.size, `${r.name} blob ${d.digest}`),
      });
    }
    const mediaType = r.doc.mediaType ?? r.manifest.mediaType ?? MediaType.ociManifest;
    indexManifests.push({
      mediaType,
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
