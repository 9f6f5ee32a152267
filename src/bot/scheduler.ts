// The scheduled report: croner, time-zone aware. Admin changes (schedule set /
// rooms) are persisted in the store's settings and override the config.
import { Cron } from 'croner';
import { isValidCron, isValidTimezone, type BotConfig } from '../config';
import type { ScheduleInfo } from '../commands';
import type { HistoryStore } from '../store';

interface Saved { cron?: string; timezone?: string; rooms?: string[] }

export class Scheduler {
  private job: Cron | null = null;
  private saved: Saved = {};

  constructor(
    private readonly config: BotConfig,
    private readonly store: HistoryStore | null,
    private readonly onTick: () => Promise<void>,
    private readonly onError: (e: unknown) => void,
  ) {
    const s = store?.getSetting<Saved>('schedule');
    if (s) this.saved = s;
  }

  private get cron(): string {
    return this.saved.cron && isValidCron(this.saved.cron) ? this.saved.cron : this.config.schedule.cron;
  }

  private get timezone(): string {
    return this.saved.timezone && isValidTimezone(this.saved.timezone) ? this.saved.timezone : this.config.schedule.timezone;
  }

  rooms(): string[] {
    return this.saved.rooms ?? (this.config.schedule.rooms.length ? this.config.schedule.rooms : this.config.adminRooms);
  }

  /** Why the expression fires too often (null when it does not): its shortest gap over the next runs. */
  tooOften(cron: string, timezone: string): string | null {
    const min = this.config.schedule.minIntervalSeconds;
    const runs = new Cron(cron, { timezone, paused: true }).nextRuns(20);
    let gap = Infinity;
    for (let i = 1; i < runs.length; i++) gap = Math.min(gap, (runs[i]!.getTime() - runs[i - 1]!.getTime()) / 1000);
    if (gap >= min) return null;
    return `"${cron}" runs every ${gap} s at times; the scheduled report may run at most every ${min} s (schedule.minIntervalSeconds)`;
  }

  start(): void {
    this.job?.stop();
    this.job = null;
    if (!this.config.schedule.enabled) return;
    const often = this.tooOften(this.cron, this.timezone);
    if (often) {
      // A saved or configured schedule that fires too often is not run at all (and says why).
      this.onError(new Error(`scheduled report off: ${often}`));
      return;
    }
    // protect: a slow run never overlaps the next tick.
    this.job = new Cron(this.cron, { timezone: this.timezone, protect: true, catch: (e) => this.onError(e) }, async () => {
      try {
        await this.onTick();
      } catch (e) {
        this.onError(e);
      }
    });
  }

  stop(): void {
    this.job?.stop();
    this.job = null;
  }

  info(): ScheduleInfo {
    const lastRun = this.store?.recentRuns({ limit: 1, trigger: 'schedule' })[0] ?? null;
    return {
      enabled: this.config.schedule.enabled,
      cron: this.cron,
      timezone: this.timezone,
      rooms: this.rooms(),
      nextRun: this.job?.nextRun() ?? null,
      lastRun,
    };
  }

  private save(next: Saved): ScheduleInfo {
    if (!this.store) throw new Error('the history database is not available, so the schedule cannot be saved');
    this.store.setSetting('schedule', next); // throws StoreError with a sentence for the admin
    this.saved = next;
    this.start();
    return this.info();
  }

  set(cron: string, timezone: string): ScheduleInfo {
    if (!isValidCron(cron)) throw new Error(`"${cron}" is not a valid cron expression`);
    if (!isValidTimezone(timezone)) throw new Error(`"${timezone}" is not a known time zone`);
    const often = this.tooOften(cron, timezone);
    if (often) throw new Error(often);
    return this.save({ ...this.saved, cron, timezone });
  }

  setRooms(rooms: string[]): ScheduleInfo {
    const next: Saved = { ...this.saved };
    if (rooms.length) next.rooms = rooms;
    else delete next.rooms;
    return this.save(next);
  }
}
