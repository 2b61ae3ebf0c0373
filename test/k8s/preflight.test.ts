import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { kubeLab, type KubeLab } from '../support/components/k8s.js';
import { needs } from '../support/require.js';
import { FatchartError } from '../../src/errors.js';
import type { KubeObject } from '../../src/model/object.js';
import { restoreToCluster, type KubeRestoreRequest } from '../../src/platforms/k8s/restore.js';
import { haveFixtures } from './fixtures.js';
import { manualStorageClass, multiTierApp, widgetCrd, widgetCrdName } from './seed.js';
import { noBundle, recordingContext, tempDir } from './support.js';

const lab = (await needs('shared fixtures', haveFixtures)) ? await kubeLab() : undefined;

/** Pre-flight refuses before the first change, lists every problem and names each fix. */
describe.skipIf(!lab)('k8s: pre-flight failures change nothing and name the fix (real API server)', () => {
  const k = lab as KubeLab;
  const dir = tempDir('fc-pre-');
  let target: string;
  let objects: KubeObject[];

  const refused = async (request: Partial<KubeRestoreRequest>, namespace = target) => {
    const before = await k.snapshot(namespace);
    const err = await restoreToCluster(
      noBundle,
      { namespace, kubeconfig: k.kubeconfig, objects, journal: join(dir, `${Math.random()}.jsonl`), ...request },
      recordingContext(),
    ).then(() => undefined, (e) => e);
    expect(err).toBeInstanceOf(FatchartError);
    expect(err.code).toBe('preflight');
    expect(err.exitCode).toBe(6);
    expect(err.message).toMatch(/nothing was changed/);
    expect(await k.snapshot(namespace)).toEqual(before);
    return err.message as string;
  };

  beforeAll(async () => {
    await k.apply([widgetCrd, manualStorageClass]);
    await k.kubectl(['wait', '--for=condition=Established', `crd/${widgetCrdName}`, '--timeout=60s']);
    objects = multiTierApp().app;
    target = await k.namespace('fc-pre');
  });
  afterAll(async () => {
    await k.cleanup();
  });

  it('a missing storage class suggests --map-storage-class', async () => {
    const message = await refused({ storageClassMap: { manual: 'gold' } });
    expect(message).toMatch(/StorageClass\/gold: does not exist on the target .* map it with --map-storage-class gold=NEW \(target classes: [^)]*\bmanual\b[^)]*\)/);
  });

  it('a custom resource without its CRD names the CRD to install', async () => {
    const gadget: KubeObject = { apiVersion: 'example.fatchart.dev/v1', kind: 'Gadget', metadata: { name: 'g' }, spec: {} };
    objects = [...multiTierApp().app, gadget];
    try {
      const message = await refused({});
      expect(message).toMatch(/Gadget\/g: kind Gadget.example.fatchart.dev is not installed on the target \(missing CRD\); install its CustomResourceDefinition/);
    } finally {
      objects = multiTierApp().app;
    }
  });

  it('...unless the bundle brings the CRD: it is applied and established before its resources', async () => {
    const crd = structuredClone(widgetCrd) as any;
    crd.metadata.name = 'gizmos.example.fatchart.dev';
    crd.spec.names = { plural: 'gizmos', singular: 'gizmo', kind: 'Gizmo' };
    const gizmo: KubeObject = { apiVersion: 'example.fatchart.dev/v1', kind: 'Gizmo', metadata: { name: 'g' }, spec: { teeth: 12 } };
    const ns = await k.namespace('fc-crd');
    try {
      const ctx = recordingContext();
      const report = await restoreToCluster(noBundle, { namespace: ns, kubeconfig: k.kubeconfig, objects: [gizmo, crd], journal: join(dir, 'crd.jsonl') }, ctx);
      expect(report.objects).toBe(2);
      expect(ctx.lines.filter((l) => l.startsWith('created '))).toEqual(['created CustomResourceDefinition/gizmos.example.fatchart.dev', 'created Gizmo/g']);
      expect(JSON.parse(await k.kubectl(['get', 'gizmo', 'g', '-n', ns, '-o', 'json'])).spec).toEqual({ teeth: 12 });
    } finally {
      await k.kubectl(['delete', 'crd', 'gizmos.example.fatchart.dev', '--ignore-not-found']);
    }
  });

  it('an API version the server does not serve asks for a conversion', async () => {
    const hpa = objects.find((o) => o.kind === 'HorizontalPodAutoscaler')!;
    objects = objects.map((o) => (o === hpa ? { ...o, apiVersion: 'autoscaling/v2' } : o));
    try {
      expect(await refused({})).toMatch(/HorizontalPodAutoscaler\/nginx: the target serves HorizontalPodAutoscaler only as autoscaling\/v1, autoscaling\/v2beta1, autoscaling\/v2beta2, not autoscaling\/v2/);
    } finally {
      objects = multiTierApp().app;
    }
  });

  it('a forbidden verb (an RBAC-limited token) names the verb, the kind and how to check', async () => {
    // A user that may do everything in the namespace except delete: the rollback would be impossible.
    await k.apply(
      [
        { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'limited' } },
        { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'no-delete' }, rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'update'] }] },
        { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'limited-no-delete' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'no-delete' }, subjects: [{ kind: 'ServiceAccount', name: 'limited', namespace: target }] },
      ],
      target,
    );
    let token = '';
    for (let i = 0; i < 40 && !token; i++) {
      const sa = JSON.parse(await k.kubectl(['get', 'sa', 'limited', '-n', target, '-o', 'json']));
      const secret = sa.secrets?.[0]?.name;
      if (secret) token = Buffer.from(JSON.parse(await k.kubectl(['get', 'secret', secret, '-n', target, '-o', 'json'])).data.token, 'base64').toString();
      else await new Promise((r) => setTimeout(r, 250));
    }
    const config = yaml.load(readFileSync(k.kubeconfig, 'utf8')) as any;
    config.users[0].user = { token };
    const limited = join(dir, 'limited-kubeconfig');
    writeFileSync(limited, yaml.dump(config));
    const message = await refused({ kubeconfig: limited });
    expect(message).toMatch(/deployments\.apps: not allowed to delete in fc-pre-\w+; ask an administrator for a Role granting "delete" on deployments\.apps \(check with: kubectl auth can-i delete deployments\.apps -n fc-pre-\w+\)/);
    expect(message).not.toMatch(/not allowed to create/);
  });

  it('a quota the app does not fit in names the quota', async () => {
    const ns = await k.namespace('fc-quota');
    await k.apply([{ apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'tiny' }, spec: { hard: { pods: '1', 'requests.storage': '1Mi' } } }], ns);
    for (let i = 0; i < 40; i++) {
      const q = JSON.parse(await k.kubectl(['get', 'resourcequota', 'tiny', '-n', ns, '-o', 'json']));
      if (q.status?.used) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const message = await refused({}, ns);
    expect(message).toMatch(/ResourceQuota\/tiny: pods needs 2 more but only 1 of 1 is free/);
    expect(message).toMatch(/ResourceQuota\/tiny: requests.storage needs/);
  });

  it('an existing object fails by default and names the conflict policies', async () => {
    await k.apply([{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'blee' }, data: { mine: 'yes' } }], target);
    const message = await refused({});
    expect(message).toMatch(/ConfigMap\/blee: already exists in fc-pre-\w+; choose --conflict skip \(keep it\) or --conflict overwrite/);
  });

  it('a missing namespace is not created when pre-flight fails', async () => {
    const ns = `fc-absent-${Date.now()}`;
    const err = await restoreToCluster(noBundle, { namespace: ns, kubeconfig: k.kubeconfig, objects, storageClassMap: { manual: 'gold' } }, recordingContext()).then(
      () => undefined,
      (e) => e,
    );
    expect(err?.code).toBe('preflight');
    expect(await k.kubectl(['get', 'namespace', ns, '--ignore-not-found', '-o', 'name'])).toBe('');
  });
});
