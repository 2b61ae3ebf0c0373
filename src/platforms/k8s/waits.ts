import { FatchartError } from '../../errors.js';
import type { KubeObject } from '../../model/object.js';
import type { RunContext } from '../../util/context.js';
import { sleep, type KubeClient } from './client.js';

/**
 * Readiness by kind: returns undefined when the live object is ready, else what it waits for
 * (shown on the status line). Kinds not listed are ready once applied.
 */
export const readinessRules: Readonly<Record<string, (o: any) => string | undefined>> = {
  CustomResourceDefinition: (o) =>
    (o.status?.conditions ?? []).some((c: any) => c.type === 'Established' && c.status === 'True') ? undefined : 'not established',
  PersistentVolumeClaim: (o) => (o.status?.phase === 'Bound' ? undefined : `phase ${o.status?.phase ?? 'unknown'}`),
  Deployment: (o) => rollout(o, o.status?.updatedReplicas, o.status?.availableReplicas),
  StatefulSet: (o) => rollout(o, o.status?.updatedReplicas ?? o.status?.currentReplicas, o.status?.readyReplicas),
  ReplicaSet: (o) => rollout(o, o.status?.replicas, o.status?.readyReplicas),
  DeploymentConfig: (o) => rollout(o, o.status?.updatedReplicas, o.status?.availableReplicas),
  DaemonSet: (o) =>
    (o.status?.observedGeneration ?? 0) >= (o.metadata.generation ?? 0) &&
    (o.status?.numberReady ?? 0) >= (o.status?.desiredNumberScheduled ?? 0)
      ? undefined
      : `${o.status?.numberReady ?? 0}/${o.status?.desiredNumberScheduled ?? '?'} ready`,
};

function rollout(o: any, updated: number | undefined, ready: number | undefined): string | undefined {
  const want = o.spec?.replicas ?? 1;
  if ((o.status?.observedGeneration ?? 0) < (o.metadata.generation ?? 0)) return 'change not yet observed';
  if ((updated ?? 0) >= want && (ready ?? 0) >= want) return undefined;
  return `${ready ?? 0}/${want} ready`;
}

export interface WaitTarget {
  object: KubeObject;
  path: string;
}

/** Polls until every target is ready; throws a platform error on timeout, or on abort. */
export async function waitReady(client: KubeClient, targets: WaitTarget[], timeoutMs: number, what: string, ctx: RunContext): Promise<void> {
  const rules = targets.filter((t) => readinessRules[t.object.kind]);
  if (!rules.length) return;
  const deadline = Date.now() + timeoutMs;
  let lastLine = '';
  for (;;) {
    if (ctx.signal.aborted) throw new FatchartError('interrupted', `interrupted while waiting for ${what}`);
    const pending: string[] = [];
    for (const t of rules) {
      const live = await client.get(t.path, { allow404: true, signal: ctx.signal });
      const status = live ? readinessRules[t.object.kind](live) : 'not found';
      if (status) pending.push(`${t.object.kind}/${t.object.metadata.name} ${status}`);
    }
    if (!pending.length) return;
    const line = `waiting for ${what}: ${pending.join(', ')}`;
    if (line !== lastLine) ctx.log.info(line);
    lastLine = line;
    if (Date.now() > deadline) {
      throw new FatchartError('platform', `timed out after ${Math.round(timeoutMs / 1000)}s waiting for ${what}: ${pending.join(', ')}`);
    }
    await sleep(1000, ctx.signal);
  }
}
