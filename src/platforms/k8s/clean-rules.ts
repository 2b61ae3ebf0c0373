import type { KubeObject } from '../../model/object.js';
import { podSpecPaths } from '../../model/resources.js';

/**
 * THE cleaning rule table: every field fatchart removes from a live object before it becomes a
 * blueprint, with the reason. Originals are stored raw next to the cleaned objects, so a rule
 * here never loses information for good.
 *
 * Two profiles share the table:
 *  - `portable` (default): removes server-owned state — identity, bookkeeping, status,
 *    allocations (cluster IPs, bound volume names), admission-injected values and controller
 *    annotations — and keeps every value the author wrote or the server defaulted. Applying the
 *    result elsewhere yields the same object after cleaning. Matches what Crane's
 *    export→transform pipeline keeps (checked against its golden files), except that
 *    `deployment.kubernetes.io/revision` is also removed (see the rule).
 *  - `neat`: additionally removes values equal to the API server's defaults, which is what
 *    kubectl-neat prints (checked against its fixtures). Shorter, for reading; not used for
 *    applying to a 1.20 server, which needs e.g. `protocol` on Service ports for server-side apply.
 *
 * Paths are field names from the object root. `*` matches every element of an array or map;
 * `@pod` expands to the kind's pod spec and `@containers` to its containers and init
 * containers (see podSpecPaths). A container left empty by a removal is removed too, so no
 * `annotations: {}` remains; containers the author left empty (`resources: {}`) are kept.
 */
export type CleanProfile = 'portable' | 'neat';

export interface RuleContext {
  object: KubeObject;
  /** The map or array holding the value. */
  parent: any;
  key: string | number;
}

export interface CleanRule {
  kinds: readonly string[] | '*';
  path: readonly string[];
  /** Remove only when this holds; without it the field is always removed. */
  when?: (value: unknown, ctx: RuleContext) => boolean;
  profile: CleanProfile;
  why: string;
}


const tokenMountPath = '/var/run/secrets/kubernetes.io/serviceaccount';
const tokenVolume = /-token-[a-z0-9]{5}$/;
const systemFinalizers = new Set(['kubernetes.io/pvc-protection', 'kubernetes.io/pv-protection']);
const pvcBindAnnotations = [
  'pv.kubernetes.io/bind-completed',
  'pv.kubernetes.io/bound-by-controller',
  'volume.beta.kubernetes.io/storage-provisioner',
  'volume.kubernetes.io/storage-provisioner',
  'volume.kubernetes.io/selected-node',
];
const isEmpty = (v: unknown) => !!v && typeof v === 'object' && Object.keys(v).length === 0;
const annotation = (o: KubeObject, key: string) => o.metadata.annotations?.[key];
const sccInjected = (_v: unknown, { object }: RuleContext) => annotation(object, 'openshift.io/scc') !== undefined;
/** kubelet/kubectl's image pull policy default: Always for `:latest` or untagged, else IfNotPresent. */
const defaultPullPolicy = (image: string) => {
  const ref = image.split('@')[0];
  const tag = ref.lastIndexOf(':') > ref.lastIndexOf('/') ? ref.slice(ref.lastIndexOf(':') + 1) : '';
  return image.includes('@') ? 'IfNotPresent' : !tag || tag === 'latest' ? 'Always' : 'IfNotPresent';
};
const equals = (expected: unknown) => (v: unknown) => v === expected;

const workloadKinds = Object.keys(podSpecPaths);

