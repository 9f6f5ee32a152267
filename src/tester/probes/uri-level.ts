// Helpers for checks that run once per URI after every target was probed
// (ALLOC-2, ACL on the IPv6 relay, TCPR-1, ALLOC-4): group the targets by URI,
// pick the address that worked, and hold a TURN client only as long as needed.
import type { CheckId } from '../checks';
import { TurnClient, type TurnClientOptions } from '../turn';
import type { Finding, IceUri } from '../types';
import type { RunContext, TargetState } from './context';
import { finding } from './finding';

export interface UriGroup {
  uri: IceUri;
  states: TargetState[];
}

export const wanted = (ctx: RunContext, id: CheckId): boolean => !ctx.options.only || ctx.options.only.includes(id);

export const uriScope = (g: UriGroup): { uri: string; family: null } => ({ uri: g.uri.raw, family: null });

/** TURN URIs (turn:/turns:) with their targets, in plan order. */
export function turnUris(states: readonly TargetState[]): UriGroup[] {
  const groups = new Map<string, UriGroup>();
  for (const s of states) {
    if (s.target.uri.scheme === 'stun') continue;
    const g = groups.get(s.target.uri.raw) ?? { uri: s.target.uri, states: [] };
    g.states.push(s);
    groups.set(s.target.uri.raw, g);
  }
  return [...groups.values()];
}

export const hasStatus = (s: TargetState, id: CheckId, status: Finding['status']): boolean => s.findings.some((f) => f.id === id && f.status === status);

/** The target of a URI where our credentials gave an allocation (IPv4 first). */
export function allocatedTarget(g: UriGroup): TargetState | undefined {
  const ok = g.states.filter((s) => hasStatus(s, 'AUTH-2', 'pass'));
  return ok.find((s) => s.target.family === 'ipv4') ?? ok[0];
}

export function notRun(ids: CheckId[], g: UriGroup, why: string): Finding[] {
  return ids.map((id) => finding(id, { ...uriScope(g), status: 'skip', summary: why, evidence: { reason: 'no-allocation' } }));
}

export const NO_ALLOCATION = 'not run: no address of this URI gave an allocation (see AUTH-2)';

/** Connect to a target, run fn, and always close (which deletes any allocation). */
export async function withClient<T>(ctx: RunContext, s: TargetState, fn: (c: TurnClient) => Promise<T>, override: Partial<TurnClientOptions> = {}): Promise<T> {
  const client = await TurnClient.connect({ ...ctx.clientOptions(s.target, true), ...override });
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

/** Record SOFTWARE for SEC-1. */
export function noteSoftware(ctx: RunContext, s: TargetState, software: string | null): void {
  if (software) ctx.software.set(`${s.target.address}:${s.target.uri.port}`, software);
}
