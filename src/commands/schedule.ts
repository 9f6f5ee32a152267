import { htmlEscape, formatTime } from './format';
import type { CommandContext, CommandSpec, ScheduleInfo } from './types';

function describe(s: ScheduleInfo): string {
  if (!s.enabled) return 'The scheduled report is disabled in the config (schedule.enabled).';
  const rooms = s.rooms.length ? s.rooms.join(', ') : 'no rooms (set schedule rooms or adminRooms)';
  return `Scheduled report: "${s.cron}" (${s.timezone}), to ${rooms}. Next: ${s.nextRun ? formatTime(s.nextRun) : 'none'}.`;
}

async function answer(ctx: CommandContext, f: () => ScheduleInfo, prefix = ''): Promise<void> {
  let info: ScheduleInfo;
  try {
    info = f();
  } catch (e) {
    return ctx.reply({ text: `Schedule not changed: ${(e as Error).message}` });
  }
  const t = prefix + describe(info);
  return ctx.reply({ text: t, html: `<p>${htmlEscape(t)}</p>` });
}

export const scheduleShow: CommandSpec = {
  name: 'schedule',
  args: [],
  summary: 'Show when the scheduled report runs and where it goes.',
  permission: 'anyone',
  run: (ctx) => answer(ctx, () => ctx.services.schedule.info()),
};

export const scheduleSet: CommandSpec = {
  name: 'schedule set',
  args: [
    { name: 'cron', kind: 'cron', help: 'cron expression ("0 8 * * *") or HH:MM' },
    { name: 'tz', kind: 'timezone', optional: true, help: 'IANA time zone (default: unchanged)' },
  ],
  summary: 'Set the time of the scheduled report.',
  permission: 'admin',
  run: (ctx, args) => answer(ctx, () => ctx.services.schedule.set(args.cron as string, (args.tz as string | undefined) ?? ctx.services.schedule.info().timezone), 'Saved. '),
};

export const scheduleRooms: CommandSpec = {
  name: 'schedule rooms',
  args: [{ name: 'rooms', kind: 'rooms', help: 'room ids/aliases, "here", or "clear"' }],
  summary: 'Set the rooms that get the scheduled report ("here" = this room, "clear" = back to adminRooms).',
  permission: 'admin',
  run: (ctx, args) => {
    const words = args.rooms as string[];
    const rooms = words.includes('clear') ? [] : [...new Set(words.map((w) => (w === 'here' ? ctx.roomId : w)))];
    return answer(ctx, () => ctx.services.schedule.setRooms(rooms), 'Saved. ');
  },
};
