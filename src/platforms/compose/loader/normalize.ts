import path from 'node:path';
import { FatchartError } from '../../../errors.js';
import type { ComposeDependency, ComposeFileRef, ComposeMount, ComposePort, ComposeService } from './types.js';

/**
 * Short syntax → long syntax, per field, as a table: each entry turns whatever spelling the
 * file used into the one form `ComposeService` declares. Relative host paths are made absolute
 * against the file's folder here, because after merging nobody knows which file a path came from.
 */
export interface NormalizeContext {
  /** Folder the relative paths of this file are relative to. */
  baseDir: string;
  /** `file: services.NAME` for messages. */
  where: string;
}

type Raw = Record<string, unknown>;
type Normalizer = (value: unknown, ctx: NormalizeContext) => unknown;

const asList = (v: unknown): unknown[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]);

export function toMap(value: unknown, ctx: NormalizeContext, field: string, sep = '='): Record<string, string | null> {
  if (value === undefined || value === null) return {};
  if (Array.isArray(value)) {
    const out: Record<string, string | null> = {};
    for (const item of value) {
      const s = String(item);
      const at = s.indexOf(sep);
      if (at < 0) out[s] = null;
      else out[s.slice(0, at)] = s.slice(at + sep.length);
    }
    return out;
  }
  if (typeof value === 'object') {
    const out: Record<string, string | null> = {};
    for (const [k, v] of Object.entries(value)) out[k] = v === null || v === undefined ? null : scalar(v);
    return out;
  }
  throw new FatchartError('usage', `${field} must be a list or a mapping`, { subject: ctx.where });
}

const scalar = (v: unknown): string => (typeof v === 'object' ? JSON.stringify(v) : String(v));

/** POSIX-shell-like word splitting, as Compose applies to string `command`/`entrypoint`. */
export function shellSplit(s: string): string[] {
  const words: string[] = [];
  let cur = '';
  let has = false;
  let quote: string | null = null;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < s.length && '"\\$`'.includes(s[i + 1])) cur += s[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      has = true;
    } else if (c === '\\' && i + 1 < s.length) {
      cur += s[++i];
      has = true;
    } else if (/\s/.test(c)) {
      if (has || cur) words.push(cur);
      cur = '';
      has = false;
    } else cur += c;
  }
  if (quote) throw new FatchartError('usage', `unterminated quote in ${JSON.stringify(s)}`);
  if (has || cur) words.push(cur);
  return words;
}

const commandLike: Normalizer = (v) => {
  if (v === null) return null;
  if (typeof v === 'string') return shellSplit(v);
  return asList(v).map(String);
};

/** `[HOST_IP:][PUBLISHED:]TARGET[/PROTO]`, with ranges `8000-8002:80-82` expanded. */
export function parsePortSpec(spec: string, where: string): ComposePort[] {
  let s = spec;
  let protocol: ComposePort['protocol'] = 'tcp';
  const slash = s.lastIndexOf('/');
  if (slash >= 0) {
    protocol = s.slice(slash + 1).toLowerCase() as ComposePort['protocol'];
    s = s.slice(0, slash);
  }
  let hostIp: string | undefined;
  const v6 = /^\[([^\]]+)\]:(.*)$/.exec(s);
  if (v6) {
    hostIp = v6[1];
    s = v6[2];
  }
  const parts = s.split(':');
  if (!hostIp && parts.length === 3) hostIp = parts.shift();
  if (parts.length > 2 || !parts.length) throw new FatchartError('usage', `invalid port ${JSON.stringify(spec)}`, { subject: where });
  const [published, target] = parts.length === 2 ? parts : [undefined, parts[0]];
  const range = (r: string) => {
    const m = /^(\d+)(?:-(\d+))?$/.exec(r);
    if (!m) throw new FatchartError('usage', `invalid port ${JSON.stringify(spec)}`, { subject: where });
    const a = Number(m[1]);
    const b = m[2] ? Number(m[2]) : a;
    return Array.from({ length: b - a + 1 }, (_, i) => a + i);
  };
  const targets = range(target);
  const pubs = published ? range(published) : undefined;
  return targets.map((t, i) => {
    const p: ComposePort = { target: t, protocol };
    if (pubs) p.published = String(pubs.length === targets.length ? pubs[i] : pubs[0]);
    if (hostIp) p.host_ip = hostIp;
    p.mode = 'ingress';
    return p;
  });
}

const ports: Normalizer = (v, ctx) =>
  asList(v).flatMap((item): ComposePort[] => {
    if (typeof item === 'number') return [{ target: item, protocol: 'tcp', mode: 'ingress' }];
    if (typeof item === 'string') return parsePortSpec(item, ctx.where);
    const o = item as Raw;
    const p: ComposePort = { target: Number(o.target), protocol: String(o.protocol ?? 'tcp').toLowerCase() as ComposePort['protocol'] };
    if (o.published !== undefined && o.published !== null) p.published = String(o.published);
    for (const k of ['host_ip', 'mode', 'name', 'app_protocol'] as const) if (o[k] !== undefined) p[k] = String(o[k]);
    p.mode ??= 'ingress';
    return [p];
  });

const isHostPath = (s: string) => s.startsWith('.') || s.startsWith('/') || s.startsWith('~') || /^[A-Za-z]:[\\/]/.test(s);

function hostPath(src: string, ctx: NormalizeContext): string {
  if (src.startsWith('~')) return path.join(process.env.HOME ?? '/', src.slice(1));
  return path.resolve(ctx.baseDir, src);
}

