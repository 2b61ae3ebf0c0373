import { describe, expect, it } from 'vitest';
import { applyRewrites, composeToModel, quotaFromObjects, toTarget, validateObjects } from '../../src/convert/index.js';
import type { KubeObject } from '../../src/model/object.js';
import { dumpObjects } from '../../src/model/yaml.js';
import { loadComposeProject } from '../../src/platforms/compose/loader/index.js';
import { golden, project } from './helpers.js';

/** One Compose feature per case: input → Kubernetes YAML + loss report, compared with a golden file. */
const features: Record<string, Record<string, string>> = {
  'depends-on-conditions': {
    'compose.yaml': `services:
  web:
    image: web:1
    ports: ["8080:80"]
    depends_on:
      db: {condition: service_healthy}
      migrate: {condition: service_completed_successfully}
  migrate:
    image: web:1
    command: ["migrate"]
    restart: "no"
  db:
    image: postgres:16
    expose: ["5432"]
    healthcheck: {test: ["CMD", "pg_isready"], interval: 5s, retries: 3}
`,
  },
  'network-none-and-one-shot-job': {
    'compose.yaml': `services:
  batch:
    image: batch
    network_mode: none
    restart: on-failure:3
    entrypoint: ["/run.sh"]
    command: --all
    environment: [COST=$$5]
`,
  },
  'shared-volume-and-sizes': {
    'compose.yaml': `services:
  writer: {image: w, volumes: ["data:/data"]}
  reader: {image: r, volumes: ["data:/data:ro"]}
volumes: {data: {}}
`,
  },
  'bind-mounts-secrets-configs': {
    'compose.yaml': `services:
  app:
    image: app
    user: "1000:1000"
    read_only: true
    cap_drop: [ALL]
    volumes: ["./conf/app.ini:/etc/app.ini:ro", "./state:/var/lib/app", {type: tmpfs, target: /tmp}]
    secrets: [token]
    configs: [{source: motd, target: /etc/motd}]
    deploy: {replicas: 2, resources: {limits: {cpus: "0.5", memory: 256M}}}
    sysctls: {net.core.somaxconn: 1024}
    ulimits: {nofile: 1024}
secrets: {token: {file: ./token.txt}}
configs: {motd: {content: "hello $$USER"}}
`,
    'conf/app.ini': '[app]\nkey=value\n',
    'state/a/b.txt': 'data',
    'token.txt': 's3cret',
  },
};

describe('Compose features → Kubernetes (golden)', () => {
  it.each(Object.keys(features))('%s', (name) => {
    const dir = project(features[name]);
    const sizes = new Map([['data', 300 * 2 ** 20]]);
    const { objects, losses } = composeToModel(loadComposeProject({ location: dir, env: {} }), { volumeSizes: sizes });
    validateObjects(objects);
    const report = losses.map((l) => `# ${l.severity} ${l.subject} ${l.field}: ${l.message.replaceAll(dir, '<dir>')}`).join('\n');
    golden(`${name}.yaml`, `${report}\n${dumpObjects(objects).replaceAll(dir, '<dir>')}`);
  });

  it('reports a service whose name Kubernetes cannot hold, and keeps references consistent', () => {
    const dir = project({ 'compose.yaml': 'services:\n  my_db: {image: db, expose: ["5432"]}\n  app: {image: app, depends_on: [my_db]}\n' });
    const { objects, losses } = composeToModel(loadComposeProject({ location: dir, env: {} }));
    validateObjects(objects);
    expect(losses.find((l) => l.subject === 'service/my_db')?.message).toContain('the Service is my-db');
    expect(JSON.stringify(objects.find((o) => o.metadata.name === 'app'))).toContain('nc -z -w 2 my-db 5432');
  });

  it('claim size comes from measured bytes plus 25 % headroom', () => {
    const dir = project(features['shared-volume-and-sizes']);
    const { objects, losses } = composeToModel(loadComposeProject({ location: dir, env: {} }), { volumeSizes: new Map([['data', 800 * 2 ** 20]]) });
    const pvc = objects.find((o) => o.kind === 'PersistentVolumeClaim')!;
    expect((pvc.spec as any).resources.requests.storage).toBe('1000Mi');
    expect(objects.filter((o) => o.kind === 'PersistentVolumeClaim')).toHaveLength(1);
    expect(losses.find((l) => l.subject === 'volume/data')?.severity).toBe('needs-action');
  });
});