export const cleanRules: readonly CleanRule[] = [
  // ---- identity and bookkeeping the API server owns -------------------------------------
  { kinds: '*', path: ['metadata', 'uid'], profile: 'portable', why: 'server-assigned identity' },
  { kinds: '*', path: ['metadata', 'resourceVersion'], profile: 'portable', why: 'optimistic-concurrency token of the source' },
  { kinds: '*', path: ['metadata', 'generation'], profile: 'portable', why: 'server-maintained spec counter' },
  { kinds: '*', path: ['metadata', 'creationTimestamp'], profile: 'portable', why: 'set by the server on create' },
  { kinds: '*', path: ['metadata', 'deletionTimestamp'], profile: 'portable', why: 'deletion in progress on the source' },
  { kinds: '*', path: ['metadata', 'deletionGracePeriodSeconds'], profile: 'portable', why: 'deletion in progress on the source' },
  { kinds: '*', path: ['metadata', 'managedFields'], profile: 'portable', why: 'field ownership of the source cluster' },
  { kinds: '*', path: ['metadata', 'selfLink'], profile: 'portable', why: 'URL on the source server' },
  { kinds: '*', path: ['metadata', 'ownerReferences'], profile: 'portable', why: 'uids of source owners; owners are recreated' },
  { kinds: '*', path: ['metadata', 'finalizers', '*'], when: (v) => systemFinalizers.has(v as string), profile: 'portable', why: 'added by admission on create' },
  { kinds: '*', path: ['status'], profile: 'portable', why: 'observed state, rebuilt by controllers' },
  { kinds: '*', path: ['metadata', 'annotations', 'kubectl.kubernetes.io/last-applied-configuration'], profile: 'portable', why: 'client-side apply bookkeeping (a stale copy of the object)' },
  // Crane keeps it; fatchart drops it: the controller numbers revisions of the target's own
  // ReplicaSets, and a copied value would claim history the target does not have.
  { kinds: ['Deployment'], path: ['metadata', 'annotations', 'deployment.kubernetes.io/revision'], profile: 'portable', why: 'controller revision counter of the source' },
  // autoscaling/v1 serialises the v2 status (conditions, current metrics) into annotations.
  { kinds: ['HorizontalPodAutoscaler'], path: ['metadata', 'annotations', 'autoscaling.alpha.kubernetes.io/conditions'], profile: 'portable', why: 'status of the source autoscaler' },
  { kinds: ['HorizontalPodAutoscaler'], path: ['metadata', 'annotations', 'autoscaling.alpha.kubernetes.io/current-metrics'], profile: 'portable', why: 'status of the source autoscaler' },
  { kinds: workloadKinds, path: ['spec', 'template', 'metadata', 'creationTimestamp'], when: (v) => v === null, profile: 'portable', why: 'null placeholder the server serialises' },
  { kinds: ['CronJob'], path: ['spec', 'jobTemplate', 'spec', 'template', 'metadata', 'creationTimestamp'], when: (v) => v === null, profile: 'portable', why: 'null placeholder the server serialises' },
  { kinds: ['CronJob'], path: ['spec', 'jobTemplate', 'metadata', 'creationTimestamp'], when: (v) => v === null, profile: 'portable', why: 'null placeholder the server serialises' },
  { kinds: ['StatefulSet'], path: ['spec', 'volumeClaimTemplates', '*', 'metadata', 'creationTimestamp'], when: (v) => v === null, profile: 'portable', why: 'null placeholder the server serialises' },
  { kinds: ['StatefulSet'], path: ['spec', 'volumeClaimTemplates', '*', 'status'], profile: 'portable', why: 'observed state' },

  // ---- allocations of the source cluster ------------------------------------------------
  { kinds: ['Service'], path: ['spec', 'clusterIP'], when: (v) => v !== 'None', profile: 'portable', why: 'allocated from the source service range (headless None is kept)' },
  { kinds: ['Service'], path: ['spec', 'clusterIPs'], when: (v) => !(Array.isArray(v) && v[0] === 'None'), profile: 'portable', why: 'allocated from the source service range' },
  { kinds: ['Service'], path: ['spec', 'healthCheckNodePort'], profile: 'portable', why: 'allocated port' },
  { kinds: ['Service'], path: ['spec', 'ports', '*', 'nodePort'], profile: 'portable', why: 'allocated port; would collide on the target' },
  { kinds: ['PersistentVolumeClaim'], path: ['spec', 'volumeName'], profile: 'portable', why: 'the source PV; the target binds its own' },
  ...pvcBindAnnotations.map((key): CleanRule => ({ kinds: ['PersistentVolumeClaim'], path: ['metadata', 'annotations', key], profile: 'portable', why: 'binding state of the source' })),
  { kinds: ['Pod'], path: ['spec', 'nodeName'], profile: 'portable', why: 'scheduling decision on the source' },
  { kinds: workloadKinds, path: ['@pod', 'serviceAccount'], when: (v, { parent }) => v === parent.serviceAccountName, profile: 'portable', why: 'deprecated alias the server fills from serviceAccountName' },
  // The service-account token volume is injected into Pods by admission; its secret does not
  // exist on the target.
  { kinds: ['Pod'], path: ['@pod', 'volumes', '*'], when: (v: any) => tokenVolume.test(v?.secret?.secretName ?? ''), profile: 'portable', why: 'injected service-account token volume' },
  { kinds: ['Pod'], path: ['@containers', 'volumeMounts', '*'], when: (v: any) => v?.mountPath === tokenMountPath && tokenVolume.test(v?.name ?? ''), profile: 'portable', why: 'injected service-account token mount' },
  { kinds: ['ServiceAccount'], path: ['secrets', '*'], when: (v: any, { object }) => /-(token|dockercfg)-[a-z0-9]{5}$/.test(v?.name ?? '') && String(v.name).startsWith(`${object.metadata.name}-`), profile: 'portable', why: 'generated token/dockercfg secret reference' },
  { kinds: ['ServiceAccount'], path: ['imagePullSecrets', '*'], when: (v: any, { object }) => String(v?.name ?? '').startsWith(`${object.metadata.name}-dockercfg-`), profile: 'portable', why: 'OpenShift-generated dockercfg pull secret' },

  // ---- OpenShift ---------------------------------------------------------------------------
  // SCC admission writes the namespace's UID range and SELinux level into each Pod; the target
  // namespace has its own.
  { kinds: ['Pod'], path: ['spec', 'securityContext', 'fsGroup'], when: sccInjected, profile: 'portable', why: 'SCC-injected from the source namespace range' },
  { kinds: ['Pod'], path: ['spec', 'securityContext', 'seLinuxOptions'], when: sccInjected, profile: 'portable', why: 'SCC-injected SELinux level' },
  { kinds: ['Pod'], path: ['@containers', 'securityContext', 'runAsUser'], when: sccInjected, profile: 'portable', why: 'SCC-injected from the source namespace range' },
  { kinds: ['Route'], path: ['spec', 'host'], when: (_v, { object }) => annotation(object, 'openshift.io/host.generated') === 'true', profile: 'portable', why: 'host generated from the source cluster domain' },
  { kinds: ['Route'], path: ['metadata', 'annotations', 'openshift.io/host.generated'], profile: 'portable', why: 'marks the generated host, removed above' },

  // ---- neat: server defaults ---------------------------------------------------------------
  { kinds: workloadKinds, path: ['@pod', 'dnsPolicy'], when: equals('ClusterFirst'), profile: 'neat', why: 'default' },
  { kinds: workloadKinds, path: ['@pod', 'enableServiceLinks'], when: equals(true), profile: 'neat', why: 'default' },
  { kinds: workloadKinds, path: ['@pod', 'restartPolicy'], when: equals('Always'), profile: 'neat', why: 'default' },
  { kinds: workloadKinds, path: ['@pod', 'schedulerName'], when: equals('default-scheduler'), profile: 'neat', why: 'default' },
  { kinds: workloadKinds, path: ['@pod', 'securityContext'], when: isEmpty, profile: 'neat', why: 'default' },
  { kinds: workloadKinds, path: ['@pod', 'terminationGracePeriodSeconds'], when: equals(30), profile: 'neat', why: 'default' },
  { kinds: workloadKinds, path: ['@containers', 'resources'], when: isEmpty, profile: 'neat', why: 'default' },
  { kinds: workloadKinds, path: ['@containers', 'terminationMessagePath'], when: equals('/dev/termination-log'), profile: 'neat', why: 'default' },
  { kinds: workloadKinds, path: ['@containers', 'terminationMessagePolicy'], when: equals('File'), profile: 'neat', why: 'default' },
  { kinds: workloadKinds, path: ['@containers', 'imagePullPolicy'], when: (v, { parent }) => v === defaultPullPolicy(String(parent.image ?? '')), profile: 'neat', why: 'default for the image tag' },
  { kinds: workloadKinds, path: ['@containers', 'ports', '*', 'protocol'], when: equals('TCP'), profile: 'neat', why: 'default' },
  { kinds: ['Service'], path: ['spec', 'sessionAffinity'], when: equals('None'), profile: 'neat', why: 'default' },
  { kinds: ['Service'], path: ['spec', 'type'], when: equals('ClusterIP'), profile: 'neat', why: 'default' },
  { kinds: ['Service'], path: ['spec', 'ports', '*', 'protocol'], when: equals('TCP'), profile: 'neat', why: 'default' },
  { kinds: ['Service'], path: ['spec', 'ports', '*', 'targetPort'], when: (v, { parent }) => v === parent.port, profile: 'neat', why: 'defaults to port' },
  { kinds: ['PersistentVolume', 'PersistentVolumeClaim'], path: ['spec', 'volumeMode'], when: equals('Filesystem'), profile: 'neat', why: 'default' },
  { kinds: ['PersistentVolume'], path: ['spec', 'hostPath', 'type'], when: equals(''), profile: 'neat', why: 'default' },
];

