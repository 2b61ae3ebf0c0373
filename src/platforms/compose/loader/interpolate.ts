import { FatchartError } from '../../../errors.js';

/**
 * Compose variable interpolation: `$$` (a literal `$`), `$VAR`, `${VAR}`, `${VAR:-default}`,
 * `${VAR-default}`, `${VAR:?error}`, `${VAR?error}`, `${VAR:+alt}`, `${VAR+alt}`. Defaults and
 * alternatives are themselves interpolated (nesting). Unset variables without a default become
 * the empty string and are reported through `onMissing`, like Compose's warning.
 */
export interface InterpolateOptions {
  vars: Record<string, string | undefined>;
  /** Where the value came from (`compose.yaml: services.web.image`), for error messages. */
  where?: string;
  onMissing?: (name: string, where: string) => void;
}

export function interpolate(text: string, opts: InterpolateOptions): string {
  const where = opts.where ?? 'value';
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c !== '$') {
      out += c;
      i++;
      continue;
    }
    const next = text[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
    } else if (next === '{') {
      const end = matchBrace(text, i + 2);
      if (end < 0) throw new FatchartError('usage', `unterminated \${ in ${JSON.stringify(text)}`, { subject: where });
      out += expandBraced(text.slice(i + 2, end), opts, where);
      i = end + 1;
    } else {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i + 1));
      if (!m) {
        out += '$';
        i++;
        continue;
      }
      out += lookup(m[0], opts, where);
      i += 1 + m[0].length;
    }
  }
  return out;
}

function matchBrace(text: string, from: number): number {
  let depth = 1;
  for (let i = from; i < text.length; i++) {
    if (text[i] === '$' && text[i + 1] === '{') {
      depth++;
      i++;
    } else if (text[i] === '}' && --depth === 0) return i;
  }
  return -1;
}

/** Operator table: how each `${NAME<op>word}` form picks its value. */
const operators: Array<{
  op: string;
  apply: (value: string | undefined, word: () => string, name: string, where: string) => string;
}> = [
  { op: ':-', apply: (v, w) => (v ? v : w()) },
  { op: '-', apply: (v, w) => (v !== undefined ? v : w()) },
  { op: ':+', apply: (v, w) => (v ? w() : '') },
  { op: '+', apply: (v, w) => (v !== undefined ? w() : '') },
  { op: ':?', apply: (v, w, n, where) => (v ? v : fail(n, w(), where)) },
  { op: '?', apply: (v, w, n, where) => (v !== undefined ? v : fail(n, w(), where)) },
];

function fail(name: string, message: string, where: string): never {
  throw new FatchartError('usage', `required variable ${name} is missing a value${message ? `: ${message}` : ''}`, {
    subject: where,
  });
}

function expandBraced(body: string, opts: InterpolateOptions, where: string): string {
  const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(body);
  if (!m) throw new FatchartError('usage', `invalid interpolation format \${${body}}`, { subject: where });
  const name = m[0];
  const rest = body.slice(name.length);
  if (!rest) return lookup(name, opts, where);
  for (const { op, apply } of operators) {
    if (rest.startsWith(op)) {
      return apply(opts.vars[name], () => interpolate(rest.slice(op.length), opts), name, where);
    }
  }
  throw new FatchartError('usage', `invalid interpolation format \${${body}}`, { subject: where });
}

function lookup(name: string, opts: InterpolateOptions, where: string): string {
  const v = opts.vars[name];
  if (v === undefined) {
    opts.onMissing?.(name, where);
    return '';
  }
  return v;
}

/** Interpolates every string (not keys) in a parsed YAML tree; `path` names fields in errors. */
export function interpolateTree(node: unknown, opts: InterpolateOptions, path = ''): unknown {
  if (typeof node === 'string') return interpolate(node, { ...opts, where: `${opts.where ?? ''}${path}` });
  if (Array.isArray(node)) return node.map((v, i) => interpolateTree(v, opts, `${path}[${i}]`));
  if (node && typeof node === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) out[k] = interpolateTree(v, opts, path ? `${path}.${k}` : k);
    return out;
  }
  return node;
}

/**
 * Compose types interpolated values by the field they land in: `replicas: ${N}` is a number,
 * `privileged: ${P}` a boolean. These are the fields (by key) whose value is cast when it came
 * out of interpolation; everything else stays a string, as in Compose.
 */
const numericFields = new Set(['replicas', 'scale', 'retries', 'cpu_shares', 'cpu_count', 'cpu_percent', 'cpu_period', 'cpu_quota', 'cpu_rt_period', 'cpu_rt_runtime', 'pids_limit', 'oom_score_adj', 'mem_swappiness', 'published', 'target', 'max_attempts', 'parallelism', 'max_replicas_per_node', 'uid', 'gid', 'mode', 'weight', 'cpus']);
const booleanFields = new Set(['privileged', 'read_only', 'tty', 'stdin_open', 'init', 'external', 'attachable', 'internal', 'enable_ipv6', 'nocopy', 'create_host_path', 'disable', 'oom_kill_disable', 'required', 'restart']);

export function castInterpolated(raw: unknown, value: unknown, key = ''): unknown {
  if (typeof raw === 'string' && typeof value === 'string' && raw.includes('$')) {
    if (numericFields.has(key) && /^-?\d+(\.\d+)?$/.test(value)) return Number(value);
    if (booleanFields.has(key) && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
    return value;
  }
  if (Array.isArray(value)) return value.map((v, i) => castInterpolated(Array.isArray(raw) ? raw[i] : undefined, v, key));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, castInterpolated((raw as Record<string, unknown> | undefined)?.[k], v, k)]));
  }
  return value;
}
