// The command table: every command described once. Help text and parsing are
// derived from it; the runtime dispatches through dispatch().
import { browser } from './browser';
import { helpCommand } from './help';
import { history, json } from './history';
import { addressedWords, resolveCommand, type Addressing, type MessageContent } from './parse';
import { scheduleRooms, scheduleSet, scheduleShow } from './schedule';
import { status } from './status';
import type { CommandContext, CommandSpec } from './types';
import { voiptest } from './voiptest';
import { xmpp } from './xmpp';

export const COMMANDS: readonly CommandSpec[] = [
  voiptest,
  helpCommand(() => COMMANDS),
  browser,
  history,
  json,
  status,
  scheduleShow,
  scheduleSet,
  scheduleRooms,
  xmpp,
];

export type Dispatch =
  | { kind: 'ignored' }
  | { kind: 'error'; message: string }
  | { kind: 'denied'; message: string }
  | { kind: 'command'; spec: CommandSpec; args: Record<string, unknown> };

/** Pure: decide what a message asks for (the runtime then runs it). */
export function interpret(content: MessageContent, a: Addressing, isAdmin: boolean, table: readonly CommandSpec[] = COMMANDS): Dispatch {
  const words = addressedWords(content, a);
  if (words === null) return { kind: 'ignored' };
  const r = resolveCommand(words, table, a.prefix);
  if (!r.ok) return { kind: 'error', message: r.error };
  if (r.spec.permission === 'admin' && !isAdmin) {
    return { kind: 'denied', message: `Only the bot's admins may use "${a.prefix} ${r.spec.name}".` };
  }
  return { kind: 'command', spec: r.spec, args: r.args };
}

export async function runCommand(d: Extract<Dispatch, { kind: 'command' }>, ctx: CommandContext): Promise<void> {
  await d.spec.run(ctx, d.args as never);
}

export { helpText } from './help';
export { addressedWords, resolveCommand } from './parse';
export { tokenize, parseArgs } from './args';
export type * from './types';
