import { FatchartError } from '../errors.js';
import { ApiError, KubeClient, type ClientOptions } from '../platforms/k8s/client.js';

/**
 * Kubernetes capture through the kubelet checkpoint API (KEP-2008, `ContainerCheckpoint`: alpha
 * in 1.25, beta and on by default from 1.30), reached through the API server's node proxy:
 *
 *   POST /api/v1/nodes/{node}/proxy/checkpoint/{namespace}/{pod}/{container}[?timeout=SECONDS]
 *
 * The kubelet asks the CRI runtime (CRI-O ≥ 1.25, containerd ≥ 2.0) to dump the container with
 * CRIU and answers `{"items": ["/var/lib/kubelet/checkpoints/checkpoint-<pod>_<ns>-<container>-<time>.tar"]}`.
 * The archive stays on the node: the API has no download. Copy it off the node (a pod mounting
 * that hostPath, or `scp`), then store it with `pack --checkpoint-archive FILE`; where the node's
 * file system is reachable here (single-node labs) the returned path can be imported directly.
 * Calling this needs RBAC `create` on `nodes/proxy`, which is close to node admin.
 */
export interface KubeletCheckpointRequest {
  node: string;
  namespace: string;
  pod: string;
  container: string;
  /** Seconds the kubelet waits for the runtime (the kubelet's default is 4 minutes). */
  timeoutSeconds?: number;
}

export const kubeletCheckpointPath = (r: Pick<KubeletCheckpointRequest, 'node' | 'namespace' | 'pod' | 'container'>) =>
  `/api/v1/nodes/${encodeURIComponent(r.node)}/proxy/checkpoint/${[r.namespace, r.pod, r.container].map(encodeURIComponent).join('/')}`;

/** What the kubelet's answers mean, by status: the generic API message is no help here. */
const failures: ReadonlyArray<{ status: number; code: 'preflight' | 'platform'; explain: string }> = [
  { status: 404, code: 'preflight', explain: 'the kubelet has no checkpoint API here (needs Kubernetes 1.25+ with the ContainerCheckpoint feature gate; on by default from 1.30), or the pod or container does not exist' },
  { status: 403, code: 'preflight', explain: 'not allowed to create nodes/proxy (the checkpoint API needs that RBAC permission)' },
  { status: 500, code: 'platform', explain: 'the container runtime failed to checkpoint (CRI-O/containerd with CRIU support enabled is needed)' },
];

/** Asks the node's kubelet to checkpoint one container; returns the archive paths on the node. */
export async function requestKubeletCheckpoint(request: KubeletCheckpointRequest, options: ClientOptions = {}): Promise<string[]> {
  // One attempt only: a retried POST would dump the container again.
  const client = new KubeClient({ ...options, retries: 0, timeoutMs: Math.max(options.timeoutMs ?? 0, ((request.timeoutSeconds ?? 240) + 30) * 1000) });
  const subject = `container ${request.namespace}/${request.pod}/${request.container} on node ${request.node}`;
  let answer: { items?: unknown };
  try {
    answer = await client.request('POST', kubeletCheckpointPath(request), {
      query: { timeout: request.timeoutSeconds === undefined ? undefined : String(request.timeoutSeconds) },
    });
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    const known = failures.find((f) => f.status === err.status);
    throw new FatchartError(known?.code ?? 'platform', `checkpoint refused: ${known ? `${known.explain} — ` : ''}${err.message}`, { subject, cause: err });
  }
  const items = Array.isArray(answer?.items) ? answer.items.filter((i): i is string => typeof i === 'string') : [];
  if (items.length === 0) throw new FatchartError('platform', 'the kubelet answered without an archive path', { subject });
  return items;
}
