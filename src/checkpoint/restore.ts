import type { Readable } from 'node:stream';
import type { CheckpointRecord } from '../bundle/manifest.js';
import type { RunContext } from '../util/context.js';
import { restoreDockerCheckpoint, dockerHostFacts, type DockerHost, type DockerRestoreOptions, type DockerRestoreResult } from './docker.js';
import type { CheckpointFacts } from './facts.js';
import { planCheckpointRestore, type CheckpointDecision, type CheckpointFallback } from './preflight.js';

/** What restore needs of a bundle: the manifest's checkpoint records and verified entry streams (BundleReader has both). */
export interface CheckpointBundle {
  manifest: { checkpoints: readonly CheckpointRecord[] };
  openEntry(name: string): Readable;
}

export const recordFacts = (r: CheckpointRecord) => r.facts as unknown as CheckpointFacts;

export interface DockerCheckpointRestore {
  /** Containers restored from their checkpoints, running. */
  restored: DockerRestoreResult[];
  /** Containers the target could not take a checkpoint for; the caller starts them cold. */
  cold: CheckpointDecision[];
}

/**
 * Unpack onto a Docker Engine, after volumes are restored: pre-flight every checkpoint against
 * the target's facts (refusing, or with fallback `cold` leaving that container to the normal
 * cold start), then restore the rest. All or nothing: when one restore fails, the containers
 * restored before it are removed again.
 */
export async function restoreBundleCheckpointsOnDocker(
  bundle: CheckpointBundle,
  host: DockerHost,
  options: { fallback: CheckpointFallback; perContainer?: (container: string) => DockerRestoreOptions },
  ctx: RunContext,
): Promise<DockerCheckpointRestore> {
  const records = bundle.manifest.checkpoints;
  const target = await dockerHostFacts(host);
  const decisions = planCheckpointRestore(
    records.map((r) => ({ container: r.container, facts: recordFacts(r) })),
    target,
    options.fallback,
    ctx,
  );
  const restored: DockerRestoreResult[] = [];
  try {
    for (const [i, record] of records.entries()) {
      if (decisions[i]!.action !== 'restore') continue;
      ctx.signal.throwIfAborted();
      const archive = bundle.openEntry(record.entry);
      restored.push(await restoreDockerCheckpoint(host, archive, record.entry, options.perContainer?.(record.container) ?? {}, ctx));
    }
  } catch (err) {
    for (const r of restored.reverse()) await host.docker.getContainer(r.containerId).remove({ force: true }).catch(() => {});
    throw err;
  }
  return { restored, cold: decisions.filter((d) => d.action === 'cold') };
}
