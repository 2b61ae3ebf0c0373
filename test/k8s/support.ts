import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BundleReader } from '../../src/bundle/reader.js';
import type { KubeObject } from '../../src/model/object.js';
import type { RunContext } from '../../src/util/context.js';
import type { KubeLab } from '../support/components/k8s.js';

/** A RunContext that records what the driver says, for assertions on --explain and rollback. */
export function recordingContext(signal: AbortSignal = new AbortController().signal): RunContext & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    log: { info: (m) => lines.push(m), warn: (m) => lines.push(`WARN ${m}`), debug: () => {} },
    progress: { start: () => ({ advance() {}, done() {} }) },
    signal,
  };
}

/** Objects come in `request.objects` in these tests, so the reader is never consulted. */
export const noBundle = {} as BundleReader;

export const tempDir = (prefix: string) => mkdtempSync(join(tmpdir(), prefix));

/** Moves a source namespace's objects to another namespace, as a restore does. */
export function inNamespace(objects: readonly KubeObject[], from: string, to: string): KubeObject[] {
  return JSON.parse(JSON.stringify(objects).replaceAll(`"${from}"`, `"${to}"`));
}

/** Waits until every listed claim of the namespace is Bound. */
export async function waitBound(lab: KubeLab, namespace: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const list = JSON.parse(await lab.kubectl(['get', 'pvc', '-n', namespace, '-o', 'json']));
    if (list.items.every((c: any) => c.status?.phase === 'Bound')) return;
    if (Date.now() > deadline) throw new Error(`claims in ${namespace} not bound`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/**
 * Makes Released test volumes Available again (their claim was deleted by a rollback): the
 * lab has no recycler, so the claimRef is removed the way an administrator would.
 */
export async function freeVolumes(lab: KubeLab, names: string[], timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const name of names) {
    for (;;) {
      const pv = JSON.parse(await lab.kubectl(['get', 'pv', name, '-o', 'json']));
      if (pv.status?.phase === 'Available') break;
      if (pv.status?.phase === 'Released' || (pv.spec.claimRef && pv.status?.phase !== 'Bound')) {
        await lab.kubectl(['patch', 'pv', name, '--type', 'json', '-p', '[{"op":"remove","path":"/spec/claimRef"}]']).catch(() => {});
      }
      if (Date.now() > deadline) throw new Error(`PersistentVolume ${name} stays ${pv.status?.phase}`);
      await new Promise((r) => setTimeout(r, 300));
    }
  }
}
