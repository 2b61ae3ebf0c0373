import type { PlatformDriver } from '../driver.js';
import { manifestsSource } from './source.js';
import { manifestsTarget } from './target.js';

export const manifestsPlatform: PlatformDriver = {
  name: 'manifests',
  description: 'a folder of Kubernetes YAML plus data/<claim>/ folders (offline, the default)',
  source: manifestsSource,
  target: manifestsTarget,
};
