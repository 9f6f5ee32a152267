// ACL-5 (positive control) and ACL-1..4: may the relay reach what it should
// not? Each address gets its own CreatePermission (a batch fails whole, which
// would hide which address is allowed). Only permissions are installed:
// nothing is ever sent to the addresses asked about, and the allocation is
// deleted by whoever owns the client.
import { isPublicRelayAddress } from '../guard';
import { TurnError, type AllocateResult, type TurnClient } from '../turn';
import type { Family, Finding, Severity } from '../types';
import { defineCheck } from './check';
import type { RunContext, TargetState } from './context';
import { finding } from './finding';

export type AclId = 'ACL-1' | 'ACL-2' | 'ACL-3' | 'ACL-4';

/** The addresses asked about, per check and relay family (CHECKS.md). */
export const ACL_PROBES: readonly { id: AclId; family: Family; address: string }[] = [
  { id: 'ACL-1', family: 'ipv4', address: '127.0.0.1' },
  { id: 'ACL-1', family: 'ipv4', address: '0.0.0.0' },
  { id: 'ACL-1', family: 'ipv6', address: '::1' },
  { id: 'ACL-1', family: 'ipv6', address: '::' },
  { id: 'ACL-2', family: 'ipv4', address: '169.254.169.254' },
  { id: 'ACL-2', family: 'ipv6', address: 'fe80::1' },
  { id: 'ACL-3', family: 'ipv4', address: '10.0.0.1' },
  { id: 'ACL-3', family: 'ipv4', address: '172.16.0.1' },
  { id: 'ACL-3', family: 'ipv4', address: '192.168.0.1' },
  { id: 'ACL-3', family: 'ipv4', address: '100.64.0.1' },
  { id: 'ACL-3', family: 'ipv6', address: 'fc00::1' },
  { id: 'ACL-4', family: 'ipv6', address: '::ffff:127.0.0.1' },
  { id: 'ACL-4', family: 'ipv6', address: '64:ff9b::a9fe:a9fe' },
];

/** What an accepted permission means, per check. */
const VERDICT: Record<AclId, { severity: Severity; cause: string; what: string }> = {
  'ACL-1': { severity: 'critical', cause: 'loopback-allowed', what: "the server's own loopback (CVE-2020-26262 class)" },
  'ACL-2': { severity: 'critical', cause: 'link-local-allowed', what: 'link-local addresses such as the cloud metadata service' },
  'ACL-3': { severity: 'high', cause: 'private-allowed', what: 'private networks behind the server' },
  'ACL-4': { severity: 'critical', cause: 'mapped-allowed', what: 'IPv4 internals through IPv4-mapped IPv6 addresses (CVE-2026-27624 class)' },
};

export type PermissionOutcome = { address: string; outcome: 'accepted' } | { address: string; outcome: 'denied'; code: number } | { address: string; outcome: 'no-answer'; error: string };

/** One CreatePermission; never throws for a server's answer. */
export async function tryPermission(client: TurnClient, address: string): Promise<PermissionOutcome> {
  try {
    await client.createPermission([address]);
    return { address, outcome: 'accepted' };
  } catch (e) {
    if (!(e instanceof TurnError)) throw e;
    // Any error code means the permission was not installed (403 denied, 443 family mismatch, 400...).
    if (e.kind === 'error-response') return { address, outcome: 'denied', code: e.code ?? 0 };
    return { address, outcome: 'no-answer', error: e.kind };
  }
}

function describeOutcome(o: PermissionOutcome): string {
  return o.outcome === 'accepted' ? 'accepted' : o.outcome === 'denied' ? `denied (${o.code})` : `no answer (${o.error})`;
}

interface Scope {
  uri: string;
  family: Family | null;
}

/** Pure judgement of one ACL check from the permission outcomes of its addresses. */
export function judgeAcl(id: AclId, outcomes: PermissionOutcome[], scope: Scope, relay: { family: Family; label: string }): Finding {
  const tested = outcomes.map((o) => ({ address: o.address, result: describeOutcome(o) }));
  const evidence: Record<string, unknown> = { relayFamily: relay.family, tested };
  const accepted = outcomes.filter((o) => o.outcome === 'accepted').map((o) => o.address);
  const on = relay.label;
  if (accepted.length > 0) {
    const v = VERDICT[id];
    let { severity, cause, what } = v;
    if (id === 'ACL-4' && !accepted.some((a) => a.startsWith('::ffff:'))) {
      // Only NAT64: harmful only where the network routes 64:ff9b::/96.
      severity = 'high';
      cause = 'nat64-allowed';
      what = 'IPv4 internals through the NAT64 prefix 64:ff9b::/96 (where the network routes it)';
    }
    return finding(id, { ...scope, status: 'fail', severity, cause, summary: `${on} accepts permissions for ${accepted.join(', ')}: it would relay to ${what}.`, evidence: { ...evidence, accepted } });
  }
  const silent = outcomes.filter((o) => o.outcome === 'no-answer');
  if (silent.length > 0) {
    return finding(id, { ...scope, status: 'skip', summary: `${on}: no answer to the permission request for ${silent.map((o) => o.address).join(', ')}; not judged.`, evidence: { ...evidence, reason: 'no-answer' } });
  }
  return finding(id, { ...scope, status: 'pass', summary: `${on} denies ${outcomes.map((o) => o.address).join(', ')}.`, evidence });
}

