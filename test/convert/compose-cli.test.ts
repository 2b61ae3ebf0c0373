import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { convert } from '../../src/actions/convert.js';
import { FatchartError } from '../../src/errors.js';
import { parseObjects } from '../../src/model/yaml.js';
import { quietContext } from '../../src/util/context.js';
import { commandProbe, needs } from '../support/require.js';
import { hasShared, project, shared } from './helpers.js';

const k8sOutputs = hasShared
  ? readdirSync(path.join(shared, 'kompose'), { recursive: true }).map(String).filter((f) => /output-.*k8s.*\.yaml$/.test(f))
  : [];

describe.skipIf(!hasShared)('Kubernetes → Compose output is accepted by docker-compose', () => {
  it.each(k8sOutputs)('kompose/%s', async (f) => {
    if (!(await needs('docker-compose config', commandProbe('docker-compose', ['version'])))) return;
    const out = path.join(project({}), 'out');
    const r = await convert({ input: path.join(shared, 'kompose', f), to: 'compose', out }, quietContext());
    expect(r.written).toContain('compose.yaml');
    // `config -q` parses, validates and resolves the project without a daemon
    execFileSync('docker-compose', ['config', '-q'], { cwd: out, stdio: ['ignore', 'ignore', 'pipe'] });
  });
});

describe('convert action', () => {
  const input = () =>
    project({ 'compose.yaml': 'services:\n  app:\n    image: app:1\n    ports: ["80:8080"]\n    ulimits: {nofile: 10}\n' });

  it('writes multi-document YAML, JSON lists, and refuses a non-empty --out', async () => {
    const dir = input();
    const yamlOut = await convert({ input: dir, to: 'k8s' }, quietContext());
    expect(parseObjects(yamlOut.text, 'stdout').map((o) => o.kind).sort()).toEqual(['Deployment', 'Service']);
    const json = await convert({ input: dir, to: 'k8s', output: 'json' }, quietContext());
    expect(JSON.parse(json.text).items).toHaveLength(2);
    await expect(convert({ input: dir, to: 'k8s', out: dir }, quietContext())).rejects.toThrow(/not empty/);
  });

  it('--strict fails with the lossy exit code when something is dropped, and writes nothing', async () => {
    const dir = input();
    const out = path.join(dir, 'k8s');
    const err = await convert({ input: dir, to: 'k8s', strict: true, out }, quietContext()).catch((e) => e);
    expect(err).toBeInstanceOf(FatchartError);
    expect((err as FatchartError).exitCode).toBe(7);
    expect(existsSync(out)).toBe(false);
  });

  it.skipIf(!hasShared)('processes an OpenShift template with --param and rewrites the result', async () => {
    const r = await convert({
      input: path.join(shared, 'openshift', 'nginx-example.template.json'),
      to: 'k8s',
      params: { NAME: 'web', NAMESPACE: 'openshift', NGINX_VERSION: '1.20-ubi8', MEMORY_LIMIT: '256Mi', SOURCE_REPOSITORY_URL: 'https://example.invalid/repo.git' },
      rewrites: { registryMirrors: { 'image-registry.openshift-image-registry.svc:5000': 'mirror.local' }, namespaces: {} },
    }, quietContext());
    const kinds = r.objects.map((o) => o.kind).sort();
    expect(kinds).toEqual(['Deployment', 'Ingress', 'Service']);
    expect(r.losses.some((l) => l.subject.startsWith('BuildConfig/') && l.severity === 'needs-action')).toBe(true);
    expect(r.losses.some((l) => l.field === 'parameters.GITHUB_WEBHOOK_SECRET')).toBe(true);
    expect(readFileSync(path.join(shared, 'openshift', 'nginx-example.template.json'), 'utf8')).toContain('Template');
  });
});
