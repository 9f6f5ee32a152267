// Argument parsing, derived from each command's ArgSpec list.
import { isValidCron, isValidTimezone } from '../config';
import { showInput } from './input-text';
import type { ArgSpec, Args, ArgValue } from './types';

/** Split on whitespace; "double quotes" group words. */
export function tokenize(s: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) out.push(m[1] ?? m[2]!);
  return out;
}

export class ArgError extends Error {}

const CRON_FIELD = /^[\d*/,\-?LW#A-Za-z]+$/;
const HHMM = /^([01]?\d|2[0-3]):([0-5]\d)$/;
const ROOM = /^[!#][^:\s]+:\S+$/;

/** Consume tokens for one argument; returns [value, tokens used]. */
function take(spec: ArgSpec, words: string[]): [ArgValue, number] {
  const w = words[0]!;
  switch (spec.kind) {
    case 'int':
    case 'runId': {
      if (!/^\d+$/.test(w)) throw new ArgError(`${spec.name} must be a number, got "${showInput(w, 40)}"`);
      const n = Number(w);
      if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) {
        throw new ArgError(`${spec.name} must be between ${spec.min ?? 0} and ${spec.max ?? '∞'}`);
      }
      return [n, 1];
    }
    case 'word':
      return [w, 1];
    case 'cron': {
      // "08:30" shorthand, a quoted expression, or 5-6 bare fields.
      const hm = HHMM.exec(w);
      if (hm) return [`${Number(hm[2])} ${Number(hm[1])} * * *`, 1];
      let n = 1;
      let expr = w;
      if (!w.includes(' ')) {
        n = 0;
        while (n < words.length && n < 6 && CRON_FIELD.test(words[n]!) && !(n >= 5 && isValidTimezone(words[n]!) && words[n]!.includes('/'))) n++;
        if (n === 6 && !isValidCron(words.slice(0, 6).join(' '))) n = 5;
        expr = words.slice(0, n).join(' ');
      }
      // Name what was typed (all of it when no word looked like a cron field).
      if (!isValidCron(expr)) throw new ArgError(`"${showInput(n === 0 ? words.join(' ') : expr)}" is not a valid cron expression (e.g. "0 8 * * *", or 08:00)`);
      return [expr, n];
    }
    case 'timezone':
      if (!isValidTimezone(w)) throw new ArgError(`"${showInput(w)}" is not a known time zone (e.g. Europe/Berlin, UTC)`);
      return [w, 1];
    case 'rooms': {
      const bad = words.find((x) => !ROOM.test(x) && x !== 'here' && x !== 'clear');
      if (bad) throw new ArgError(`"${showInput(bad)}" is not a room id (!abc:server), an alias (#room:server), "here" or "clear"`);
      return [words.slice(), words.length];
    }
  }
}

export function parseArgs(specs: ArgSpec[], words: string[]): Args {
  const args: Args = {};
  let i = 0;
  for (const spec of specs) {
    if (i >= words.length) {
      if (!spec.optional) throw new ArgError(`missing ${spec.name}`);
      continue;
    }
    const [value, used] = take(spec, words.slice(i));
    args[spec.name] = value;
    i += used;
  }
  if (i < words.length) throw new ArgError(`unexpected "${showInput(words.slice(i).join(' '))}"`);
  return args;
}

/** "<n>" / "[tz]" usage, from the table. */
export function usage(specs: ArgSpec[]): string {
  return specs.map((s) => {
    const n = s.kind === 'rooms' ? `${s.name}...` : s.name;
    return s.optional ? `[${n}]` : `<${n}>`;
  }).join(' ');
}
