// Device tracking of new room members without the crypto's 5 s stall:
// matrix-bot-sdk 0.8's RustEngine.addTrackedUsers (run for every join/invite
// it syncs, encrypted room or not) asks the machine for missing Olm sessions
// right after marking the users for a key query, under the sync lock. The Rust
// crypto then waits up to 5 s for that key query, which cannot be sent until
// the lock is released, and the next sync (the new room's first command) waits
// on that lock. Sending the key query first, as the SDK's own prepareEncrypt
// does, removes the wait.
import { RequestType, UserId } from '@matrix-org/matrix-sdk-crypto-nodejs';

interface Request { id: string; type: number; body: string }

/** The parts of matrix-bot-sdk's (private) RustEngine used here. */
export interface TrackingEngine {
  machine?: {
    updateTrackedUsers(users: UserId[]): Promise<void>;
    getMissingSessions(users: UserId[]): Promise<Request | undefined>;
  };
  lock: { acquire<T>(key: string, fn: () => Promise<T>): Promise<T> };
  runOnly(...types: number[]): Promise<void>;
  processKeysClaimRequest(request: Request): Promise<void>;
  addTrackedUsers(userIds: string[]): Promise<void>;
}

/** Replace the engine's addTrackedUsers: track, query the keys, then claim missing sessions. */
export function trackWithoutStall(engine: TrackingEngine): void {
  engine.addTrackedUsers = (userIds) => engine.lock.acquire('sync', async () => {
    const machine = engine.machine!;
    const users = userIds.map((u) => new UserId(u));
    await machine.updateTrackedUsers(users);
    await engine.runOnly(RequestType.KeysQuery);
    const claim = await machine.getMissingSessions(users);
    if (claim) await engine.processKeysClaimRequest(claim);
  });
}
