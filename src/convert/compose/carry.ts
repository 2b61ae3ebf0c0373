import type { KubeObject } from '../../model/object.js';
import { CARRY_KEY } from '../../platforms/compose/loader/index.js';
import type { ComposeProject } from '../../platforms/compose/loader/types.js';
import type { Loss } from '../../model/loss.js';

/**
 * Lossless Kubernetes → Compose → Kubernetes: modelToCompose writes the source objects into the
 * project's `x-fatchart` extension together with a digest of the rest of the file. Converting
 * that project back returns the carried objects exactly, unless the file was edited since, in
 * which case the project is converted afresh and the report says the originals were ignored.
 */
export interface CarryBlock {
  version: 1;
  /** sourceDigest of the document this block was written into. */
  digest: string;
  objects: KubeObject[];
}

export function restoreFromCarried(project: ComposeProject): { objects: KubeObject[]; losses: Loss[] } | undefined {
  const block = project.extensions[CARRY_KEY] as CarryBlock | undefined;
  if (!block || block.version !== 1 || !Array.isArray(block.objects)) return undefined;
  if (block.digest === project.sourceDigest) return { objects: block.objects, losses: [] };
  return undefined;
}

export function carriedButStale(project: ComposeProject): Loss | undefined {
  const block = project.extensions[CARRY_KEY] as CarryBlock | undefined;
  if (!block || block.digest === project.sourceDigest) return undefined;
  return {
    severity: 'approximated',
    subject: `project/${project.name}`,
    field: CARRY_KEY,
    message: 'the project was edited after fatchart wrote it; the carried original objects were ignored and the project converted afresh',
    fix: 'remove the x-fatchart block to silence this',
  };
}
