// AUTH-5: the realm of the 401 challenge. Compared with the expected realm
// when the run was told one, and across the addresses of one host name
// (instances behind one name with different realms break nonce reuse and
// lt-cred-mech keys). Info otherwise.
import type { Finding } from '../types';
import { defineCheck } from './check';
import type { TargetState } from './context';
import { finding } from './finding';

const MAX_REALM_LEN = 100;

export function realmOf(s: TargetState): string | null {
  const f = s.findings.find((x) => x.id === 'AUTH-2' && x.status === 'pass');
  const r = f?.evidence.realm;
  return typeof r === 'string' ? r.replace(/[\u0000-\u001f\u007f]/g, ' ').slice(0, MAX_REALM_LEN) : null;
}

/** Pure judgement over (target, realm) pairs. */
export function judgeRealms(seen: { s: Pick<TargetState, 'target' | 'scope'>; realm: string }[], expected: string | undefined): Finding[] {
  const byHost = new Map<string, Set<string>>();
  for (const { s, realm } of seen) byHost.set(s.target.uri.host, (byHost.get(s.target.uri.host) ?? new Set()).add(realm));
  return seen.map(({ s, realm }) => {
    const host = s.target.uri.host;
    const evidence: Record<string, unknown> = { realm, host, ...(expected !== undefined ? { expected } : {}) };
    if (expected !== undefined && realm !== expected) {
      return finding('AUTH-5', { ...s.scope, status: 'warn', severity: 'low', cause: 'realm-mismatch', summary: `The realm is "${realm}", not the expected "${expected}".`, evidence });
    }
    const realms = byHost.get(host)!;
    if (realms.size > 1) {
      return finding('AUTH-5', { ...s.scope, status: 'warn', severity: 'low', cause: 'inconsistent', summary: `Addresses of ${host} answer with different realms (${[...realms].join(', ')}).`, evidence: { ...evidence, realms: [...realms] } });
    }
    if (expected !== undefined) return finding('AUTH-5', { ...s.scope, status: 'pass', summary: `The realm is the expected "${realm}".`, evidence });
    return finding('AUTH-5', { ...s.scope, status: 'info', summary: `The realm is "${realm}".`, evidence });
  });
}

export const AUTH_5 = defineCheck({
  id: 'AUTH-5',
  // Judged over the whole run: addresses of one host are compared with each other.
  scope: 'run',
  needs: ['AUTH-2'],
  run: async (run) => {
    const seen = run.states.flatMap((s) => {
      const realm = realmOf(s);
      return realm === null ? [] : [{ s, realm }];
    });
    return judgeRealms(seen, run.ctx.options.expectedRealm);
  },
});
