import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { FatchartError } from '../../../errors.js';
import { digestOf } from '../../../convert/annotations.js';
import { validateComposeInput } from '../../../convert/validate.js';
import { parseDotenv } from './dotenv.js';
import { castInterpolated, interpolate, interpolateTree } from './interpolate.js';
import { mergeService, mergeTop } from './merge.js';
import { completeService, normalizeService } from './normalize.js';
import type { ComposeProject, ComposeResource, ComposeService } from './types.js';

export type * from './types.js';
export { interpolate } from './interpolate.js';
export { parseDotenv } from './dotenv.js';
export { shellSplit, parsePortSpec, parseVolumeSpec } from './normalize.js';

export interface LoadComposeOptions {
  /** A project folder or a compose file (what `fatchart convert INPUT` got). */
  location?: string;
  /** `-f` files, in order; relative to the current directory. */
  files?: string[];
  /** `--project-directory`; defaults to the first file's folder. */
  projectDir?: string;
  /** `-p`. */
  projectName?: string;
  /** `--env-file`, replacing the project's `.env`. */
  envFiles?: string[];
  /** `--profile`; defaults to `COMPOSE_PROFILES`. */
  profiles?: string[];
  /** The shell environment; defaults to `process.env`. Shell values win over `.env`. */
  env?: Record<string, string | undefined>;
  /** Called for each unset variable used without a default (Compose prints a warning). */
  onWarning?: (message: string) => void;
}

/** Compose's default file names, in its lookup order, and the override file that goes with them. */
const defaultFiles = ['compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml'];
const overrideFiles = ['compose.override.yaml', 'compose.override.yml', 'docker-compose.override.yaml', 'docker-compose.override.yml'];

type Raw = Record<string, unknown>;

/** Reads a Compose project exactly as `docker compose config` would, into a normalised project. */
export function loadComposeProject(opts: LoadComposeOptions = {}): ComposeProject {
  const files = resolveFiles(opts);
  const workingDir = path.resolve(opts.projectDir ?? path.dirname(files[0]));
  const shell = opts.env ?? process.env;
  const vars = projectEnvironment(workingDir, opts, shell);
  const warn = opts.onWarning ?? (() => {});
  const missing = new Set<string>();
  const onMissing = (name: string, where: string) => {
    if (missing.has(name)) return;
    missing.add(name);
    warn(`${where}: variable ${name} is not set, using an empty string`);
  };
  const rawDocs: Raw[] = [];
  const loadFile = (file: string): Raw => {
    const raw = readYaml(file);
    if (files.includes(file)) rawDocs.push(raw);
    const interpolated = castInterpolated(raw, interpolateTree(raw, { vars, onMissing, where: `${file}: ` })) as Raw;
    validateComposeInput(withoutResets(interpolated), file);
    return normalizeFile(interpolated, path.dirname(file), file);
  };
  let merged: Raw = {};
  for (const f of files) merged = mergeTop(merged, loadFile(f));

  const rawServices = (merged.services ?? {}) as Record<string, Raw>;
  const resolved: Record<string, Raw> = {};
  for (const name of Object.keys(rawServices)) {
    resolved[name] = resolveExtends(name, rawServices, files[files.length - 1], loadFile, []);
  }

  const active = new Set(opts.profiles ?? (vars.COMPOSE_PROFILES ? vars.COMPOSE_PROFILES.split(',') : []));
  const services: Record<string, ComposeService> = {};
  const disabledServices: string[] = [];
  for (const [name, raw] of Object.entries(resolved).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const profiles = (raw.profiles as string[] | undefined) ?? [];
    if (profiles.length && !active.has('*') && !profiles.some((p) => active.has(p))) {
      disabledServices.push(name);
      continue;
    }
    services[name] = completeService(withEnvFiles(raw, vars, `service ${name}`));
  }
  for (const [name, svc] of Object.entries(services)) {
    for (const dep of Object.keys(svc.depends_on)) {
      if (services[dep]) continue;
      if (svc.depends_on[dep].required === false) {
        delete svc.depends_on[dep];
        continue;
      }
      const why = disabledServices.includes(dep) ? 'is disabled by its profiles' : 'is not defined';
      throw new FatchartError('usage', `depends on ${dep}, which ${why}`, { subject: `service ${name}` });
    }
  }

  const extensions = Object.fromEntries(Object.entries(merged).filter(([k]) => k.startsWith('x-')));
  const name = normalizeProjectName(opts.projectName ?? (merged.name as string | undefined) ?? vars.COMPOSE_PROJECT_NAME ?? path.basename(workingDir));
  return {
    name,
    workingDir,
    files,
    services,
    disabledServices,
    volumes: nullsToObjects(merged.volumes),
    networks: nullsToObjects(merged.networks),
    secrets: nullsToObjects(merged.secrets) as Record<string, ComposeResource>,
    configs: nullsToObjects(merged.configs) as Record<string, ComposeResource>,
    extensions,
    environment: vars,
    sourceDigest: sourceDigest(rawDocs),
  };
}

