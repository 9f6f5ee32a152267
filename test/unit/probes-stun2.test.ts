// STUN-2: amplification judgement from sizes and attributes.
import { ATTR } from '../../src/tester/stun';
import { judgeAmplification } from '../../src/tester/probes/amplification';

const scope = { uri: 'stun:192.0.2.1', family: 'ipv4' as const };
const XOR = ATTR.XOR_MAPPED_ADDRESS;
const FP = ATTR.FINGERPRINT;

describe('STUN-2', () => {
  test('coturn defaults (RFC 5780 on): warn rfc5780', () => {
    const f = judgeAmplification({ requestSize: 20, responseSize: 100, attributes: [XOR, ATTR.MAPPED_ADDRESS, ATTR.RESPONSE_ORIGIN, ATTR.OTHER_ADDRESS, ATTR.SOFTWARE, FP] }, scope);
    expect(f).toMatchObject({ status: 'warn', cause: 'rfc5780', severity: 'low' });
    expect(f.evidence.ratio).toBe(5);
  });

  test('RESPONSE-ORIGIN without RFC 5780: warn naming the setting', () => {
    const f = judgeAmplification({ requestSize: 20, responseSize: 52, attributes: [XOR, ATTR.RESPONSE_ORIGIN, FP] }, scope);
    expect(f.cause).toBe('response-origin');
    expect(f.hint).toContain('response-origin-only-with-rfc5780');
  });

  test('over 3x because of avoidable attributes: warn amplification', () => {
    const f = judgeAmplification({ requestSize: 20, responseSize: 88, attributes: [XOR, ATTR.MAPPED_ADDRESS, ATTR.SOFTWARE, FP] }, scope);
    expect(f).toMatchObject({ status: 'warn', cause: 'amplification' });
    expect(f.evidence.avoidable).toEqual(['SOFTWARE', 'MAPPED-ADDRESS']);
  });

  test('over 3x with nothing avoidable (IPv6 XOR-MAPPED-ADDRESS + FINGERPRINT): pass', () => {
    expect(judgeAmplification({ requestSize: 20, responseSize: 64, attributes: [XOR, FP] }, scope).status).toBe('pass');
  });

  test('hardened coturn: pass, ratio rounded', () => {
    const f = judgeAmplification({ requestSize: 20, responseSize: 40, attributes: [XOR, FP] }, scope);
    expect(f.status).toBe('pass');
    expect(f.evidence.ratio).toBe(2);
  });

  test('a zero-size request does not divide by zero', () => {
    expect(judgeAmplification({ requestSize: 0, responseSize: 40, attributes: [XOR] }, scope).evidence.ratio).toBe(0);
  });
});
