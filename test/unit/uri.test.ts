import { parseIceUri, UriParseError, isDtls, canonicalUri, formatHostPort, formatTarget, redactUserinfo } from '../../src/tester/uri';

describe('parseIceUri', () => {
  const ok: [string, Partial<ReturnType<typeof parseIceUri>>][] = [
    ['stun:stun.example.org', { scheme: 'stun', host: 'stun.example.org', port: 3478, transport: 'udp', transportExplicit: false, ipLiteral: 0 }],
    ['stun:stun.example.org:19302', { port: 19302 }],
    ['turn:Turn.Example.ORG', { host: 'turn.example.org', port: 3478, transport: 'udp' }],
    ['turn:turn.example.org?transport=udp', { transport: 'udp', transportExplicit: true }],
    ['turn:turn.example.org:3478?transport=tcp', { transport: 'tcp', port: 3478 }],
    ['TURN:turn.example.org?Transport=TCP', { scheme: 'turn', transport: 'tcp' }],
    ['turns:turn.example.org', { scheme: 'turns', port: 5349, transport: 'tls', transportExplicit: false }],
    ['turns:turn.example.org:443?transport=tcp', { port: 443, transport: 'tls', transportExplicit: true }],
    ['turns:turn.example.org?transport=udp', { scheme: 'turns', transport: 'udp' }],
    ['turn:192.0.2.1:3478', { host: '192.0.2.1', ipLiteral: 4 }],
    ['turn:[2001:db8::1]:3478', { host: '2001:db8::1', port: 3478, ipLiteral: 6 }],
    ['turn:[2001:DB8::1]', { host: '2001:db8::1', port: 3478 }],
    ['turns:[::1]:5349?transport=tcp', { host: '::1', port: 5349, transport: 'tls' }],
    ['turn:[::ffff:127.0.0.1]:3478', { host: '::ffff:127.0.0.1', ipLiteral: 6 }],
    ['turn:example.org.', { host: 'example.org' }],
    ['  turn:example.org  ', { raw: 'turn:example.org' }],
    ['turn:_turn.example.org', { host: '_turn.example.org' }],
    ['turn:localhost:65535', { host: 'localhost', port: 65535 }],
  ];
  it.each(ok)('parses %s', (raw, want) => {
    expect(parseIceUri(raw)).toMatchObject(want);
  });

  it('gives ports as numbers (no string comparison)', () => {
    const u = parseIceUri('turns:h.example:443?transport=tcp');
    expect(typeof u.port).toBe('number');
    expect(u.port === 443).toBe(true);
    expect(parseIceUri('turn:h.example:0443').port).toBe(443);
  });

  const bad: [string, string, RegExp][] = [
    ['', 'empty', /empty/],
    ['   ', 'empty', /empty/],
    ['http://example.org', 'unknown-scheme', /unknown scheme "http:"/],
    ['example.org', 'unknown-scheme', /no scheme/],
    ['stuns:example.org', 'unsupported-scheme', /stuns:/],
    ['turn://example.org', 'authority', /turn:\/\//],
    ['turn:', 'empty-host', /host is empty/],
    ['turn::3478', 'empty-host', /host is empty/],
    ['turn:example.org:', 'bad-port', /port/],
    ['turn:example.org:abc', 'bad-port', /not a number/],
    ['turn:example.org:0', 'bad-port', /outside 1-65535/],
    ['turn:example.org:65536', 'bad-port', /outside/],
    ['turn:example.org:123456', 'bad-port', /not a number/],
    ['turn:example.org?transport=sctp', 'bad-transport', /unknown transport "sctp"/],
    ['turn:example.org?foo=bar', 'bad-query', /unexpected query/],
    ['turn:example.org?transport=udp&x=1', 'bad-query', /unexpected query/],
    ['stun:example.org?transport=udp', 'bad-query', /stun: URIs take no query/],
    ['turn:2001:db8::1:3478', 'bad-host', /brackets/],
    ['turn:[2001:db8::1', 'bad-ipv6', /closing/],
    ['turn:[not-v6]:3478', 'bad-ipv6', /not an IPv6/],
    ['turn:[fe80::1%eth0]:3478', 'bad-ipv6', /zone/],
    ['turn:[::1]x', 'bad-host', /after the IPv6/],
    ['turn:exa mple.org', 'whitespace', /white space/],
    ['turn:ex<ample.org', 'bad-host', /not a valid host/],
    ['turn:10.0.0.300', 'bad-host', /IPv4/],
    ['turn:example.org#frag', 'bad-query', /fragment/],
    ['turn:' + 'a'.repeat(2000), 'too-long', /longer/],
  ];
  it.each(bad)('rejects %j', (raw, code, msg) => {
    let err: unknown;
    try {
      parseIceUri(raw);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UriParseError);
    expect((err as UriParseError).code).toBe(code);
    expect((err as Error).message).toMatch(msg);
  });

  it('rejects user info without repeating the password', () => {
    let err: UriParseError | undefined;
    try {
      parseIceUri('turn:alice:hunter2@turn.example.org');
    } catch (e) {
      err = e as UriParseError;
    }
    expect(err?.code).toBe('userinfo');
    expect(err?.message).not.toContain('hunter2');
  });

  it('never throws anything but UriParseError on junk', () => {
    const junk = ['turn:[', 'turn:]', 'turn:?', 'turn:??', ':', '::::', 'turn:[]', 'turn:[::]:', 'turns:a:1:2', '\u0000', 'turn:é.org', 'turn:a..b', 'turn:-a.org'];
    for (const j of junk) {
      try {
        parseIceUri(j);
      } catch (e) {
        expect(e).toBeInstanceOf(UriParseError);
      }
    }
    expect(() => parseIceUri(undefined as unknown as string)).toThrow(UriParseError);
  });
});

describe('uri helpers', () => {
  it('flags DTLS', () => {
    expect(isDtls(parseIceUri('turns:h.example?transport=udp'))).toBe(true);
    expect(isDtls(parseIceUri('turns:h.example'))).toBe(false);
    expect(isDtls(parseIceUri('turn:h.example'))).toBe(false);
  });
  it('canonicalises defaults', () => {
    expect(canonicalUri(parseIceUri('turn:H.example'))).toBe('turn:h.example:3478?transport=udp');
    expect(canonicalUri(parseIceUri('turn:h.example:3478?transport=udp'))).toBe('turn:h.example:3478?transport=udp');
    expect(canonicalUri(parseIceUri('turns:h.example'))).toBe('turns:h.example:5349?transport=tcp');
    expect(canonicalUri(parseIceUri('turns:[::1]:443?transport=tcp'))).toBe('turns:[::1]:443?transport=tcp');
    expect(canonicalUri(parseIceUri('stun:h.example'))).toBe('stun:h.example:3478');
  });
  it('formats addresses', () => {
    expect(formatHostPort('::1', 3478)).toBe('[::1]:3478');
    expect(formatHostPort('192.0.2.1', 3478)).toBe('192.0.2.1:3478');
    expect(formatTarget(parseIceUri('turn:h.example'), '2001:db8::2')).toBe('turn:h.example via [2001:db8::2]:3478');
  });
  it('redacts user info', () => {
    expect(redactUserinfo('turn:alice:pw@h.example')).toBe('turn:[redacted]@h.example');
    expect(redactUserinfo('turn:h.example')).toBe('turn:h.example');
  });
});
