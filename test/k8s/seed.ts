/**
 * Seed apps for the lab, derived from the real exports in ../shared/fixtures: the live objects
 * are cleaned with fatchart's portable rules and then adapted to what the lab can run (the
 * built-in busybox image, no pulls, a hostPath storage class, fast pod termination). Every
 * adaptation is spelled out below; the rest of each object is the upstream export.
 */
import type { KubeObject } from '../../src/model/object.js';
import { cleanObject } from '../../src/platforms/k8s/clean-rules.js';
import { load, loadOne } from './fixtures.js';

export const labImage = 'lab.local/busybox:bookworm';
export const widgetCrdName = 'widgets.example.fatchart.dev';

/** Makes a pod spec runnable on the lab: local image, a command that stays up, quick stop. */
function runnable(podSpec: any): void {
  for (const c of podSpec.containers) {
    c.image = labImage;
    c.imagePullPolicy = 'IfNotPresent';
    c.command = ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 1; done'];
    delete c.args;
  }
  podSpec.terminationGracePeriodSeconds = 1;
}

function labelled<T extends KubeObject>(o: T, labels: Record<string, string>): T {
  o.metadata.labels = { ...(o.metadata.labels ?? {}), ...labels };
  return o;
}

/** The class of the tests' hostPath volumes: static provisioning only, as on bare-metal clusters. */
export const manualStorageClass: KubeObject = {
  apiVersion: 'storage.k8s.io/v1',
  kind: 'StorageClass',
  metadata: { name: 'manual' },
  provisioner: 'kubernetes.io/no-provisioner',
};

/** A CRD for the app's custom resource (the lab has no operators). */
export const widgetCrd: KubeObject = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: widgetCrdName },
  spec: {
    group: 'example.fatchart.dev',
    scope: 'Namespaced',
    names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
    versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
  },
};

/**
 * The multi-tier app `-l app=shop`: Crane's redis export (Deployment, Secret, Service, PVC) and
 * k9s' StatefulSet, Ingress, HPA, ConfigMap and NetworkPolicy dumps, plus a ServiceAccount with
 * its Role/RoleBinding and a custom resource. Claims use the `manual` class (hostPath PVs).
 */
export function multiTierApp(namespace?: string): { app: KubeObject[]; noise: KubeObject[] } {
  const crane = 'k8s-live/crane-golden-k8s/redis/export/resources/redis';
  const strip = (o: KubeObject) => {
    const c = cleanObject(o) as any;
    delete c.metadata.namespace;
    return c;
  };

  const deployment = labelled(strip(loadOne(`${crane}/Deployment_apps_v1_redis_redis.yaml`)), { app: 'shop' });
  deployment.spec.replicas = 1; // the export was quiesced to 0; run one pod to exercise rollout waits
  runnable(deployment.spec.template.spec);
  const redis = deployment.spec.template.spec.containers[0];
  redis.env = [{ name: 'REDIS_PASSWORD', valueFrom: { secretKeyRef: { name: 'redis', key: 'redis-password' } } }];
  redis.envFrom = [{ configMapRef: { name: 'blee' } }];
  deployment.spec.template.spec.serviceAccountName = 'shop';

  const secret = strip(loadOne(`${crane}/Secret__v1_redis_redis.yaml`));
  const service = strip(loadOne(`${crane}/Service__v1_redis_redis.yaml`));
  delete service.spec.internalTrafficPolicy; // exported from a 1.2x server; the lab is 1.20
  const claim = strip(loadOne(`${crane}/PersistentVolumeClaim__v1_redis_redis-data.yaml`));
  claim.spec.storageClassName = 'manual';
  claim.spec.resources.requests.storage = '16Mi';

  const sts = labelled(strip(loadOne('k8s-live/k9s/sts.json')), { app: 'shop' });
  sts.spec.replicas = 1;
  runnable(sts.spec.template.spec);
  sts.spec.volumeClaimTemplates[0].spec.storageClassName = 'manual';
  delete sts.spec.volumeClaimTemplates[0].spec.dataSource; // null in the dump; SSA refuses null
  const headless: KubeObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'nginx-sts' },
    spec: { clusterIP: 'None', selector: { app: 'nginx-sts' }, ports: [{ name: 'web', port: 80, protocol: 'TCP' }] },
  };

  const ingress = strip(loadOne('k8s-live/k9s/ing.json'));
  // The dump mixes v1beta1 backend fields into v1; written the v1 way.
  ingress.spec.rules[0].http.paths[0].backend = { service: { name: 'redis', port: { number: 6379 } } };
  ingress.spec.rules[0].http.paths[0].pathType = 'Prefix';

  const hpa = strip(loadOne('k8s-live/k9s/hpa.json'));
  hpa.spec.scaleTargetRef.name = 'redis';

  const configMap = strip(loadOne('k8s-live/k9s/cm.json'));
  delete configMap.metadata.annotations;
  const policy = strip(loadOne('k8s-live/k9s/np.json'));
  delete policy.metadata.annotations;
  policy.spec.podSelector = { matchLabels: { name: 'redis' } };

  const sa: KubeObject = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'shop' } };
  const role: KubeObject = strip(loadOne('k8s-live/kubectl-neat/role-raw.json'));
  role.metadata.name = 'shop-config-reader';
  const binding: KubeObject = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: 'shop-config-reader' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'shop-config-reader' },
    // With the namespace, as `kubectl create rolebinding --serviceaccount ns:name` writes it.
    subjects: [{ kind: 'ServiceAccount', name: 'shop', ...(namespace ? { namespace } : {}) }],
  };
  const widget: KubeObject = {
    apiVersion: 'example.fatchart.dev/v1',
    kind: 'Widget',
    metadata: { name: 'shop-widget', labels: { app: 'shop' } },
    spec: { colour: 'teal', size: 3 },
  };

  // Objects in the same namespace that are not part of the app.
  const otherPod = strip(load('k8s-live/kubectl-neat/list1-raw.json')[0]);
  runnable(otherPod.spec);
  otherPod.metadata.name = 'unrelated';
  const noise: KubeObject[] = [
    otherPod,
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'not-the-app' }, data: { a: 'b' } },
  ];
  return { app: [configMap, secret, sa, role, binding, claim, deployment, sts, headless, service, ingress, hpa, policy, widget], noise };
}

/** The expected object names of the app once captured (`Kind/name`), including the sts claim. */
export const multiTierExpected = [
  'ConfigMap/blee',
  'Deployment/redis',
  'HorizontalPodAutoscaler/nginx',
  'Ingress/test-ingress',
  'NetworkPolicy/fred',
  'PersistentVolumeClaim/redis-data',
  'PersistentVolumeClaim/www-nginx-sts-0',
  'Role/shop-config-reader',
  'RoleBinding/shop-config-reader',
  'Secret/redis',
  'Service/nginx-sts',
  'Service/redis',
  'ServiceAccount/shop',
  'StatefulSet/nginx-sts',
  'Widget/shop-widget',
];
