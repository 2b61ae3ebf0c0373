/**
 * Issue 8's "done when", through the built CLI with real CRIU, a real Docker Engine and the real
 * Compose CLI: a running counter (socket-free, `network_mode: none`, writing to a named volume)
 * is packed with --checkpoint, its project torn down, and unpacked with --up into a project of
 * another name: it counts on from where it was, not from 1, on the restored volume. `inspect`
 * lists the checkpoint's facts. A checkpoint recorded on another architecture is refused with
 * the differing fact, or with --checkpoint-fallback cold started cold, and the CLI says which.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { composeProbe, dockerProbe, startDocker, type DockerComponent } from '../support/components/docker.js';
import { needs } from '../support/require.js';
import { counted, criuProbe, demux, sleep } from '../checkpoint/support.js';
import { buildArchive, haveFixtures } from '../checkpoint/fixtures.js';

const run = promisify(execFile);
const ready = await needs('checkpoints through the CLI', criuProbe, dockerProbe, composeProbe);

// `$$` is Compose's escape for a literal `$`. The count goes to stdout and to the volume.
const composeFile = (image: string, more = '', isolated = true) => `services:
  counter:
    image: ${image}
${isolated ? '    network_mode: none\n' : ''}    command: ["sh", "-c", "i=0; while true; do i=$$((i+1)); echo $$i; echo $$i >> /data/count; sleep 0.5; done"]
    volumes:
      - data:/data
${more}volumes:
  data: {}
`;
const otherService = (image: string) => `  other:\n    image: ${image}\n    command: ["sleep", "3600"]\n`;

/** The numbers the counter appended to /data/count. */
async function countFile(container: Docker.Container): Promise<number[]> {
  const exec = await container.exec({ Cmd: ['cat', '/data/count'], AttachStdout: true });
  const chunks: Buffer[] = [];
  for await (const c of await exec.start({})) chunks.push(c as Buffer);
  return demux(Buffer.concat(chunks)).split('\n').filter(Boolean).map(Number);
}

