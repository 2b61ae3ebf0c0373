import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type Docker from 'dockerode';
import { readTar } from '../bundle/tar-read.js';
import { encodeHeader, padding, ZERO_BLOCK } from '../bundle/tar-header.js';
import { platformError, unsupportedError, verificationError } from '../errors.js';
import { quietContext, type RunContext } from '../util/context.js';
import { readSmall, sha256Digest, verified } from './digest.js';
import { blobPath, verifyLayout, walkLayout, type LayoutSource, type LoadedManifest } from './layout.js';
import {
  DEFAULT_PLATFORM,
  MAX_MANIFEST_BYTES,
  MediaType,
  REF_NAME_ANNOTATION,
  parsePlatform,
  platformMatches,
  type Descriptor,
  type ImageIndex,
  type ImageManifest,
} from './media.js';
import { normalizeImageRef, parseImageRef } from './ref.js';
import { assembleSlot, configPlatform, type ImageSlot, type SlotImage } from './slot.js';

/**
 * Images from and into the local Docker Engine, for Compose projects. Pack reads `docker save`
 * (the legacy archive of Docker 20.10 and the OCI-flavoured one of later engines both carry a
 * `manifest.json` naming config and layer files), spools each file to disk once while hashing it,
 * and describes an OCI image whose config is the engine's own (so the image ID survives) and
 * whose layers are the saved tars. Unpack streams the layout as a `docker load` archive.
 */
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const LAYER_TAR = 'application/vnd.oci.image.layer.v1.tar';
const LAYER_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';

interface SaveManifest {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

interface Spooled {
  file: string;
  size: number;
  digest: string;
  gzip: boolean;
}

export interface EngineSlot extends ImageSlot {
  /** Deletes the spooled files; call once the bundle is written (or failed). */
  release(): Promise<void>;
}

export interface EngineOptions {
  /** Where `docker save` output is spooled (a temp folder is made inside). */
  workDir: string;
  platform?: string;
}

/** Spools every file of a `docker save` stream, hashing on the way; links resolve to their target. */
async function spoolSave(stream: NodeJS.ReadableStream, dir: string, subject: string): Promise<Map<string, Spooled>> {
  const files = new Map<string, Spooled>();
  const links = new Map<string, string>();
  let n = 0;
  for await (const entry of readTar(stream as Readable)) {
    const path = entry.path.replace(/^\.\//, '');
    if (entry.type === 'SymbolicLink' && entry.linkpath) links.set(path, posix.normalize(posix.join(posix.dirname(path), entry.linkpath)));
    if (entry.type !== 'File' && entry.type !== 'OldFile') continue;
    const file = join(dir, String(n++));
    const hash = createHash('sha256');
    let head: Buffer | undefined;
    const tap = new Transform({
      transform(chunk: Buffer, _enc, done) {
        head ??= chunk.subarray(0, 2);
        hash.update(chunk);
        done(null, chunk);
      },
    });
    await pipeline(Readable.from(entry.body), tap, createWriteStream(file));
    files.set(path, { file, size: entry.size, digest: `sha256:${hash.digest('hex')}`, gzip: !!head && head[0] === 0x1f && head[1] === 0x8b });
  }
  for (const [path, target] of links) {
    const found = files.get(target);
    if (found) files.set(path, found);
  }
  if (!files.has('manifest.json')) throw platformError('docker save produced no manifest.json', subject);
  return files;
}

async function engineImage(docker: Docker, name: string, dir: string, platform: string): Promise<SlotImage> {
  let save: NodeJS.ReadableStream;
  try {
    save = await docker.getImage(name).get();
  } catch (err) {
    throw platformError(`the Docker Engine cannot save it: ${(err as Error).message.split('\n')[0]}`, name, err);
  }
  const files = await spoolSave(save, dir, name);
  const file = (path: string) => {
    const f = files.get(path);
    if (!f) throw platformError(`docker save names ${path} but does not contain it`, name);
    return f;
  };
  const readJson = async (path: string) => readSmall(createReadStream(file(path).file), MAX_MANIFEST_BYTES * 4, `${name} ${path}`);
  const saved = JSON.parse((await readJson('manifest.json')).toString('utf8')) as SaveManifest[];
  if (saved.length !== 1) throw platformError(`docker save listed ${saved.length} images, expected 1`, name);
  const config = await readJson(saved[0].Config);
  const diffIds = (JSON.parse(config.toString('utf8')) as { rootfs?: { diff_ids?: string[] } }).rootfs?.diff_ids ?? [];
  if (diffIds.length !== saved[0].Layers.length) throw verificationError('config and saved layers disagree in number', name);
  const layers: Descriptor[] = saved[0].Layers.map((path, i) => {
    const f = file(path);
    // An uncompressed layer IS its diff ID: a cheap proof the engine handed over what it runs.
    if (!f.gzip && f.digest !== diffIds[i]) throw verificationError(`layer ${i} is ${f.digest}, its config says ${diffIds[i]}`, name);
    return { mediaType: f.gzip ? LAYER_GZIP : LAYER_TAR, digest: f.digest, size: f.size };
  });
  const doc: ImageManifest & { mediaType: string } = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: OCI_CONFIG, digest: sha256Digest(config), size: config.length },
    layers,
  };
  const bytes = Buffer.from(JSON.stringify(doc));
  const byDigest = new Map(layers.map((d, i) => [d.digest, file(saved[0].Layers[i]).file]));
  return {
    name,
    manifest: { bytes, digest: sha256Digest(bytes), mediaType: MediaType.ociManifest },
    doc,
    config,
    platform: configPlatform(config, platform, name),
    openLayer: async (d) => createReadStream(byDigest.get(d.digest)!),
  };
}

