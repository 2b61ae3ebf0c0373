import { describe, expect, it } from 'vitest';
import { needs } from '../support/require.js';
import type { KubeObject } from '../../src/model/object.js';
import { buildAppGraph } from '../../src/platforms/k8s/graph.js';
import { matches, parseSelector } from '../../src/platforms/k8s/selector.js';
import { parseQuantity } from '../../src/platforms/k8s/quantity.js';
import { cleanObject } from '../../src/platforms/k8s/clean-rules.js';
import { haveFixtures, loadOne } from './fixtures.js';

const ok = await needs('shared fixtures', haveFixtures);
const names = (objects: { object: KubeObject }[]) => objects.map((i) => `${i.object.kind}/${i.object.metadata.name}`).sort();

/**
 * API versions newer than the 1.20 lab (batch/v1 CronJob, policy/v1 PDB, autoscaling/v2 HPA,
 * discovery.k8s.io/v1 EndpointSlice) on recorded objects: the graph rules are by kind and
 * field, so they must hold for these versions too.
 */
describe.skipIf(!ok)('app graph on recorded objects of newer API versions', () => {
  const web = (): KubeObject => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', labels: { app: 'shop' } },
    spec: { selector: { matchLabels: { tier: 'web' } }, template: { metadata: { labels: { tier: 'web' } }, spec: { containers: [{ name: 'w', image: 'x:1' }] } } },
  });

  it('follows CronJob pod templates (batch/v1) and leaves their Jobs out', () => {
    const cron = { ...loadOne('k8s-live/k9s/cj.json'), apiVersion: 'batch/v1' } as any;
    cron.metadata.labels = { app: 'shop' };
    cron.spec.jobTemplate.spec.template.spec.volumes = [{ name: 'cfg', configMap: { name: 'hello-config' } }];
    const job = loadOne('k8s-live/k9s/job.json');
    const cm: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'hello-config' } };
    const g = buildAppGraph([cron, job, cm], { selector: parseSelector('app=shop') });
    expect(names(g.included)).toEqual(['ConfigMap/hello-config', 'CronJob/hello']);
    expect(g.excluded.find((e) => e.object.kind === 'Job')?.reason).toBe('owned by controller CronJob/hello');
  });

  it('attaches policy/v1 PDBs, autoscaling/v2 HPAs and NetworkPolicies to the workloads they target', () => {
    const objects: KubeObject[] = [
      web(),
      { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web-pdb' }, spec: { minAvailable: 1, selector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['web', 'api'] }] } } },
      { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'db-pdb' }, spec: { selector: { matchLabels: { tier: 'db' } } } },
      { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'web' }, spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 1, maxReplicas: 3 } },
      { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'all' }, spec: { podSelector: {} } },
      { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'web-abcde', ownerReferences: [{ kind: 'Service', name: 'web', controller: true }] } } as KubeObject,
    ];
    const g = buildAppGraph(objects, { selector: parseSelector('app=shop') });
    expect(names(g.included)).toEqual(['Deployment/web', 'HorizontalPodAutoscaler/web', 'NetworkPolicy/all', 'PodDisruptionBudget/web-pdb']);
    const why = Object.fromEntries(g.included.map((i) => [i.object.metadata.name, i.reason]));
    expect(why['web-pdb']).toBe('budgets the pods of Deployment/web');
    expect(why.all).toBe('applies to the pods of Deployment/web');
  });

  it('records cluster dependencies: storage classes of claims and claim templates, bound PVs, ClusterRoles', () => {
    const sts = loadOne('k8s-live/k9s/sts.json') as any;
    sts.spec.volumeClaimTemplates[0].spec.storageClassName = 'fast';
    const claim = loadOne('k8s-live/k9s/pvc.json');
    const binding: KubeObject = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'view', labels: { app: 'nginx-sts' } }, roleRef: { kind: 'ClusterRole', name: 'view' } } as KubeObject;
    const g = buildAppGraph([sts, claim, binding], { selector: parseSelector('app=nginx-sts') });
    expect(names(g.included)).toEqual(['PersistentVolumeClaim/www-nginx-sts-0', 'RoleBinding/view', 'StatefulSet/nginx-sts']);
    expect(g.dependencies.map((d) => `${d.kind}/${d.name}`).sort()).toEqual([
      'ClusterRole/view',
      `PersistentVolume/${(claim as any).spec.volumeName}`,
      'StorageClass/fast',
      `StorageClass/${(claim as any).spec.storageClassName}`,
    ].sort());
  });

  it('--all takes every object that is not derived', () => {
    const g = buildAppGraph([web(), loadOne('k8s-live/k9s/rs.json'), loadOne('k8s-live/k9s/cm.json')], {});
    expect(names(g.included)).toEqual(['ConfigMap/blee', 'Deployment/web']);
  });
});

describe('label selectors as kubectl reads them', () => {
  const labels = { app: 'shop', tier: 'web', release: 'v2' };
  it.each([
    ['app=shop', true],
    ['app==shop,tier=web', true],
    ['app!=shop', false],
    ['tier in (web, api)', true],
    ['tier notin (web)', false],
    ['release', true],
    ['!legacy', true],
    ['!release', false],
    ['app=shop,tier in (db)', false],
  ])('%s', (text, expected) => {
    expect(matches(parseSelector(text), labels)).toBe(expected);
  });
  it('refuses what it cannot parse', () => {
    expect(() => parseSelector('app=(shop')).toThrow(/cannot parse label selector term/);
  });
});

describe('quantities', () => {
  it.each([
    ['100m', 0.1],
    ['2', 2],
    ['128Mi', 128 * 2 ** 20],
    ['1G', 1e9],
    ['1.5Gi', 1.5 * 2 ** 30],
    ['1e3', 1000],
  ])('%s', (text, value) => expect(parseQuantity(text)).toBeCloseTo(value));
  it('refuses nonsense', () => expect(() => parseQuantity('12 apples')).toThrow());
});

describe('cleaning keeps what the author wrote', () => {
  it('keeps a headless Service and a user-set annotation, removes only the noise', () => {
    const svc: KubeObject = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'db', uid: 'u', annotations: { team: 'data', 'kubectl.kubernetes.io/last-applied-configuration': '{}' } },
      spec: { clusterIP: 'None', clusterIPs: ['None'], ports: [{ port: 5432, protocol: 'TCP', nodePort: 30000 }] },
    };
    expect(cleanObject(svc)).toEqual({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'db', annotations: { team: 'data' } },
      spec: { clusterIP: 'None', clusterIPs: ['None'], ports: [{ port: 5432, protocol: 'TCP' }] },
    });
  });
});
