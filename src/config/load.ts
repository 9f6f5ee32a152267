// YAML + env -> validated BotConfig. Every problem is collected and reported
// with the key path that caused it ("schedule.cron: not a valid cron
// expression"); secret values never appear in an error.
import { readFileSync } from 'node:fs';
import { Cron } from 'croner';
import { parse as parseYaml } from 'yaml';
import { Secret } from '../tester/secret';
import { SCHEMA, isField, type BotConfig, type Field, type Section } from './schema';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

export interface LoadOptions {
  /** YAML file to read (absent: defaults + env only). */
  path?: string;
  /** YAML text (instead of path; tests). */
  text?: string;
  env?: NodeJS.ProcessEnv;
  /** Skip the "how does the bot log in" check (sample generation, tooling). */
  skipLoginCheck?: boolean;
}

type Raw = Record<string, unknown>;

function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function suggest(key: string, known: string[]): string {
  const lower = key.toLowerCase().replace(/[_-]/g, '');
  const hit = known.find((k) => k.toLowerCase() === lower);
  return hit ? ` (did you mean "${hit}"?)` : ` (known keys: ${known.join(', ')})`;
}

/** Env value of a field: VAR or VAR_FILE (file contents, trailing newline trimmed). */
function fromEnv(field: Field, env: NodeJS.ProcessEnv, path: string, problems: string[]): string | undefined {
  if (!field.env) return undefined;
  const direct = env[field.env];
  const file = env[`${field.env}_FILE`];
  if (direct !== undefined && direct !== '' && file) {
    problems.push(`${path}: both ${field.env} and ${field.env}_FILE are set; use one`);
    return undefined;
  }
  if (file) {
    try {
      return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (e) {
      problems.push(`${path}: cannot read ${field.env}_FILE (${(e as NodeJS.ErrnoException).code ?? 'error'}: ${file})`);
      return undefined;
    }
  }
  return direct === '' && !field.emptyEnv ? undefined : direct;
}

/** Env strings to the field's type: lists are comma-separated. */
function coerceEnv(field: Field, s: string): unknown {
  switch (field.t) {
    case 'int': return /^-?\d+$/.test(s.trim()) ? Number(s.trim()) : s;
    case 'bool': return s === 'true' ? true : s === 'false' ? false : s;
    case 'list': return s.split(',').map((x) => x.trim()).filter(Boolean);
    default: return s;
  }
}

function validateField(field: Field, v: unknown, path: string, problems: string[]): unknown {
  const bad = (msg: string) => { problems.push(`${path}: ${msg}`); return field.default; };
  if (v === undefined) return field.t === 'list' ? [...field.default] : field.default;
  if (v === null) {
    if (field.default === null) return null;
    return bad('must not be empty');
  }
  switch (field.t) {
    case 'secret':
      if (typeof v !== 'string') return bad('must be a string');
      return v === '' ? null : new Secret(v);
    case 'string':
    case 'optString':
      if (typeof v !== 'string') return bad(`must be a string, got ${show(v)}`);
      if (field.pattern && !field.pattern.test(v)) return bad(`${show(v)} is not ${field.patternHint ?? 'valid'}`);
      return v;
    case 'url':
    case 'optUrl': {
      if (typeof v !== 'string') return bad(`must be a URL string, got ${show(v)}`);
      let u: URL;
      try { u = new URL(v); } catch { return bad(`${show(v)} is not a URL`); }
      if (u.protocol !== 'http:' && u.protocol !== 'https:') return bad(`${show(v)} must be http(s)`);
      return v.replace(/\/+$/, '');
    }
    case 'int':
      if (typeof v !== 'number' || !Number.isInteger(v)) return bad(`must be an integer, got ${show(v)}`);
      if (v < field.min || v > field.max) return bad(`${v} is out of range ${field.min}..${field.max}`);
      return v;
    case 'bool':
      if (typeof v !== 'boolean') return bad(`must be true or false, got ${show(v)}`);
      return v;
    case 'enum':
      if (typeof v !== 'string' || !field.values.includes(v)) return bad(`${show(v)} is not one of ${field.values.join(', ')}`);
      return v;
    case 'list': {
      if (!Array.isArray(v)) return bad(`must be a list, got ${show(v)}`);
      const out: string[] = [];
      v.forEach((item, i) => {
        if (typeof item !== 'string') problems.push(`${path}[${i}]: must be a string, got ${show(item)}`);
        else if (field.item && !field.item.test(item)) problems.push(`${path}[${i}]: ${show(item)} is not ${field.itemHint ?? 'valid'}`);
        else out.push(item);
      });
      return out;
    }
    case 'cron':
      if (typeof v !== 'string') return bad(`must be a cron string, got ${show(v)}`);
      return isValidCron(v) ? v : bad(`${show(v)} is not a valid cron expression`);
    case 'timezone':
      if (typeof v !== 'string') return bad(`must be a time zone name, got ${show(v)}`);
      return isValidTimezone(v) ? v : bad(`${show(v)} is not a known IANA time zone`);
  }
}

/** 127.0.0.0/8, ::1 or localhost: only this machine can reach it (lab, tests, demo). */
export function isLoopbackListen(listen: string): boolean {
  const host = listen.slice(0, listen.lastIndexOf(':')).replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export function isValidCron(expr: string): boolean {
  try {
    new Cron(expr, { paused: true }).stop();
    return true;
  } catch {
    return false;
  }
}

export function isValidTimezone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

function walk(section: Section, raw: unknown, prefix: string, env: NodeJS.ProcessEnv, problems: string[]): Raw {
  const out: Raw = {};
  let obj: Raw = {};
  if (raw !== undefined && raw !== null) {
    if (typeof raw !== 'object' || Array.isArray(raw)) problems.push(`${prefix || '(top level)'}: must be a mapping, got ${show(raw)}`);
    else obj = raw as Raw;
  }
  const known = Object.keys(section);
  for (const key of Object.keys(obj)) {
    if (!known.includes(key)) problems.push(`${prefix}${key}: unknown key${suggest(key, known)}`);
  }
  for (const key of known) {
    const node = section[key]!;
    const path = `${prefix}${key}`;
    if (isField(node)) {
      const envValue = fromEnv(node, env, path, problems);
      const value = envValue !== undefined ? coerceEnv(node, envValue) : obj[key];
      out[key] = validateField(node, value, path, problems);
    } else {
      out[key] = walk(node, obj[key], `${path}.`, env, problems);
    }
  }
  return out;
}

/** Rules that span several keys. */
function crossCheck(c: BotConfig, opts: LoadOptions, problems: string[]): void {
  const hs = c.homeserver;
  if (!opts.skipLoginCheck && !hs.accessToken && !(hs.userId && hs.password)) {
    problems.push('homeserver.accessToken: missing; set MXV_ACCESS_TOKEN (or _FILE), or homeserver.userId with MXV_PASSWORD');
  }
  if (hs.password && !hs.userId && !hs.accessToken) problems.push('homeserver.userId: required for password login');
  if (c.turn.sharedSecret && c.turn.uris.length === 0) problems.push('turn.uris: required when turn.sharedSecret is set');
  for (const [key, listen] of [['web.listen', c.web.listen], ['ops.listen', c.ops.listen]] as const) {
    if (listen && Number(listen.slice(listen.lastIndexOf(':') + 1)) > 65535) problems.push(`${key}: port of ${show(listen)} is above 65535`);
  }
  if (c.web.enabled && !c.web.publicBaseUrl && !isLoopbackListen(c.web.listen)) {
    problems.push('web.publicBaseUrl: required when web.enabled is true and web.listen is not a loopback address (links must point at your public URL)');
  }
}

/** Load, override from env, validate. Throws ConfigError listing every problem. */
export function loadConfig(opts: LoadOptions = {}): BotConfig {
  const problems: string[] = [];
  let raw: unknown = {};
  let text = opts.text;
  if (opts.path !== undefined) {
    try {
      text = readFileSync(opts.path, 'utf8');
    } catch (e) {
      throw new ConfigError([`${opts.path}: cannot read config file (${(e as NodeJS.ErrnoException).code ?? 'error'})`]);
    }
  }
  if (text !== undefined) {
    try {
      raw = parseYaml(text) ?? {};
    } catch (e) {
      // The YAML parser quotes the offending line; that line may hold a secret.
      const m = /at line (\d+), column (\d+)/.exec((e as Error).message);
      throw new ConfigError([`${opts.path ?? 'config'}: not valid YAML${m ? ` (line ${m[1]}, column ${m[2]})` : ''}`]);
    }
  }
  const config = walk(SCHEMA, raw, '', opts.env ?? process.env, problems) as unknown as BotConfig;
  if (problems.length === 0) crossCheck(config, opts, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** The typed defaults (no file, no env). */
export function defaultConfig(): BotConfig {
  return walk(SCHEMA, {}, '', {}, []) as unknown as BotConfig;
}
