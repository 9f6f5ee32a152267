import { htmlEscape, runLine } from './format';
import type { CommandSpec } from './types';

export const history: CommandSpec = {
  name: 'history',
  args: [{ name: 'n', kind: 'int', optional: true, min: 1, max: 50, help: 'how many runs (default 5)' }],
  summary: 'Show the last runs (of this room; of every room in an admin room) with the grade trend.',
  permission: 'anyone',
  async run(ctx, args) {
    const { history: store, historyProblem, config } = ctx.services;
    if (!store) return ctx.reply({ text: `History is not available: ${historyProblem ?? 'the database is not open'}.` });
    const n = (args.n as number | undefined) ?? 5;
    const rows = store.recentRuns({ limit: n, roomId: ctx.inAdminRoom ? undefined : ctx.roomId });
    if (rows.length === 0) return ctx.reply({ text: `No runs yet${ctx.inAdminRoom ? '' : ' in this room'}. Start one with ${config.commandPrefix}.` });
    // Trend: each run against the previous run of the same target (any room).
    const lines = rows.map((r) => runLine(r, store.previousRun(r.targetKey, r.id) ?? undefined));
    const title = `Last ${rows.length} run${rows.length === 1 ? '' : 's'} (newest first; ${config.commandPrefix} json <id> sends a run's JSON report):`;
    return ctx.reply({
      text: [title, ...lines].join('\n'),
      html: `<p>${htmlEscape(title)}</p><ul>${lines.map((l) => `<li>${htmlEscape(l)}</li>`).join('')}</ul>`,
    });
  },
};

export const json: CommandSpec = {
  name: 'json',
  args: [{ name: 'id', kind: 'runId', optional: true, min: 1, help: 'run id from history (default: the latest here)' }],
  summary: "Send a run's full JSON report as a file.",
  permission: 'anyone',
  async run(ctx, args) {
    const store = ctx.services.history;
    if (!store) return ctx.reply({ text: `History is not available: ${ctx.services.historyProblem ?? 'the database is not open'}.` });
    let id = args.id as number | undefined;
    if (id === undefined) {
      const latest = store.recentRuns({ limit: 1, roomId: ctx.inAdminRoom ? undefined : ctx.roomId })[0];
      if (!latest) return ctx.reply({ text: 'No runs yet in this room.' });
      id = latest.id;
    }
    const run = store.getRun(id);
    // Reports of other rooms stay there (they name the requester's servers), except in admin rooms.
    if (!run || (run.roomId !== ctx.roomId && !ctx.inAdminRoom && !ctx.isAdmin)) return ctx.reply({ text: `No run #${id} in this room.` });
    if (!store.reportJson(id)) return ctx.reply({ text: `Run #${id} has no report: ${run.error ?? 'unknown error'}.` });
    return ctx.services.sendJson(ctx, id);
  },
};
