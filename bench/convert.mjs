// Converting a generated 2,000-object app (1,000 Compose services → Deployments + Services),
// then Kubernetes → OpenShift, with the code-path validation. Target: ≤ 300 ms for the
// compose → k8s conversion. Needs the build (`npm run build`).
import { performance } from 'node:perf_hooks';
import { composeToModel, toTarget, validateObjects } from '../dist/convert/index.js';

const services = {};
for (let i = 0; i < 1000; i++) {
  services[`svc${i}`] = {
    image: `registry.local/app${i % 10}:1.${i}`, environment: { INDEX: String(i), MODE: 'bench' }, labels: {},
    ports: [{ target: 8080, published: String(10000 + i), protocol: 'tcp', mode: 'ingress' }], expose: [],
    volumes: [], secrets: [], configs: [], depends_on: {}, command: ['serve', '--port', '8080'],
    healthcheck: { test: ['CMD', 'true'], interval: '10s', retries: 3 },
  };
}
const project = { name: 'bench', workingDir: '/nonexistent', files: [], services, disabledServices: [], volumes: {}, networks: {}, secrets: {}, configs: {}, extensions: {}, environment: {}, sourceDigest: '' };

const time = (label, fn, runs = 5) => {
  fn(); // warm-up (JIT, validator compilation)
  const t = [];
  let out;
  for (let i = 0; i < runs; i++) {
    const s = performance.now();
    out = fn();
    t.push(performance.now() - s);
  }
  t.sort((a, b) => a - b);
  console.log(`${label}: median ${t[Math.floor(runs / 2)].toFixed(1)} ms (min ${t[0].toFixed(1)} ms)`);
  return out;
};

const model = time('compose → k8s (2,000 objects)', () => composeToModel(project).objects);
console.log(`objects: ${model.length}`);
time('validate 2,000 objects (kubernetes-models)', () => validateObjects(model));
time('k8s → openshift', () => toTarget(model, 'openshift'));
time('k8s → compose', () => toTarget(model, 'compose'));
