import type { RunContext } from '../../util/context.js';
import { KubeClient, sleep } from './client.js';
import { resourcePath, type ApiResource } from './discovery.js';
import type { Journal, ObjectAddress } from './journal.js';

export interface RollbackResult {
  deleted: number;
  restored: number;
  failed: string[];
}

/** How long to wait for deleted objects (and, in foreground, their dependents) to be gone. */
const goneTimeoutMs = 180_000;

/**
 * Undoes a journal's pending changes, newest first. Deletions are requested in reverse order in
 * the foreground (a Deployment's ReplicaSets and Pods go before it) and then awaited together,
 * so the namespace is back to what it was when this returns; changed objects are put back as
 * they were. Every undone step is journaled. Deliberately ignores the abort signal: a second
 * Ctrl-C must not leave half a rollback (the journal still lets `fatchart rollback` resume).
 */
export async function rollbackJournal(client: KubeClient, journal: Journal, ctx: RunContext): Promise<RollbackResult> {
  const result: RollbackResult = { deleted: 0, restored: 0, failed: [] };
  const deleting: Array<{ path: string; what: string; seq: number }> = [];
  for (const step of journal.pending()) {
    const what = describe(step.target);
    const path = pathOf(step.target);
    try {
      if (step.type === 'create') {
        // A namespace goes last and only once everything in it is gone, so its deletion does
        // not race the ordered deletes above.
        if (step.target.kind === 'Namespace') await waitGone(client, deleting, result, journal);
        const existed = await client.request('DELETE', path, {
          body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Foreground' },
          allow404: true,
        });
        if (existed) {
          ctx.log.info(`rollback: deleting ${what}`);
          deleting.push({ path, what, seq: step.seq });
        } else {
          // Journaled but never created (the failing step itself) or already gone.
          journal.append({ type: 'undone', step: step.seq });
        }
      } else {
        ctx.log.info(`rollback: restoring ${what}`);
        const { resourceVersion, managedFields, uid, creationTimestamp, generation, ...meta } = step.previous.metadata as any;
        await client.request('PUT', path, { body: { ...step.previous, metadata: meta } });
        result.restored++;
        journal.append({ type: 'undone', step: step.seq });
      }
    } catch (err) {
      result.failed.push(`${what}: ${(err as Error).message}`);
      ctx.log.warn(`rollback: could not undo ${what}: ${(err as Error).message}`);
    }
  }
  await waitGone(client, deleting, result, journal);
  if (result.failed.length === 0) journal.append({ type: 'rolled-back', time: new Date().toISOString() });
  return result;
}

async function waitGone(
  client: KubeClient,
  deleting: Array<{ path: string; what: string; seq: number }>,
  result: RollbackResult,
  journal: Journal,
): Promise<void> {
  const deadline = Date.now() + goneTimeoutMs;
  while (deleting.length) {
    for (const item of [...deleting]) {
      if (await client.get(item.path, { allow404: true })) continue;
      deleting.splice(deleting.indexOf(item), 1);
      result.deleted++;
      journal.append({ type: 'undone', step: item.seq });
    }
    if (!deleting.length) return;
    if (Date.now() > deadline) {
      for (const item of deleting.splice(0)) result.failed.push(`${item.what}: still present ${goneTimeoutMs / 1000}s after deletion`);
      return;
    }
    await sleep(300);
  }
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

