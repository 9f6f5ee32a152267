import type { CommandSpec } from './types';

export const browser: CommandSpec = {
  name: 'browser',
  args: [],
  summary: 'Test from your own network in your browser (any homeserver): I send you a one-time link in a direct chat.',
  permission: 'anyone',
  run: (ctx) => ctx.services.requestRun(ctx, { browser: true }),
};