/**
 * ACL-5 from the control outcome; null control = we know no address of ours
 * in that family. `ownIsPublic` false: the tester itself sits on a private or
 * loopback address (a bot next to coturn), which a hardened server rightly
 * refuses, so a denial there is no accusation, only an unusable control.
 */
export function judgeControl(control: PermissionOutcome | null, scope: Scope, relay: { family: Family; label: string }, ownIsPublic = true): Finding {
  if (!control) {
    return finding('ACL-5', { ...scope, status: 'skip', summary: `${relay.label}: the tester has no ${relay.family === 'ipv6' ? 'IPv6' : 'IPv4'} address to use as the positive control.`, evidence: { reason: 'no-own-address', relayFamily: relay.family } });
  }
  const evidence = { relayFamily: relay.family, control: control.address, result: describeOutcome(control) };
  if (control.outcome === 'accepted') {
    return finding('ACL-5', { ...scope, status: 'pass', summary: `${relay.label} accepts a permission for the tester's own address (the ACL results below are meaningful).`, evidence });
  }
  if (control.outcome === 'denied' && !ownIsPublic) {
    return finding('ACL-5', {
      ...scope,
      status: 'skip',
      summary: `${relay.label} refuses the tester's own address ${control.address}, which is not public (rightly so): run the check from a public address to judge the ACLs.`,
      evidence: { ...evidence, reason: 'own-address-private' },
    });
  }
  if (control.outcome === 'denied') {
    return finding('ACL-5', {
      ...scope,
      status: 'warn',
      severity: 'medium',
      cause: 'control-denied',
      summary: `${relay.label} refuses a permission even for the tester's own address ${control.address} (error ${control.code}): the deny rules are too broad, and the other ACL results mean nothing.`,
      evidence,
    });
  }
  return finding('ACL-5', { ...scope, status: 'skip', summary: `${relay.label}: no answer to the control permission (${control.error}).`, evidence: { ...evidence, reason: 'no-answer' } });
}

/**
 * Run the control and the ACL probes of `ids` for the relay's family on a live
 * allocation. ACL findings become skip when the control did not pass.
 */
export async function auditRelay(ctx: RunContext, client: TurnClient, a: AllocateResult, ids: AclId[], scope: Scope, label: string): Promise<Finding[]> {
  const family = a.relayed.family;
  const relay = { family, label };
  const probes = ACL_PROBES.filter((p) => p.family === family && ids.includes(p.id) && ctx.selected.has(p.id));
  const checks = [...new Set(probes.map((p) => p.id))];
  const ours = await ctx.ownAddressFor(a.relayed, a.mapped);
  const control = ours ? await tryPermission(client, ours) : null;
  const controlFinding = judgeControl(control, scope, relay, ours ? isPublicRelayAddress(ours, ctx.options.assumePublic) : true);
  const out: Finding[] = [controlFinding];
  if (controlFinding.status !== 'pass') {
    const why = `not judged: the positive control (ACL-5) did not pass on ${label.toLowerCase()}`;
    for (const id of checks) out.push(finding(id, { ...scope, status: 'skip', summary: why, evidence: { reason: 'control', relayFamily: family } }));
    return out;
  }
  const outcomes = await Promise.all(probes.map((p) => tryPermission(client, p.address)));
  for (const id of checks) out.push(judgeAcl(id, outcomes.filter((o) => probes.find((p) => p.address === o.address)!.id === id), scope, relay));
  return out;
}

/** The audit of a target's own relay (ACL-5 and ACL-1..3 in its family), made once for the ACL checks of the target. */
function targetAudit(s: TargetState): Promise<Finding[]> {
  return s.memo('acl-audit', async () => {
    const a = s.allocation;
    if (!a || !s.client) return [];
    const label = `The ${a.relayed.family === 'ipv6' ? 'IPv6' : 'IPv4'} relay`;
    return auditRelay(s.ctx, s.client, a, ['ACL-1', 'ACL-2', 'ACL-3'], s.scope, label);
  });
}

function aclCheck(id: 'ACL-5' | Exclude<AclId, 'ACL-4'>) {
  return defineCheck({
    id,
    scope: 'uri-family',
    needs: id === 'ACL-5' ? ['AUTH-2'] : ['ACL-5'],
    causes: id === 'ACL-5' ? [] : [VERDICT[id].cause],
    allocations: 1,
    shared: true,
    applies: (s) => s.isTurn,
    // Security first: the ACL probes need a live allocation, not working data, so a broken data path must not hide them.
    run: async (s) => (await targetAudit(s)).filter((f) => f.id === id),
  });
}

export const ACL_5 = aclCheck('ACL-5');
export const ACL_1 = aclCheck('ACL-1');
export const ACL_2 = aclCheck('ACL-2');
export const ACL_3 = aclCheck('ACL-3');
