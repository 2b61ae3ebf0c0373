import type { PlatformName } from '../model/app.js';
import { FatchartError } from '../errors.js';
import type { PlatformDriver } from './driver.js';
import { manifestsPlatform } from './manifests/index.js';

/**
 * The platform table. Drivers load lazily so that `fatchart verify` does not load the
 * Kubernetes client or the Docker client it will not use.
 */
const drivers: Record<PlatformName, () => Promise<PlatformDriver>> = {
  manifests: async () => manifestsPlatform,
  k8s: async () => notYet('k8s'),
  openshift: async () => notYet('openshift'),
  compose: async () => notYet('compose'),
};

function notYet(name: PlatformName): PlatformDriver {
  throw new FatchartError('usage', `platform "${name}" is not available in this build`);
}

export const platformNames = Object.keys(drivers) as PlatformName[];

export async function getPlatform(name: string): Promise<PlatformDriver> {
  const load = drivers[name as PlatformName];
  if (!load) throw new FatchartError('usage', `unknown platform "${name}" (known: ${platformNames.join(', ')})`);
  return load();
}
