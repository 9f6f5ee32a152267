// matrix-bot-sdk's sync loop as a plain loop. The SDK's own (0.8) ends each
// iteration with `return promiseWhile()` inside an async function: every /sync
// response leaves one more pending promise in an endless chain, so the bot's
// heap grows with every sync for as long as it runs (the soak: ~16 KB a report,
// one link per sync; an idle bot adds one per long-poll). Same steps, same
// order, same backoff; only the recursion is gone.
import { extractRequestError, LogService, type MatrixClient } from 'matrix-bot-sdk';

const BACKOFF_MIN_MS = 5000; // the SDK's SYNC_BACKOFF_MIN_MS / _MAX_MS
const BACKOFF_MAX_MS = 15000;

/** The SDK internals the loop drives (its own startSync uses exactly these). */
interface SyncInternals {
  stopSyncing: boolean;
  persistTokenAfterSync: boolean;
  storage: { getSyncToken(): string | null | Promise<string | null>; setSyncToken(t: string | null): void | Promise<void> };
  doSync(token: string | null): Promise<{ next_batch: string } & Record<string, unknown>>;
  processSync(response: unknown, emitFn: unknown): Promise<void>;
  startSync(emitFn?: unknown): Promise<void>;
}

/** Replace `client`'s sync loop (call before client.start()). */
export function useFlatSyncLoop(client: MatrixClient, sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))): void {
  const c = client as unknown as SyncInternals;
  c.startSync = async (emitFn: unknown = null) => {
    let token = await Promise.resolve(c.storage.getSyncToken());
    // Started, not awaited: like the SDK, start() returns once the loop runs.
    void (async () => {
      while (!c.stopSyncing) {
        try {
          const response = await c.doSync(token);
          token = response.next_batch;
          if (!c.persistTokenAfterSync) await Promise.resolve(c.storage.setSyncToken(token));
          await c.processSync(response, emitFn);
          if (c.persistTokenAfterSync) await Promise.resolve(c.storage.setSyncToken(token));
        } catch (e) {
          if (c.stopSyncing) break;
          LogService.error('MatrixClientLite', `Error handling sync ${extractRequestError(e as Error)}`);
          await sleep(BACKOFF_MIN_MS + Math.random() * (BACKOFF_MAX_MS - BACKOFF_MIN_MS));
        }
      }
      LogService.info('MatrixClientLite', 'Client stop requested - stopping sync');
    })();
  };
}
