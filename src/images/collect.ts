import { objectRef, type KubeObject } from '../model/object.js';
import { podSpecPaths } from '../model/resources.js';
import { normalizeImageRef } from './ref.js';

/**
 * Finds every image an app runs, and rewrites them. Both walk the same table of places, so
 * whatever is collected at pack time is exactly what gets repointed at unpack time.
 */


const CONTAINER_LISTS = ['initContainers', 'containers', 'ephemeralContainers'] as const;

/** One place an image is named. `set` writes a new reference back to that place. */
export interface ImageUse {
  /** The reference as written (or as an ImageStream resolves it). */
  image: string;
  /** `Deployment/web`, for messages. */
  object: string;
  /** `spec.template.spec.containers[0].image`. */
  field: string;
  set(ref: string): void;
}

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => !!v && typeof v === 'object' && !Array.isArray(v);
const list = (v: unknown): Json[] => (Array.isArray(v) ? v.filter(isObj) : []);

function dig(o: unknown, path: readonly string[]): Json | undefined {
  let cur: unknown = o;
  for (const key of path) cur = isObj(cur) ? cur[key] : undefined;
  return isObj(cur) ? cur : undefined;
}

function containerUses(o: KubeObject, uses: ImageUse[]): void {
  const path = podSpecPaths[o.kind];
  const spec = path && dig(o, path);
  if (!spec) return;
  for (const listName of CONTAINER_LISTS) {
    list(spec[listName]).forEach((c, i) => {
      if (typeof c.image !== 'string' || !c.image.trim()) return;
      uses.push({
        image: c.image,
        object: objectRef(o),
        field: `${path.join('.')}.${listName}[${i}].image`,
        set: (ref) => (c.image = ref),
      });
    });
  }
}

/**
 * OpenShift ImageStreams name external images in `spec.tags[].from` (kind DockerImage) and
 * record what a tag resolved to in `status.tags[].items[0].dockerImageReference`.
 */
function imageStreamUses(o: KubeObject, uses: ImageUse[]): void {
  if (o.kind !== 'ImageStream') return;
  list(dig(o, ['spec'])?.tags).forEach((t, i) => {
    const from = isObj(t.from) ? t.from : undefined;
    if (!from || from.kind !== 'DockerImage' || typeof from.name !== 'string') return;
    uses.push({ image: from.name, object: objectRef(o), field: `spec.tags[${i}].from.name`, set: (ref) => (from.name = ref) });
  });
}

/** `name:tag` of an ImageStreamTag → the image its ImageStream resolved it to, if known. */
function imageStreamResolver(objects: KubeObject[]): (namespace: string | undefined, istag: string) => string | undefined {
  const streams = new Map<string, Json>();
  for (const o of objects) if (o.kind === 'ImageStream') streams.set(`${o.metadata.namespace ?? ''}/${o.metadata.name}`, o as Json);
  return (namespace, istag) => {
    const [name, tag = 'latest'] = istag.split(':');
    const stream = streams.get(`${namespace ?? ''}/${name}`);
    if (!stream) return undefined;
    const status = list(dig(stream, ['status'])?.tags).find((t) => t.tag === tag);
    const resolved = list(status?.items)[0]?.dockerImageReference;
    if (typeof resolved === 'string') return resolved;
    const from = list(dig(stream, ['spec'])?.tags).find((t) => t.name === tag)?.from;
    return isObj(from) && from.kind === 'DockerImage' && typeof from.name === 'string' ? from.name : undefined;
  };
}

/**
 * A DeploymentConfig's imageChange trigger fills its containers' images from an ImageStreamTag;
 * the template's own `image` is then blank or stale, so the trigger's resolution is what runs.
 */
function deploymentConfigUses(o: KubeObject, resolve: ReturnType<typeof imageStreamResolver>, uses: ImageUse[]): void {
  if (o.kind !== 'DeploymentConfig') return;
  const spec = dig(o, podSpecPaths.DeploymentConfig);
  const containers = list(spec?.containers);
  for (const trigger of list(dig(o, ['spec'])?.triggers)) {
    const params = isObj(trigger.imageChangeParams) ? trigger.imageChangeParams : undefined;
    if (trigger.type !== 'ImageChange' || !params) continue;
    const from = isObj(params.from) ? params.from : {};
    const namespace = typeof from.namespace === 'string' ? from.namespace : o.metadata.namespace;
    const resolved =
      (typeof params.lastTriggeredImage === 'string' && params.lastTriggeredImage.trim()) ||
      (from.kind === 'ImageStreamTag' && typeof from.name === 'string' ? resolve(namespace, from.name) : undefined);
    if (!resolved) continue;
    const names = Array.isArray(params.containerNames) ? params.containerNames : [];
    for (const [j, c] of containers.entries()) {
      if (!names.includes(c.name)) continue;
      // The trigger's answer replaces whatever the template said, so the container entry found by
      // containerUses() for the same field is superseded here.
      const field = `spec.template.spec.containers[${j}].image`;
      const existing = uses.findIndex((u) => u.object === objectRef(o) && u.field === field);
      if (existing >= 0) uses.splice(existing, 1);
      uses.push({
        image: resolved,
        object: objectRef(o),
        field,
        set: (ref) => {
          c.image = ref;
          params.lastTriggeredImage = ref;
        },
      });
    }
  }
}

/** Every place an image is named in `objects`, in object order. */
export function findImageUses(objects: KubeObject[]): ImageUse[] {
  const resolve = imageStreamResolver(objects);
  const uses: ImageUse[] = [];
  for (const o of objects) {
    containerUses(o, uses);
    imageStreamUses(o, uses);
    deploymentConfigUses(o, resolve, uses);
  }
  return uses;
}

/** The distinct images `objects` run, fully qualified, sorted. */
export function collectImages(objects: KubeObject[]): string[] {
  return [...new Set(findImageUses(objects).map((u) => normalizeImageRef(u.image)))].sort();
}

/**
 * Returns copies of `objects` with every image found in `map` (keyed by fully qualified
 * reference, as pushImages returns it) replaced by its new reference. Images not in the map are
 * left as they are; the caller decides whether that is an error (see `unmappedImages`).
 */
export function rewriteImageRefs(objects: KubeObject[], map: ReadonlyMap<string, string>): KubeObject[] {
  const copies = structuredClone(objects);
  for (const use of findImageUses(copies)) {
    const target = map.get(normalizeImageRef(use.image));
    if (target) use.set(target);
  }
  return copies;
}

/** Images named in `objects` that `map` has no entry for (`Deployment/web spec…image: nginx`). */
export function unmappedImages(objects: KubeObject[], map: ReadonlyMap<string, string>): ImageUse[] {
  return findImageUses(objects).filter((u) => !map.has(normalizeImageRef(u.image)));
}

/** An `--images=FILE` list: one reference per line, `#` comments and blank lines ignored. */
export function parseImageList(text: string): string[] {
  const refs = text
    .split('\n')
    .map((line) => line.replace(/#.*/, '').trim())
    .filter(Boolean);
  return [...new Set(refs.map(normalizeImageRef))].sort();
}
