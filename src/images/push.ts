import { Transform } from 'node:stream';
import { verificationError } from '../errors.js';
import { quietContext, type RunContext } from '../util/context.js';
import { RegistryClient, type ClientOptions } from './client.js';
import { verified } from './digest.js';
import { verifyLayout, walkLayout, type LayoutSource, type LoadedManifest } from './layout.js';
import { MediaType, REF_NAME_ANNOTATION, type Descriptor, type ImageIndex, type ImageManifest } from './media.js';
import { formatImageRef, parseImageRef, parseRegistryTarget, targetRepository } from './ref.js';

/**
 * The unpack side: pushes every image of a layout to one registry and answers where each went,
 * by digest. Everything is verified first — every manifest, config and layer is streamed through
 * its digest check — so a corrupted bundle is refused before the target registry sees a request.
 * Blobs the registry already has (HEAD answers 200) are not uploaded, so a repeated push sends
 * only HEADs and manifest PUTs.
 */
export interface PushOptions extends ClientOptions {
  ctx?: RunContext;
}

export interface PushStats {
  /** Blobs whose bytes were sent. */
  uploaded: number;
  /** Blobs linked from another repository of the same registry (shared layers): no bytes sent. */
  mounted: number;
  /** Blobs the repository already had. */
  present: number;
  bytes: number;
}

/** Returns `fully qualified original ref → REGISTRY/repo@sha256:…` for every image in the layout. */
export async function pushImages(layout: LayoutSource, registry: string, options: PushOptions = {}): Promise<Map<string, string>> {
  return (await pushImagesWithStats(layout, registry, options)).map;
}

export async function pushImagesWithStats(
  layout: LayoutSource,
  registry: string,
  options: PushOptions = {},
): Promise<{ map: Map<string, string>; stats: PushStats }> {
  const ctx = options.ctx ?? quietContext();
  const target = parseRegistryTarget(registry);
  const images = layout.index.manifests.map((d) => {
    const name = d.annotations?.[REF_NAME_ANNOTATION];
    if (!name) throw verificationError(`index.json entry ${d.digest} has no ${REF_NAME_ANNOTATION}`, 'images/index.json');
    return { descriptor: d, ref: parseImageRef(name) };
  });

  const walk = await walkLayout(layout);
  await verifyLayout(layout, walk);
  ctx.log.info(`verified ${walk.manifests.length + walk.blobs.length} image blobs`);

  const client = new RegistryClient(target.host, { ...options, signal: options.signal ?? ctx.signal });
  const manifests = new Map(walk.manifests.map((m) => [m.descriptor.digest, m]));
  const stats: PushStats = { uploaded: 0, mounted: 0, present: 0, bytes: 0 };
  const holders = new Map<string, string>();
  const map = new Map<string, string>();
  for (const { descriptor, ref } of images) {
    const repo = targetRepository(target, ref);
    await pushTree(client, repo, manifests.get(descriptor.digest)!, { manifests, layout, stats, holders, ctx });
    // Tagging keeps the image findable by humans; workloads are pointed at the digest.
    if (ref.tag) await putManifest(client, repo, ref.tag, manifests.get(descriptor.digest)!);
    const pushed = `${target.host}/${repo}@${descriptor.digest}`;
    map.set(formatImageRef(ref), pushed);
    ctx.log.info(`image ${formatImageRef(ref)} → ${pushed}`);
  }
  ctx.log.info(`pushed ${stats.uploaded} blobs (${stats.bytes} bytes), mounted ${stats.mounted}, ${stats.present} already present`);
  return { map, stats };
}

interface PushRun {
  manifests: Map<string, LoadedManifest>;
  layout: LayoutSource;
  stats: PushStats;
  /** digest → a repository of the target known to hold it, for cross-repository mounts. */
  holders: Map<string, string>;
  ctx: RunContext;
}

/** Children first: a registry refuses a manifest whose blobs or sub-manifests it lacks. */
async function pushTree(client: RegistryClient, repo: string, node: LoadedManifest, run: PushRun): Promise<void> {
  if (node.kind === 'index') {
    for (const child of (node.doc as ImageIndex).manifests) await pushTree(client, repo, run.manifests.get(child.digest)!, run);
  } else {
    const m = node.doc as ImageManifest;
    for (const d of [m.config, ...m.layers]) await pushBlob(client, repo, d, run);
  }
  await putManifest(client, repo, node.descriptor.digest, node);
}

async function pushBlob(client: RegistryClient, repo: string, d: Descriptor, run: PushRun): Promise<void> {
  const { stats, layout } = run;
  if (await client.blobExists(repo, d.digest)) {
    stats.present++;
    run.holders.set(d.digest, repo);
    return;
  }
  const task = run.ctx.progress.start(`push ${d.digest.slice(7, 19)}`, d.size);
  const open = async () => {
    const content = verified(await layout.openBlob(d.digest), d.digest, d.size, `blob ${d.digest}`);
    const progress = new Transform({
      transform(chunk: Buffer, _enc, done) {
        task.advance(chunk.length);
        done(null, chunk);
      },
    });
    content.on('error', (err) => progress.destroy(err));
    return content.pipe(progress);
  };
  const how = await client.uploadBlob(repo, d.digest, d.size, open, run.holders.get(d.digest));
  task.done(how);
  run.holders.set(d.digest, repo);
  if (how === 'mounted') {
    stats.mounted++;
  } else {
    stats.uploaded++;
    stats.bytes += d.size;
  }
}

async function putManifest(client: RegistryClient, repo: string, reference: string, node: LoadedManifest): Promise<void> {
  const declared = (node.doc as { mediaType?: string }).mediaType ?? node.descriptor.mediaType;
  const mediaType = declared || (node.kind === 'index' ? MediaType.ociIndex : MediaType.ociManifest);
  await client.putManifest(repo, reference, mediaType, node.bytes);
}