describe.skipIf(!ready)('pack --checkpoint → unpack --target compose: the counter resumes', () => {
  let docker: DockerComponent;
  let engine: Docker;
  let dir: string;
  const source = `fcpsrc${process.pid}`;
  const target = `fcpdst${process.pid}`;
  const cold = `fcpcold${process.pid}`;
  const moved = [`fcpmvsrc${process.pid}`, `fcpmvdst${process.pid}`];
  const compose = (project: string, cwd: string, ...args: string[]) =>
    run('docker-compose', ['-p', project, ...args], { cwd, env: docker.env });
  const cli = (...args: string[]) => runCli(args, { cwd: dir, env: docker.env });

  beforeAll(async () => {
    docker = await startDocker();
    engine = new Docker({ socketPath: docker.socketPath });
    dir = await mkdtemp(join(tmpdir(), 'fatchart-cli-cp-'));
    await writeFile(join(dir, 'compose.yaml'), composeFile(docker.image));
  });

  afterAll(async () => {
    if (!dir) return;
    for (const [p, cwd] of [[source, dir], [target, join(dir, 'out')], [cold, join(dir, 'cold')], [moved[0]!, join(dir, 'two')], [moved[1]!, join(dir, 'moved')]] as const) {
      await compose(p, cwd, 'down', '-v').catch(() => {});
    }
    await rm(dir, { recursive: true, force: true });
  });

  const containerOf = async (project: string, service = 'counter') => {
    const [c] = await engine.listContainers({ all: true, filters: { label: [`com.docker.compose.project=${project}`, `com.docker.compose.service=${service}`] } });
    expect(c).toBeDefined();
    return engine.getContainer(c!.Id);
  };

  it('packs a running counter with --checkpoint, unpacks it after down -v, and it counts on', async () => {
    await compose(source, dir, '-f', 'compose.yaml', 'up', '-d');
    await sleep(2500);
    const before = await counted(await containerOf(source));
    expect(before.length).toBeGreaterThan(2);

    const packed = await cli('pack', '--source', 'compose', '-f', 'compose.yaml', '-p', source, '-o', 'counter.fatchart', '--checkpoint');
    expect(packed.stderr).not.toMatch(/error/i);
    expect(packed.code).toBe(0);
    expect(packed.stdout).toMatch(/1 volumes, .*1 checkpoints/);

    const inspected = await cli('inspect', 'counter.fatchart');
    expect(inspected.code).toBe(0);
    expect(inspected.stdout).toMatch(/checkpoints:/);
    for (const fact of [`${source}_counter_1`, 'docker', 'x86_64', /criu/i, /kernel/i]) expect(inspected.stdout).toMatch(fact);

    await compose(source, dir, '-f', 'compose.yaml', 'down', '-v');
    const unpacked = await cli('unpack', 'counter.fatchart', '--target', 'compose', '--out', 'out', '-p', target, '--up');
    expect(unpacked.stderr).not.toMatch(/error/i);
    expect(unpacked.code).toBe(0);
    expect(unpacked.stdout).toContain(`checkpoint ${target}_counter_1: restored, resumed where it was`);

    await sleep(1500);
    const restored = await containerOf(target);
    const info = await restored.inspect();
    expect(info.State.Running).toBe(true);
    expect(info.Name).toBe(`/${target}_counter_1`);
    const after = await counted(restored);
    // A cold start prints 1 first; the resumed process goes on past what it printed before the pack.
    expect(after[0]).toBeGreaterThan(before.at(-1)!);
    expect(after).toEqual(after.map((_, i) => after[0]! + i));
    // The restored volume is the target project's own, and its file counts on across the move.
    // Left running (the default), the source wrote on between the dump and the volume copy: those
    // numbers come again once the resumed process reaches them (--checkpoint-stop avoids that).
    expect(info.Mounts.find((m) => m.Destination === '/data')?.Name).toBe(`${target}_data`);
    const numbers = await countFile(restored);
    expect(numbers.length).toBeGreaterThan(before.length);
    expect(numbers[0]).toBe(1);
    expect(numbers.slice(1).every((n, i) => n === numbers[i]! + 1 || n <= numbers[i]!)).toBe(true);
    // Compose adopted the resumed container rather than recreating it: still the same process state.
    const ps = await compose(target, join(dir, 'out'), '-f', 'compose.yaml', 'ps', '-q');
    expect(ps.stdout.trim()).toBe(info.Id);
  });

  it('--checkpoint-stop SERVICE moves only that service, consistently, on the project network; --up starts the others cold', async () => {
    await mkdir(join(dir, 'two'));
    await writeFile(join(dir, 'two', 'compose.yaml'), composeFile(docker.image, otherService(docker.image), false));
    await compose(moved[0]!, join(dir, 'two'), 'up', '-d');
    await sleep(2000);
    const packed = await cli('pack', '--source', 'compose', '-f', 'two/compose.yaml', '-p', moved[0]!, '-o', 'moved.fatchart', '--checkpoint-stop', '--checkpoint', 'counter');
    expect(packed.code).toBe(0);
    expect(packed.stdout).toMatch(/1 checkpoints/);
    // Move semantics: the dump stopped the counter; the other service was only paused for the copy.
    expect((await (await containerOf(moved[0]!)).inspect()).State.Running).toBe(false);
    expect((await (await containerOf(moved[0]!, 'other')).inspect()).State.Status).toBe('running');
    await compose(moved[0]!, join(dir, 'two'), 'down', '-v');

    const unpacked = await cli('unpack', 'moved.fatchart', '--target', 'compose', '--out', 'moved', '-p', moved[1]!, '--up');
    expect(unpacked.code).toBe(0);
    expect(unpacked.stdout).toContain(`checkpoint ${moved[1]}_counter_1: restored`);
    await sleep(1500);
    expect((await (await containerOf(moved[1]!, 'other')).inspect()).State.Status).toBe('running');
    // The resumed container is on the target project's network under its service name, next to
    // the cold-started one (the socket-free counter has no connection CRIU would have to carry).
    const network = `${moved[1]}_default`;
    const resumed = await (await containerOf(moved[1]!)).inspect();
    expect(resumed.NetworkSettings.Networks[network]?.Aliases).toContain('counter');
    expect(Object.keys((await (await containerOf(moved[1]!, 'other')).inspect()).NetworkSettings.Networks)).toEqual([network]);
    // Stopped at the dump, the volume was copied at the same instant: one unbroken count.
    const numbers = await countFile(await containerOf(moved[1]!));
    expect(numbers.length).toBeGreaterThan(5);
    expect(numbers).toEqual(numbers.map((_, i) => i + 1));
  });

  it.skipIf(!!haveFixtures())('refuses a checkpoint recorded on another CPU, or starts cold with --checkpoint-fallback cold', async () => {
    const archive = await buildArchive('cri-o', 'gzip');
    const packed = await cli('pack', '--source', 'compose', '-f', 'compose.yaml', '-p', source, '-o', 'foreign.fatchart', '--checkpoint-archive', archive);
    expect(packed.code).toBe(0);
    const inspected = await cli('inspect', 'foreign.fatchart');
    expect(inspected.stdout).toMatch(/container-name/);
    expect(inspected.stdout).toMatch(/aarch64/);

    const refused = await cli('unpack', 'foreign.fatchart', '--target', 'compose', '--out', 'cold', '-p', cold, '--up');
    expect(refused.code).toBe(6);
    expect(refused.stderr).toMatch(/checkpoint container-name: cannot restore on this target: CPU architecture differs: recorded aarch64, target x86_64/);
    expect(refused.stderr).toMatch(/--checkpoint-fallback cold/);
    // Refused before anything was created.
    expect(await engine.listVolumes({ filters: { label: [`com.docker.compose.project=${cold}`] } }).then((v) => v.Volumes ?? [])).toEqual([]);

    const started = await cli('unpack', 'foreign.fatchart', '--target', 'compose', '--out', 'cold', '-p', cold, '--up', '--checkpoint-fallback', 'cold');
    expect(started.stderr).not.toMatch(/error/i);
    expect(started.code).toBe(0);
    expect(started.stdout).toMatch(/checkpoint container-name: cold start \(CPU architecture differs: recorded aarch64, target x86_64/);
    await sleep(1500);
    // Cold: the counter starts again from 1.
    expect((await counted(await containerOf(cold)))[0]).toBe(1);
  });
});
