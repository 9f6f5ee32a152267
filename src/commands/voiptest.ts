import type { CommandSpec } from './types';

export const voiptest: CommandSpec = {
  name: '',
  aliases: ['run'],
  args: [],
  summary: "Test this homeserver's STUN/TURN setup now and post the report here.",
  permission: 'anyone',
  run: (ctx) => ctx.services.requestRun(ctx),
};