describe('rewrites', () => {
  const objects = (): KubeObject[] => {
    const dir = project(features['depends-on-conditions']);
    return toTarget(composeToModel(loadComposeProject({ location: dir, env: {} })).objects, 'k8s').objects.map((o) => ({ ...o, metadata: { ...o.metadata, namespace: 'shop' } }));
  };

  it('maps namespaces, mirrors registries (keeping digests), sets replicas, prefixes names with references', () => {
    const input = objects();
    input.find((o) => o.metadata.name === 'db')!.spec = { ...(input.find((o) => o.metadata.name === 'db')!.spec as object) };
    const { objects: out, report } = applyRewrites(input, {
      namespaces: { shop: 'prod' },
      registryMirrors: { 'docker.io': 'mirror.local:5000' },
      replicas: { web: 3 },
      namePrefix: 'x-',
    });
    validateObjects(out);
    const web = out.find((o) => o.kind === 'Deployment' && o.metadata.name === 'x-web') as any;
    expect(web.metadata.namespace).toBe('prod');
    expect(web.spec.replicas).toBe(3);
    expect(web.spec.template.spec.containers[0].image).toBe('mirror.local:5000/library/web:1');
    expect(report.some((r) => r.rewrite === 'registry-mirror')).toBe(true);
    expect(applyRewrites([], { registryMirrors: { 'quay.io': 'm' } }).objects).toEqual([]);
  });

  it('applies JSON-patch and merge-patch rules selected by kind and labels', () => {
    const { objects: out } = applyRewrites(objects(), {
      patches: [
        { match: { kind: 'Deployment', name: 'w*' }, jsonPatch: [{ op: 'add', path: '/spec/template/spec/nodeSelector', value: { disk: 'ssd' } }] },
        { match: { kind: 'Service', labels: { 'fatchart.io/service': 'db' } }, mergePatch: { spec: { type: 'NodePort' } } },
      ],
    });
    expect((out.find((o) => o.metadata.name === 'web' && o.kind === 'Deployment') as any).spec.template.spec.nodeSelector).toEqual({ disk: 'ssd' });
    expect((out.find((o) => o.metadata.name === 'db' && o.kind === 'Service') as any).spec.type).toBe('NodePort');
  });

  it('--fit-quota scales requests to the quota and clamps limits to the LimitRange, reporting the factor', () => {
    const dir = project({ 'compose.yaml': 'services:\n  api:\n    image: api\n    deploy: {replicas: 2, resources: {reservations: {cpus: "0.5", memory: 512M}, limits: {cpus: "2", memory: 1G}}}\n' });
    const objects = composeToModel(loadComposeProject({ location: dir, env: {} })).objects;
    const fitQuota = quotaFromObjects([
      { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'q' }, spec: { hard: { 'requests.cpu': '500m', 'requests.memory': '2Gi' } } },
      { apiVersion: 'v1', kind: 'LimitRange', metadata: { name: 'l' }, spec: { limits: [{ type: 'Container', max: { cpu: '1', memory: '768Mi' } }] } },
    ]);
    const { objects: out, report } = applyRewrites(objects, { fitQuota });
    const c = (out.find((o) => o.kind === 'Deployment') as any).spec.template.spec.containers[0];
    expect(c.resources).toEqual({ requests: { cpu: '250m', memory: '512Mi' }, limits: { cpu: '1000m', memory: '768Mi' } });
    expect(report.map((r) => r.detail)).toContain('api requests.cpu 500m → 250m (×0.50)');
  });
});
