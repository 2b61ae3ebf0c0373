import type { Loss } from '../../model/loss.js';
import { objectRef, type KubeObject } from '../../model/object.js';
import { sortObjects } from '../../model/order.js';
import type { PlatformName } from '../../model/app.js';
import type { Capture, CaptureRequest } from '../driver.js';
import type { RunContext } from '../../util/context.js';
import { usageError } from '../../errors.js';
import { ApiError, KubeClient, apiFailure } from './client.js';
import { cleanObject, type CleanProfile } from './clean-rules.js';
import { Discovery, resourcePath, type ApiResource } from './discovery.js';
import { buildAppGraph, type AppGraph, type ClusterDependency } from './graph.js';
import { parseSelector } from './selector.js';

export interface KubeCaptureRequest extends CaptureRequest {
  /** `portable` (default) or `neat`; see clean-rules.ts. */
  clean?: CleanProfile;
}

/** A Capture plus what the k8s source learned on the way, for `--explain` and the manifest. */
export interface KubeCapture extends Capture {
  graph: AppGraph;
  /** Cluster-scoped objects the app needs on a target (CRDs, storage classes, PVs as information). */
  dependencies: ClusterDependency[];
}

const listConcurrency = 6;

export async function captureFromCluster(
  request: KubeCaptureRequest,
  ctx: RunContext,
  platform: PlatformName,
  client = new KubeClient({ kubeconfig: request.kubeconfig, context: request.context }),
): Promise<KubeCapture> {
  if (!request.selector && !request.all) throw usageError('choose the app with -l SELECTOR or take the whole namespace with --all', 'pack');
  const namespace = request.namespace ?? contextNamespace(client) ?? 'default';
  const selector = request.selector ? parseSelector(request.selector) : undefined;
  const discovery = await Discovery.load(client).catch((err) => {
    throw apiFailure(err, client.server);
  });
  const detected: PlatformName = platform === 'openshift' || discovery.isOpenShift() ? 'openshift' : 'k8s';
  ctx.log.info(`${client.contextName}: ${discovery.serverVersion}${detected === 'openshift' ? ' (OpenShift API groups present)' : ''}, namespace ${namespace}`);

  const losses: Loss[] = [];
  const all = await listNamespace(client, discovery, namespace, ctx, losses);
  const graph = buildAppGraph(all, { selector, crdOf: (o) => discovery.crdFor(o.apiVersion, o.kind) });
  if (graph.included.length === 0) {
    throw usageError(`no objects in namespace ${namespace} match ${request.selector ?? '--all'}`, namespace);
  }
  if (request.explain) explain(graph, ctx);

  const originals = sortObjects(graph.included.map((i) => i.object));
  const objects = sortObjects(originals.map((o) => cleanObject(o, request.clean)));
  return {
    model: {
      app: { name: request.appName ?? appName(request.selector) ?? namespace, selector: request.selector },
      source: { platform: detected, version: discovery.serverVersion, context: client.contextName, namespace },
      objects,
      originals,
      losses,
    },
    // Volume data comes with the PVC mover (issue 5); claims travel as blueprints meanwhile.
    volumes: [],
    graph,
    dependencies: graph.dependencies,
    async release() {},
  };
}

async function listNamespace(
  client: KubeClient,
  discovery: Discovery,
  namespace: string,
  ctx: RunContext,
  losses: Loss[],
): Promise<KubeObject[]> {
  const resources = discovery.listableNamespaced();
  const results: KubeObject[][] = new Array(resources.length);
  let next = 0;
  const worker = async () => {
    while (next < resources.length) {
      const i = next++;
      results[i] = await listOne(client, resources[i], namespace, ctx, losses);
    }
  };
  await Promise.all(Array.from({ length: listConcurrency }, worker));
  // The same object can be served by two groups (extensions and networking.k8s.io Ingress):
  // the first, current group wins.
  const seen = new Set<string>();
  const out: KubeObject[] = [];
  for (const o of results.flat()) {
    const uid = String(o.metadata.uid ?? objectRef(o));
    if (seen.has(uid)) continue;
    seen.add(uid);
    out.push(o);
  }
  return out;
}

async function listOne(
  client: KubeClient,
  r: ApiResource,
  namespace: string,
  ctx: RunContext,
  losses: Loss[],
): Promise<KubeObject[]> {
  try {
    const list = await client.get(resourcePath(r, namespace), { signal: ctx.signal });
    return (list.items ?? []).map((o: any) => ({ apiVersion: r.apiVersion, kind: r.kind, ...o }));
  } catch (err) {
    if (err instanceof ApiError && (err.status === 403 || err.status === 404 || err.status === 405)) {
      ctx.log.warn(`cannot list ${r.resource}.${r.group || 'core'} in ${namespace}: ${err.status}; they are not captured`);
      losses.push({
        severity: 'needs-action',
        subject: `${r.kind}/*`,
        field: 'list',
        message: `listing ${r.resource} was refused (${err.status})`,
        fix: `grant list on ${r.resource} in ${namespace} and pack again`,
      });
      return [];
    }
    throw apiFailure(err, `${r.resource} in ${namespace}`);
  }
}

function explain(graph: AppGraph, ctx: RunContext): void {
  for (const i of graph.included) ctx.log.info(`+ ${i.object.kind}/${i.object.metadata.name}: ${i.reason}`);
  for (const e of graph.excluded) ctx.log.info(`- ${e.object.kind}/${e.object.metadata.name}: ${e.reason}`);
  for (const d of graph.dependencies) ctx.log.info(`= ${d.kind}/${d.name} (cluster): ${d.reason}`);
}

function contextNamespace(client: KubeClient): string | undefined {
  return client.config.getContextObject(client.contextName)?.namespace;
}

function appName(selector: string | undefined): string | undefined {
  const m = selector?.match(/^(?:app(?:\.kubernetes\.io\/name)?|name)==?([\w.-]+)/);
  return m?.[1];
}
