import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { kubeLab, type KubeLab } from '../support/components/k8s.js';
import { needs } from '../support/require.js';
import { captureFromCluster, type KubeCapture } from '../../src/platforms/k8s/capture.js';
import { restoreToCluster } from '../../src/platforms/k8s/restore.js';
import { Journal } from '../../src/platforms/k8s/journal.js';
import { haveFixtures } from './fixtures.js';
import { manualStorageClass, multiTierApp, multiTierExpected, widgetCrd, widgetCrdName } from './seed.js';
import { inNamespace, noBundle, recordingContext, tempDir, waitBound } from './support.js';

const lab = (await needs('shared fixtures', haveFixtures)) ? await kubeLab() : undefined;
const key = (o: { kind: string; metadata: { name: string } }) => `${o.kind}/${o.metadata.name}`;

describe.skipIf(!lab)('k8s: multi-tier app from one namespace into another (real API server)', () => {
  const k = lab as KubeLab;
  let source: string;
  let captured: KubeCapture;
  const ctx = recordingContext();

  beforeAll(async () => {
    await k.apply([widgetCrd, manualStorageClass]);
    await k.kubectl(['wait', '--for=condition=Established', `crd/${widgetCrdName}`, '--timeout=60s']);
    source = await k.namespace('fc-src');
    await k.persistentVolume(`${source}-a`);
    await k.persistentVolume(`${source}-b`);
    const { app, noise } = multiTierApp(source);
    await k.apply([...app, ...noise], source);
    await waitBound(k, source);
    captured = await captureFromCluster({ namespace: source, selector: 'app=shop', kubeconfig: k.kubeconfig, explain: true }, ctx, 'k8s');
  });
  afterAll(async () => {
    await k.cleanup();
  });

  it('captures exactly the app: selector matches, references and attachments, no derived or unrelated objects', () => {
    expect(captured.model.objects.map(key).sort()).toEqual(multiTierExpected);
    expect(captured.model.source).toMatchObject({ platform: 'k8s', namespace: source, version: expect.stringMatching(/^v1\./) });
    const why = Object.fromEntries(captured.graph.included.map((i) => [key(i.object), i.reason]));
    expect(why['Service/redis']).toBe('selects the pods of Deployment/redis');
    expect(why['Ingress/test-ingress']).toBe('routes to Service/redis');
    expect(why['HorizontalPodAutoscaler/nginx']).toBe('scales Deployment/redis');
    expect(why['RoleBinding/shop-config-reader']).toBe('binds ServiceAccount/shop');
    expect(why['Secret/redis']).toMatch(/env REDIS_PASSWORD of container redis of Deployment\/redis/);
    expect(why['PersistentVolumeClaim/www-nginx-sts-0']).toMatch(/volumeClaimTemplate www of StatefulSet\/nginx-sts/);
    expect(ctx.lines).toContain('+ Service/redis: selects the pods of Deployment/redis');
    const excluded = Object.fromEntries(captured.graph.excluded.map((e) => [key(e.object), e.reason]));
    expect(Object.keys(excluded).some((k) => k.startsWith('ReplicaSet/redis-'))).toBe(true);
    expect(excluded['ConfigMap/kube-root-ca.crt']).toMatch(/CA bundle/);
    expect(excluded['ServiceAccount/default']).toBeDefined();
    expect(captured.dependencies.map((d) => `${d.kind}/${d.name}`)).toEqual(
      expect.arrayContaining([`CustomResourceDefinition/${widgetCrdName}`, 'StorageClass/manual', `PersistentVolume/${source}-a`]),
    );
  });

  it('keeps the raw originals next to the cleaned objects', () => {
    const raw = captured.model.originals.find((o) => key(o) === 'Service/redis') as any;
    const clean = captured.model.objects.find((o) => key(o) === 'Service/redis') as any;
    expect(raw.metadata.uid).toBeDefined();
    expect(raw.spec.clusterIP).toMatch(/^10\.96\./);
    expect(clean.metadata.uid).toBeUndefined();
    expect(clean.spec.clusterIP).toBeUndefined();
  });

  it('restores into another namespace with equal cleaned objects, waiting for claims and rollouts', async () => {
    const target = await k.namespace('fc-dst');
    await k.persistentVolume(`${target}-a`);
    await k.persistentVolume(`${target}-b`);
    const journalPath = join(tempDir('fc-journal-'), 'j.jsonl');
    const rctx = recordingContext();
    const report = await restoreToCluster(
      noBundle,
      { namespace: target, kubeconfig: k.kubeconfig, objects: captured.model.objects, journal: journalPath, waitTimeoutSeconds: 120 },
      rctx,
    );
    expect(report.destination).toBe(`k8s-lab/${target}`);
    expect(report.objects).toBe(multiTierExpected.length);
    expect(rctx.lines.some((l) => l.startsWith('waiting for workloads to be ready'))).toBe(true);
    const journal = Journal.open(journalPath);
    expect(journal.committed).toBe(true);
    expect(journal.pending()).toHaveLength(multiTierExpected.length);

    // Applied in the declared order: foundation, then claims, then workloads, then exposure.
    const created = rctx.lines.filter((l) => l.startsWith('created ')).map((l) => l.slice(8));
    expect(created.indexOf('PersistentVolumeClaim/redis-data')).toBeGreaterThan(created.indexOf('Secret/redis'));
    expect(created.indexOf('Deployment/redis')).toBeGreaterThan(created.indexOf('PersistentVolumeClaim/redis-data'));
    expect(created.indexOf('Service/redis')).toBeGreaterThan(created.indexOf('StatefulSet/nginx-sts'));

    const again = await captureFromCluster({ namespace: target, selector: 'app=shop', kubeconfig: k.kubeconfig }, recordingContext(), 'k8s');
    expect(again.model.objects).toEqual(inNamespace(captured.model.objects, source, target));
    const deployment = again.model.originals.find((o) => key(o) === 'Deployment/redis') as any;
    expect(deployment.status.availableReplicas).toBe(1);
    expect(deployment.metadata.managedFields.some((f: any) => f.manager === 'fatchart' && f.operation === 'Apply')).toBe(true);
  });

  it('dry run checks every object on the server and changes nothing', async () => {
    const target = await k.namespace('fc-dry');
    const before = await k.snapshot(target);
    const rctx = recordingContext();
    const report = await restoreToCluster(noBundle, { namespace: target, kubeconfig: k.kubeconfig, objects: captured.model.objects, dryRun: true }, rctx);
    expect(report.objects).toBe(multiTierExpected.length);
    expect(rctx.lines.filter((l) => l.endsWith(' accepted'))).toHaveLength(multiTierExpected.length);
    expect(await k.snapshot(target)).toEqual(before);
  });
});
