import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { generate, processTemplate, toTarget, validateObjects } from '../../src/convert/index.js';
import type { KubeObject } from '../../src/model/object.js';
import { dumpObjects, parseObjects } from '../../src/model/yaml.js';
import { golden, hasShared, shared } from './helpers.js';

const first = () => 0;

describe('template processing', () => {
  it('generates from expressions', () => {
    expect(generate('user[A-Z0-9]{3}', first)).toBe('userAAA');
    expect(generate('[\\w]{4}x', (n) => n - 1)).toBe('____x');
    expect(generate('\\d{2}', (n) => n - 1)).toBe('99');
  });

  it('substitutes ${X} in strings and ${{X}} as JSON, applies template labels, refuses unknown params', () => {
    const t: KubeObject = {
      apiVersion: 'template.openshift.io/v1', kind: 'Template', metadata: { name: 't' },
      labels: { app: 't' },
      parameters: [{ name: 'NAME', required: true }, { name: 'REPLICAS', value: '2' }, { name: 'PW', generate: 'expression', from: '[a]{3}' }],
      objects: [{ apiVersion: 'v1', kind: 'ReplicationController', metadata: { name: '${NAME}-rc' }, spec: { replicas: '${{REPLICAS}}', template: { metadata: { annotations: { pw: '${PW}' } } } } }],
    } as never;
    const r = processTemplate(t, { NAME: 'web' }, first);
    expect(r.objects[0]).toEqual({ apiVersion: 'v1', kind: 'ReplicationController', metadata: { name: 'web-rc', labels: { app: 't' } }, spec: { replicas: 2, template: { metadata: { annotations: { pw: 'aaa' } } } } });
    expect(r.losses.map((l) => l.field)).toEqual(['parameters.PW']);
    expect(() => processTemplate(t, {}, first)).toThrow(/NAME is required/);
    expect(() => processTemplate(t, { NAME: 'x', NOPE: '1' }, first)).toThrow(/NOPE/);
  });
});

const fixtures = hasShared ? readdirSync(path.join(shared, 'openshift')).filter((f) => /\.(json|yaml)$/.test(f)) : [];

function load(f: string): { objects: KubeObject[]; params: Record<string, string> } {
  const objects = parseObjects(readFileSync(path.join(shared, 'openshift', f), 'utf8'), f);
  const params = Object.fromEntries(objects.flatMap((o) => ((o.parameters as Array<{ name: string; value?: string; required?: boolean; generate?: string }>) ?? []).filter((p) => p.required && !p.value && !p.generate).map((p) => [p.name, `demo-${p.name.toLowerCase().replace(/_/g, '-')}`])));
  return { objects, params };
}

/** Output without the bulky fatchart.io/original|carried JSON (covered by the round-trip tests). */
function readable(objects: KubeObject[]): KubeObject[] {
  return objects.map((o) => {
    const ann = Object.fromEntries(Object.entries(o.metadata.annotations ?? {}).map(([k, v]) => [k, k.startsWith('fatchart.io/') ? '<…>' : v]));
    return { ...o, metadata: { ...o.metadata, ...(Object.keys(ann).length ? { annotations: ann } : {}) } };
  });
}

describe.skipIf(!hasShared)('OpenShift fixtures → Kubernetes (golden)', () => {
  it.each(fixtures)('%s', (f) => {
    const { objects, params } = load(f);
    const r = toTarget(objects, 'k8s', { params, random: first });
    validateObjects(r.objects);
    const report = r.losses.map((l) => `# ${l.severity} ${l.subject} ${l.field}: ${l.message}`).join('\n');
    golden(`openshift-${f.replace(/\.(json|yaml)$/, '')}.yaml`, `${report}\n${dumpObjects(readable(r.objects))}`);
  });

  it('resolves DeploymentConfig images through ImageStreams and converts Routes to HTTPRoutes on request', () => {
    const { objects, params } = load('django-psql-persistent.template.json');
    const r = toTarget(objects, 'k8s', { params, random: first, gateway: 'infra/public' });
    validateObjects(r.objects);
    const route = r.objects.find((o) => o.kind === 'HTTPRoute') as any;
    expect(route.spec.parentRefs).toEqual([{ namespace: 'infra', name: 'public' }]);
    expect(route.spec.rules[0].backendRefs[0].name).toBe('django-psql-persistent');
    const dep = r.objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'django-psql-persistent') as any;
    // the DC's image comes from an ImageStream a BuildConfig fills: the internal registry reference
    expect(dep.spec.template.spec.containers[0].image).toBe('image-registry.openshift-image-registry.svc:5000/django-psql-persistent:latest');
    const back = toTarget(r.objects, 'openshift');
    expect(back.objects.map((o) => o.kind)).toEqual(['Template']);
  });
});
