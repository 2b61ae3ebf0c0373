import type { PlatformDriver } from '../driver.js';
import { captureCompose } from './capture.js';
import { restoreCompose } from './target.js';

export const composePlatform: PlatformDriver = {
  name: 'compose',
  description: 'a Docker Compose project on a Docker Engine (DOCKER_HOST), with its named volumes and bind mounts',
  source: { capture: captureCompose },
  target: { restore: restoreCompose },
};
