import { FatchartError, usageError } from '../../errors.js';
import type { KubeObject } from '../../model/object.js';
import { restorePhase, sortObjects } from '../../model/order.js';
import type { BundleReader } from '../../bundle/reader.js';
import type { RestoreReport, RestoreRequest, TargetDriver } from '../driver.js';
import type { RunContext } from '../../util/context.js';
import { ApiError, KubeClient, apiFailure } from './client.js';
import { Discovery, resourcePath } from './discovery.js';
import { Journal, defaultJournalPath, type ObjectAddress } from './journal.js';
import { conflictPolicies, preflight, type ConflictPolicy, type Plan, type PlannedObject } from './preflight.js';
import { rollbackJournal } from './rollback.js';
import { waitReady } from './waits.js';
import { podSpecOf } from './graph.js';
import { fitClaimSizes } from './data/claim-size.js';

export const fieldManager = 'fatchart';

export interface KubeRestoreRequest extends RestoreRequest {
  /** `--map-storage-class OLD=NEW` pairs applied to claims and claim templates. */
  storageClassMap?: Record<string, string>;
  /** Seconds to wait for claims to bind and workloads to be ready (default 300). */
  waitTimeoutSeconds?: number;
  /** Journal file; default under $XDG_STATE_HOME/fatchart/journals. */
  journal?: string;
}

export interface DataRestoreInput {
  client: KubeClient;
  namespace: string;
  /** The claims of the app as applied (bound by now). */
  claims: KubeObject[];
  bundle: BundleReader;
  request: KubeRestoreRequest;
  journal: Journal;
  ctx: RunContext;
}

export interface DataRestoreResult {
  volumes: number;
  files: number;
  bytes: number;
  digestsVerified: boolean;
}

/**
 * Extension points of the restore. `restoreData` runs after the claims are bound and before any
 * workload is applied (the "data" step of src/model/order.ts); whatever it creates it must
 * journal, so the transaction's rollback removes it too.
 */
export interface RestoreHooks {
  restoreData?(input: DataRestoreInput): Promise<DataRestoreResult>;
}

export function createKubeTarget(hooks: RestoreHooks = {}): TargetDriver {
  return { restore: (bundle, request, ctx) => restoreToCluster(bundle, request, ctx, hooks) };
}

/**
 * Unpacks blueprints onto a live cluster as one transaction: pre-flight, then ordered
 * server-side apply journaled step by step, waits, and a full rollback on any failure, timeout
 * or interrupt.
 */
