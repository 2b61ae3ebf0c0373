import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseObjects } from '../../src/model/yaml.js';
import type { KubeObject } from '../../src/model/object.js';

/** The shared real-world fixtures (never copied into the repo); see ../shared/fixtures/README.md. */
export const fixtures = resolve('../shared/fixtures');
export const haveFixtures = () => (existsSync(join(fixtures, 'k8s-live')) ? undefined : `${fixtures} is absent`);

export function load(rel: string): KubeObject[] {
  const path = join(fixtures, rel);
  return parseObjects(readFileSync(path, 'utf8'), path);
}

export function loadOne(rel: string): KubeObject {
  const [o] = load(rel);
  return o;
}

/** Every object of a Crane golden folder (one object per file). */
export function loadDir(rel: string): KubeObject[] {
  const dir = join(fixtures, rel);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((f) => load(join(rel, f)));
}
