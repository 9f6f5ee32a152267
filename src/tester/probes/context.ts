// What checks share within one run (options, credentials, deadline, the
// allocation budget, what the run learned: our public address per family,
// SOFTWARE strings seen) and the units checks run on: the run, one URI, one
// (URI, family, address) target. Each unit keeps its findings and shared
// resources (a connection, an allocation) that later checks of the unit reuse.
import { createSocket } from 'node:dgram';
import type { CheckId } from '../checks';
import type { TurnServerOutcome } from '../credentials/homeserver';
import type { TurnCredentials } from '../credentials/types';
import { checkTarget } from '../guard';
import type { CheckOptions } from '../options';
import type { XmppOutcome } from './xmpp-discovery';
import { AllocationBudget, Deadline, MAX_CONCURRENT_ALLOCATIONS, type Release } from '../plan';
import type { TransportAddress } from '../stun';
import { TurnClient, type AllocateResult, type BindingResult, type TurnClientOptions } from '../turn';
import type { Family, Finding, IceUri, QualityResult, Target, TargetResult } from '../types';
import type { LintResult } from './advertised-uris';
import type { Resolved } from './dns';

export class RunContext {
  readonly deadline: Deadline;
  readonly allocations: AllocationBudget;
  /** Our address as TURN servers see it, per family (from XOR-MAPPED-ADDRESS). */
  readonly publicAddress: Partial<Record<Family, string>> = {};
  /** SOFTWARE strings seen, by server address (SEC-1 reads them). */
  readonly software = new Map<string, string>();
  /** The checks this run runs (--only and what those need); set by the engine. */
  selected: ReadonlySet<CheckId> = new Set();
  /** The run's unit (set by the engine): checks of narrower scopes may look at their siblings. */
  runUnit?: RunUnit;
  /** Run-wide memo (e.g. one quota test per realm). */
  readonly #memo = new Map<string, Promise<unknown>>();

  constructor(
    readonly options: CheckOptions,
    readonly creds: TurnCredentials,
    /** The run's deadline, when it began before this context (credentials, DNS, earlier credential sets). */
    deadline?: Deadline,
  ) {
    this.deadline = deadline ?? new Deadline(options.timeoutMs);
    this.allocations = new AllocationBudget(options.maxAllocations ?? MAX_CONCURRENT_ALLOCATIONS);
  }

  memo<T>(key: string, fn: () => Promise<T>): Promise<T> {
    if (!this.#memo.has(key)) this.#memo.set(key, fn());
    return this.#memo.get(key) as Promise<T>;
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
      deadlineAt: this.deadline.at,
      tls: uri.transport === 'tls' ? { ca: this.options.ca, servername: uri.ipLiteral === 0 ? uri.host : undefined } : undefined,
      ...(withCredentials ? { username: this.creds.username, password: this.creds.password } : {}),
    };
  }

  /** Connect to a target, run fn, and always close (which deletes any allocation). */
  async withClient<T>(t: Target, fn: (c: TurnClient) => Promise<T>, override: Partial<TurnClientOptions> = {}): Promise<T> {
    const client = await TurnClient.connect({ ...this.clientOptions(t, true), ...override });
    try {
      return await fn(client);
    } finally {
      await client.close();
    }
  }

  /** Record what a server said about itself (SEC-1) and where it saw us from. */
  learn(t: Target, a: { software: string | null; mapped?: TransportAddress | null }): void {
    if (a.software) this.software.set(`${t.address}:${t.uri.port}`, a.software);
    if (a.mapped && !this.publicAddress[a.mapped.family]) this.publicAddress[a.mapped.family] = a.mapped.address;
  }

