import type { BundleReader } from '../bundle/reader.js';
import type { CheckpointSlot, ImageSlot } from '../bundle/writer.js';
import { checkpointSlots, importCheckpointArchive } from '../checkpoint/index.js';
import { usageError } from '../errors.js';
import {
  bundleHasImages,
  bundleLayout,
  defaultCredentials,
  engineImageSlot,
  imagesToPack,
  loadImagesIntoEngine,
  normalizeImageRef,
  pushAndRewrite,
  resolveImageSlot,
  rewriteImageRefs,
} from '../images/index.js';
import type { KubeObject } from '../model/object.js';
import type { PlatformName } from '../model/app.js';
import type { Capture } from '../platforms/driver.js';
import { engineClient } from '../platforms/compose/engine/index.js';
import type { RunContext } from '../util/context.js';

/**
 * The optional parts of a bundle beyond blueprints and volumes: which images and checkpoints
 * pack stores (and from where), and what unpack does with carried images before the target
 * driver runs. Kept out of the actions so they stay a sequence of steps.
 */

export interface SlotRequest {
  /** `--images none|referenced|FILE`. */
  images?: string;
  /** `--platform os/arch[/variant]` picked from multi-arch indexes. */
  platform?: string;
  insecureRegistries?: string[];
  /** `--checkpoint-archive FILE…`: existing Podman/CRI-O exports, stored as they are. */
  checkpointArchives?: string[];
}

export interface PackSlots {
  images?: ImageSlot;
  checkpoints?: CheckpointSlot[];
  /** Deletes spooled image files; call once the bundle is written (or failed). */
  release(): Promise<void>;
}

/**
 * Images come from the engine that runs the app when the source names one (a live Compose
 * project: its images may never have been in a registry), otherwise from their registries with
 * the app's imagePullSecrets and the Docker config as credentials. Call before Secrets are
 * dropped by --exclude-secrets: their pull credentials are still needed here.
 */
export async function packSlots(request: SlotRequest, capture: Capture, workDir: string, ctx: RunContext): Promise<PackSlots> {
  const slots: PackSlots = { release: async () => {} };
  const archives = await Promise.all((request.checkpointArchives ?? []).map((f) => importCheckpointArchive(f)));
  const files = [...(capture.checkpoints ?? []), ...archives];
  if (files.length) slots.checkpoints = checkpointSlots(files);
  for (const c of files) ctx.log.info(`checkpoint ${c.container}: ${c.size} bytes (${c.facts.engine ?? 'unknown engine'})`);

  const refs = await imagesToPack(request.images, capture.model.objects);
  if (!refs.length) {
    if (request.images && request.images !== 'none') ctx.log.warn(`--images ${request.images}: the app references no images`);
    return slots;
  }
  if (capture.imageEngine) {
    const slot = await engineImageSlot(capture.imageEngine, refs, { workDir, platform: request.platform }, ctx);
    slots.images = slot;
    slots.release = () => slot.release();
  } else {
    slots.images = await resolveImageSlot(
      refs,
      { platform: request.platform, insecureRegistries: request.insecureRegistries, credentials: await defaultCredentials(capture.model.objects), signal: ctx.signal },
      ctx,
    );
  }
  return slots;
}

export interface ImageDelivery {
  /** `--push-images REGISTRY`: push every carried image there and repoint the blueprints by digest. */
  pushImages?: string;
  insecureRegistries?: string[];
  /** `--load-images` (Compose target): load the images into the local engine instead. */
  loadImages?: boolean;
}

/**
 * Unpack's image step, before the target driver runs: returns the blueprints to hand it. A push
 * verifies every blob before the first upload and refuses when a workload runs an image the
 * bundle does not carry; a load verifies every blob before the engine sees one.
 */
export async function deliverImages(
  reader: BundleReader,
  objects: KubeObject[],
  target: PlatformName,
  request: ImageDelivery,
  ctx: RunContext,
): Promise<KubeObject[]> {
  if (request.pushImages && request.loadImages) throw usageError('--push-images and --load-images exclude each other');
  if (request.pushImages) {
    const credentials = await defaultCredentials();
    const { objects: rewritten, map, stats } = await pushAndRewrite(reader, objects, request.pushImages, { credentials, insecureRegistries: request.insecureRegistries, signal: ctx.signal }, ctx);
    ctx.log.info(`pushed ${map.size} images to ${request.pushImages}: ${stats.uploaded} blobs uploaded (${stats.bytes} bytes), ${stats.mounted} mounted, ${stats.present} already there`);
    return rewritten;
  }
  if (request.loadImages) {
    if (target !== 'compose') throw usageError('--load-images is for --target compose; use --push-images REGISTRY for cluster targets');
    if (!bundleHasImages(reader)) throw usageError('--load-images: the bundle carries no images (pack it with --images)');
    const loaded = await loadImagesIntoEngine(await bundleLayout(reader), engineClient(), {}, ctx);
    ctx.log.info(`loaded ${loaded.size} images into the Docker Engine`);
    // Only images loaded under another name than they had (digest-only references get the image
    // ID) change the blueprints; the rest keep their text so the recorded project stays in use.
    const renamed = new Map([...loaded].filter(([ref, runs]) => runs.startsWith('sha256:') || normalizeImageRef(runs) !== ref));
    return renamed.size ? rewriteImageRefs(objects, renamed) : objects;
  }
  return objects;
}