export async function restoreToCluster(
  bundle: BundleReader,
  request: KubeRestoreRequest,
  ctx: RunContext,
  hooks: RestoreHooks = {},
  client = new KubeClient({ kubeconfig: request.kubeconfig, context: request.context }),
): Promise<RestoreReport> {
  // Per-phase durations in ms (they add up to the total).
  const timings: Record<string, number> = {};
  let mark = Date.now();
  const lap = (phase: string) => {
    const now = Date.now();
    timings[phase] = now - mark;
    mark = now;
  };
  const conflict = (request.conflict ?? 'fail') as ConflictPolicy;
  if (!conflictPolicies.includes(conflict)) throw usageError(`--conflict must be one of ${conflictPolicies.join(', ')}`, '--conflict');
  const blueprints = request.objects ?? (await bundle.objects());
  // Claims hold at least the bundle's data (plus headroom) when their size is unknown or too small.
  const sized = bundle.manifest ? fitClaimSizes(blueprints, bundle.manifest.volumes) : { objects: blueprints, changes: [] };
  for (const c of sized.changes) ctx.log.info(`PersistentVolumeClaim/${c.claim}: request ${c.from ?? 'unset'} -> ${c.to} (the data it must hold, with headroom)`);
  const input = sized.objects;
  const served = await Discovery.load(client).catch((err) => {
    throw apiFailure(err, client.server);
  });
  const discovery = served.withDefinitions(input.filter((o) => o.kind === 'CustomResourceDefinition'));
  // Chart templates carry no namespace; the manifest remembers where the app came from.
  const sourceNs = input.find((o) => o.metadata.namespace)?.metadata.namespace ?? bundle.manifest?.source?.namespace;
  const namespace = request.namespace ?? sourceNs ?? client.config.getContextObject(client.contextName)?.namespace ?? 'default';
  const objects = sortObjects(retarget(input, namespace, sourceNs, discovery, request.storageClassMap ?? {}));

  const plan = await preflight(client, discovery, objects, namespace, conflict, ctx);
  lap('preflight');
  const destination = `${client.contextName}/${namespace}`;
  const report = (objectsDone: number, data?: DataRestoreResult): RestoreReport => ({
    destination,
    objects: objectsDone,
    volumes: data?.volumes ?? 0,
    files: data?.files ?? 0,
    bytes: data?.bytes ?? 0,
    digestsVerified: data?.digestsVerified ?? false,
    timings,
  });

  if (request.planOnly) {
    if (plan.createNamespace) ctx.log.info(`plan: create Namespace/${namespace}`);
    for (const item of plan.items) ctx.log.info(`plan: ${item.action} ${item.object.kind}/${item.object.metadata.name}`);
    return report(0);
  }
  if (request.dryRun) return report(await dryRun(client, plan, ctx));

  const journal = Journal.create(request.journal ?? defaultJournalPath(namespace));
  journal.append({ type: 'begin', time: new Date().toISOString(), server: client.server, context: client.contextName, namespace });
  ctx.log.info(`journal: ${journal.path}`);
  const tx = new Transaction(client, journal, ctx);
  try {
    if (plan.createNamespace) await tx.createNamespace(discovery, namespace);
    const early = plan.items.filter((i) => ['foundation', 'storage'].includes(restorePhase(i.object.kind)));
    const late = plan.items.filter((i) => !early.includes(i));
    for (const item of early) await tx.apply(item, namespace);
    const timeoutMs = (request.waitTimeoutSeconds ?? 300) * 1000;
    // Custom resources can only be created once their definitions are served.
    const definitions = early.filter((i) => i.object.kind === 'CustomResourceDefinition' && i.action !== 'skip');
    await waitReady(client, definitions.map((i) => waitTarget(i, namespace)), timeoutMs, 'definitions to be established', ctx);
    const claims = early.filter((i) => i.object.kind === 'PersistentVolumeClaim');
    await waitReady(client, claims.map((i) => waitTarget(i, namespace)), timeoutMs, 'claims to bind', ctx);
    lap('apply-storage');
    let data: DataRestoreResult | undefined;
    if (hooks.restoreData && !request.skipData && claims.length) {
      tx.checkpoint();
      data = await hooks.restoreData({ client, namespace, claims: claims.map((c) => c.object), bundle, request, journal, ctx });
      lap('data');
    }
    for (const item of late) await tx.apply(item, namespace);
    // Kinds served by a CRD have no built-in controller to report readiness (OpenShift kinds
    // emulated on plain Kubernetes); they count as ready once applied.
    const watched = late.filter((i) => !discovery.isCrdBacked(i.resource));
    await waitReady(client, watched.map((i) => waitTarget(i, namespace)), timeoutMs, 'workloads to be ready', ctx);
    lap('apply-workloads');
    tx.checkpoint();
    journal.append({ type: 'commit', time: new Date().toISOString() });
    ctx.log.info(`unpacked ${tx.changes} change(s) into ${destination}`);
    return report(tx.changes, data);
  } catch (err) {
    throw await tx.rollback(err);
  } finally {
    journal.close();
  }
}

class Transaction {
  changes = 0;
  constructor(
    private readonly client: KubeClient,
    private readonly journal: Journal,
    private readonly ctx: RunContext,
  ) {}

  /** Stops before the next change once SIGINT/SIGTERM arrived. */
  checkpoint(): void {
    if (this.ctx.signal.aborted) throw new FatchartError('interrupted', 'interrupted');
  }

  async createNamespace(discovery: Discovery, namespace: string): Promise<void> {
    this.checkpoint();
    const r = discovery.find('v1', 'Namespace')!;
    this.journal.append({ type: 'create', target: address(r.resource, false, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }) });
    await this.client.request('POST', resourcePath(r), { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } } });
    this.changes++;
  }

  async apply(item: PlannedObject, namespace: string): Promise<void> {
    this.checkpoint();
    const { object, resource } = item;
    if (item.action === 'skip') {
      this.ctx.log.info(`kept existing ${object.kind}/${object.metadata.name} (--conflict skip)`);
      return;
    }
    const target = address(resource.resource, resource.namespaced, object);
    // Journal first: if the process dies between these two lines the rollback finds a "create"
    // of an object that does not exist, which it treats as already undone.
    if (item.action === 'update') this.journal.append({ type: 'update', target, previous: item.existing! });
    else this.journal.append({ type: 'create', target });
    try {
      await this.client.request('PATCH', resourcePath(resource, resource.namespaced ? namespace : undefined, object.metadata.name), {
        body: object,
        contentType: 'application/apply-patch+yaml',
        query: { fieldManager, force: item.action === 'update' ? 'true' : undefined },
        signal: this.ctx.signal,
      });
    } catch (err) {
      throw apiFailure(err, `${object.kind}/${object.metadata.name}`);
    }
    this.changes++;
    this.ctx.log.info(`${item.action === 'update' ? 'updated' : 'created'} ${object.kind}/${object.metadata.name}`);
  }

  /** Undoes everything journaled and returns the error to throw, saying what happened. */
  async rollback(cause: unknown): Promise<FatchartError> {
    const error =
      cause instanceof FatchartError ? cause : apiFailure(cause, `${this.journal.begin.context}/${this.journal.begin.namespace}`);
    const pending = this.journal.pending().length;
    this.ctx.log.warn(`unpack failed (${error.message}); rolling back ${pending} change(s)`);
    const result = await rollbackJournal(this.client, this.journal, this.ctx);
    const summary = result.failed.length
      ? `rollback incomplete (${result.failed.length} left); finish with: fatchart rollback ${this.journal.path}`
      : `rolled back: deleted ${result.deleted}, restored ${result.restored}`;
    this.ctx.log.warn(summary);
    const code = this.ctx.signal.aborted ? 'interrupted' : error.code;
    return new FatchartError(code, `${error.message}; ${summary}`, { cause: error });
  }
}

