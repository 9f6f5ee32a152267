// What the logger does to every value before it is written, so a log line can
// never carry a password, shared secret or access token:
//  - fields whose key names a credential (password, secret, token, ...) are
//    replaced whole, at any depth;
//  - Secret instances render as "[redacted]";
//  - strings (messages, error texts, nested values) are scrubbed of token
//    shapes (syt_..., "password=...", Bearer ..., turn:user:pass@) and of any
//    raw secret value registered with registerSecretValue();
//  - Errors become {name, message} (scrubbed); no stacks, no custom props
//    (libraries put request bodies and headers there).
// Redaction never throws: cycles, getters that throw and huge values are cut.
import { Secret } from '../tester/secret';

export const REDACTED = '[redacted]';

/** Keys whose values are never logged, whatever their type. */
export const SENSITIVE_KEY = /(pass(word|wd|phrase)?|secret|token|authorization|auth|cookie|api_?key|private_?key)$/i;

const SCRUB: readonly [RegExp, string][] = [
  // Matrix access/refresh tokens (Synapse prefixes) and similar.
  [/\b(syt|syd|syr|mct|mat)_[A-Za-z0-9_\-.=]+/g, `$1_${REDACTED}`],
  // key=value / "key": "value" / key: value pairs naming credentials.
  [/((?:access_?token|refresh_?token|password|passwd|secret|token|authorization|api_?key)["']?\s*[:=]\s*["']?)(?:Bearer\s+)?[^"'&\s,;}]+/gi, `$1${REDACTED}`],
  [/\bBearer\s+[A-Za-z0-9._~+/\-=]+/g, `Bearer ${REDACTED}`],
  // user:pass@ inside ICE or HTTP URIs.
  [/\b((?:turns?|stun|https?):(?:\/\/)?)[^@\s/"']+:[^@\s/"']+@/gi, `$1${REDACTED}@`],
];

const MAX_STRING = 4000;
const MAX_DEPTH = 6;
const MAX_KEYS = 50;

/** Raw secret values to scrub wherever they appear (a library may echo one in an error). */
const knownValues = new Set<string>();

/**
 * Remember a secret's raw value so any string containing it is scrubbed.
 * Short values (< 6 chars) are ignored: scrubbing them would mangle ordinary text.
 */
export function registerSecretValue(s: Secret | string | null | undefined): void {
  const v = s instanceof Secret ? s.reveal() : s;
  if (typeof v === 'string' && v.length >= 6) knownValues.add(v);
}

/** For tests. */
export function clearSecretValues(): void {
  knownValues.clear();
}

export function scrubText(input: string): string {
  let s = input.length > MAX_STRING ? `${input.slice(0, MAX_STRING)}…` : input;
  for (const v of knownValues) if (s.includes(v)) s = s.split(v).join(REDACTED);
  for (const [re, rep] of SCRUB) s = s.replace(re, rep);
  return s;
}

export function isSensitiveKey(key: string): boolean {
  return SENSITIVE_KEY.test(key);
}

/** A JSON-safe, redacted copy of `value`. */
export function redactValue(value: unknown, depth = 0, seen: WeakSet<object> = new WeakSet()): unknown {
  if (value === null || value === undefined) return value ?? null;
  if (value instanceof Secret) return REDACTED;
  switch (typeof value) {
    case 'string':
      return scrubText(value);
    case 'number':
      return Number.isFinite(value) ? value : String(value);
    case 'boolean':
      return value;
    case 'bigint':
      return value.toString();
    case 'symbol':
    case 'function':
      return `[${typeof value}]`;
  }
  const obj = value as object;
  if (value instanceof Error) {
    const out: Record<string, unknown> = { name: value.name, message: scrubText(String(value.message)) };
    const code = (value as { code?: unknown }).code;
    if (typeof code === 'string' || typeof code === 'number') out.code = code;
    return out;
  }
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return `[${value.byteLength} bytes]`;
  if (seen.has(obj)) return '[circular]';
  if (depth >= MAX_DEPTH) return '[…]';
  seen.add(obj);
  try {
    if (Array.isArray(value)) {
      const arr = value.slice(0, MAX_KEYS).map((v) => redactValue(v, depth + 1, seen));
      if (value.length > MAX_KEYS) arr.push(`[+${value.length - MAX_KEYS}]`);
      return arr;
    }
    if (value instanceof Map) return redactFields(Object.fromEntries([...value.entries()].map(([k, v]) => [String(k), v])), depth + 1, seen);
    if (value instanceof Set) return redactValue([...value], depth + 1, seen);
    return redactFields(value as Record<string, unknown>, depth + 1, seen);
  } finally {
    seen.delete(obj);
  }
}

/** Redact an object's own enumerable fields (see the header for the rules). */
export function redactFields(fields: Record<string, unknown>, depth = 0, seen: WeakSet<object> = new WeakSet()): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  let keys: string[];
  try {
    keys = Object.keys(fields);
  } catch {
    return { error: '[unreadable]' };
  }
  for (const key of keys.slice(0, MAX_KEYS)) {
    const safeKey = scrubText(key);
    if (isSensitiveKey(key)) {
      out[safeKey] = REDACTED;
      continue;
    }
    let v: unknown;
    try {
      v = fields[key];
    } catch {
      v = '[unreadable]';
    }
    out[safeKey] = redactValue(v, depth, seen);
  }
  if (keys.length > MAX_KEYS) out['…'] = `+${keys.length - MAX_KEYS} keys`;
  return out;
}
