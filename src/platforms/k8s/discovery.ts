import { apiGroup, type KubeObject } from '../../model/object.js';
import type { KubeClient } from './client.js';

/** One API resource as the server's discovery documents describe it. */
export interface ApiResource {
  group: string;
  version: string;
  apiVersion: string;
  /** Plural resource name used in URLs (`deployments`). */
  resource: string;
  kind: string;
  namespaced: boolean;
  verbs: string[];
  /** True when this version is the group's preferred version. */
  preferred: boolean;
  /** Defined by a CRD in the bundle that is not applied yet. */
  pending?: boolean;
}

/**
 * Groups that serve the same objects as a newer group (the same Ingress is visible through
 * extensions/v1beta1 and networking.k8s.io). Listed last so objects are captured under the
 * current group; duplicates are dropped by uid.
 */
const legacyGroups = new Set(['extensions']);

/** API groups whose presence means the server is OpenShift (or emulates its kinds). */
export const openshiftGroups = [
  'apps.openshift.io',
  'route.openshift.io',
  'image.openshift.io',
  'build.openshift.io',
  'template.openshift.io',
] as const;

export class Discovery {
  private constructor(
    readonly resources: ApiResource[],
    readonly serverVersion: string,
    /** `plural.group` of every resource served by a CustomResourceDefinition. */
    readonly crdBacked: Set<string>,
  ) {}

  static async load(client: KubeClient): Promise<Discovery> {
    const [core, groups, version] = await Promise.all([
      client.get('/api'),
      client.get('/apis'),
      client.get('/version').catch(() => ({ gitVersion: 'unknown' })),
    ]);
    const targets: Array<{ group: string; version: string; path: string; preferred: boolean }> = (
      core.versions as string[]
    ).map((v, i) => ({ group: '', version: v, path: `/api/${v}`, preferred: i === 0 }));
    for (const g of groups.groups ?? []) {
      for (const v of g.versions ?? []) {
        targets.push({
          group: g.name,
          version: v.version,
          path: `/apis/${v.groupVersion}`,
          preferred: g.preferredVersion?.version === v.version,
        });
      }
    }
    const lists = await Promise.all(
      targets.map((t) =>
        client
          .get(t.path)
          .then((doc) => ({ t, doc }))
          // An aggregated API whose backend is down must not stop discovery of the rest (kubectl
          // does the same); its kinds then count as missing.
          .catch(() => ({ t, doc: { resources: [] } })),
      ),
    );
    const resources: ApiResource[] = [];
    for (const { t, doc } of lists) {
      for (const r of doc.resources ?? []) {
        if (String(r.name).includes('/')) continue; // subresources (pods/log, deployments/scale)
        resources.push({
          group: t.group,
          version: t.version,
          apiVersion: t.group ? `${t.group}/${t.version}` : t.version,
          resource: r.name,
          kind: r.kind,
          namespaced: !!r.namespaced,
          verbs: r.verbs ?? [],
          preferred: t.preferred,
        });
      }
    }
    const crds = await client
      .get('/apis/apiextensions.k8s.io/v1/customresourcedefinitions')
      .catch(() => ({ items: [] }));
    const crdBacked = new Set<string>((crds.items ?? []).map((c: any) => String(c.metadata.name)));
    return new Discovery(resources, version.gitVersion ?? 'unknown', crdBacked);
  }

  /**
   * A view that also knows the kinds defined by CustomResourceDefinitions about to be applied
   * (carried in the bundle), so their custom resources pass pre-flight and are addressed
   * correctly before the server serves them. Such resources are marked `pending`.
   */
  withDefinitions(crds: readonly KubeObject[]): Discovery {
    const extra: ApiResource[] = [];
    for (const crd of crds as any[]) {
      const { group, names, scope, versions } = crd.spec ?? {};
      for (const v of versions ?? []) {
        if (v.served === false || this.find(`${group}/${v.name}`, names.kind)) continue;
        extra.push({
          group,
          version: v.name,
          apiVersion: `${group}/${v.name}`,
          resource: names.plural,
          kind: names.kind,
          namespaced: scope !== 'Cluster',
          verbs: ['get', 'list', 'create', 'patch', 'update', 'delete'],
          preferred: !!v.storage,
          pending: true,
        });
      }
    }
    const backed = new Set([...this.crdBacked, ...(crds as any[]).map((c) => `${c.spec?.names?.plural}.${c.spec?.group}`)]);
    return new Discovery([...this.resources, ...extra], this.serverVersion, backed);
  }

  /** The resource serving `apiVersion`/`kind`, or undefined when the server lacks it. */
  find(apiVersion: string, kind: string): ApiResource | undefined {
    return this.resources.find((r) => r.apiVersion === apiVersion && r.kind === kind);
  }

  /** Versions of a kind the server serves in the object's group (for "needs conversion" hints). */
  versionsOf(group: string, kind: string): string[] {
    return this.resources.filter((r) => r.group === group && r.kind === kind).map((r) => r.apiVersion);
  }

  /** Every namespaced resource that can be listed, at its group's preferred version. */
  listableNamespaced(): ApiResource[] {
    const picked = this.resources.filter((r) => r.preferred && r.namespaced && r.verbs.includes('list'));
    return [...picked.filter((r) => !legacyGroups.has(r.group)), ...picked.filter((r) => legacyGroups.has(r.group))];
  }

  isCrdBacked(r: ApiResource): boolean {
    return this.crdBacked.has(`${r.resource}.${r.group}`);
  }

  isOpenShift(): boolean {
    return this.resources.some((r) => (openshiftGroups as readonly string[]).includes(r.group));
  }

  /** The CRD name (`plural.group`) serving an object, if any. */
  crdFor(apiVersion: string, kind: string): string | undefined {
    const r = this.find(apiVersion, kind);
    return r && this.isCrdBacked(r) ? `${r.resource}.${apiGroup(apiVersion)}` : undefined;
  }
}

/** URL path of a resource collection or one object. */
export function resourcePath(r: ApiResource, namespace?: string, name?: string): string {
  const base = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  const ns = r.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${base}${ns}/${r.resource}${name ? `/${encodeURIComponent(name)}` : ''}`;
}