/** The image slot for images the local engine holds (`docker save`, spooled under workDir). */
export async function engineImageSlot(docker: Docker, refs: string[], options: EngineOptions, ctx: RunContext = quietContext()): Promise<EngineSlot> {
  const dir = await mkdtemp(join(options.workDir, 'fatchart-images-'));
  const release = () => rm(dir, { recursive: true, force: true });
  try {
    const images: SlotImage[] = [];
    for (const name of [...new Set(refs.map(normalizeImageRef))]) {
      const image = await engineImage(docker, name, dir, options.platform ?? DEFAULT_PLATFORM);
      ctx.log.info(`image ${name} → ${image.manifest.digest} (from the Docker Engine)`);
      images.push(image);
    }
    return { ...assembleSlot(images), release };
  } catch (err) {
    await release();
    throw err;
  }
}

/** The tag an image is loaded under: its own `name:tag`, or none for a digest-only reference. */
const ownTag = (ref: string) => {
  const r = parseImageRef(ref);
  return r.tag ? `${r.registry}/${r.repository}:${r.tag}` : undefined;
};

/**
 * Loads every image of a layout into the local engine (`docker load`), after verifying every blob,
 * so a corrupted bundle loads nothing. Returns `ref → what to run`: the tag it was loaded under,
 * or the image ID (`sha256:<config digest>`) when it has no tag. `tag` renames on the way in.
 */
export async function loadImagesIntoEngine(
  layout: LayoutSource,
  docker: Docker,
  options: { tag?: (ref: string) => string | undefined; platform?: string } = {},
  ctx: RunContext = quietContext(),
): Promise<Map<string, string>> {
  const walk = await walkLayout(layout);
  await verifyLayout(layout, walk);
  const manifests = new Map(walk.manifests.map((m) => [m.descriptor.digest, m]));
  const entries: SaveManifest[] = [];
  const result = new Map<string, string>();
  for (const d of layout.index.manifests) {
    const ref = d.annotations?.[REF_NAME_ANNOTATION] ?? d.digest;
    const doc = engineManifest(manifests, d.digest, options.platform ?? DEFAULT_PLATFORM, ref);
    const tag = options.tag ? options.tag(ref) : ownTag(ref);
    entries.push({ Config: blobPath(doc.config.digest), RepoTags: tag ? [tag] : [], Layers: doc.layers.map((l) => blobPath(l.digest)) });
    result.set(normalizeImageRef(ref), tag ?? doc.config.digest);
  }
  const archive = Readable.from(loadArchive(layout, walk.blobs, Buffer.from(JSON.stringify(entries))));
  let response: NodeJS.ReadableStream;
  try {
    response = await docker.loadImage(archive as unknown as NodeJS.ReadableStream);
  } catch (err) {
    throw platformError(`docker load failed: ${(err as Error).message.split('\n')[0]}`, 'Docker Engine', err);
  }
  const text = (await readSmall(response as Readable, MAX_MANIFEST_BYTES, 'docker load')).toString('utf8');
  for (const line of text.split('\n').filter(Boolean)) {
    const msg = JSON.parse(line) as { stream?: string; error?: string };
    if (msg.error) throw platformError(`docker load failed: ${msg.error}`, 'Docker Engine');
    if (msg.stream?.trim()) ctx.log.info(msg.stream.trim());
  }
  return result;
}

/** An engine runs one platform: from a multi-platform index, the matching image is loaded. */
function engineManifest(manifests: Map<string, LoadedManifest>, digest: string, platform: string, ref: string): ImageManifest {
  const m = manifests.get(digest)!;
  if (m.kind === 'manifest') return m.doc as ImageManifest;
  const want = parsePlatform(platform);
  const child = (m.doc as ImageIndex).manifests.find((c) => platformMatches(c.platform, want));
  if (!child) throw unsupportedError(`its index holds no ${platform} image to load`, ref);
  return engineManifest(manifests, child.digest, platform, ref);
}

/** A `docker load` archive: every config and layer blob (verified again as it streams), then manifest.json. */
async function* loadArchive(layout: LayoutSource, blobs: Descriptor[], manifest: Buffer): AsyncGenerator<Buffer> {
  const file = (path: string, size: number) => encodeHeader({ path, type: 'File', size, mode: 0o644, mtime: 0, uid: 0, gid: 0 });
  for (const d of blobs) {
    yield file(blobPath(d.digest), d.size);
    for await (const chunk of verified(await layout.openBlob(d.digest), d.digest, d.size, `blob ${d.digest}`)) yield chunk as Buffer;
    yield Buffer.alloc(padding(d.size));
  }
  yield file('manifest.json', manifest.length);
  yield manifest;
  yield Buffer.alloc(padding(manifest.length));
  yield ZERO_BLOCK;
  yield ZERO_BLOCK;
}
