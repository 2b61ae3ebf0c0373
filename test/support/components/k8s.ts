/**
 * A real Kubernetes API server for tests: the shared k8s-lab (v1.20.2 with one node, on
 * 127.0.0.1), brought up idempotently, or — when FATCHART_E2E_KUBECONFIG is set — any real
 * cluster the developer points at (the opt-in suite; nothing is started then).
 *
 *   const lab = await kubeLab();        // undefined => skipped (locally) / throws (under CI)
 *   const ns = await lab.namespace('t'); // fresh namespace, deleted by lab.cleanup()
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import yaml from 'js-yaml';
import { inCI, needs } from '../require.js';

const run = promisify(execFile);
const labTool = resolve('../shared/tools/k8s-lab/k8s-lab');
const labHome = process.env.K8S_LAB_HOME ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'k8s-lab');

export interface KubeLab {
  kubeconfig: string;
  /** True against the local lab (hostPath PVs on this machine, lab images present). */
  isLab: boolean;
  kubectl(args: string[], input?: string): Promise<string>;
  /** Applies YAML/JSON objects with kubectl (independent of fatchart's own client). */
  apply(objects: unknown[], namespace?: string): Promise<void>;
  /** Creates a fresh namespace with a unique name; removed by cleanup(). */
  namespace(prefix: string): Promise<string>;
  /** A hostPath PersistentVolume of class `manual` (cluster-scoped); removed by cleanup(). */
  persistentVolume(name: string, size?: string, storageClass?: string): Promise<void>;
  /** Every object in the namespace (except events), normalised for before/after comparison. */
  snapshot(namespace: string): Promise<string[]>;
  cleanup(): Promise<void>;
}

/** The opt-in suite's cluster, when set. */
export const e2eKubeconfig = process.env.FATCHART_E2E_KUBECONFIG;

let shared: Promise<KubeLab | undefined> | undefined;

export function kubeLab(): Promise<KubeLab | undefined> {
  shared ??= start();
  return shared;
}

async function start(): Promise<KubeLab | undefined> {
  if (e2eKubeconfig) return makeLab(e2eKubeconfig, false);
  const ok = await needs('Kubernetes (k8s-lab)', () => {
    if (!existsSync(labTool)) return `${labTool} is absent`;
    if (process.getuid?.() !== 0) return 'k8s-lab needs root';
    if (!existsSync(join(labHome, 'bin', 'kube-apiserver'))) return `k8s-lab is not built (run ${labTool} build, ~6 min)`;
    return undefined;
  });
  if (!ok) return undefined;
  let kubeconfig: string;
  try {
    // Idempotent: 0.2 s when already up; prints `export KUBECONFIG=...` last.
    const out = execFileSync(labTool, ['up', '--node'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
    kubeconfig = out.trim().split('\n').pop()!.replace(/^export KUBECONFIG=/, '');
  } catch (err) {
    const message = `k8s-lab up failed: ${(err as { stderr?: string }).stderr?.toString().trim().split('\n').pop() ?? err}`;
    if (inCI) throw new Error(message);
    console.warn(`SKIP ${message}`);
    return undefined;
  }
  return makeLab(kubeconfig, true);
}

function kubectlBinary(): string {
  const lab = join(labHome, 'bin', 'kubectl');
  return existsSync(lab) ? lab : 'kubectl';
}

function makeLab(kubeconfig: string, isLab: boolean): KubeLab {
  const namespaces: string[] = [];
  const volumes: string[] = [];
  const pvRoot = mkdtempSync(join(tmpdir(), 'fatchart-pv-'));
  const kubectl = async (args: string[], input?: string) => {
    const child = run(kubectlBinary(), ['--kubeconfig', kubeconfig, ...args], { maxBuffer: 64 << 20, timeout: 180_000 });
    if (input !== undefined) {
      child.child.stdin!.write(input);
      child.child.stdin!.end();
    }
    try {
      return (await child).stdout;
    } catch (err) {
      throw new Error(`kubectl ${args.join(' ')}: ${(err as { stderr?: string }).stderr ?? err}`);
    }
  };
  let minor: number | undefined;
  const tokenSecrets = async () => {
    minor ??= Number(JSON.parse(await kubectl(['version', '-o', 'json'])).serverVersion.minor.replace(/\D/g, ''));
    return minor < 24;
  };
  const lab: KubeLab = {
    kubeconfig,
    isLab,
    kubectl,
    async apply(objects, namespace) {
      const text = objects.map((o) => `---\n${yaml.dump(o, { noRefs: true })}`).join('');
      await kubectl(['apply', ...(namespace ? ['-n', namespace] : []), '-f', '-'], text);
    },
    async namespace(prefix) {
      const name = `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
      await kubectl(['create', 'namespace', name]);
      namespaces.push(name);
      // Pods are refused until the namespace's default ServiceAccount exists, and before 1.24
      // until it also has its token secret (the lab is 1.20; newer servers make no such secret).
      const legacyTokens = await tokenSecrets();
      for (let i = 0; i < 60; i++) {
        const sa = await kubectl(['get', 'serviceaccount', 'default', '-n', name, '-o', 'json']).catch(() => '');
        if (sa && (!legacyTokens || JSON.parse(sa).secrets?.length)) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      return name;
    },
    async persistentVolume(name, size = '64Mi', storageClass = 'manual') {
      volumes.push(name);
      await lab.apply([
        {
          apiVersion: 'v1',
          kind: 'PersistentVolume',
          metadata: { name, labels: { 'fatchart-test': 'true' } },
          spec: {
            capacity: { storage: size },
            accessModes: ['ReadWriteOnce'],
            persistentVolumeReclaimPolicy: 'Retain',
            storageClassName: storageClass,
            hostPath: { path: join(pvRoot, name), type: 'DirectoryOrCreate' },
          },
        },
      ]);
    },
    async snapshot(namespace) {
      const kinds = (await kubectl(['api-resources', '--verbs=list', '--namespaced', '-o', 'name']))
        .split('\n')
        .filter((k) => k && !k.startsWith('events'));
      const list = JSON.parse(await kubectl(['get', kinds.join(','), '-n', namespace, '-o', 'json']));
      return (list.items as any[])
        .map((o) => {
          const { managedFields, resourceVersion, generation, ...meta } = o.metadata;
          // Identity (uid) and content must be as before; bookkeeping counters may move.
          return `${o.apiVersion} ${o.kind}/${o.metadata.name} ${JSON.stringify({ meta, spec: o.spec, data: o.data })}`;
        })
        .sort();
    },
    async cleanup() {
      // Namespaces finish terminating in the background; nothing reuses their names.
      for (const ns of namespaces.splice(0)) await kubectl(['delete', 'namespace', ns, '--wait=false']).catch(() => {});
      for (const pv of volumes.splice(0)) await kubectl(['delete', 'pv', pv, '--wait=false']).catch(() => {});
    },
  };
  return lab;
}

/** Writes a kubeconfig that reaches the same cluster through `server` (e.g. the fault proxy). */
export function kubeconfigVia(kubeconfig: string, server: string, dir: string): string {
  const config = yaml.load(readFileSync(kubeconfig, 'utf8')) as any;
  const current = config.contexts.find((c: any) => c.name === config['current-context']);
  const cluster = config.clusters.find((c: any) => c.name === current.context.cluster);
  // Plain HTTP to the local proxy; client-node accepts http:// only with TLS checks off.
  cluster.cluster = { server, 'insecure-skip-tls-verify': true };
  const path = join(dir, 'kubeconfig-proxy');
  writeFileSync(path, yaml.dump(config));
  return path;
}
