import { randomInt } from 'node:crypto';
import { FatchartError } from '../../errors.js';
import type { KubeObject } from '../../model/object.js';
import type { Loss } from '../../model/loss.js';

/**
 * `oc process` for an OpenShift Template: `${NAME}` is replaced inside strings, `${{NAME}}`
 * (a whole string) by the parameter's JSON value, parameters with `generate: expression` get a
 * random value drawn from their `from` pattern. Generated values are reported (not printed).
 */
export interface TemplateParameter {
  name: string;
  value?: string;
  required?: boolean;
  generate?: string;
  from?: string;
  description?: string;
}

export interface ProcessedTemplate {
  objects: KubeObject[];
  values: Record<string, string>;
  losses: Loss[];
}

export function processTemplate(template: KubeObject, params: Record<string, string> = {}, random: (n: number) => number = randomInt): ProcessedTemplate {
  const subject = `Template/${template.metadata.name}`;
  const declared = (template.parameters as TemplateParameter[] | undefined) ?? [];
  const known = new Set(declared.map((p) => p.name));
  for (const name of Object.keys(params)) {
    if (!known.has(name)) throw new FatchartError('usage', `--param ${name}: the template has no such parameter`, { subject });
  }
  const values: Record<string, string> = {};
  const losses: Loss[] = [];
  for (const p of declared) {
    if (params[p.name] !== undefined) values[p.name] = params[p.name];
    else if (p.value !== undefined && p.value !== '') values[p.name] = p.value;
    else if (p.generate === 'expression' && p.from) {
      values[p.name] = generate(p.from, random);
      losses.push({ severity: 'needs-action', subject, field: `parameters.${p.name}`, message: `value generated from ${p.from}`, fix: `read it from the generated objects, or pass --param ${p.name}=VALUE` });
    } else if (p.required) throw new FatchartError('usage', `parameter ${p.name} is required: pass --param ${p.name}=VALUE`, { subject });
    else values[p.name] = '';
  }
  const objects = ((template.objects as KubeObject[] | undefined) ?? []).map((o) => substitute(o, values) as KubeObject);
  const labels = template.labels as Record<string, string> | undefined;
  if (labels) for (const o of objects) o.metadata.labels = { ...labels, ...(o.metadata.labels ?? {}) };
  return { objects, values, losses };
}

function substitute(node: unknown, values: Record<string, string>): unknown {
  if (typeof node === 'string') {
    const whole = /^\$\{\{([A-Za-z0-9_]+)\}\}$/.exec(node);
    if (whole && whole[1] in values) {
      try {
        return JSON.parse(values[whole[1]]);
      } catch {
        return values[whole[1]];
      }
    }
    return node.replace(/\$\{([A-Za-z0-9_]+)\}/g, (m, name: string) => (name in values ? values[name] : m));
  }
  if (Array.isArray(node)) return node.map((v) => substitute(v, values));
  if (node && typeof node === 'object') return Object.fromEntries(Object.entries(node).map(([k, v]) => [substitute(k, values) as string, substitute(v, values)]));
  return node;
}

const classes: Record<string, string> = {
  '\\w': 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_',
  '\\d': '0123456789',
  '\\a': 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ',
  '\\A': '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~',
};

/** The expression language of OpenShift's template generator: literals, `[set]{n}`, `\w{n}`. */
export function generate(expr: string, random: (n: number) => number = randomInt): string {
  let out = '';
  let i = 0;
  while (i < expr.length) {
    let set: string;
    if (expr[i] === '[') {
      const end = expr.indexOf(']', i);
      if (end < 0) throw new FatchartError('usage', `bad generator expression ${expr}`);
      set = expandSet(expr.slice(i + 1, end));
      i = end + 1;
    } else if (expr[i] === '\\' && classes[expr.slice(i, i + 2)]) {
      set = classes[expr.slice(i, i + 2)];
      i += 2;
    } else {
      out += expr[i++];
      continue;
    }
    let count = 1;
    const m = /^\{(\d+)\}/.exec(expr.slice(i));
    if (m) {
      count = Number(m[1]);
      i += m[0].length;
    }
    for (let k = 0; k < count; k++) out += set[random(set.length)];
  }
  return out;
}

function expandSet(body: string): string {
  let out = '';
  for (let i = 0; i < body.length; i++) {
    if (body[i] === '\\' && classes[body.slice(i, i + 2)]) {
      out += classes[body.slice(i, i + 2)];
      i++;
    } else if (body[i + 1] === '-' && i + 2 < body.length) {
      for (let c = body.charCodeAt(i); c <= body.charCodeAt(i + 2); c++) out += String.fromCharCode(c);
      i += 2;
    } else out += body[i];
  }
  return out;
}
