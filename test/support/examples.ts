import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from './cli.js';

export const examplesDir = join(projectRoot, 'examples');

/** Makes sure the example apps' generated data exists (deterministic; see examples/generate-data.mjs). */
export function ensureExampleData(): void {
  execFileSync(process.execPath, [join(examplesDir, 'generate-data.mjs')], { stdio: 'ignore' });
}
