import type { KubeObject } from '../../../model/object.js';
import type { VolumeRecord } from '../../../bundle/manifest.js';
import { parseQuantity } from '../quantity.js';

/**
 * Target claim sizes. A claim that declares no size (converted from Compose, where volumes have
 * none) gets the measured data plus headroom; a declared size smaller than the data it must
 * hold is raised the same way (the restore could not succeed otherwise). Headroom: 20% plus
 * 64 MiB for filesystem overhead and growth, rounded up to whole MiB.
 */
export const headroom = { factor: 1.2, extraBytes: 64 << 20 };

export function neededBytes(dataBytes: number): number {
  return Math.ceil((dataBytes * headroom.factor + headroom.extraBytes) / 2 ** 20) * 2 ** 20;
}

export interface SizeChange {
  claim: string;
  from?: string;
  to: string;
}

/** Returns the objects with claim requests fitted to the bundle's volumes, and what changed. */
export function fitClaimSizes(objects: readonly KubeObject[], volumes: readonly VolumeRecord[]): { objects: KubeObject[]; changes: SizeChange[] } {
  const data = new Map(volumes.map((v) => [v.name, v.stats.dataBytes]));
  const changes: SizeChange[] = [];
  const out = objects.map((o) => {
    if (o.kind !== 'PersistentVolumeClaim' || !data.has(o.metadata.name)) return o;
    const requested: string | undefined = (o as any).spec?.resources?.requests?.storage;
    const need = neededBytes(data.get(o.metadata.name)!);
    let have: number | undefined;
    try {
      have = requested === undefined ? undefined : parseQuantity(requested);
    } catch {
      have = undefined;
    }
    if (have !== undefined && have >= data.get(o.metadata.name)!) return o;
    const to = `${need / 2 ** 20}Mi`;
    changes.push({ claim: o.metadata.name, from: requested, to });
    const copy = structuredClone(o) as any;
    copy.spec ??= {};
    copy.spec.resources ??= {};
    copy.spec.resources.requests = { ...copy.spec.resources.requests, storage: to };
    return copy as KubeObject;
  });
  return { objects: out, changes };
}
