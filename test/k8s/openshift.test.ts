import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubeLab, type KubeLab } from '../support/components/k8s.js';
import { needs } from '../support/require.js';
import type { KubeObject } from '../../src/model/object.js';
import { captureFromCluster, type KubeCapture } from '../../src/platforms/k8s/capture.js';
import { restoreToCluster } from '../../src/platforms/k8s/restore.js';
import { openshiftDriver } from '../../src/platforms/openshift/index.js';
import { haveFixtures, load } from './fixtures.js';
import { manualStorageClass } from './seed.js';
import { inNamespace, noBundle, recordingContext, tempDir, waitBound } from './support.js';
import { join } from 'node:path';

const lab = (await needs('shared fixtures', haveFixtures)) ? await kubeLab() : undefined;
const key = (o: KubeObject) => `${o.kind}/${o.metadata.name}`;

/** The OpenShift kinds, served by CRDs: the lab is plain Kubernetes. */
const openshiftCrds: KubeObject[] = [
  ['apps.openshift.io', 'DeploymentConfig', 'deploymentconfigs'],
  ['route.openshift.io', 'Route', 'routes'],
  ['image.openshift.io', 'ImageStream', 'imagestreams'],
].map(([group, kind, plural]) => ({
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `${plural}.${group}` },
  spec: {
    group,
    scope: 'Namespaced',
    names: { plural, singular: kind.toLowerCase(), kind },
    versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
  },
}));

/**
 * OpenShift's own mysql-persistent template (2023, DeploymentConfig era) processed the way
 * `oc process` does it — parameters substituted, template labels added — plus a Route from the
 * django template and an ImageStream from the python one, renamed to belong to the app.
 * Lab adaptations: the claim gets the `manual` class, the trigger names the app's own
 * ImageStream (upstream points at the shared `openshift` namespace).
 */
function mysqlApp(): { labelled: KubeObject[]; referenced: KubeObject[] } {
  const [template] = load('openshift/mysql-persistent.template.dc-2023.json') as any[];
  const params: Record<string, string> = Object.fromEntries(template.parameters.map((p: any) => [p.name, p.value ?? `generated-${p.name.toLowerCase()}`]));
  const text = JSON.stringify(template.objects).replace(/\$\{(\w+)\}/g, (_, name) => params[name]);
  const labelled = (JSON.parse(text) as any[]).map((o) => ({ ...o, metadata: { ...o.metadata, labels: { ...(o.metadata.labels ?? {}), ...template.labels } } }));
  const claim = labelled.find((o) => o.kind === 'PersistentVolumeClaim');
  claim.spec.storageClassName = 'manual';
  claim.spec.resources.requests.storage = '16Mi';
  const dc = labelled.find((o) => o.kind === 'DeploymentConfig');
  for (const t of dc.spec.triggers) if (t.imageChangeParams) delete t.imageChangeParams.from.namespace;

  const [django] = load('openshift/django-psql-persistent.template.json') as any[];
  const route = structuredClone(django.objects.find((o: any) => o.kind === 'Route'));
  route.metadata.name = 'mysql';
  route.spec = { host: 'mysql.apps.example.com', to: { kind: 'Service', name: 'mysql' } };
  const stream = load('openshift/python-rhel.imagestream.json')[0] as any;
  stream.metadata = { name: 'mysql', annotations: stream.metadata.annotations };
  return { labelled, referenced: [route, stream] };
}

describe.skipIf(!lab)('openshift: DeploymentConfig, Route and ImageStream app (OpenShift kinds via CRDs)', () => {
  const k = lab as KubeLab;
  let source: string;
  let captured: KubeCapture;

  beforeAll(async () => {
    await k.apply([...openshiftCrds, manualStorageClass]);
    for (const crd of openshiftCrds) await k.kubectl(['wait', '--for=condition=Established', `crd/${crd.metadata.name}`, '--timeout=60s']);
    source = await k.namespace('fc-os');
    await k.persistentVolume(`${source}-a`);
    const { labelled, referenced } = mysqlApp();
    await k.apply([...labelled, ...referenced], source);
    await waitBound(k, source);
    captured = (await openshiftDriver.source!.capture(
      { namespace: source, selector: 'template=mysql-persistent-template', kubeconfig: k.kubeconfig },
      recordingContext(),
    )) as KubeCapture;
  });
  afterAll(async () => {
    await k.cleanup();
    // Other suites expect a plain Kubernetes server (no OpenShift groups in discovery).
    await k.kubectl(['delete', 'crd', ...openshiftCrds.map((c) => c.metadata.name), '--ignore-not-found']);
  });

  it('is detected as OpenShift from discovery and follows the DC trigger and the Route', () => {
    expect(captured.model.source.platform).toBe('openshift');
    expect(captured.model.objects.map(key).sort()).toEqual([
      'DeploymentConfig/mysql',
      'ImageStream/mysql',
      'PersistentVolumeClaim/mysql',
      'Route/mysql',
      'Secret/mysql',
      'Service/mysql',
    ]);
    const why = Object.fromEntries(captured.graph.included.map((i) => [key(i.object), i.reason]));
    expect(why['ImageStream/mysql']).toBe('ImageChange trigger of DeploymentConfig/mysql');
    expect(why['Route/mysql']).toBe('routes to Service/mysql');
    expect(why['Service/mysql']).toBe('matches the selector');
    expect(captured.dependencies.map((d) => `${d.kind}/${d.name}`)).toContain('CustomResourceDefinition/deploymentconfigs.apps.openshift.io');
  });

  it('restores into another project with equal cleaned objects', async () => {
    const target = await k.namespace('fc-os-dst');
    await k.persistentVolume(`${target}-a`);
    const report = await restoreToCluster(
      noBundle,
      { namespace: target, kubeconfig: k.kubeconfig, objects: captured.model.objects, journal: join(tempDir('fc-os-'), 'j.jsonl') },
      recordingContext(),
    );
    expect(report.objects).toBe(6);
    const again = await captureFromCluster({ namespace: target, selector: 'template=mysql-persistent-template', kubeconfig: k.kubeconfig }, recordingContext(), 'openshift');
    expect(again.model.objects).toEqual(inNamespace(captured.model.objects, source, target));
  });
});