/** Returns a cleaned deep copy; the input is not modified. */
export function cleanObject(original: KubeObject, profile: CleanProfile = 'portable'): KubeObject {
  const object = structuredClone(original);
  for (const rule of cleanRules) {
    if (rule.profile === 'neat' && profile !== 'neat') continue;
    if (rule.kinds !== '*' && !rule.kinds.includes(object.kind)) continue;
    for (const path of expand(rule.path, object.kind)) {
      const hits: Array<{ parent: any; key: string | number; trail: Array<{ node: any; key: string | number }> }> = [];
      find(object, path, 0, [], hits);
      // Remove back to front so array indexes stay valid.
      for (const hit of hits.reverse()) {
        const value = hit.parent[hit.key];
        if (rule.when && !rule.when(value, { object, parent: hit.parent, key: hit.key })) continue;
        remove(hit.parent, hit.key);
        pruneEmpty(hit.trail);
      }
    }
  }
  return object;
}

function expand(path: readonly string[], kind: string): string[][] {
  const pod = podSpecPaths[kind];
  if (path[0] === '@pod') return pod ? [[...pod, ...path.slice(1)]] : [];
  if (path[0] === '@containers') {
    if (!pod) return [];
    return ['containers', 'initContainers'].map((c) => [...pod, c, '*', ...path.slice(1)]);
  }
  return [[...path]];
}

function find(
  node: any,
  path: string[],
  i: number,
  trail: Array<{ node: any; key: string | number }>,
  hits: Array<{ parent: any; key: string | number; trail: Array<{ node: any; key: string | number }> }>,
): void {
  if (node === null || typeof node !== 'object') return;
  const seg = path[i];
  const keys: Array<string | number> =
    seg === '*' ? (Array.isArray(node) ? node.map((_, j) => j) : Object.keys(node)) : seg in node ? [seg] : [];
  for (const key of keys) {
    if (i === path.length - 1) hits.push({ parent: node, key, trail });
    else find(node[key as any], path, i + 1, [...trail, { node, key }], hits);
  }
}

function remove(parent: any, key: string | number): void {
  if (Array.isArray(parent)) parent.splice(key as number, 1);
  else delete parent[key];
}

/** Removes containers this removal emptied, innermost first; never the object root's fields. */
function pruneEmpty(trail: Array<{ node: any; key: string | number }>): void {
  for (let i = trail.length - 1; i >= 1; i--) {
    const { node, key } = trail[i];
    const child = node[key as any];
    if (!child || typeof child !== 'object' || Object.keys(child).length > 0) return;
    remove(node, key);
  }
}
