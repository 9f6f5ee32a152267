// What every target probe shares within one run: options, credentials,
// deadline, the allocation semaphore, and what the run learned so far
// (our public address per family, SOFTWARE strings seen).
import { createSocket } from 'node:dgram';
import type { TurnCredentials } from '../credentials/types';
import { checkTarget } from '../guard';
import type { CheckOptions } from '../options';
import { Deadline, MAX_CONCURRENT_ALLOCATIONS, Semaphore } from '../plan';
import type { TurnClientOptions } from '../turn';
import type { Family, Finding, QualityResult, Target, TargetResult } from '../types';

export class RunContext {
  readonly deadline: Deadline;
  readonly allocations: Semaphore;
  /** Our address as TURN servers see it, per family (from XOR-MAPPED-ADDRESS). */
  readonly publicAddress: Partial<Record<Family, string>> = {};
  /** SOFTWARE strings seen, by server address (SEC-1 reads them). */
  readonly software = new Map<string, string>();

  constructor(
    readonly options: CheckOptions,
    readonly creds: TurnCredentials,
  ) {
    this.deadline = new Deadline(options.timeoutMs);
    this.allocations = new Semaphore(options.maxAllocations ?? MAX_CONCURRENT_ALLOCATIONS);
  }

  /** May we send packets to this address (e.g. a relayed address a server handed out)? */
  maySendTo(ip: string): boolean {
    return checkTarget(ip, { allowPrivate: this.options.allowPrivate, assumePublic: this.options.assumePublic }).allowed;
  }

  clientOptions(t: Target, withCredentials: boolean): TurnClientOptions {
    const { uri } = t;
    return {
      transport: uri.transport,
      host: t.address,
      port: uri.port,
      family: t.family,
      connectTimeoutMs: this.deadline.cap(3000),
      timeoutMs: this.deadline.cap(uri.transport === 'udp' ? 1800 : 2500),
      tls: uri.transport === 'tls' ? { ca: this.options.ca, servername: uri.ipLiteral === 0 ? uri.host : undefined } : undefined,
      ...(withCredentials ? { username: this.creds.username, password: this.creds.password } : {}),
    };
  }

  /** Learn which local address the OS would use towards ip (no packet is sent). */
  static routeLocalAddress(ip: string, family: Family): Promise<string | null> {
    return new Promise((resolve) => {
      const s = createSocket(family === 'ipv6' ? 'udp6' : 'udp4');
      const done = (v: string | null) => {
        try {
          s.close();
        } catch {
          /* already closed */
        }
        resolve(v);
      };
      s.on('error', () => done(null));
      s.connect(9, ip, () => {
        try {
          done(s.address().address);
        } catch {
          done(null);
        }
      });
    });
  }
}

/** One (URI, family, address) under test: its findings and what it measured. */
export class TargetState {
  readonly findings: Finding[] = [];
  readonly result: TargetResult;
  /** The first gate that failed; later checks are skipped with this reason. */
  blockedBy: { id: string; summary: string } | null = null;
  /** QUAL-1's numbers, when a window ran (the report's quality[]). */
  quality?: QualityResult;

  constructor(readonly target: Target) {
    this.result = {
      uri: target.uri.raw,
      scheme: target.uri.scheme,
      transport: target.uri.transport,
      family: target.family,
      port: target.uri.port,
      address: target.address,
      stunWorks: false,
      turnWorks: false,
      relayedAddress: null,
      timingsMs: {},
    };
  }

  get scope(): { uri: string; family: Family } {
    return { uri: this.target.uri.raw, family: this.target.family };
  }

  add(f: Finding): Finding {
    this.findings.push(f);
    return f;
  }

  /** Add a gate's finding: when it fails, the checks that depend on it are skipped. */
  gate(f: Finding): Finding {
    this.add(f);
    if (f.status === 'fail' && !this.blockedBy) this.blockedBy = { id: f.id, summary: f.summary };
    return f;
  }

  /** The reason a dependent check does not run. */
  skipReason(): string {
    return this.blockedBy ? `not run: ${this.blockedBy.id} failed` : 'not run';
  }
}
