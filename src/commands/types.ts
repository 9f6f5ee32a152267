// What a command is (described once: name, arguments, help, permission) and
// what it may use. The runtime in src/bot/ provides the services; commands
// never touch the Matrix client directly, so they stay testable.
import type { BotConfig } from '../config';
import type { HistoryStore, RunRow } from '../store';

export type Permission = 'anyone' | 'admin';

export type ArgKind = 'int' | 'word' | 'cron' | 'timezone' | 'rooms' | 'runId';

export interface ArgSpec {
  name: string;
  kind: ArgKind;
  optional?: boolean;
  help: string;
  min?: number;
  max?: number;
}

export type ArgValue = number | string | string[] | undefined;
export type Args = Record<string, ArgValue>;

export interface Reply {
  /** Plain text for people (the event body). */
  text: string;
  /** Matrix-safe HTML (formatted_body); absent for plain notices. */
  html?: string;
}

export interface ScheduleInfo {
  enabled: boolean;
  cron: string;
  timezone: string;
  rooms: string[];
  nextRun: Date | null;
  lastRun: RunRow | null;
}

export interface CommandServices {
  config: BotConfig;
  version: string;
  startedAt: Date;
  now(): Date;
  /** Null when the database could not be opened (the bot still answers). */
  history: HistoryStore | null;
  historyProblem: string | null;
  schedule: {
    info(): ScheduleInfo;
    /** Throws Error with a message for the admin when invalid or not saved. */
    set(cron: string, timezone: string): ScheduleInfo;
    setRooms(rooms: string[]): ScheduleInfo;
  };
  /**
   * Start a run for this request (cooldowns, reactions, report: the runtime's
   * job). browser: send the requester a browser helper link instead.
   */
  requestRun(ctx: CommandContext, opts?: { browser?: boolean; xmpp?: boolean }): Promise<void>;
  /** Upload a run's JSON report to the room as an m.file. */
  sendJson(ctx: CommandContext, runId: number): Promise<void>;
  activeRuns(): number;
}

export interface CommandContext {
  roomId: string;
  eventId: string;
  sender: string;
  isAdmin: boolean;
  /** True when the room is one of the admin rooms (history shows every room's runs there). */
  inAdminRoom: boolean;
  reply(r: Reply): Promise<void>;
  services: CommandServices;
}

export interface CommandSpec {
  /** Words after the prefix ("" for the bare prefix, "schedule set"). */
  name: string;
  aliases?: string[];
  args: ArgSpec[];
  summary: string;
  permission: Permission;
  run(ctx: CommandContext, args: Args): Promise<void>;
}
