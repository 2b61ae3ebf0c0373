import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { composeToModel, toTarget, validateCompose, validateObjects } from '../../src/convert/index.js';
import { canonicalJson } from '../../src/convert/annotations.js';
import type { KubeObject } from '../../src/model/object.js';
import { parseObjects } from '../../src/model/yaml.js';
import { loadComposeProject } from '../../src/platforms/compose/loader/index.js';
import { hasShared, project, shared } from './helpers.js';

const sortedJson = (objects: KubeObject[]) => objects.map(canonicalJson).sort();

function viaCompose(objects: KubeObject[]): KubeObject[] {
  const out = toTarget(objects, 'compose');
  validateCompose(out.compose!.document);
  const files = Object.fromEntries([...out.compose!.files].map(([k, v]) => [k, v.toString()]));
  const p = loadComposeProject({ location: project(files), env: {} });
  return composeToModel(p).objects;
}

const openshiftFixtures = hasShared ? readdirSync(path.join(shared, 'openshift')).filter((f) => /\.(json|yaml)$/.test(f)) : [];
const k8sFixtures = hasShared
  ? readdirSync(path.join(shared, 'kompose'), { recursive: true }).map(String).filter((f) => /output-.*k8s.*\.yaml$/.test(f))
  : [];

describe.skipIf(!hasShared)('round trips are exact (zero diff)', () => {
  it.each(openshiftFixtures)('OpenShift → Kubernetes → OpenShift: %s', (f) => {
    const original = parseObjects(readFileSync(path.join(shared, 'openshift', f), 'utf8'), f);
    const params = Object.fromEntries(original.flatMap((o) => ((o.parameters as Array<{ name: string; value?: string; required?: boolean; generate?: string }>) ?? []).filter((p) => p.required && !p.value && !p.generate).map((p) => [p.name, 'demo'])));
    const k8s = toTarget(original, 'k8s', { params });
    if (!k8s.objects.length) {
      // nothing Kubernetes can hold (a lone ImageStream): reported, not silently lost
      expect(k8s.losses.map((l) => l.severity)).toContain('dropped');
      return;
    }
    validateObjects(k8s.objects);
    expect(k8s.objects.some((o) => ['DeploymentConfig', 'Route', 'ImageStream', 'BuildConfig', 'Template'].includes(o.kind))).toBe(false);
    const back = toTarget(k8s.objects, 'openshift');
    expect(sortedJson(back.objects)).toEqual(sortedJson(original));
  });

  it.each(k8sFixtures)('Kubernetes → Compose → Kubernetes: kompose/%s', (f) => {
    const original = parseObjects(readFileSync(path.join(shared, 'kompose', f), 'utf8'), f);
    expect(sortedJson(viaCompose(original))).toEqual(sortedJson(original));
  });

  it('an edited compose project is converted afresh and the report says so', () => {
    const original = parseObjects(readFileSync(path.join(shared, 'kompose', 'env/output-k8s.yaml'), 'utf8'), 'env');
    const out = toTarget(original, 'compose');
    const text = out.compose!.files.get('compose.yaml')!.toString().replace('image: bde2020', 'image: mirror/bde2020');
    const converted = composeToModel(loadComposeProject({ location: project({ 'compose.yaml': text }), env: {} }));
    expect(converted.losses.map((l) => l.field)).toContain('x-fatchart');
    expect(JSON.stringify(converted.objects)).toContain('mirror/bde2020');
  });
});

describe.skipIf(!hasShared)('every shared Compose project and Kompose fixture converts to valid objects', () => {
  const composeDirs = hasShared ? readdirSync(path.join(shared, 'compose'), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name) : [];
  it.each(composeDirs)('compose/%s → k8s and openshift', (d) => {
    const p = loadComposeProject({ location: path.join(shared, 'compose', d), env: {} });
    const model = composeToModel(p);
    for (const target of ['k8s', 'openshift'] as const) validateObjects(toTarget(model.objects, target).objects);
    expect(model.objects.filter((o) => ['Deployment', 'Job', 'DaemonSet'].includes(o.kind)).length).toBeGreaterThan(0);
  });
});
