import type { KubeClient } from '../client.js';
import { mountsClaim } from './mover.js';

/**
 * Who writes to a claim: the running pods that mount it, and the scalable workload each pod
 * belongs to (following ownerReferences up: Pod -> ReplicaSet -> Deployment, Pod -> StatefulSet,
 * Pod -> ReplicationController -> DeploymentConfig).
 */
export interface Workload {
  apiVersion: string;
  kind: string;
  name: string;
  /** REST path of the object (scale is a merge patch of spec.replicas on it). */
  path: string;
}

/** Kinds whose replicas can go to zero, with their REST collection. Others cannot be quiesced by scaling. */
const scalable: Record<string, (ns: string) => string> = {
  Deployment: (ns) => `/apis/apps/v1/namespaces/${ns}/deployments`,
  StatefulSet: (ns) => `/apis/apps/v1/namespaces/${ns}/statefulsets`,
  ReplicaSet: (ns) => `/apis/apps/v1/namespaces/${ns}/replicasets`,
  ReplicationController: (ns) => `/api/v1/namespaces/${ns}/replicationcontrollers`,
  DeploymentConfig: (ns) => `/apis/apps.openshift.io/v1/namespaces/${ns}/deploymentconfigs`,
};

export interface ClaimUsers {
  pods: any[];
  /** Scalable top-level owners of those pods. */
  workloads: Workload[];
  /** Pods no scalable workload owns (bare pods, DaemonSets, Jobs): they keep writing under `scale`. */
  unscalable: string[];
}

export async function listPods(client: KubeClient, namespace: string): Promise<any[]> {
  const list = await client.get(`/api/v1/namespaces/${namespace}/pods`);
  return (list.items ?? []).filter((p: any) => !p.metadata.deletionTimestamp || p.status?.phase === 'Running');
}

export async function claimUsers(client: KubeClient, namespace: string, claim: string, pods: any[]): Promise<ClaimUsers> {
  const users = pods.filter((p) => mountsClaim(p, claim) && ['Running', 'Pending'].includes(p.status?.phase));
  const workloads = new Map<string, Workload>();
  const unscalable: string[] = [];
  for (const pod of users) {
    const owner = await topOwner(client, namespace, pod);
    if (owner) workloads.set(owner.path, owner);
    else unscalable.push(pod.metadata.name);
  }
  return { pods: users, workloads: [...workloads.values()], unscalable };
}

async function topOwner(client: KubeClient, namespace: string, object: any): Promise<Workload | undefined> {
  let current: Workload | undefined;
  let o = object;
  for (let depth = 0; depth < 4; depth++) {
    const ref = (o.metadata.ownerReferences ?? []).find((r: any) => r.controller);
    if (!ref || !scalable[ref.kind]) return current;
    const path = `${scalable[ref.kind](namespace)}/${ref.name}`;
    const parent = await client.get(path, { allow404: true });
    if (!parent) return current;
    current = { apiVersion: ref.apiVersion, kind: ref.kind, name: ref.name, path };
    o = parent;
  }
  return current;
}
