// The flat sync loop does what the SDK's recursive one did: each response
// processed in order, its token stored before (or after, with
// persistTokenAfterSync) processing, a failed sync backs off and retries, and
// the loop ends when the client stops.
import type { MatrixClient } from 'matrix-bot-sdk';
import { useFlatSyncLoop } from '../../src/bot/sync-loop';

function fakeClient(script: (string | Error)[], persistAfter = false) {
  const log: string[] = [];
  let stored: string | null = 'start';
  const c = {
    stopSyncing: false,
    persistTokenAfterSync: persistAfter,
    storage: { getSyncToken: () => stored, setSyncToken: (t: string | null) => { stored = t; log.push(`token ${t}`); } },
    async doSync(token: string | null) {
      log.push(`sync since ${token}`);
      const next = script.shift();
      if (next === undefined) {
        c.stopSyncing = true;
        throw new Error('stopped');
      }
      if (next instanceof Error) throw next;
      return { next_batch: next };
    },
    async processSync(r: { next_batch: string }) {
      log.push(`process ${r.next_batch}`);
    },
    async startSync(): Promise<void> {
      throw new Error('the SDK loop must not run');
    },
  };
  return { c, log, client: c as unknown as MatrixClient };
}

const settle = async () => {
  for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
};

test('responses in order, token stored before processing, ends when stopped', async () => {
  const { c, log, client } = fakeClient(['t1', 't2', 't3']);
  useFlatSyncLoop(client);
  await c.startSync();
  await settle();
  expect(log).toEqual(['sync since start', 'token t1', 'process t1', 'sync since t1', 'token t2', 'process t2', 'sync since t2', 'token t3', 'process t3', 'sync since t3']);
});

test('persistTokenAfterSync stores the token after processing', async () => {
  const { c, log, client } = fakeClient(['t1'], true);
  useFlatSyncLoop(client);
  await c.startSync();
  await settle();
  expect(log.slice(0, 3)).toEqual(['sync since start', 'process t1', 'token t1']);
});

test('a failed sync backs off 5-15 s and retries with the same token', async () => {
  const { c, log, client } = fakeClient([new Error('HTTP 502'), 't1']);
  const waits: number[] = [];
  useFlatSyncLoop(client, async (ms) => {
    waits.push(ms);
  });
  await c.startSync();
  await settle();
  expect(waits).toHaveLength(1);
  expect(waits[0]).toBeGreaterThanOrEqual(5000);
  expect(waits[0]).toBeLessThanOrEqual(15000);
  expect(log.slice(0, 4)).toEqual(['sync since start', 'sync since start', 'token t1', 'process t1']);
});
