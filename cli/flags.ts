// Flag parsing shared by the subcommands: node:util parseArgs, with every flag
// also read from MESHLET_<FLAG_NAME> (a sidecar container is configured by env).
import { parseArgs } from 'node:util';
import { closestName } from '../proxy/config/validate/did-you-mean.js';

/** A bad flag or flag value: printed as one line, without a stack trace, exit code 2. */
export class FlagError extends Error {}
import { parseDuration } from '../proxy/config/istio/duration.js';

export interface FlagSpec {
  readonly type: 'string' | 'boolean';
  readonly default?: string | boolean;
  readonly help: string;
}

export type Flags<S extends Record<string, FlagSpec>> = { [K in keyof S]: S[K]['type'] extends 'boolean' ? boolean : string | undefined };

export function envName(flag: string): string {
  return 'MESHLET_' + flag.toUpperCase().replace(/-/g, '_');
}

export function parseFlags<S extends Record<string, FlagSpec>>(argv: string[], spec: S, env: NodeJS.ProcessEnv = process.env): { flags: Flags<S>; positionals: string[] } {
  const options: Record<string, { type: 'string' | 'boolean' }> = {};
  for (const k in spec) options[k] = { type: spec[k]!.type };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new FlagError(explainParseError(err as Error & { code?: string }, Object.keys(spec)));
  }
  const { values, positionals } = parsed;
  const flags: Record<string, string | boolean | undefined> = {};
  for (const k in spec) {
    const s = spec[k]!;
    const fromEnv = env[envName(k)];
    let v = values[k] as string | boolean | undefined;
    if (v === undefined && fromEnv !== undefined) v = s.type === 'boolean' ? fromEnv === 'true' || fromEnv === '1' : fromEnv;
    if (v === undefined) v = s.default;
    flags[k] = v;
  }
  return { flags: flags as Flags<S>, positionals };
}

/** node:util's message, plus the closest known flag for an unknown one. */
function explainParseError(err: Error & { code?: string }, known: readonly string[]): string {
  if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const m = /'(-{1,2})([^'=]+)/.exec(err.message);
    const name = m?.[2] ?? '';
    const close = closestName(name, known);
    return `unknown flag ${m?.[1] ?? '--'}${name}${close !== undefined ? ` (did you mean \`--${close}\`?)` : ''}`;
  }
  // The other parseArgs codes (missing value, unexpected positional) already read well; drop Node's hints.
  return err.message.split('\n')[0] ?? err.message;
}

/** parseFlags for a command's run(): a bad flag prints the reason and the help, and yields undefined (exit 2). */
export function parseOrUsage<S extends Record<string, FlagSpec>>(argv: string[], spec: S, help: string): { flags: Flags<S>; positionals: string[] } | undefined {
  try {
    return parseFlags(argv, spec);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${help}`);
    return undefined;
  }
}

/** An integer flag whose value may also be `off` (→ -1). */
export function portOrOff(name: string, v: string | undefined): number {
  return v === 'off' || v === '-1' ? -1 : intFlag(name, v);
}

export function flagsHelp(usage: string, spec: Record<string, FlagSpec>): string {
  const rows = Object.entries(spec).map(([k, s]) => {
    const left = `  --${k}${s.type === 'string' ? ' VALUE' : ''}`;
    const def = s.default !== undefined && s.default !== '' ? ` (default: ${String(s.default)})` : '';
    return `${left.length >= 34 ? `${left} ` : left.padEnd(34)}${s.help}${def}  [${envName(k)}]`;
  });
  return `${usage}\n\nFlags:\n${rows.join('\n')}\n`;
}

export function intFlag(name: string, v: string | undefined): number {
  const n = Number(v);
  if (v === undefined || v.trim() === '' || !Number.isInteger(n)) throw new FlagError(`--${name} must be an integer, got "${v ?? ''}"`);
  return n;
}

/** `app=reviews,version=v1` → { app: 'reviews', version: 'v1' } */
export function parseLabels(s: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (s === undefined || s === '') return out;
  for (const part of s.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new FlagError(`--labels: expected k=v,... got "${part}"`);
    out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}

/** A duration flag in Istio/Go form (`10s`, `300ms`, `1m30s`; `0` = off) → milliseconds. */
export function durationFlag(name: string, v: string | undefined): number {
  const ms = v === undefined ? undefined : parseDuration(v.trim());
  if (ms === undefined) throw new FlagError(`--${name} must be a duration like 10s, 300ms or 1m (0 = off), got "${v ?? ''}"`);
  return ms;
}

/** A non-negative number of seconds (fractions allowed: 0.5) → milliseconds. */
export function secondsFlag(name: string, v: string | undefined): number {
  const n = Number(v);
  if (v === undefined || v.trim() === '' || !Number.isFinite(n) || n < 0) throw new FlagError(`--${name} must be a number of seconds ≥ 0, got "${v ?? ''}"`);
  return Math.round(n * 1000);
}
