// STUN-2: the amplification surface of unauthenticated Binding over UDP (the
// only transport where a spoofed source makes reflection possible). Judged
// from the Binding that STUN-1 already made (a bare 20-byte request).
import { ATTR } from '../stun';
import type { Finding } from '../types';
import { defineCheck } from './check';
import { finding } from './finding';

/** CHECKS.md: warn when the answer is more than 3x the request. */
export const MAX_RATIO = 3;

/** Attributes an admin can switch off, and the coturn setting that does it. */
const AVOIDABLE: readonly { type: number; name: string; setting: string }[] = [
  { type: ATTR.OTHER_ADDRESS, name: 'OTHER-ADDRESS', setting: 'no-rfc5780' },
  { type: ATTR.SOFTWARE, name: 'SOFTWARE', setting: 'no-software-attribute' },
  { type: ATTR.MAPPED_ADDRESS, name: 'MAPPED-ADDRESS', setting: 'no-stun-backward-compatibility' },
  { type: ATTR.RESPONSE_ORIGIN, name: 'RESPONSE-ORIGIN', setting: 'response-origin-only-with-rfc5780' },
];

export interface AmplificationInput {
  requestSize: number;
  responseSize: number;
  /** Attribute types in the response. */
  attributes: number[];
}

/**
 * Pure judgement. Every attribute held against the server has a setting that
 * removes it (coturn 4.6 sends RESPONSE-ORIGIN even with `no-rfc5780`; only
 * `response-origin-only-with-rfc5780` stops it), and the hint names it.
 */
export function judgeAmplification(input: AmplificationInput, scope: { uri: string; family: Finding['family'] }): Finding {
  const ratio = input.requestSize > 0 ? Math.round((input.responseSize / input.requestSize) * 10) / 10 : 0;
  const present = AVOIDABLE.filter((a) => input.attributes.includes(a.type));
  const evidence = {
    requestSize: input.requestSize,
    responseSize: input.responseSize,
    ratio,
    otherAddress: input.attributes.includes(ATTR.OTHER_ADDRESS),
    responseOrigin: input.attributes.includes(ATTR.RESPONSE_ORIGIN),
    avoidable: present.map((a) => a.name),
  };
  if (evidence.otherAddress) {
    return finding('STUN-2', {
      ...scope,
      status: 'warn',
      severity: 'low',
      cause: 'rfc5780',
      summary: `RFC 5780 is on (OTHER-ADDRESS in Binding answers); answers are ${ratio}x the request.`,
      evidence,
    });
  }
  if (evidence.responseOrigin) {
    return finding('STUN-2', {
      ...scope,
      status: 'warn',
      severity: 'low',
      cause: 'response-origin',
      summary: `Binding answers carry RESPONSE-ORIGIN without RFC 5780 (${ratio}x the request).`,
      evidence,
    });
  }
  if (ratio > MAX_RATIO && present.length > 0) {
    return finding('STUN-2', {
      ...scope,
      status: 'warn',
      severity: 'low',
      cause: 'amplification',
      summary: `Unauthenticated Binding answers are ${ratio}x the request (${input.responseSize} vs ${input.requestSize} bytes), padded by ${present.map((a) => a.name).join(', ')} (${present.map((a) => `\`${a.setting}\``).join(', ')}).`,
      evidence,
    });
  }
  return finding('STUN-2', { ...scope, status: 'pass', summary: `Binding answers are ${ratio}x the request, with nothing avoidable in them.`, evidence });
}

export const STUN_2 = defineCheck({
  id: 'STUN-2',
  scope: 'uri-family',
  needs: ['STUN-1'],
  applies: (s) => s.target.uri.transport === 'udp',
  run: async (s) => {
    const b = s.bindingResult;
    if (!b) return null;
    return judgeAmplification({ requestSize: b.requestSize, responseSize: b.responseSize, attributes: b.response.attributes.map((a) => a.type) }, s.scope);
  },
});
