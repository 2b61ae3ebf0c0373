import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { needs } from '../support/require.js';
import { cleanObject } from '../../src/platforms/k8s/clean-rules.js';
import { derivedReason } from '../../src/platforms/k8s/derived-rules.js';
import type { KubeObject } from '../../src/model/object.js';
import { fixtures, haveFixtures, load, loadDir, loadOne } from './fixtures.js';

const ok = await needs('shared fixtures', haveFixtures);
const key = (o: KubeObject) => `${o.kind}/${o.metadata.name}`;

/**
 * Where fatchart deliberately differs from Crane's transform: applied to Crane's golden output
 * before comparing, so every other difference fails the test.
 */
function withFatchartDeviations(golden: KubeObject): KubeObject {
  const o = structuredClone(golden);
  // The Deployment revision annotation is controller state of the source (clean-rules.ts).
  if (o.kind === 'Deployment' && o.metadata.annotations) {
    delete o.metadata.annotations['deployment.kubernetes.io/revision'];
    if (Object.keys(o.metadata.annotations).length === 0) delete o.metadata.annotations;
  }
  return o;
}

describe.skipIf(!ok)('portable cleaning matches Crane golden exports', () => {
  for (const app of ['redis', 'simple-nginx-nopv']) {
    it(`${app}: every exported object cleans to the golden output`, () => {
      const exported = loadDir(`k8s-live/crane-golden-k8s/${app}/export/resources/${app}`);
      const golden = loadDir(`k8s-live/crane-golden-k8s/${app}/output/resources/${app}`);
      expect(golden.length).toBeGreaterThan(0);
      for (const g of golden) {
        const raw = exported.find((e) => key(e) === key(g));
        expect(raw, key(g)).toBeDefined();
        expect(cleanObject(raw!), key(g)).toEqual(withFatchartDeviations(g));
      }
    });

    it(`${app}: the derived rules drop exactly what Crane drops (PVCs are kept for their data)`, () => {
      const exported = loadDir(`k8s-live/crane-golden-k8s/${app}/export/resources/${app}`);
      const golden = new Set(loadDir(`k8s-live/crane-golden-k8s/${app}/output/resources/${app}`).map(key));
      const kept = exported.filter((o) => !derivedReason(o)).map(key).sort();
      // Crane moves claims with its separate transfer-pvc step; fatchart carries them in the bundle.
      const expected = exported.filter((o) => golden.has(key(o)) || o.kind === 'PersistentVolumeClaim').map(key).sort();
      expect(kept).toEqual(expected);
    });
  }
});

describe.skipIf(!ok)('neat cleaning matches kubectl-neat fixtures', () => {
  const dir = join(fixtures, 'k8s-live/kubectl-neat');
  const pairs = ok ? readdirSync(dir).filter((f) => f.endsWith('-raw.json')).map((f) => f.replace('-raw.json', '')) : [];
  it('has fixture pairs', () => expect(pairs.length).toBeGreaterThanOrEqual(5));
  for (const name of pairs) {
    it(name, () => {
      const raw = load(`k8s-live/kubectl-neat/${name}-raw.json`);
      const neat = load(`k8s-live/kubectl-neat/${name}-neat.json`);
      expect(raw.map((o) => cleanObject(o, 'neat'))).toEqual(neat);
    });
  }
});

describe.skipIf(!ok)('portable cleaning of live single-object dumps (k9s)', () => {
  const state = ['uid', 'resourceVersion', 'creationTimestamp', 'selfLink', 'managedFields', 'generation', 'ownerReferences'];
  for (const file of ['sts', 'dp', 'svc', 'ing', 'sa', 'sec', 'cm', 'pvc', 'cj', 'np', 'hpa', 'ds', 'po']) {
    it(`${file}.json keeps no server state`, () => {
      const raw = loadOne(`k8s-live/k9s/${file}.json`);
      const clean = cleanObject(raw) as any;
      expect(clean.status).toBeUndefined();
      for (const f of state) expect(clean.metadata[f], f).toBeUndefined();
      expect(clean.metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration']).toBeUndefined();
      expect(raw).not.toEqual(clean); // the input is untouched and something was removed
    });
  }

  it('drops allocations but keeps the author\'s values', () => {
    const svc = cleanObject(loadOne('k8s-live/k9s/svc.json')) as any;
    expect(svc.spec.clusterIP).toBeUndefined();
    expect(svc.spec.ports.length).toBeGreaterThan(0);
    const pvc = cleanObject(loadOne('k8s-live/k9s/pvc.json')) as any;
    expect(pvc.spec.volumeName).toBeUndefined();
    expect(pvc.metadata.annotations?.['pv.kubernetes.io/bind-completed']).toBeUndefined();
    expect(pvc.metadata.finalizers).toBeUndefined();
    expect(pvc.spec.resources.requests.storage).toBeDefined();
    const po = cleanObject(loadOne('k8s-live/k9s/po.json')) as any;
    expect(po.spec.nodeName).toBeUndefined();
    const sa = cleanObject(loadOne('k8s-live/k9s/sa.json')) as any;
    expect(sa.secrets.map((s: any) => s.name)).toEqual(['blee']); // blee-token-k42bt is generated
  });

  it('recognises controller-owned objects as derived', () => {
    for (const f of ['rs', 'p1', 'job']) expect(derivedReason(loadOne(`k8s-live/k9s/${f}.json`)), f).toMatch(/owned by controller/);
    for (const f of ['dp', 'sts', 'svc', 'cj']) expect(derivedReason(loadOne(`k8s-live/k9s/${f}.json`)), f).toBeUndefined();
  });
});

describe('OpenShift rules', () => {
  it('drops SCC-injected pod security values and generated route hosts only when injected/generated', () => {
    const pod: KubeObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', annotations: { 'openshift.io/scc': 'restricted' } },
      spec: {
        securityContext: { fsGroup: 1000650000, seLinuxOptions: { level: 's0:c26,c5' } },
        containers: [{ name: 'c', image: 'x:1', securityContext: { runAsUser: 1000650000, capabilities: { drop: ['KILL'] } } }],
      },
    };
    const clean = cleanObject(pod) as any;
    expect(clean.spec.securityContext).toBeUndefined();
    expect(clean.spec.containers[0].securityContext).toEqual({ capabilities: { drop: ['KILL'] } });
    const own = structuredClone(pod);
    delete own.metadata.annotations;
    expect(cleanObject(own)).toEqual(own);

    const route = (generated: boolean): KubeObject => ({
      apiVersion: 'route.openshift.io/v1',
      kind: 'Route',
      metadata: { name: 'web', annotations: generated ? { 'openshift.io/host.generated': 'true' } : {} },
      spec: { host: 'web-shop.apps.example.com', to: { kind: 'Service', name: 'web' } },
    });
    expect((cleanObject(route(true)) as any).spec.host).toBeUndefined();
    expect((cleanObject(route(false)) as any).spec.host).toBe('web-shop.apps.example.com');
  });

  it('treats DeploymentConfig ReplicationControllers and dockercfg secrets as derived', () => {
    expect(derivedReason({ apiVersion: 'v1', kind: 'ReplicationController', metadata: { name: 'db-1', annotations: { 'openshift.io/deployment-config.name': 'db' } } })).toMatch(/DeploymentConfig\/db/);
    expect(
      derivedReason({ apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/dockercfg', metadata: { name: 'builder-dockercfg-x7k2p', annotations: { 'kubernetes.io/service-account.name': 'builder' } } }),
    ).toMatch(/dockercfg/);
  });
});
