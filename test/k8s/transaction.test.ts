import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { kubeLab, kubeconfigVia, type KubeLab } from '../support/components/k8s.js';
import { FaultProxy } from '../support/fault-proxy.js';
import { needs } from '../support/require.js';
import { FatchartError } from '../../src/errors.js';
import type { KubeObject } from '../../src/model/object.js';
import { captureFromCluster } from '../../src/platforms/k8s/capture.js';
import { KubeClient } from '../../src/platforms/k8s/client.js';
import { Journal } from '../../src/platforms/k8s/journal.js';
import { restoreToCluster, type KubeRestoreRequest } from '../../src/platforms/k8s/restore.js';
import { rollbackJournal } from '../../src/platforms/k8s/rollback.js';
import { haveFixtures } from './fixtures.js';
import { labImage, manualStorageClass, multiTierApp, widgetCrd, widgetCrdName } from './seed.js';
import { noBundle, recordingContext, tempDir, waitBound } from './support.js';

const lab = (await needs('shared fixtures', haveFixtures)) ? await kubeLab() : undefined;

/**
 * The unpack is a transaction: whatever goes wrong — a write refused at any step, a wait that
 * times out, an interrupt — the target namespace is listed afterwards exactly as before.
 */
describe.skipIf(!lab)('k8s: unpack is a transaction (real API server behind a fault proxy)', () => {
  const k = lab as KubeLab;
  let objects: KubeObject[];
  let proxy: FaultProxy;
  let viaProxy: string;
  let target: string;
  const dir = tempDir('fc-tx-');
  let journals = 0;

  const restore = (extra: Partial<KubeRestoreRequest> = {}, signal?: AbortSignal, retries = 1) => {
    const ctx = recordingContext(signal);
    const client = new KubeClient({ kubeconfig: viaProxy, retries });
    const run = restoreToCluster(
      noBundle,
      { namespace: target, objects, journal: join(dir, `j${journals++}.jsonl`), waitTimeoutSeconds: 60, ...extra },
      ctx,
      {},
      client,
    );
    return { run, ctx };
  };

  beforeAll(async () => {
    await k.apply([widgetCrd, manualStorageClass]);
    await k.kubectl(['wait', '--for=condition=Established', `crd/${widgetCrdName}`, '--timeout=60s']);
    const source = await k.namespace('fc-txs');
    await k.persistentVolume(`${source}-a`);
    await k.persistentVolume(`${source}-b`);
    await k.apply(multiTierApp().app, source);
    await waitBound(k, source);
    objects = (await captureFromCluster({ namespace: source, selector: 'app=shop', kubeconfig: k.kubeconfig }, recordingContext(), 'k8s')).model.objects;
    proxy = await FaultProxy.start(new KubeClient({ kubeconfig: k.kubeconfig }).server);
    viaProxy = kubeconfigVia(k.kubeconfig, proxy.url, dir);
    target = await k.namespace('fc-txt');
    // A pool of volumes, two per restore attempt: a claim deleted by a rollback leaves its
    // volume Released, and recycling volumes in between would only test the PV controller.
    for (let i = 0; i < 2 * 6; i++) await k.persistentVolume(`${target}-${i}`);
  });
  afterAll(async () => {
    await proxy?.close();
    await k.cleanup();
  });

  it('a write failing at each step leaves the namespace exactly as before', async () => {
    // Every step gets its own namespace, volumes and proxy, so the steps run side by side:
    // each rollback waits for the API server's foreground deletion of workloads and pods,
    // which is what makes a sequential sweep slow, not the number of steps.
    const server = new KubeClient({ kubeconfig: k.kubeconfig }).server;
    const steps = objects.map((_, i) => i + 1);
    await inBatches(steps, 5, async (step) => {
      const ns = await k.namespace(`fc-txp${step}`);
      await k.persistentVolume(`${ns}-a`);
      await k.persistentVolume(`${ns}-b`);
      const before = await k.snapshot(ns);
      const stepProxy = await FaultProxy.start(server);
      try {
        // From this write on the server fails; retries do not help, rollback (DELETE/PUT) works.
        stepProxy.inject({ match: (r) => r.method === 'PATCH' && r.nth >= step, action: { type: 'status', status: 500 } });
        const ctx = recordingContext();
        const client = new KubeClient({ kubeconfig: kubeconfigVia(k.kubeconfig, stepProxy.url, tempDir(`fc-tx${step}-`)), retries: 1 });
        const err = await restoreToCluster(noBundle, { namespace: ns, objects, journal: join(dir, `step${step}.jsonl`), waitTimeoutSeconds: 60 }, ctx, {}, client).then(
          () => undefined,
          (e) => e,
        );
        expect(err, `step ${step}`).toBeInstanceOf(FatchartError);
        expect(err.code).toBe('platform');
        expect(err.message).toMatch(new RegExp(`rolled back: deleted ${step - 1}, restored 0$`));
        expect(ctx.lines.filter((l) => l.startsWith('created '))).toHaveLength(step - 1);
        expect(await k.snapshot(ns), `after a failure at step ${step}`).toEqual(before);
      } finally {
        await stepProxy.close();
      }
    });
  }, 900_000);

  it('retries throttling, server errors, dropped connections and slow answers, then succeeds', async () => {
    proxy.reset();
    proxy.inject({ match: (r) => r.method === 'GET', action: { type: 'status', status: 429, retryAfter: 1 }, times: 2 });
    proxy.inject({ match: (r) => r.method === 'PATCH' && r.nth === 1, action: { type: 'drop' } });
    proxy.inject({ match: (r) => r.method === 'PATCH' && r.nth === 4, action: { type: 'status', status: 503 } });
    proxy.inject({ match: (r) => r.method === 'PATCH' && r.nth === 6, action: { type: 'delay', ms: 1500 } });
    const { run } = restore({}, undefined, 5);
    const report = await run;
    expect(report.objects).toBe(objects.length);
    expect(proxy.injected).toHaveLength(5);
    // Undo it for the next tests, through the journal like `fatchart rollback --force`.
    const journal = Journal.open(join(dir, `j${journals - 1}.jsonl`));
    expect(journal.committed).toBe(true);
    const undone = await rollbackJournal(new KubeClient({ kubeconfig: k.kubeconfig }), journal, recordingContext());
    journal.close();
    expect(undone).toEqual({ deleted: objects.length, restored: 0, failed: [] });
  });

  it('a rollout that never becomes ready times out and rolls back', async () => {
    const before = await k.snapshot(target);
    proxy.reset();
    const broken = objects.map((o) =>
      o.kind === 'Deployment' ? { ...o, spec: { ...(o as any).spec, template: { ...(o as any).spec.template, spec: { ...(o as any).spec.template.spec, containers: [{ ...(o as any).spec.template.spec.containers[0], image: `${labImage}-missing` }] } } } } : o,
    );
    const ctx = recordingContext();
    const err = await restoreToCluster(
      noBundle,
      { namespace: target, objects: broken, journal: join(dir, 'timeout.jsonl'), waitTimeoutSeconds: 8 },
      ctx,
      {},
      new KubeClient({ kubeconfig: viaProxy }),
    ).then(() => undefined, (e) => e);
    expect(err?.message).toMatch(/timed out after 8s waiting for workloads to be ready: Deployment\/redis 0\/1 ready.*rolled back: deleted \d+/);
    expect(await k.snapshot(target)).toEqual(before);
  });

  it('an interrupt (SIGINT) stops, rolls back and reports exit code 130', async () => {
    const before = await k.snapshot(target);
    proxy.reset();
    const abort = new AbortController();
    // Interrupt while the claims are being waited for, half-way through the transaction.
    proxy.inject({ match: (r) => r.method === 'GET' && r.path.includes('/persistentvolumeclaims/'), action: { type: 'delay', ms: 200 } });
    const { run, ctx } = restore({}, abort.signal);
    const poll = setInterval(() => ctx.lines.some((l) => l.startsWith('created PersistentVolumeClaim')) && abort.abort(), 20);
    const err = await run.then(() => undefined, (e) => e);
    clearInterval(poll);
    expect(err).toBeInstanceOf(FatchartError);
    expect(err.code).toBe('interrupted');
    expect(err.exitCode).toBe(130);
    expect(err.message).toMatch(/rolled back: deleted \d+/);
    expect(await k.snapshot(target)).toEqual(before);
  });

  it('--conflict overwrite takes over an existing object and a failure puts it back as it was', async () => {
    await k.apply([{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'blee', labels: { owner: 'someone-else' } }, data: { key1: 'theirs' } }], target);
    const before = await k.snapshot(target);
    proxy.reset();
    const last = objects.length;
    proxy.inject({ match: (r) => r.method === 'PATCH' && r.nth >= last, action: { type: 'status', status: 500 } });
    const { run } = restore({ conflict: 'overwrite' });
    const err = await run.then(() => undefined, (e) => e);
    expect(err?.message).toMatch(new RegExp(`rolled back: deleted ${last - 2}, restored 1$`));
    expect(await k.snapshot(target)).toEqual(before);
    await k.kubectl(['delete', 'configmap', 'blee', '-n', target]);
  });
});

/** Runs `work` over `items`, at most `size` at a time; every failure is reported. */
async function inBatches<T>(items: T[], size: number, work: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) {
    const results = await Promise.allSettled(items.slice(i, i + size).map(work));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }
}
