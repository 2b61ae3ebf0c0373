import { describe, expect, it } from 'vitest';
import { interpolate, loadComposeProject, parseDotenv } from '../../src/platforms/compose/loader/index.js';
import { project } from './helpers.js';

describe('interpolation', () => {
  const vars = { SET: 'v', EMPTY: '' };
  it.each([
    ['$$SET', '$SET'],
    ['${SET}', 'v'],
    ['$SET-x', 'v-x'],
    ['${UNSET:-d}', 'd'],
    ['${EMPTY:-d}', 'd'],
    ['${EMPTY-d}', ''],
    ['${UNSET-d}', 'd'],
    ['${SET:+alt}', 'alt'],
    ['${UNSET:+alt}', ''],
    ['${UNSET:-${SET}}', 'v'],
  ])('%s → %s', (text, want) => expect(interpolate(text, { vars })).toBe(want));

  it('fails on ${VAR:?message} naming the variable', () => {
    expect(() => interpolate('${EMPTY:?must be set}', { vars, where: 'f.yaml: x' })).toThrow(/EMPTY.*must be set/);
    expect(interpolate('${EMPTY?must be set}', { vars })).toBe('');
  });

  it('parses env files: quotes, export, comments, bare keys', () => {
    const env = parseDotenv('export A=1\n# c\nB="x\\ny" \nC=\'$A\'\nD=plain # comment\nE\n', '.env', (v) => v, (k) => (k === 'E' ? 'from-shell' : undefined));
    expect(env).toEqual({ A: '1', B: 'x\ny', C: '$A', D: 'plain', E: 'from-shell' });
  });
});

describe('loadComposeProject', () => {
  it('merges -f files with Compose rules and interpolates from .env, shell winning', () => {
    const dir = project({
      '.env': 'TAG=1.0\nPORT=8080\n',
      'compose.yaml': 'services:\n  web:\n    image: "app:${TAG}"\n    ports: ["${PORT}:80"]\n    environment: [A=1, B=2]\n    command: run a\n    volumes: ["./data:/data", "cache:/cache:ro"]\nvolumes: {cache: }\n',
      'compose.prod.yaml': 'services:\n  web:\n    ports: ["443:443"]\n    environment: {B: "3", C: "4"}\n    command: ["run", "b"]\n    volumes: [{type: volume, source: other, target: /cache}]\nvolumes: {other: {}}\n',
    });
    const p = loadComposeProject({ location: dir, files: ['compose.yaml', 'compose.prod.yaml'], env: { PORT: '9090' } });
    const web = p.services.web;
    expect(web.image).toBe('app:1.0');
    expect(web.ports.map((x) => `${x.published}:${x.target}`)).toEqual(['9090:80', '443:443']);
    expect(web.environment).toEqual({ A: '1', B: '3', C: '4' });
    expect(web.command).toEqual(['run', 'b']);
    expect(web.volumes).toEqual([
      { type: 'bind', source: `${dir}/data`, target: '/data', bind: { create_host_path: true } },
      { type: 'volume', source: 'other', target: '/cache' },
    ]);
    expect(p.name).toMatch(/^fatchart-convert-/);
  });

  it('applies profiles, extends and depends_on long form', () => {
    const dir = project({
      'base.yaml': 'services:\n  common:\n    image: base\n    environment: {X: "1"}\n    depends_on: [never-inherited]\n',
      'compose.yaml': [
        'services:',
        '  app:',
        '    extends: {file: base.yaml, service: common}',
        '    environment: {Y: "2"}',
        '    depends_on: [db]',
        '  db: {image: db}',
        '  debug: {image: dbg, profiles: [debug]}',
      ].join('\n'),
    });
    const off = loadComposeProject({ location: dir, env: {} });
    expect(Object.keys(off.services)).toEqual(['app', 'db']);
    expect(off.disabledServices).toEqual(['debug']);
    expect(off.services.app.image).toBe('base');
    expect(off.services.app.environment).toEqual({ X: '1', Y: '2' });
    expect(off.services.app.depends_on).toEqual({ db: { condition: 'service_started', required: true } });
    const on = loadComposeProject({ location: dir, env: { COMPOSE_PROFILES: 'debug' } });
    expect(Object.keys(on.services)).toEqual(['app', 'db', 'debug']);
  });

  it('refuses a dependency on a service its profile disables', () => {
    const dir = project({ 'compose.yaml': 'services:\n  a: {image: a, depends_on: [b]}\n  b: {image: b, profiles: [x]}\n' });
    expect(() => loadComposeProject({ location: dir, env: {} })).toThrow(/service a: depends on b, which is disabled/);
  });

  it('validates each file against the Compose spec, casting interpolated values as Compose does', () => {
    const typo = project({ 'compose.yaml': 'services:\n  web:\n    imagee: nginx\n' });
    expect(() => loadComposeProject({ location: typo, env: {} })).toThrow(/compose.yaml: not a valid compose file: \/services\/web must NOT have additional properties/);
    const interpolated = project({ 'compose.yaml': 'name: demo\nservices:\n  web:\n    image: "${TAG}"\n    privileged: ${PRIV}\n    deploy:\n      replicas: ${N}\n' });
    const p = loadComposeProject({ location: interpolated, env: { N: '3', PRIV: 'false', TAG: '1' } });
    expect(p.name).toBe('demo');
    expect(p.services.web.deploy?.replicas).toBe(3);
    expect(p.services.web.privileged).toBe(false);
    expect(p.services.web.image).toBe('1');
  });
});
