import { platformError } from '../errors.js';
import { quietContext, type RunContext } from '../util/context.js';
import { RegistryClient, type ClientOptions, type FetchedManifest } from './client.js';
import { readSmall, verified } from './digest.js';
import { DEFAULT_PLATFORM, checkDescriptor, formatPlatform, manifestKind, parsePlatform, platformMatches, type ImageIndex, type ImageManifest, type Platform } from './media.js';
import { formatImageRef, normalizeImageRef, parseImageRef, type ImageRef } from './ref.js';
import { assembleSlot, configPlatform, type ImageSlot } from './slot.js';

/**
 * The pack side for registries: resolves each reference to one platform's manifest (tags to
 * digests, multi-arch indexes to `--platform`) and describes the image slot (see slot.ts).
 * Manifests and configs are fetched and verified here; layers are streamed from the registry
 * only when the bundle writer opens their entries, so each crosses the network once.
 */
export interface PullOptions extends ClientOptions {
  /** `os/arch[/variant]` picked from multi-arch indexes; default linux/amd64. */
  platform?: string;
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

async function resolveOne(text: string, clients: (registry: string) => RegistryClient, platform: string): Promise<Resolved> {
  const ref = parseImageRef(text);
  const name = formatImageRef(ref);
  const client = clients(ref.registry);
  let manifest = await client.getManifest(ref.repository, ref.digest ?? ref.tag!);
  let doc = JSON.parse(manifest.bytes.toString('utf8')) as ImageIndex | ImageManifest;
  let listed: Platform | undefined;
  if (manifestKind(doc, manifest.mediaType) === 'index') {
    const want = parsePlatform(platform);
    if (!Array.isArray((doc as ImageIndex).manifests)) throw platformError('its index lists no manifests', name);
    const match = (doc as ImageIndex).manifests.find((d) => platformMatches(d.platform, want));
    if (match) checkDescriptor(match, name);
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
  for (const d of [image.config, ...image.layers]) checkDescriptor(d, name);
  const subject = `${name} config ${image.config.digest}`;
  const config = await readSmall(
    verified(await client.openBlob(ref.repository, image.config.digest), image.config.digest, image.config.size, subject),
    MAX_CONFIG_BYTES,
    subject,
  );
  return { ref, name, manifest, doc: image, config, platform: configPlatform(config, platform, name, listed) };
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

  return assembleSlot(
    resolved.map((r) => ({
      name: r.name,
      manifest: r.manifest,
      doc: r.doc,
      config: r.config,
      platform: r.platform,
      openLayer: (d) => clients(r.ref.registry).openBlob(r.ref.repository, d.digest),
    })),
  );
}
