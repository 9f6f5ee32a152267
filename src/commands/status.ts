import { htmlEscape, formatDuration, formatTime } from './format';
import type { CommandSpec } from './types';

export const status: CommandSpec = {
  name: 'status',
  args: [],
  summary: 'Bot version, uptime, last and next scheduled run.',
  permission: 'anyone',
  async run(ctx) {
    const s = ctx.services;
    const sched = s.schedule.info();
    const lines = [
      `mx-voiptest ${s.version}, up ${formatDuration(s.now().getTime() - s.startedAt.getTime())}`,
      `Runs in progress: ${s.activeRuns()} of ${s.config.limits.maxConcurrentRuns}`,
      `Last scheduled run: ${sched.lastRun ? `${formatTime(sched.lastRun.startedAt)} (${sched.lastRun.grades?.overall ?? 'no report'})` : 'none yet'}`,
      `Next scheduled run: ${!sched.enabled ? 'schedule disabled' : sched.rooms.length === 0 ? 'no rooms configured' : sched.nextRun ? formatTime(sched.nextRun) : 'none'}`,
      `Browser helper (${s.config.commandPrefix} browser): ${s.config.web.enabled ? `on, links valid ${Math.round(s.config.web.linkTtl / 60)} min` : 'off'}`,
      `History: ${s.history ? (s.history.pendingCount ? `${s.history.pendingCount} run(s) waiting to be saved` : 'ok') : `unavailable (${s.historyProblem ?? 'not open'})`}`,
    ];
    return ctx.reply({ text: lines.join('\n'), html: `<ul>${lines.map((l) => `<li>${htmlEscape(l)}</li>`).join('')}</ul>` });
  },
};
