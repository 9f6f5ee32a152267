import { htmlEscape } from './format';
import { usage } from './args';
import type { CommandSpec } from './types';

/** Built from the command table, so help never disagrees with parsing. */
export function helpText(table: readonly CommandSpec[], prefix: string, isAdmin: boolean): { text: string; html: string } {
  const rows = table
    .filter((s) => s.permission === 'anyone' || isAdmin)
    .map((s) => ({ cmd: [prefix, s.name, usage(s.args)].filter(Boolean).join(' '), summary: s.summary + (s.permission === 'admin' ? ' (admins)' : '') }));
  const intro = 'mx-voiptest checks STUN/TURN (what Matrix calls use) and explains what is broken.';
  return {
    text: [intro, '', ...rows.map((r) => `${r.cmd} — ${r.summary}`), '', 'Mentioning me works too: "@me voiptest history".'].join('\n'),
    html: `<p>${htmlEscape(intro)}</p><ul>${rows.map((r) => `<li><code>${htmlEscape(r.cmd)}</code> — ${htmlEscape(r.summary)}</li>`).join('')}</ul><p>Mentioning me works too.</p>`,
  };
}

export function helpCommand(table: () => readonly CommandSpec[]): CommandSpec {
  return {
    name: 'help',
    args: [],
    summary: 'Show these commands.',
    permission: 'anyone',
    run: (ctx) => ctx.reply(helpText(table(), ctx.services.config.commandPrefix, ctx.isAdmin)),
  };
}
