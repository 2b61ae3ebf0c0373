import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join, relative, resolve } from 'node:path';
import yaml from 'js-yaml';
import { FatchartError } from '../../errors.js';
import type { AppIdentity } from '../../model/app.js';
import { objectRef, type KubeObject } from '../../model/object.js';
import { sortObjects } from '../../model/order.js';
import type { VolumeSource } from '../../model/volume.js';
import { parseObjects } from '../../model/yaml.js';
import { packDirectory } from '../../bundle/tar-pack.js';
import type { RunContext } from '../../util/context.js';
import { cleanObject } from '../k8s/clean-rules.js';
import type { Capture, CaptureRequest, SourceDriver } from '../driver.js';
import { APP_FILE, DATA_DIR, manifestExtensions } from './layout.js';

export const manifestsSource: SourceDriver = {
  async capture(request: CaptureRequest, ctx: RunContext): Promise<Capture> {
    if (!request.location) throw new FatchartError('usage', 'pack --source manifests needs a folder');
    const root = resolve(request.location);
    const st = await stat(root).catch(() => undefined);
    if (!st?.isDirectory()) throw new FatchartError('usage', 'not a folder', { subject: request.location });

    const app = await readAppFile(root, request);
    const originals = sortObjects(await readObjects(root));
    if (originals.length === 0) throw new FatchartError('usage', 'no Kubernetes objects found (*.yaml, *.yml, *.json outside data/)', { subject: request.location });
    checkDuplicates(originals);
    const objects = originals.map((o) => cleanObject(o));
    const namespaces = new Set(originals.map((o) => o.metadata.namespace).filter(Boolean));
    const volumes = await dataVolumes(root, originals, ctx);
    ctx.log.info(`read ${originals.length} objects and ${volumes.length} volume folders from ${request.location}`);
    return {
      model: {
        app,
        source: { platform: 'manifests', ...(namespaces.size === 1 ? { namespace: [...namespaces][0] } : {}) },
        objects,
        originals,
        losses: [],
      },
      volumes,
      release: async () => {},
    };
  },
};

async function readAppFile(root: string, request: CaptureRequest): Promise<AppIdentity> {
  const file = join(root, APP_FILE);
  let declared: Partial<AppIdentity> = {};
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text !== undefined) {
    try {
      declared = (yaml.load(text, { schema: yaml.CORE_SCHEMA }) ?? {}) as Partial<AppIdentity>;
    } catch (err) {
      throw new FatchartError('usage', `not valid YAML: ${(err as Error).message.split('\n')[0]}`, { subject: file });
    }
  }
  const name = request.appName ?? declared.name ?? basename(root);
  const selector = request.selector ?? declared.selector;
  return { name, ...(selector ? { selector } : {}) };
}

/** Every manifest file outside data/, in sorted path order (the order only matters for messages). */
async function readObjects(root: string): Promise<KubeObject[]> {
  const files = (await readdir(root, { recursive: true, withFileTypes: true }))
    .filter((d) => d.isFile() && manifestExtensions.test(d.name))
    .map((d) => relative(root, join(d.parentPath, d.name)))
    .filter((rel) => rel !== APP_FILE && rel.split('/')[0] !== DATA_DIR)
    .sort();
  const objects: KubeObject[] = [];
  for (const rel of files) objects.push(...parseObjects(await readFile(join(root, rel), 'utf8'), rel));
  return objects;
}

function checkDuplicates(objects: KubeObject[]): void {
  const seen = new Set<string>();
  for (const o of objects) {
    const ref = `${o.apiVersion.split('/')[0]}/${objectRef(o)}`;
    if (seen.has(ref)) throw new FatchartError('usage', 'defined twice', { subject: objectRef(o) });
    seen.add(ref);
  }
}

/** Claim names the app declares: PVCs, and StatefulSet template claims `<template>-<set>-<ordinal>`. */
function claimsOf(objects: KubeObject[]): Map<string, KubeObject | undefined> {
  const claims = new Map<string, KubeObject | undefined>();
  for (const o of objects) {
    if (o.kind === 'PersistentVolumeClaim') claims.set(o.metadata.name, o);
    if (o.kind === 'StatefulSet') {
      const spec = o.spec as { replicas?: number; volumeClaimTemplates?: KubeObject[] };
      for (const t of spec.volumeClaimTemplates ?? []) {
        for (let i = 0; i < (spec.replicas ?? 1); i++) claims.set(`${t.metadata.name}-${o.metadata.name}-${i}`, t);
      }
    }
  }
  return claims;
}

async function dataVolumes(root: string, objects: KubeObject[], ctx: RunContext): Promise<VolumeSource[]> {
  const dataRoot = join(root, DATA_DIR);
  const dirents = await readdir(dataRoot, { withFileTypes: true }).catch(() => []);
  const claims = claimsOf(objects);
  const volumes: VolumeSource[] = [];
  for (const d of dirents.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const folder = `${DATA_DIR}/${d.name}`;
    if (!d.isDirectory()) throw new FatchartError('usage', `only folders belong in ${DATA_DIR}/ (one per claim)`, { subject: folder });
    if (!claims.has(d.name)) {
      throw new FatchartError('usage', `no PersistentVolumeClaim named "${d.name}" among the objects (claims: ${[...claims.keys()].join(', ') || 'none'})`, { subject: folder });
    }
    const claim = claims.get(d.name);
    const spec = (claim?.spec ?? {}) as { storageClassName?: string; accessModes?: string[]; resources?: { requests?: { storage?: string } } };
    const dir = join(dataRoot, d.name);
    volumes.push({
      name: d.name,
      consistency: 'offline',
      claim: {
        ...(spec.storageClassName ? { storageClassName: spec.storageClassName } : {}),
        ...(spec.accessModes ? { accessModes: spec.accessModes } : {}),
        ...(spec.resources?.requests?.storage ? { requested: String(spec.resources.requests.storage) } : {}),
      },
      open: async () => packDirectory(dir, { onSkip: (p, why) => ctx.log.warn(`${folder}/${p}: skipped: ${why}`) }),
    });
  }
  return volumes;
}
