// STUN-1: a Binding request on the target's transport must answer with our
// mapped address. Only an answer that is not STUN at all gates the TURN checks:
// a server that ignores Binding but allocates is a TURN server that works.
import type { Finding } from '../types';
import { defineCheck } from './check';
import type { TargetState } from './context';
import { finding, fmt, round } from './finding';
import { bindingOf, unauthenticatedAllocate } from './reachability';

async function judgeBinding(s: TargetState): Promise<Finding | null> {
  const { uri } = s.target;
  const b = await bindingOf(s);
  if (b.ok) {
    s.bindingResult = b.ok;
    const m = b.ok.mapped;
    if (!m) return finding('STUN-1', { ...s.scope, status: 'fail', severity: 'medium', cause: 'no-mapped-address', summary: 'The Binding answer carries no mapped address.', evidence: {} });
    if (uri.transport === 'udp') s.result.stunWorks = true;
    return finding('STUN-1', {
      ...s.scope,
      status: 'pass',
      summary: `STUN answers: the tester is seen as ${fmt(m.address, m.port)}.`,
      evidence: { mapped: fmt(m.address, m.port), from: b.ok.mappedFrom, rttMs: round(b.ok.rttMs), transport: uri.transport },
    });
  }
  const e = b.error;
  if (e.kind === 'not-stun') {
    return finding('STUN-1', { ...s.scope, status: 'fail', severity: 'high', cause: 'not-stun', summary: `Something that does not speak STUN answers on ${s.target.address} port ${uri.port}.`, evidence: { error: e.kind } });
  }
  if (e.kind === 'error-response' && e.code === 401) {
    // secure-stun: Binding needs credentials; browsers' STUN then fails.
    return finding('STUN-1', { ...s.scope, status: 'fail', severity: 'medium', cause: 'auth-required', summary: 'The server answers Binding with 401: STUN needs credentials here (coturn `secure-stun`).', evidence: { code: 401 } });
  }
  if (e.kind === 'error-response') {
    return finding('STUN-1', { ...s.scope, status: 'fail', severity: 'medium', cause: 'error', summary: `The server answers Binding with error ${e.code}.`, evidence: { code: e.code ?? null } });
  }
  // NET-1 passed, so the port answers something: say what did and did not answer.
  const allocate = uri.transport === 'udp' ? await unauthenticatedAllocate(s) : null;
  if (allocate && (allocate.ok || allocate.error.kind === 'error-response')) {
    return finding('STUN-1', {
      ...s.scope,
      status: 'fail',
      severity: 'medium',
      cause: 'binding-ignored',
      summary: `No answer to STUN Binding on ${s.target.address} port ${uri.port}/udp, although the port answers TURN Allocate: STUN is switched off or filtered.`,
      evidence: { error: e.kind, answered: ['Allocate'], unanswered: ['Binding'] },
    });
  }
  return finding('STUN-1', { ...s.scope, status: 'fail', severity: 'high', cause: 'no-answer', summary: `No answer to a STUN Binding over ${uri.transport.toUpperCase()} (${e.kind}).`, evidence: { error: e.kind } });
}

export const STUN_1 = defineCheck({
  id: 'STUN-1',
  scope: 'uri-family',
  needs: ['NET-1', 'TLS-1', 'TLS-2'],
  // Only "this is not STUN at all" stops the TURN checks; silence or an error to Binding says nothing about TURN.
  blocks: (f) => f.cause === 'not-stun',
  run: judgeBinding,
});
