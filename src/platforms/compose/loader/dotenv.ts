import { FatchartError } from '../../../errors.js';

/**
 * Parses an env file the way Compose does: `KEY=VALUE`, optional `export `, `#` comments,
 * single quotes literal, double quotes with escapes (\n \t \\ \"), unquoted values trimmed with
 * trailing ` #comment` removed, and a bare `KEY` taking its value from `lookup`.
 * Values in double quotes and unquoted values are interpolated by the caller's `expand`.
 */
export function parseDotenv(
  text: string,
  origin: string,
  expand: (value: string, vars: Record<string, string>) => string = (v) => v,
  lookup: (key: string) => string | undefined = () => undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i].trim();
    if (!line || line.startsWith('#')) continue;
    if (line.startsWith('export ')) line = line.slice(7).trimStart();
    const eq = line.search(/[=]/);
    const key = (eq < 0 ? line : line.slice(0, eq)).trim();
    if (!/^[A-Za-z_.][\w.-]*$/.test(key)) {
      throw new FatchartError('usage', `line ${i + 1}: invalid variable name ${JSON.stringify(key)}`, { subject: origin });
    }
    if (eq < 0) {
      const v = lookup(key);
      if (v !== undefined) out[key] = v;
      continue;
    }
    let raw = line.slice(eq + 1).trimStart();
    const quote = raw[0];
    if (quote === '"' || quote === "'") {
      // quoted values may span lines until the closing quote
      let body = raw.slice(1);
      let end = findClose(body, quote);
      while (end < 0 && i + 1 < lines.length) {
        body += `\n${lines[++i]}`;
        end = findClose(body, quote);
      }
      if (end < 0) throw new FatchartError('usage', `line ${i + 1}: unterminated quote`, { subject: origin });
      body = body.slice(0, end);
      out[key] = quote === "'" ? body : expand(unescape(body), { ...out });
    } else {
      const hash = raw.search(/\s#/);
      if (hash >= 0) raw = raw.slice(0, hash);
      out[key] = expand(raw.trim(), { ...out });
    }
  }
  return out;
}

function findClose(s: string, quote: string): number {
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\' && quote === '"') i++;
    else if (s[i] === quote) return i;
  }
  return -1;
}

const escapes: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"'};

function unescape(s: string): string {
  return s.replace(/\\(.)/g, (m, c: string) => escapes[c] ?? m);
}
