import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { FatchartError, usageError } from '../errors.js';
import type { KubeObject } from '../model/object.js';
import { quietContext, type RunContext } from '../util/context.js';
import { bundleHasImages, bundleLayout } from './bundle.js';
import { collectImages, parseImageList, rewriteImageRefs, unmappedImages } from './collect.js';
import { REF_NAME_ANNOTATION } from './media.js';
import { pushImagesWithStats, type PushOptions, type PushStats } from './push.js';
import { normalizeImageRef } from './ref.js';

/**
 * The two calls pack and unpack make, so the actions stay glue: which images to carry for an
 * `--images` value, and push-then-repoint for `--push-images`.
 */

/** `--images=none|referenced|FILE` → the references to carry (fully qualified, sorted). */
export async function imagesToPack(spec: string | undefined, objects: KubeObject[]): Promise<string[]> {
  if (!spec || spec === 'none') return [];
  if (spec === 'referenced') return collectImages(objects);
  let text: string;
  try {
    text = await readFile(spec, 'utf8');
  } catch (err) {
    throw usageError(`--images: expected none, referenced or a readable list file (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`, spec);
  }
  return parseImageList(text);
}

export interface PushAndRewriteResult {
  objects: KubeObject[];
  map: Map<string, string>;
  stats: PushStats;
}

/**
 * Pushes the bundle's images to `registry` (verifying every blob first) and returns `objects` with
 * every image repointed at it by digest. An image the objects run that the bundle does not carry
 * is refused with a preflight error before anything is pushed: half-repointed workloads would
 * still pull from a registry the air-gapped target cannot reach.
 */
export async function pushAndRewrite(
  reader: { has(name: string): boolean; openEntry(name: string): Readable | Promise<Readable> },
  objects: KubeObject[],
  registry: string,
  options: PushOptions = {},
  ctx: RunContext = options.ctx ?? quietContext(),
): Promise<PushAndRewriteResult> {
  if (!bundleHasImages(reader)) throw usageError('--push-images: the bundle carries no images (pack it with --images)');
  const layout = await bundleLayout(reader);
  const carried = new Map<string, string>();
  for (const d of layout.index.manifests) {
    const name = d.annotations?.[REF_NAME_ANNOTATION];
    if (name) carried.set(normalizeImageRef(name), name);
  }
  const missing = unmappedImages(objects, carried);
  if (missing.length) {
    const first = missing[0];
    throw new FatchartError('preflight', `runs ${first.image}, which the bundle does not carry${missing.length > 1 ? ` (and ${missing.length - 1} more)` : ''}`, {
      subject: `${first.object} ${first.field}`,
    });
  }
  const { map, stats } = await pushImagesWithStats(layout, registry, { ...options, ctx });
  return { objects: rewriteImageRefs(objects, map), map, stats };
}
