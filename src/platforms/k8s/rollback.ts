import type { RunContext } from '../../util/context.js';
import { platformError } from '../../errors.js';
import { KubeClient, sleep } from './client.js';
import { resourcePath, type ApiResource } from './discovery.js';
import type { Journal, ObjectAddress } from './journal.js';

export interface RollbackResult {
  deleted: number;
  restored: number;
  failed: string[];
}

/** How long to wait for one deleted object (and, in foreground, its dependents) to be gone. */
const goneTimeoutMs = 120_000;

/**
 * Undoes a journal's pending changes, newest first. Created objects are deleted in the
 * foreground (their pods and ReplicaSets go first) and awaited, so the namespace is back to what
 * it was when this returns; changed objects are put back as they were. Every undone step is
 * journaled. Deliberately ignores the abort signal: a second Ctrl-C must not leave half a
 * rollback (the journal still allows `fatchart rollback` to resume).
 */
export async function rollbackJournal(client: KubeClient, journal: Journal, ctx: RunContext): Promise<RollbackResult> {
  const result: RollbackResult = { deleted: 0, restored: 0, failed: [] };
  for (const step of journal.pending()) {
    const what = describe(step.target);
    try {
      if (step.type === 'create') {
        ctx.log.info(`rollback: deleting ${what}`);
        await deleteAndWait(client, step.target);
        result.deleted++;
      } else {
        ctx.log.info(`rollback: restoring ${what}`);
        const { resourceVersion, managedFields, uid, creationTimestamp, generation, ...meta } = step.previous.metadata as any;
        await client.request('PUT', pathOf(step.target), { body: { ...step.previous, metadata: meta } });
        result.restored++;
      }
      journal.append({ type: 'undone', step: step.seq });
    } catch (err) {
      result.failed.push(`${what}: ${(err as Error).message}`);
      ctx.log.warn(`rollback: could not undo ${what}: ${(err as Error).message}`);
    }
  }
  if (result.failed.length === 0) journal.append({ type: 'rolled-back', time: new Date().toISOString() });
  return result;
}

async function deleteAndWait(client: KubeClient, target: ObjectAddress): Promise<void> {
  const path = pathOf(target);
  await client.request('DELETE', path, {
    body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Foreground' },
    allow404: true,
  });
  const deadline = Date.now() + goneTimeoutMs;
  while (Date.now() < deadline) {
    const still = await client.get(path, { allow404: true });
    if (!still) return;
    await sleep(500);
  }
  throw platformError(`still present ${goneTimeoutMs / 1000}s after deletion`, describe(target));
}

export function pathOf(t: ObjectAddress): string {
  const [group, version] = t.apiVersion.includes('/') ? t.apiVersion.split('/') : ['', t.apiVersion];
  const r: ApiResource = {
    group,
    version,
    apiVersion: t.apiVersion,
    resource: t.resource,
    kind: t.kind,
    namespaced: t.namespaced,
    verbs: [],
    preferred: true,
  };
  return resourcePath(r, t.namespace, t.name);
}

export function describe(t: ObjectAddress): string {
  return t.namespace ? `${t.kind}/${t.namespace}/${t.name}` : `${t.kind}/${t.name}`;
}

