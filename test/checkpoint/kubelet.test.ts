import { createServer, type Server } from 'node:http';
import { copyFile, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureDockerCheckpoint } from '../../src/checkpoint/docker.js';
import { requestKubeletCheckpoint } from '../../src/checkpoint/kubelet.js';
import { importCheckpointArchive } from '../../src/checkpoint/slot.js';
import { quietContext } from '../../src/util/context.js';
import { dockerProbe, startDocker } from '../support/components/docker.js';
import { kubeLab } from '../support/components/k8s.js';
import { needs } from '../support/require.js';
import { COUNTER, criuProbe, sleep } from './support.js';


/**
 * Stand-in for the API server's node proxy for the one checkpoint path, in front of a real node:
 * the real Docker Engine, checkpointing the real container with real CRIU, and writing the
 * archive into a "kubelet checkpoint directory" as the kubelet does. Containers are found by
 * dockershim's naming, k8s_<container>_<pod>_<namespace>.
 */
async function standIn(docker: Docker, token: string, nodeDir: string): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const m = /^\/api\/v1\/nodes\/([^/]+)\/proxy\/checkpoint\/([^/]+)\/([^/]+)\/([^/?]+)/.exec(req.url ?? '');
    const reply = (status: number, body: unknown) => res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
    if (req.headers.authorization !== `Bearer ${token}`) return reply(401, { kind: 'Status', message: 'Unauthorized' });
    if (req.method !== 'POST' || !m || m[1] !== 'node1') return reply(404, { kind: 'Status', message: 'the server could not find the requested resource' });
    const [, , ns, pod, container] = m;
    captureDockerCheckpoint({ docker }, `k8s_${container}_${pod}_${ns}`, {}, quietContext())
      .then(async (cp) => {
        const path = join(nodeDir, `checkpoint-${pod}_${ns}-${container}-${new Date().toISOString()}.tar`);
        await copyFile(cp.file, path);
        await cp.dispose();
        reply(200, { items: [path] });
      })
      .catch((err: Error) => reply(500, { kind: 'Status', message: `checkpointing container failed: ${err.message}` }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { server, url: `http://127.0.0.1:${port}` };
}

const kubeconfigFor = (server: string, token: string) =>
  `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: "${server}", insecure-skip-tls-verify: true}\nusers:\n- name: u\n  user: {token: ${token}}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n`;

const ready = await needs('kubelet checkpoint API stand-in', criuProbe, dockerProbe);

describe.skipIf(!ready)('kubelet checkpoint API client (stand-in node proxy, real engine and CRIU)', () => {
  let docker: Docker;
  let server: Server;
  let kubeconfig: string;
  let nodeDir: string;
  const name = `k8s_counter_web-0_shop${process.pid}`;

  beforeAll(async () => {
    const component = await startDocker();
    docker = new Docker({ socketPath: component.socketPath });
    const work = await mkdtemp(join(tmpdir(), 'fatchart-kubelet-'));
    nodeDir = work;
    const s = await standIn(docker, 'secret-token', nodeDir);
    server = s.server;
    kubeconfig = join(work, 'kubeconfig');
    await writeFile(kubeconfig, kubeconfigFor(s.url, 'secret-token'));
    const c = await docker.createContainer({ name, Image: component.image, Cmd: COUNTER, HostConfig: { NetworkMode: 'none' } });
    await c.start();
    await sleep(1000);
  });
  afterAll(async () => {
    server?.close();
    await docker?.getContainer(name).remove({ force: true }).catch(() => {});
  });

  it('checkpoints through the node proxy path and imports the archive the node wrote', async () => {
    const paths = await requestKubeletCheckpoint(
      { node: 'node1', namespace: `shop${process.pid}`, pod: 'web-0', container: 'counter', timeoutSeconds: 60 },
      { kubeconfig },
    );
    expect(paths).toHaveLength(1);
    expect(paths[0]).toMatch(new RegExp(`checkpoint-web-0_shop${process.pid}-counter-.*\\.tar$`));
    const imported = await importCheckpointArchive(paths[0]!, 'counter');
    expect(imported.facts).toMatchObject({ container: 'counter', engine: 'docker', architecture: 'x86_64' });
    // The kubelet API leaves the container running.
    expect((await docker.getContainer(name).inspect()).State.Running).toBe(true);
  });

  it('explains a 404 (no checkpoint API, or no such pod) as a pre-flight refusal', async () => {
    await expect(
      requestKubeletCheckpoint({ node: 'other-node', namespace: 'a', pod: 'b', container: 'c' }, { kubeconfig }),
    ).rejects.toMatchObject({ code: 'preflight', message: expect.stringContaining('the kubelet has no checkpoint API here') });
  });
});

/** The real local cluster (v1.20): its kubelet predates the checkpoint API. */
const lab = await kubeLab();

describe.skipIf(!lab?.isLab)('kubelet checkpoint API on the real v1.20 lab', () => {
  it('is refused with the reason, not an obscure 404', async () => {
    await expect(
      requestKubeletCheckpoint({ node: 'localhost', namespace: 'default', pod: 'none', container: 'none' }, { kubeconfig: lab!.kubeconfig }),
    ).rejects.toThrow(/checkpoint refused: the kubelet has no checkpoint API here .* 404/);
  });
});
