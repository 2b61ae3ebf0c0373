import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { loadComposeProject, parseVolumeSpec, shellSplit } from '../../src/platforms/compose/loader/index.js';
import { commandProbe, needs } from '../support/require.js';
import { hasShared, project, shared } from './helpers.js';

/**
 * The loader must read a project the way Compose does: its normalised view is compared field by
 * field with what the real `docker-compose config` (Debian's docker-compose) prints.
 */
type Obj = Record<string, any>;

function composeConfig(dir: string, args: string[]): Obj {
  return yaml.load(execFileSync('docker-compose', [...args, 'config'], { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } })) as Obj;
}

/** The facts both sides state, in one spelling. */
function factsFromCompose(cfg: Obj, dir: string): Obj {
  const out: Obj = {};
  for (const [name, s] of Object.entries<Obj>(cfg.services ?? {})) {
    out[name] = {
      image: s.image,
      // `config` prints a file meant to be loaded again, so literal dollars come out as `$$`
      environment: Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, String(v ?? '').replaceAll('$$', '$')])),
      ports: (s.ports ?? []).map((p: Obj) => `${p.published ?? ''}:${p.target}/${p.protocol ?? 'tcp'}`).sort(),
      depends_on: Object.fromEntries(Object.entries<Obj>(s.depends_on ?? {}).map(([k, v]) => [k, v.condition])),
      volumes: (s.volumes ?? []).map((v: string | Obj) => {
        const m = typeof v === 'string' ? parseVolumeSpec(v, { baseDir: dir, where: name }) : v;
        return `${m.type}:${m.source ?? ''}:${m.target}:${m.read_only ? 'ro' : 'rw'}`;
      }).sort(),
      command: s.command === undefined ? undefined : typeof s.command === 'string' ? shellSplit(s.command) : s.command.map(String),
      build: s.build?.context,
      secrets: (s.secrets ?? []).map((x: Obj) => x.source).sort(),
    };
  }
  return out;
}

function factsFromLoader(dir: string, opts: Parameters<typeof loadComposeProject>[0] = {}): Obj {
  const p = loadComposeProject({ location: dir, env: {}, ...opts });
  const out: Obj = {};
  for (const [name, s] of Object.entries(p.services)) {
    out[name] = {
      image: s.image,
      environment: s.environment,
      ports: s.ports.map((x) => `${x.published ?? ''}:${x.target}/${x.protocol}`).sort(),
      depends_on: Object.fromEntries(Object.entries(s.depends_on).map(([k, v]) => [k, v.condition])),
      volumes: s.volumes.map((m) => `${m.type}:${m.source ?? ''}:${m.target}:${m.read_only ? 'ro' : 'rw'}`).sort(),
      command: s.command ?? undefined,
      build: s.build?.context,
      secrets: s.secrets.map((x) => x.source).sort(),
    };
  }
  return out;
}

const fixtures = hasShared
  ? [
      ...readdirSync(path.join(shared, 'compose'), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => `compose/${d.name}/compose.yaml`),
      ...readdirSync(path.join(shared, 'kompose'), { recursive: true }).map(String).filter((f) => /\/compose[^/]*\.yaml$/.test(f)).map((f) => `kompose/${f}`),
    ]
  : [];

describe.skipIf(!hasShared)('loader agrees with docker-compose config', () => {
  it.each(fixtures)('%s', async (rel) => {
    if (!(await needs('docker-compose config', commandProbe('docker-compose', ['version'])))) return;
    const file = path.join(shared, rel);
    const dir = path.dirname(file);
    const ours = factsFromLoader(dir, { files: [path.basename(file)] });
    expect(ours).toEqual(factsFromCompose(composeConfig(dir, ['-f', path.basename(file)]), dir));
  });
});

describe('loader agrees with docker-compose config on merging and interpolation', () => {
  it('two -f files, .env replaced by --env-file, defaults and $$', async () => {
    if (!(await needs('docker-compose config', commandProbe('docker-compose', ['version'])))) return;
    const dir = project({
      '.env': 'TAG=from-dotenv\n',
      'prod.env': 'TAG=9.9\nPORT=8443\n',
      'compose.yaml': 'services:\n  web:\n    image: "web:${TAG}"\n    environment: [A=1, "PRICE=$$5", "D=${MISSING:-dflt}"]\n    ports: ["${PORT:-80}:80"]\n    volumes: ["./html:/usr/share/nginx/html:ro", "logs:/var/log"]\n    depends_on: {db: {condition: service_healthy}}\n  db:\n    image: db\n    healthcheck: {test: ["CMD", "true"]}\nvolumes: {logs: {}}\n',
      'compose.override.yaml': 'services:\n  web:\n    environment: {A: "2", B: "3"}\n    ports: ["9000:9000/udp"]\n    command: serve --flag "two words"\n',
    });
    const args = ['-f', 'compose.yaml', '-f', 'compose.override.yaml', '--env-file', 'prod.env'];
    const ours = factsFromLoader(dir, { files: ['compose.yaml', 'compose.override.yaml'], envFiles: [path.join(dir, 'prod.env')] });
    expect(ours).toEqual(factsFromCompose(composeConfig(dir, args), dir));
    expect(ours.web.image).toBe('web:9.9');
    expect(ours.web.environment.PRICE).toBe('$5');
  });
});