/**
 * Digest of the files as written (before interpolation), without the `x-fatchart` block: tells
 * whether a project written by modelToCompose was edited since (see src/convert/compose/carry.ts).
 */
export function sourceDigest(docs: Raw[]): string {
  return digestOf(docs.map((d) => Object.fromEntries(Object.entries(d).filter(([k]) => k !== CARRY_KEY))));
}

export const CARRY_KEY = 'x-fatchart';

/** Compose project names: lowercase letters, digits, `-` and `_`, starting with a letter or digit. */
export function normalizeProjectName(name: string): string {
  const n = name.toLowerCase().replace(/[^a-z0-9_-]/g, '').replace(/^[^a-z0-9]+/, '');
  if (!n) throw new FatchartError('usage', `cannot derive a project name from ${JSON.stringify(name)}; pass -p`);
  return n;
}

function resolveFiles(opts: LoadComposeOptions): string[] {
  if (opts.files?.length) {
    const base = opts.location && isDir(opts.location) ? opts.location : process.cwd();
    return opts.files.map((f) => {
      const abs = path.resolve(base, f);
      if (!existsSync(abs)) throw new FatchartError('usage', 'compose file not found', { subject: f });
      return abs;
    });
  }
  const loc = path.resolve(opts.location ?? '.');
  if (!existsSync(loc)) throw new FatchartError('usage', 'no such file or folder', { subject: loc });
  if (!isDir(loc)) return [loc];
  const main = defaultFiles.map((f) => path.join(loc, f)).find(existsSync);
  if (!main) throw new FatchartError('usage', `no compose file found (looked for ${defaultFiles.join(', ')})`, { subject: loc });
  const override = overrideFiles.map((f) => path.join(loc, f)).find(existsSync);
  return override ? [main, override] : [main];
}

/** `volumes: {data: }` declares `data` with defaults: null means an empty definition. */
function nullsToObjects(section: unknown): Record<string, Raw> {
  return Object.fromEntries(Object.entries((section ?? {}) as Record<string, Raw | null>).map(([k, v]) => [k, v ?? {}]));
}

const isDir = (p: string) => existsSync(p) && statSync(p).isDirectory();

/** `.env` (or `--env-file`s) interpolated against the shell; the shell wins on conflicts. */
function projectEnvironment(workingDir: string, opts: LoadComposeOptions, shell: Record<string, string | undefined>): Record<string, string> {
  const defined = Object.fromEntries(Object.entries(shell).filter((e): e is [string, string] => e[1] !== undefined));
  const files = opts.envFiles?.length ? opts.envFiles.map((f) => path.resolve(f)) : [path.join(workingDir, '.env')];
  let fromFiles: Record<string, string> = {};
  for (const f of files) {
    if (!existsSync(f)) {
      if (opts.envFiles?.length) throw new FatchartError('usage', 'env file not found', { subject: f });
      continue;
    }
    const parsed = parseDotenv(
      readFileSync(f, 'utf8'),
      f,
      (v, local) => interpolate(v, { vars: { ...fromFiles, ...local, ...defined }, where: f }),
      (k) => defined[k],
    );
    fromFiles = { ...fromFiles, ...parsed };
  }
  return { ...fromFiles, ...defined };
}

/** YAML tags Compose defines on merge: `!reset` drops the inherited value, `!override` replaces it. */
const resetTag = new yaml.Type('!reset', { kind: 'scalar', construct: () => ({ [RESET]: true }), resolve: () => true });
const resetSeq = new yaml.Type('!reset', { kind: 'sequence', construct: () => ({ [RESET]: true }) });
const resetMap = new yaml.Type('!reset', { kind: 'mapping', construct: () => ({ [RESET]: true }) });
const RESET = '\0reset';
const schema = yaml.CORE_SCHEMA.extend([resetTag, resetSeq, resetMap]);

