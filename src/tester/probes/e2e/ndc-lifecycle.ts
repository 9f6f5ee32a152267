// node-datachannel keeps native threads alive until its global cleanup(), and
// cleanup() tears down every peer in the process. Users count themselves in
// and out; the last one out cleans up, so concurrent users don't kill each other.
import nodeDataChannel from 'node-datachannel';

let users = 0;

export function ndcAcquire(): void {
  users += 1;
}

export function ndcRelease(): void {
  users = Math.max(0, users - 1);
  if (users === 0) {
    try {
      nodeDataChannel.cleanup();
    } catch {
      // already cleaned up
    }
  }
}
