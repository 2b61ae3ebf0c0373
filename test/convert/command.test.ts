import path from 'node:path';
import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { register } from '../../src/cli/commands/convert.js';
import { parseObjects } from '../../src/model/yaml.js';
import { project } from './helpers.js';

/** Runs `fatchart convert ...` through the real commander wiring; returns stdout, stderr, exit code. */
async function run(args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true));
  const program = new Command('fatchart').option('-q, --quiet').option('-v, --verbose').exitOverride();
  register(program);
  process.exitCode = 0;
  await program.parseAsync(['node', 'fatchart', 'convert', ...args]);
  vi.restoreAllMocks();
  const code = Number(process.exitCode ?? 0);
  process.exitCode = 0;
  return { stdout: out.join(''), stderr: err.join(''), code };
}

afterEach(() => vi.restoreAllMocks());

describe('fatchart convert (command wiring)', () => {
  const dir = () =>
    project({
      'compose.yaml': 'services:\n  web:\n    image: nginx:1.25\n    ports: ["8080:80"]\n    stop_signal: SIGQUIT\n',
      'patch.yaml': '- match: {kind: Deployment}\n  mergePatch: {metadata: {labels: {team: a}}}\n',
    });

  it('prints YAML on stdout, losses and rewrites on stderr', async () => {
    const d = dir();
    const r = await run([d, '--to', 'k8s', '--registry-mirror', 'docker.io=mirror.local', '--replicas', 'web=2', '--patch', path.join(d, 'patch.yaml')]);
    expect(r.code).toBe(0);
    const objects = parseObjects(r.stdout, 'stdout');
    const web = objects.find((o) => o.kind === 'Deployment') as any;
    expect(web.spec.replicas).toBe(2);
    expect(web.metadata.labels.team).toBe('a');
    expect(web.spec.template.spec.containers[0].image).toBe('mirror.local/library/nginx:1.25');
    expect(r.stderr).toContain('dropped: service/web services.web.stop_signal');
    expect(r.stderr).toContain('rewrite registry-mirror: Deployment/web');
  });

  it('--strict exits 7 and prints nothing on stdout', async () => {
    const r = await run([dir(), '--to', 'k8s', '--strict']);
    expect(r.code).toBe(7);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/fatchart: .*--strict/);
  });

  it('bad rewrite flags are usage errors naming the flag', async () => {
    const r = await run([dir(), '--to', 'k8s', '--replicas', 'web=two']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--replicas web=two: not a whole number');
  });
});