async function dryRun(client: KubeClient, plan: Plan, ctx: RunContext): Promise<number> {
  let checked = 0;
  const problems: string[] = [];
  if (plan.createNamespace) {
    ctx.log.info(`dry run: Namespace/${plan.namespace} would be created; its objects are checked by pre-flight only (a server-side dry run needs the namespace)`);
  }
  for (const item of plan.items) {
    if (item.action === 'skip' || (plan.createNamespace && item.resource.namespaced)) continue;
    if (item.resource.pending) {
      ctx.log.info(`dry run: ${item.object.kind}/${item.object.metadata.name} checked by pre-flight only (its CRD is not applied in a dry run)`);
      continue;
    }
    try {
      await client.request('PATCH', resourcePath(item.resource, item.resource.namespaced ? plan.namespace : undefined, item.object.metadata.name), {
        body: item.object,
        contentType: 'application/apply-patch+yaml',
        query: { fieldManager, dryRun: 'All', force: item.action === 'update' ? 'true' : undefined },
      });
      checked++;
      ctx.log.info(`dry run: ${item.action} ${item.object.kind}/${item.object.metadata.name} accepted`);
    } catch (err) {
      problems.push(`${item.object.kind}/${item.object.metadata.name}: ${err instanceof ApiError ? err.message : String(err)}`);
    }
  }
  if (problems.length) throw new FatchartError('preflight', `dry run refused ${problems.length} object(s): ${problems.join('; ')}`);
  return checked;
}

/**
 * Moves namespaced objects into the target namespace (and RoleBinding subjects that named the
 * source namespace with it), maps storage classes and fills defaulted list keys. Namespace objects are dropped: the
 * transaction creates the target namespace itself when it is missing.
 */
export function retarget(
  objects: readonly KubeObject[],
  namespace: string,
  sourceNs: string | undefined,
  discovery: Discovery,
  storageClassMap: Record<string, string>,
): KubeObject[] {
  const mapClass = (spec: any) => {
    if (spec?.storageClassName && storageClassMap[spec.storageClassName] !== undefined) spec.storageClassName = storageClassMap[spec.storageClassName];
  };
  return objects
    .filter((o) => o.kind !== 'Namespace')
    .map((original) => {
      const o = structuredClone(original) as any;
      const resource = discovery.find(o.apiVersion, o.kind);
      const namespaced = resource?.namespaced ?? !!o.metadata.namespace;
      if (namespaced) o.metadata.namespace = namespace;
      else delete o.metadata.namespace;
      if (o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding') {
        for (const s of o.subjects ?? []) if (s.kind === 'ServiceAccount' && s.namespace && s.namespace === sourceNs) s.namespace = namespace;
      }
      // `protocol` is the key of these lists for server-side apply, and servers before 1.20.x
      // refuse an element without it; TCP is what the server would default it to anyway. Kinds
      // served by a CRD have no such default (nor keyed lists), so they are left as written.
      if (resource && !discovery.isCrdBacked(resource)) {
        if (o.kind === 'Service') for (const p of o.spec?.ports ?? []) p.protocol ??= 'TCP';
        for (const c of [...(podSpecOf(o)?.containers ?? []), ...(podSpecOf(o)?.initContainers ?? [])]) {
          for (const p of c.ports ?? []) p.protocol ??= 'TCP';
        }
      }
      if (o.kind === 'PersistentVolumeClaim') mapClass(o.spec);
      for (const t of o.spec?.volumeClaimTemplates ?? []) mapClass(t.spec);
      return o as KubeObject;
    });
}

function address(resource: string, namespaced: boolean, o: KubeObject): ObjectAddress {
  return {
    apiVersion: o.apiVersion,
    kind: o.kind,
    resource,
    namespaced,
    namespace: namespaced ? o.metadata.namespace : undefined,
    name: o.metadata.name,
  };
}

function waitTarget(item: PlannedObject, namespace: string) {
  return { object: item.object, path: resourcePath(item.resource, item.resource.namespaced ? namespace : undefined, item.object.metadata.name) };
}