  /** Our address in the relay's family, as the server sees it (or as the OS would route to the relay). */
  async ownAddressFor(relayed: TransportAddress, mapped: TransportAddress | null): Promise<string | null> {
    if (mapped && mapped.family === relayed.family) return mapped.address;
    return this.publicAddress[relayed.family] ?? (await RunContext.routeLocalAddress(relayed.address, relayed.family));
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

/** What every unit has: the run, its findings, and resources its checks share. */
export abstract class Unit {
  readonly findings: Finding[] = [];
  /** Allocation permits this unit holds now (set by the runner; a check may swap it to wait for fewer at once). */
  hold: Release | null = null;
  readonly #memo = new Map<string, Promise<unknown>>();
  readonly #closers: (() => Promise<void>)[] = [];

  constructor(readonly ctx: RunContext) {}

  /** The finding scope of this unit (uri/family null for wider units). */
  abstract get scope(): { uri: string | null; family: Family | null };

  add(f: Finding): Finding {
    this.findings.push(f);
    return f;
  }

  has(id: string, status?: Finding['status']): boolean {
    return this.findings.some((f) => f.id === id && (status === undefined || f.status === status));
  }

  /** One shared result per key within this unit (e.g. the Binding that STUN-1, TLS-2 and NET-1 judge). */
  memo<T>(key: string, fn: () => Promise<T>): Promise<T> {
    if (!this.#memo.has(key)) this.#memo.set(key, fn());
    return this.#memo.get(key) as Promise<T>;
  }

  /** Close this when the unit's shared allocation is given up. */
  onRelease(close: () => Promise<void>): void {
    this.#closers.push(close);
  }

  /** Give up shared resources (closing a TURN client deletes its allocation). */
  async releaseShared(): Promise<void> {
    const all = this.#closers.splice(0);
    this.#memo.clear();
    await Promise.all(all.map((c) => c().catch(() => undefined)));
  }
}

/** What a target's first connection gave: a client, or the error. */
export type Connection = { client: TurnClient; error?: undefined } | { client?: undefined; error: import('../turn').TurnError };

/** One (URI, family, address) under test: its findings, what it measured, and its live connection. */
export class TargetState extends Unit {
  readonly result: TargetResult;
  /** QUAL-1's numbers, when a window ran (the report's quality[]). */
  quality?: QualityResult;
  /** The connection later checks of this target use (AUTH-1 may replace it). */
  client: TurnClient | null = null;
  /** The authenticated allocation (AUTH-2) the relay checks run on. */
  allocation: AllocateResult | null = null;
  /** The Binding STUN-1 made (STUN-2 judges it). */
  bindingResult: BindingResult | null = null;

  constructor(
    ctx: RunContext,
    readonly target: Target,
  ) {
    super(ctx);
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
    this.onRelease(async () => {
      const c = this.client;
      this.client = null;
      this.allocation = null;
      await c?.close();
    });
  }

  get scope(): { uri: string; family: Family } {
    return { uri: this.target.uri.raw, family: this.target.family };
  }

  get isTurn(): boolean {
    return this.target.uri.scheme !== 'stun';
  }

  /** Replace the live connection (the old one is closed by its owner). */
  setClient(c: TurnClient): void {
    this.client = c;
  }

  /** Give up the connection and allocation (re-armed for a later shared segment). */
  override async releaseShared(): Promise<void> {
    await super.releaseShared();
    this.onRelease(async () => {
      const c = this.client;
      this.client = null;
      this.allocation = null;
      await c?.close();
    });
  }
}

/** One URI with its targets (plan order): the unit of the once-per-URI checks. */
export class UriUnit extends Unit {
  constructor(
    ctx: RunContext,
    readonly uri: IceUri,
    readonly resolved: Resolved,
    readonly states: TargetState[],
  ) {
    super(ctx);
  }

  get scope(): { uri: string; family: null } {
    return { uri: this.uri.raw, family: null };
  }

  get isTurn(): boolean {
    return this.uri.scheme !== 'stun';
  }

  /** The target where our credentials gave an allocation (IPv4 first). */
  allocatedTarget(): TargetState | undefined {
    const ok = this.states.filter((s) => s.has('AUTH-2', 'pass'));
    return ok.find((s) => s.target.family === 'ipv4') ?? ok[0];
  }
}

/** What the credential source returned, for the checks that judge it (HS-1, HS-2). */
export interface SourceOutcome {
  homeserver?: { outcome: TurnServerOutcome; baseUrl: string };
  /** The XMPP login and XEP-0215 answer, for XMPP-1..6. */
  xmpp?: XmppOutcome;
}

/** The whole run: the unit of run-scoped checks, which see every other unit. */
export class RunUnit extends Unit {
  constructor(
    ctx: RunContext,
    readonly source: SourceOutcome,
    readonly lint: LintResult,
    readonly uris: UriUnit[],
    readonly states: TargetState[],
  ) {
    super(ctx);
  }

  get scope(): { uri: null; family: null } {
    return { uri: null, family: null };
  }
}
