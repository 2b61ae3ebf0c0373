import type { PlatformName } from '../model/app.js';
import { FatchartError } from '../errors.js';
import type { PlatformDriver } from './driver.js';

/**
 * The platform table: one row per folder under src/platforms. Drivers load lazily so that
 * `fatchart verify` never loads the Kubernetes or Docker client it will not use.
 */
const drivers: Record<PlatformName, () => Promise<PlatformDriver>> = {
  manifests: async () => (await import('./manifests/index.js')).manifestsPlatform,
  k8s: async () => (await import('./k8s/index.js')).k8sDriver,
  openshift: async () => (await import('./openshift/index.js')).openshiftDriver,
  compose: async () => (await import('./compose/index.js')).composePlatform,
};

export const platformNames = Object.keys(drivers) as PlatformName[];

export async function getPlatform(name: string): Promise<PlatformDriver> {
  const load = drivers[name as PlatformName];
  if (!load) throw new FatchartError('usage', `unknown platform "${name}" (known: ${platformNames.join(', ')})`);
  return load();
}
