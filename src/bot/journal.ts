// Crash safety for commands: which run commands are in flight (kept in the
// history database, so a kill -9 does not forget them), and the one Matrix
// transaction id each command's answer is sent with. The homeserver keeps one
// event per transaction id, so whichever answer comes first (the report, or
// "interrupted, please retry" after a restart) is the only one: a command
// never gets two.
import { createHash } from 'node:crypto';
import type { HistoryStore } from '../store';

export interface InFlight {
  eventId: string;
  roomId: string;
  sender: string;
  /** ISO time the command was accepted. */
  at: string;
}

interface Saved {
  inFlight: InFlight[];
  /** Commands answered recently (a replayed sync must not run them again). */
  done: string[];
}

const KEY = 'commandJournal';
const MAX_DONE = 500;

/** The transaction id of the answer to `eventId` (the same across restarts). */
export function answerTxnId(eventId: string): string {
  return `mxv-answer-${createHash('sha256').update(eventId).digest('base64url').slice(0, 32)}`;
}

export class CommandJournal {
  private saved: Saved;

  constructor(private readonly store: HistoryStore | null) {
    const s = store?.getSetting<Saved>(KEY);
    this.saved = { inFlight: Array.isArray(s?.inFlight) ? s.inFlight : [], done: Array.isArray(s?.done) ? s.done : [] };
  }

  /** Already answered or being answered: a replayed event is not a new command. */
  known(eventId: string): boolean {
    return this.saved.done.includes(eventId) || this.saved.inFlight.some((c) => c.eventId === eventId);
  }

  begin(c: InFlight): void {
    this.saved.inFlight = [...this.saved.inFlight.filter((x) => x.eventId !== c.eventId), c];
    this.persist();
  }

  end(eventId: string): void {
    this.saved.inFlight = this.saved.inFlight.filter((x) => x.eventId !== eventId);
    this.saved.done = [...this.saved.done.filter((x) => x !== eventId), eventId].slice(-MAX_DONE);
    this.persist();
  }

  /** Commands a previous process accepted and never finished. */
  interrupted(): InFlight[] {
    return [...this.saved.inFlight];
  }

  private persist(): void {
    try {
      this.store?.setSetting(KEY, this.saved);
    } catch {
      // Without history there is no journal: a crash then loses the in-flight answer.
    }
  }
}
