import type { KubeObject } from '../../model/object.js';

/**
 * Objects a cluster makes by itself. They are never captured: the target's controllers and
 * admission recreate them from the captured objects, and copying them would fight those
 * controllers (two ReplicaSets for one Deployment) or leak source identities (tokens).
 * Each rule returns the reason when it matches.
 */
export interface DerivedRule {
  name: string;
  match: (o: KubeObject) => string | undefined;
}

const openshiftDefaultAccounts = new Set(['builder', 'deployer']);

export const derivedRules: readonly DerivedRule[] = [
  {
    name: 'controller-owned',
    match: (o) => {
      const owner = (o.metadata.ownerReferences as any[] | undefined)?.find((r) => r.controller);
      return owner ? `owned by controller ${owner.kind}/${owner.name}` : undefined;
    },
  },
  {
    // OpenShift 3.x ReplicationControllers of DeploymentConfigs carry no ownerReference.
    name: 'deploymentconfig-rc',
    match: (o) =>
      o.kind === 'ReplicationController' && o.metadata.annotations?.['openshift.io/deployment-config.name']
        ? `deployment of DeploymentConfig/${o.metadata.annotations['openshift.io/deployment-config.name']}`
        : undefined,
  },
  {
    name: 'endpoints',
    match: (o) =>
      ['Endpoints', 'EndpointSlice', 'Event', 'ControllerRevision', 'Lease'].includes(o.kind)
        ? `${o.kind} is maintained by the cluster`
        : undefined,
  },
  {
    name: 'service-account-token',
    match: (o) =>
      o.kind === 'Secret' && o.type === 'kubernetes.io/service-account-token' ? 'service-account token' : undefined,
  },
  {
    name: 'openshift-dockercfg',
    match: (o) =>
      o.kind === 'Secret' && o.type === 'kubernetes.io/dockercfg' && o.metadata.annotations?.['kubernetes.io/service-account.name']
        ? 'OpenShift-generated dockercfg secret of a service account'
        : undefined,
  },
  {
    name: 'ca-bundle',
    match: (o) =>
      o.kind === 'ConfigMap' && ['kube-root-ca.crt', 'openshift-service-ca.crt'].includes(o.metadata.name)
        ? 'CA bundle published into every namespace'
        : undefined,
  },
  {
    name: 'default-service-accounts',
    match: (o) =>
      o.kind === 'ServiceAccount' && (o.metadata.name === 'default' || openshiftDefaultAccounts.has(o.metadata.name))
        ? 'created in every namespace'
        : undefined,
  },
  {
    name: 'system-rolebindings',
    match: (o) =>
      o.kind === 'RoleBinding' && o.metadata.name.startsWith('system:') ? 'created with the namespace (system:*)' : undefined,
  },
];

/** Why the object is derived, or undefined when it is the app's own. */
export function derivedReason(o: KubeObject): string | undefined {
  for (const rule of derivedRules) {
    const reason = rule.match(o);
    if (reason) return reason;
  }
  return undefined;
}
