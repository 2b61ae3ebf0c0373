import type { KubeObject } from '../../../model/object.js';
import { podSpecOf } from '../graph.js';

/**
 * Images of the containers that mount a claim: the mover's fallback when its own image cannot
 * be pulled (air-gapped clusters, a registry the nodes cannot reach). They are on the node
 * already at pack time and pullable by the target at unpack (the app runs them), but they may
 * lack `sh`/`tar` (distroless), so they come second to the configured mover image.
 */
export function claimImages(objects: readonly KubeObject[], claim: string): string[] {
  const images = new Set<string>();
  for (const o of objects) {
    const spec = podSpecOf(o);
    if (!spec) continue;
    const names = new Set<string>(
      (spec.volumes ?? []).filter((v: any) => v.persistentVolumeClaim?.claimName === claim).map((v: any) => v.name),
    );
    // StatefulSet claims are named <template>-<set>-<ordinal>.
    for (const t of (o as any).spec?.volumeClaimTemplates ?? []) {
      if (new RegExp(`^${escape(`${t.metadata.name}-${o.metadata.name}-`)}\\d+$`).test(claim)) names.add(t.metadata.name);
    }
    for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
      if (c.image && (c.volumeMounts ?? []).some((m: any) => names.has(m.name))) images.add(c.image);
    }
  }
  return [...images];
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
