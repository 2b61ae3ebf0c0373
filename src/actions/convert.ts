import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { FatchartError } from '../errors.js';
import type { KubeObject } from '../model/object.js';
import type { Loss } from '../model/loss.js';
import { dumpObjects, parseObjects } from '../model/yaml.js';
import { loadComposeProject } from '../platforms/compose/loader/index.js';
import { cleanObject } from '../platforms/k8s/clean-rules.js';
import { APP_FILE, DATA_DIR, manifestExtensions } from '../platforms/manifests/layout.js';
import { applyRewrites, composeToModel, toTarget, validateCompose, validateObjects, type RewriteChange, type Rewrites, type Target } from '../convert/index.js';
import type { RunContext } from '../util/context.js';

/**
 * `fatchart convert`: read INPUT (compose project, manifest folder/file, OpenShift template, or a
 * bundle), convert to the target, rewrite, validate, then write to stdout or atomically to --out.
 */
export interface ConvertRequest {
  input: string;
  to: Target;
  composeFiles?: string[];
  envFiles?: string[];
  profiles?: string[];
  projectName?: string;
  output?: 'yaml' | 'json';
  out?: string;
  strict?: boolean;
  params?: Record<string, string>;
  rewrites?: Rewrites;
  deploymentConfig?: boolean;
  /** Routes → HTTPRoutes attached to this Gateway. */
  gateway?: string;
  volumeSizes?: Map<string, number>;
}

export interface ConvertResult {
  objects: KubeObject[];
  losses: Loss[];
  rewrites: RewriteChange[];
  /** What goes to stdout when --out is not given. */
  text: string;
  /** Files written under --out (relative paths). */
  written: string[];
}

type Source = 'compose' | 'manifests' | 'bundle';

const composeNames = /^(docker-)?compose(\.override)?\.ya?ml$/;

function detect(input: string, files?: string[]): Source {
  if (files?.length) return 'compose';
  if (!existsSync(input)) throw new FatchartError('usage', 'no such file or folder', { subject: input });
  if (statSync(input).isDirectory()) return readdirSync(input).some((f) => composeNames.test(f)) ? 'compose' : 'manifests';
  if (/\.(fatchart|tar)$/.test(input)) return 'bundle';
  if (composeNames.test(path.basename(input))) return 'compose';
  const doc = yaml.load(readFileSync(input, 'utf8').split(/^---$/m).find((d) => d.trim()) ?? '', { schema: yaml.CORE_SCHEMA }) as Record<string, unknown> | null;
  return doc && typeof doc === 'object' && 'services' in doc && !('apiVersion' in doc) ? 'compose' : 'manifests';
}

/** A manifest file, or a folder in the manifests platform's layout (app file and data/ skipped). */
function readManifests(input: string): KubeObject[] {
  if (!statSync(input).isDirectory()) return parseObjects(readFileSync(input, 'utf8'), input).map((o) => cleanObject(o));
  const out: KubeObject[] = [];
  for (const entry of readdirSync(input, { recursive: true }).map(String).sort()) {
    const p = path.join(input, entry);
    if (entry === APP_FILE || entry.split(path.sep)[0] === DATA_DIR) continue;
    if (manifestExtensions.test(entry) && statSync(p).isFile()) out.push(...parseObjects(readFileSync(p, 'utf8'), p));
  }
  return out.map((o) => cleanObject(o));
}

async function readSource(req: ConvertRequest, ctx: RunContext): Promise<{ objects: KubeObject[]; losses: Loss[] }> {
  const source = detect(req.input, req.composeFiles);
  ctx.log.debug(`convert: ${req.input} read as ${source}`);
  if (source === 'compose') {
    const project = loadComposeProject({
      location: req.input,
      files: req.composeFiles,
      envFiles: req.envFiles,
      profiles: req.profiles,
      projectName: req.projectName,
      onWarning: (m) => ctx.log.warn(m),
    });
    return composeToModel(project, { volumeSizes: req.volumeSizes });
  }
  if (source === 'bundle') {
    const { BundleReader } = await import('../bundle/reader.js');
    const reader = await BundleReader.open(req.input);
    return { objects: await reader.objects(), losses: [] };
  }
  return { objects: readManifests(req.input), losses: [] };
}

export async function convert(req: ConvertRequest, ctx: RunContext): Promise<ConvertResult> {
  const source = await readSource(req, ctx);
  const converted = toTarget(source.objects, req.to, { params: req.params, deploymentConfig: req.deploymentConfig, gateway: req.gateway });
  const losses = [...source.losses, ...converted.losses];
  const rewritten = applyRewrites(converted.objects, req.rewrites ?? {});
  let files: Map<string, string | Buffer>;
  let objects = rewritten.objects;
  if (req.to === 'compose') {
    // rewrites act on the model; the compose project is written from the rewritten objects
    const compose = rewritten.report.length ? toTarget(objects, 'compose').compose! : converted.compose!;
    validateCompose(compose.document);
    files = compose.files;
  } else {
    validateObjects(objects);
    const text = req.output === 'json' ? `${JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }, null, 2)}\n` : dumpObjects(objects);
    files = new Map([[req.output === 'json' ? 'objects.json' : 'objects.yaml', text]]);
  }
  if (req.strict) {
    const dropped = losses.filter((l) => l.severity === 'dropped');
    if (dropped.length) {
      for (const l of losses) ctx.log.warn(formatLoss(l));
      throw new FatchartError('lossy', `${dropped.length} source field(s) dropped and --strict was given (first: ${dropped[0].subject} ${dropped[0].field})`, { subject: req.input });
    }
  }
  const written = req.out ? writeAtomically(req.out, files) : [];
  const main = req.to === 'compose' ? [...files.keys()][0] : [...files.keys()][0];
  if (!req.out && req.to === 'compose' && files.size > 1) {
    losses.push({ severity: 'needs-action', subject: req.input, field: 'configs/secrets', message: `${files.size - 1} config/secret file(s) are only written with --out` });
  }
  return { objects, losses, rewrites: rewritten.report, text: String(files.get(main) ?? ''), written };
}

export function formatLoss(l: Loss): string {
  return `${l.severity}: ${l.subject} ${l.field}: ${l.message}${l.fix ? ` (fix: ${l.fix})` : ''}`;
}

/** Writes every file into a sibling temp folder, then renames it into place: all or nothing. */
function writeAtomically(dir: string, files: Map<string, string | Buffer>): string[] {
  const target = path.resolve(dir);
  if (existsSync(target) && readdirSync(target).length) throw new FatchartError('usage', 'output folder exists and is not empty', { subject: dir });
  const tmp = `${target}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  try {
    for (const [rel, content] of files) {
      const p = path.join(tmp, rel);
      mkdirSync(path.dirname(p), { recursive: true });
      writeFileSync(p, content);
    }
    if (existsSync(target)) rmSync(target, { recursive: true });
    renameSync(tmp, target);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw new FatchartError('platform', `cannot write output: ${(err as Error).message}`, { subject: dir, cause: err });
  }
  return [...files.keys()];
}
