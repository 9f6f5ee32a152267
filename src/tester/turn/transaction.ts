// Request/response matching by transaction id, with RFC 8489 section 6.2.1
// retransmission on UDP (RTO doubling) cut short by our own deadline: a dead
// target must fail in about two seconds, not the RFC's 39.5. Streams send
// once and wait for one deadline.
import type { StunMessage } from '../stun/message';
import { methodName } from '../stun/constants';
import { TurnError } from './errors';

export interface TransactionTiming {
  /** Initial retransmission timeout on UDP (default 250 ms). */
  rtoMs: number;
  /** Whole-request deadline (default 1800 ms on UDP, 3000 ms on streams). */
  timeoutMs: number;
  /** Maximum transmissions on UDP (RFC Rc, default 7). */
  maxTransmissions: number;
}

interface Pending {
  resolve(m: StunMessage): void;
  reject(e: TurnError): void;
  timer: NodeJS.Timeout;
  deadline: NodeJS.Timeout;
  sentAt: number;
  transmissions: number;
}

export interface TransactionResult {
  response: StunMessage;
  rttMs: number;
  transmissions: number;
}

export class Transactions {
  private readonly pending = new Map<string, Pending>();
  /** Set by the transport layer when non-STUN datagrams arrived: turns a timeout into not-stun. */
  garbageSeen = 0;

  constructor(
    private readonly transmit: (packet: Buffer) => void,
    private readonly reliable: boolean,
  ) {}

  get size(): number {
    return this.pending.size;
  }

  request(packet: Buffer, transactionId: Buffer, method: number, timing: TransactionTiming): Promise<TransactionResult> {
    const key = transactionId.toString('hex');
    const t0 = performance.now();
    return new Promise<TransactionResult>((resolve, reject) => {
      let interval = timing.rtoMs;
      const p: Pending = {
        resolve: (m) => {
          this.finish(key, p);
          resolve({ response: m, rttMs: performance.now() - t0, transmissions: p.transmissions });
        },
        reject: (e) => {
          this.finish(key, p);
          reject(e);
        },
        timer: undefined as unknown as NodeJS.Timeout,
        deadline: setTimeout(() => {
          const name = methodName(method);
          p.reject(
            this.garbageSeen > 0
              ? new TurnError('not-stun', `${name}: no STUN answer within ${timing.timeoutMs} ms, only non-STUN datagrams`, {
                  method: name,
                  phase: 'request',
                })
              : new TurnError('timeout', `${name}: no answer within ${timing.timeoutMs} ms (${p.transmissions} sent)`, {
                  method: name,
                  phase: 'request',
                }),
          );
        }, timing.timeoutMs),
        sentAt: t0,
        transmissions: 0,
      };
      const send = () => {
        p.transmissions++;
        try {
          this.transmit(packet);
        } catch {
          // the socket is gone; the deadline or fatal() ends the request
        }
        if (!this.reliable && p.transmissions < timing.maxTransmissions) {
          p.timer = setTimeout(send, interval);
          interval *= 2;
        }
      };
      this.pending.set(key, p);
      send();
    });
  }

  /** Hand a response to its request; false when nobody waits for it (late or foreign). */
  handle(msg: StunMessage): boolean {
    if (msg.cls !== 'success' && msg.cls !== 'error') return false;
    const p = this.pending.get(msg.transactionId.toString('hex'));
    if (!p) return false;
    p.resolve(msg);
    return true;
  }

  failAll(err: TurnError): void {
    for (const p of [...this.pending.values()]) p.reject(err);
  }

  private finish(key: string, p: Pending): void {
    clearTimeout(p.timer);
    clearTimeout(p.deadline);
    this.pending.delete(key);
  }
}