/** `[SOURCE:]TARGET[:MODE]` → a long-syntax mount. */
export function parseVolumeSpec(spec: string, ctx: NormalizeContext): ComposeMount {
  const parts = spec.split(':');
  // a Windows drive letter is not a separator
  if (parts.length > 1 && /^[A-Za-z]$/.test(parts[0]) && /^[\\/]/.test(parts[1] ?? '')) parts.splice(0, 2, `${parts[0]}:${parts[1]}`);
  if (parts.length === 1) return { type: 'volume', target: parts[0] };
  const [source, target, mode] = parts;
  const m: ComposeMount = isHostPath(source)
    ? { type: 'bind', source: hostPath(source, ctx), target, bind: { create_host_path: true } }
    : { type: 'volume', source, target, volume: {} };
  for (const opt of (mode ?? '').split(',').filter(Boolean)) {
    if (opt === 'ro') m.read_only = true;
    else if (opt === 'rw') m.read_only = false;
    else if (opt === 'nocopy' && m.type === 'volume') m.volume = { ...m.volume, nocopy: true };
    else if (['z', 'Z'].includes(opt) && m.bind) m.bind.selinux = opt;
    else if (m.bind && /^r?(shared|slave|private)$/.test(opt)) m.bind.propagation = opt;
  }
  if (m.type === 'volume' && m.volume && !Object.keys(m.volume).length) delete m.volume;
  return m;
}

const volumes: Normalizer = (v, ctx) =>
  asList(v).map((item) => {
    if (typeof item === 'string') return parseVolumeSpec(item, ctx);
    const o = { ...(item as ComposeMount) };
    if (o.type === 'bind' && o.source) o.source = hostPath(o.source, ctx);
    return o;
  });

const fileRefs: Normalizer = (v) =>
  asList(v).map((item): ComposeFileRef => (typeof item === 'string' ? { source: item } : { ...(item as ComposeFileRef) }));

const dependsOn: Normalizer = (v, ctx) => {
  if (Array.isArray(v)) return Object.fromEntries(v.map((s) => [String(s), { condition: 'service_started', required: true }]));
  const out: Record<string, ComposeDependency> = {};
  for (const [k, d] of Object.entries((v ?? {}) as Record<string, Partial<ComposeDependency> | null>)) {
    out[k] = { condition: 'service_started', required: true, ...(d ?? {}) } as ComposeDependency;
  }
  void ctx;
  return out;
};

const healthcheck: Normalizer = (v) => {
  const h = { ...(v as Raw) };
  if (typeof h.test === 'string') h.test = ['CMD-SHELL', h.test];
  for (const k of ['interval', 'timeout', 'start_period', 'start_interval']) if (typeof h[k] === 'number') h[k] = `${h[k]}s`;
  return h;
};

const networks: Normalizer = (v) =>
  Array.isArray(v) ? Object.fromEntries(v.map((n) => [String(n), null])) : ((v ?? {}) as Raw);

const build: Normalizer = (v, ctx) => {
  const b: Raw = typeof v === 'string' ? { context: v } : { context: '.', ...(v as Raw) };
  const context = String(b.context);
  // a git URL or remote context stays as written
  b.context = /^[a-z]+:\/\//.test(context) || context.startsWith('git@') ? context : hostPath(context, ctx);
  if (b.args) b.args = toMap(b.args, ctx, 'build.args');
  return b;
};

const envFiles: Normalizer = (v, ctx) =>
  asList(v).map((f) =>
    typeof f === 'string'
      ? { path: hostPath(f, ctx), required: true }
      : { required: true, ...(f as Raw), path: hostPath(String((f as Raw).path), ctx) },
  );

const stringList: Normalizer = (v) => asList(v).map(String);

const normalizers: Record<string, Normalizer> = {
  command: commandLike,
  entrypoint: commandLike,
  environment: (v, ctx) => toMap(v, ctx, 'environment'),
  labels: (v, ctx) => toMap(v, ctx, 'labels'),
  annotations: (v, ctx) => toMap(v, ctx, 'annotations'),
  ports,
  expose: stringList,
  volumes,
  secrets: fileRefs,
  configs: fileRefs,
  depends_on: dependsOn,
  healthcheck,
  networks,
  build,
  env_file: envFiles,
  tmpfs: stringList,
  dns: stringList,
  dns_search: stringList,
  cap_add: stringList,
  cap_drop: stringList,
  profiles: stringList,
  extra_hosts: (v, ctx) => (Array.isArray(v) ? v.map(String) : Object.entries(toMap(v, ctx, 'extra_hosts')).map(([h, ip]) => `${h}:${ip}`)),
  deploy: (v, ctx) => {
    const d = { ...(v as Raw) };
    if (d.labels) d.labels = toMap(d.labels, ctx, 'deploy.labels');
    return d;
  },
};

/** Normalises one raw service mapping (already interpolated). Unknown fields pass through. */
export function normalizeService(raw: Raw, ctx: NormalizeContext): Raw {
  const out: Raw = {};
  for (const [k, v] of Object.entries(raw)) out[k] = normalizers[k] ? normalizers[k](v, { ...ctx, where: `${ctx.where}.${k}` }) : v;
  return out;
}

/** Fills the fields every normalised service has, so converters need no `?? []`. */
export function completeService(s: Raw): ComposeService {
  return {
    environment: {},
    labels: {},
    ports: [],
    expose: [],
    volumes: [],
    secrets: [],
    configs: [],
    depends_on: {},
    ...s,
  } as ComposeService;
}