function readYaml(file: string): Raw {
  let doc: unknown;
  try {
    doc = yaml.load(readFileSync(file, 'utf8'), { filename: file, schema });
  } catch (err) {
    const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new FatchartError('usage', `not valid YAML: ${reason}`, { subject: file });
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new FatchartError('usage', 'a compose file must be a mapping', { subject: file });
  return doc as Raw;
}

function normalizeFile(doc: Raw, baseDir: string, file: string): Raw {
  const out: Raw = { ...doc };
  const services: Record<string, Raw> = {};
  for (const [name, svc] of Object.entries((doc.services ?? {}) as Record<string, Raw | null>)) {
    const normalized = normalizeService(svc ?? {}, { baseDir, where: `${file}: services.${name}` });
    if (normalized.extends) normalized.extends = normalizeExtends(normalized.extends, baseDir);
    services[name] = normalized;
  }
  out.services = services;
  for (const section of ['secrets', 'configs'] as const) {
    const entries = (doc[section] ?? {}) as Record<string, Raw | null>;
    out[section] = Object.fromEntries(
      Object.entries(entries).map(([k, v]) => [k, v?.file ? { ...v, file: path.resolve(baseDir, String(v.file)) } : v ?? {}]),
    );
  }
  return out;
}

function normalizeExtends(ext: unknown, baseDir: string): Raw {
  const e: Raw = typeof ext === 'string' ? { service: ext } : { ...(ext as Raw) };
  if (e.file) e.file = path.resolve(baseDir, String(e.file));
  return e;
}

function resolveExtends(
  name: string,
  services: Record<string, Raw>,
  file: string,
  loadFile: (file: string) => Raw,
  chain: string[],
): Raw {
  const svc = services[name];
  if (!svc) throw new FatchartError('usage', `extends unknown service ${name}`, { subject: file });
  const ext = svc.extends as Raw | undefined;
  if (!ext) return dropResets(svc);
  const key = `${ext.file ?? file}#${ext.service}`;
  if (chain.includes(key)) throw new FatchartError('usage', `extends cycle: ${[...chain, key].join(' -> ')}`, { subject: `service ${name}` });
  let base: Raw;
  if (ext.file) {
    const other = loadFile(String(ext.file));
    base = resolveExtends(String(ext.service), (other.services ?? {}) as Record<string, Raw>, String(ext.file), loadFile, [...chain, key]);
  } else base = resolveExtends(String(ext.service), services, file, loadFile, [...chain, key]);
  // Compose never inherits these from the extended service
  const { depends_on: _d, links: _l, volumes_from: _v, ...inheritable } = base;
  const { extends: _e, ...own } = svc;
  return dropResets(mergeService(inheritable, own));
}

const isReset = (v: unknown) => !!v && typeof v === 'object' && (v as Raw)[RESET] === true;

/** `!reset` markers are not values the schema knows: check the file as if they were absent. */
const withoutResets = (doc: Raw): Raw => dropResets(doc);

/** Removes every `!reset` marker left after merging, at any depth. */
function dropResets<T>(v: T): T {
  if (Array.isArray(v)) return v.filter((x) => !isReset(x)).map(dropResets) as T;
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).filter(([, x]) => !isReset(x)).map(([k, x]) => [k, dropResets(x)])) as T;
  }
  return v;
}

/** Folds `env_file` into `environment` (explicit entries win) and resolves bare `KEY` entries. */
function withEnvFiles(svc: Raw, vars: Record<string, string>, where: string): Raw {
  const envFiles = (svc.env_file as Array<{ path: string; required?: boolean }> | undefined) ?? [];
  let env: Record<string, string> = {};
  const loaded: EnvFileValues[] = [];
  for (const f of envFiles) {
    if (!existsSync(f.path)) {
      if (f.required === false) continue;
      throw new FatchartError('usage', `env file not found`, { subject: `${where}: ${f.path}` });
    }
    const values = parseDotenv(readFileSync(f.path, 'utf8'), f.path, (v, local) => interpolate(v, { vars: { ...vars, ...local }, where: f.path }), (k) => vars[k]);
    loaded.push({ path: f.path, values });
    env = { ...env, ...values };
  }
  for (const [k, v] of Object.entries((svc.environment ?? {}) as Record<string, string | null>)) {
    if (v !== null) env[k] = v;
    else if (vars[k] !== undefined) env[k] = vars[k];
  }
  const { env_file: _f, ...rest } = svc;
  return { ...rest, environment: env, ...(loaded.length ? { [ENV_FILES]: loaded } : {}) };
}

export interface EnvFileValues {
  path: string;
  values: Record<string, string>;
}

/**
 * Where each service's env_file entries came from, kept beside the merged environment so a
 * converter can still emit one ConfigMap per env file (Kompose's layout) without re-reading.
 */
export const ENV_FILES = 'x-fatchart-env-files';
