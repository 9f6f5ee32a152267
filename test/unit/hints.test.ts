import { CHECK_IDS } from '../../src/tester/checks';
import { HINTS, PLACEHOLDERS, hintFor, placeholdersUsed, idsWithoutHints, causesFor } from '../../src/tester/hints';
import { Secret } from '../../src/tester/secret';

describe('hints table', () => {
  it('covers every check id with a default hint', () => {
    expect(idsWithoutHints()).toEqual([]);
    for (const id of CHECK_IDS) expect(hintFor(id, 'default')).toEqual(expect.any(String));
  });
  it('documents every placeholder it uses', () => {
    for (const p of placeholdersUsed()) expect(PLACEHOLDERS).toHaveProperty(p);
  });
  it('has no duplicate (id, cause) rows and only catalogue ids', () => {
    const keys = HINTS.map((h) => `${h.id}/${h.cause}/${h.impl ?? ''}`);
    expect(new Set(keys).size).toBe(keys.length);
    for (const h of HINTS) expect(CHECK_IDS).toContain(h.id);
  });
  it('keeps hints short (1-2 sentences)', () => {
    for (const h of HINTS) {
      expect(h.hint.length).toBeLessThan(400);
      expect(h.hint.split(/\.\s+[A-Z]/).length).toBeLessThanOrEqual(3);
    }
  });
  it('has the causes the probes use', () => {
    expect(causesFor('DATA-1')).toEqual(expect.arrayContaining(['inbound-missing', 'outbound-missing', 'both-missing']));
    expect(causesFor('AUTH-2')).toEqual(expect.arrayContaining(['wrong-secret', 'expired', 'rejected']));
    expect(causesFor('NET-1')).toEqual(expect.arrayContaining(['refused', 'filtered']));
    expect(causesFor('TLS-1')).toEqual(expect.arrayContaining(['expired', 'not-yet-valid', 'hostname-mismatch', 'untrusted', 'expiring-soon', 'old-tls']));
    expect(causesFor('ALLOC-1')).toContain('private-relay');
    expect(causesFor('HS-1')).toEqual(expect.arrayContaining(['empty', 'stun-only', 'http-error', 'rate-limited', 'unreachable', 'malformed']));
    expect(causesFor('HS-2')).toEqual(expect.arrayContaining(['too-short', 'too-long']));
    expect(causesFor('ADV-1')).toEqual(expect.arrayContaining(['unparsable', 'duplicate', 'turns-udp', 'turns-ip-literal', 'no-udp-turn', 'no-stream-fallback', 'no-turn']));
    expect(causesFor('DNS-1')).toEqual(expect.arrayContaining(['nxdomain', 'no-address']));
    expect(causesFor('AUTH-3')).toEqual(expect.arrayContaining(['expired', 'too-long']));
  });
});

describe('hintFor', () => {
  it('fills placeholders from evidence', () => {
    expect(hintFor('DATA-1', 'inbound-missing', { relayRange: '50000-50100' })).toContain('50000-50100/udp');
    expect(hintFor('NET-1', 'filtered', { address: '192.0.2.1', port: 3478 })).toContain('192.0.2.1 port 3478');
  });
  it('uses documented fallbacks when evidence is missing', () => {
    expect(hintFor('DATA-1', 'inbound-missing', {})).toContain('49152-65535/udp');
    expect(hintFor('DATA-1', 'inbound-missing')).not.toMatch(/\{|\}/);
  });
  it('falls back to the default row for unknown causes', () => {
    expect(hintFor('AUTH-2', 'no-such-cause')).toBe(hintFor('AUTH-2', 'default'));
    expect(hintFor('AUTH-2', undefined)).toBe(hintFor('AUTH-2', 'default'));
  });
  it('returns null for an unknown id', () => {
    expect(hintFor('NOPE-1' as never, 'default')).toBeNull();
  });
  it('neutralises hostile evidence and never shows secrets', () => {
    const h = hintFor('SEC-1', 'disclosed', { version: '<img src=x onerror=alert(1)> | ** `x`\nnext' })!;
    expect(h).not.toMatch(/<|>|\||\*\*|`x`|\n/);
    const s = hintFor('SEC-1', 'disclosed', { version: new Secret('hunter2') })!;
    expect(s).not.toContain('hunter2');
    expect(hintFor('SEC-1', 'disclosed', { version: { nested: 1 } })).toContain('this version');
  });
  it('explains bare-number lifetimes as milliseconds', () => {
    expect(hintFor('HS-2', 'too-short')).toMatch(/milliseconds/);
  });
});

describe('implementation-keyed hints', () => {
  it("names ejabberd's settings for ejabberd's TURN, coturn's by default", () => {
    const { hintFor, turnImplementation, xmppImplementation } = require('../../src/tester/hints') as typeof import('../../src/tester/hints');
    expect(turnImplementation('P1 STUN library')).toBe('ejabberd');
    expect(turnImplementation("Coturn-4.6.1 'Gorst'")).toBeUndefined();
    expect(xmppImplementation('Prosody')).toBe('prosody');
    expect(xmppImplementation('ejabberd')).toBe('ejabberd');
    expect(hintFor('ACL-1', 'loopback-allowed', {}, 'ejabberd')).toContain('turn_blacklist');
    expect(hintFor('ACL-1', 'loopback-allowed', {})).toContain('denied-peer-ip');
    // An implementation without a row of its own keeps the default row.
    expect(hintFor('TLS-1', 'expired', { notAfter: 'x' }, 'ejabberd')).toBe(hintFor('TLS-1', 'expired', { notAfter: 'x' }));
    expect(hintFor('XMPP-2', 'not-supported', {}, 'prosody')).toContain('modules_enabled');
    expect(hintFor('XMPP-2', 'not-supported', {}, 'ejabberd')).toContain('mod_stun_disco');
  });
});
