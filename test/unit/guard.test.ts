import { classifyAddress, parseCidr, cidrContains, checkTarget, isPublicRelayAddress, CidrParseError, hostOf, parseIp } from '../../src/tester/guard';

describe('classifyAddress', () => {
  const cases: [string, string][] = [
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'this-network'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'cgnat'],
    ['100.127.255.255', 'cgnat'],
    ['169.254.169.254', 'link-local'],
    ['192.0.0.8', 'reserved'],
    ['192.0.2.1', 'documentation'],
    ['198.18.0.1', 'benchmarking'],
    ['198.19.255.255', 'benchmarking'],
    ['198.51.100.7', 'documentation'],
    ['203.0.113.9', 'documentation'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'broadcast'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['fe80::1', 'link-local'],
    ['febf::1', 'link-local'],
    ['fec0::1', 'site-local'],
    ['fc00::1', 'ula'],
    ['fd12:3456::1', 'ula'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'documentation'],
    ['3fff::1', 'documentation'],
    ['100::1', 'reserved'],
    ['2001:2::1', 'benchmarking'],
    ['2001:0:4136:e378::1', 'teredo'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['64:ff9b::a9fe:a9fe', 'link-local'],
    ['64:ff9b::7f00:1', 'loopback'],
    ['64:ff9b::192.168.0.1', 'private'],
    ['2002:c0a8:0101::1', 'private'],
    ['2002:7f00:1::', 'loopback'],
    ['::127.0.0.1', 'reserved'],
    ['4000::1', 'reserved'],
    ['[::1]', 'loopback'],
    ['fe80::1%eth0', 'link-local'],
  ];
  it.each(cases)('%s is %s', (ip, range) => {
    const c = classifyAddress(ip);
    expect(c.range).toBe(range);
    expect(c.special).toBe(true);
  });

  const publics = ['8.8.8.8', '1.1.1.1', '100.63.255.255', '100.128.0.0', '172.15.255.255', '172.32.0.0', '192.169.0.1', '198.17.255.255', '198.20.0.0', '223.255.255.255', '2a00:1450::1', '2606:4700::1111', '::ffff:8.8.8.8', '64:ff9b::808:808', '2002:0808:0808::1'];
  it.each(publics)('%s is public', (ip) => {
    const c = classifyAddress(ip);
    expect(c).toMatchObject({ special: false, range: 'public' });
  });

  it('names embedded addresses', () => {
    expect(classifyAddress('::ffff:127.0.0.1')).toMatchObject({ embedded: '127.0.0.1', label: expect.stringMatching(/loopback.*IPv4-mapped/) });
    expect(classifyAddress('64:ff9b::a9fe:a9fe').embedded).toBe('169.254.169.254');
  });

  it('treats junk as special, never public', () => {
    for (const j of ['', 'example.org', '1.2.3', '300.1.1.1', ':::', 'fe80::1::2']) expect(classifyAddress(j).special).toBe(true);
  });

  it('parses IPv6 with an embedded IPv4 tail', () => {
    expect(parseIp('::ffff:1.2.3.4')?.value).toBe((0xffffn << 32n) | 0x01020304n);
    expect(parseIp('1:2:3:4:5:6:7:8')?.value).toBe(0x00010002000300040005000600070008n);
    expect(parseIp('1::8')?.value).toBe((1n << 112n) | 8n);
  });
});

describe('CIDRs', () => {
  it('parses and matches', () => {
    expect(parseCidr('10.0.0.0/8')).toMatchObject({ family: 4, prefix: 8 });
    expect(parseCidr('10.1.2.3/8').base).toBe(parseCidr('10.0.0.0/8').base);
    expect(parseCidr('::1')).toMatchObject({ family: 6, prefix: 128 });
    expect(cidrContains('10.0.0.0/8', '10.255.0.1')).toBe(true);
    expect(cidrContains('10.0.0.0/8', '11.0.0.1')).toBe(false);
    expect(cidrContains('10.0.0.0/8', '::ffff:10.0.0.1')).toBe(true);
    expect(cidrContains('fd00::/8', 'fd00::5')).toBe(true);
    expect(cidrContains('fd00::/8', '10.0.0.1')).toBe(false);
    expect(cidrContains('0.0.0.0/0', '203.0.113.1')).toBe(true);
    expect(cidrContains('::/0', '2001:db8::1')).toBe(true);
    expect(cidrContains('10.0.0.0/8', 'junk')).toBe(false);
  });
  it.each(['', '10.0.0.0/33', '::/129', 'x/8', '10.0.0.0/-1', '10.0.0.0/8/8', '10.0.0.0/'])('rejects %j', (c) => {
    expect(() => parseCidr(c)).toThrow(CidrParseError);
  });
});

describe('checkTarget', () => {
  it('refuses special targets with a clear message', () => {
    const v = checkTarget('127.0.0.1', { allowPrivate: false });
    expect(v).toEqual({ allowed: false, reason: '127.0.0.1 is a loopback address; refusing to probe it (use --allow-private in a lab)' });
    expect(checkTarget('10.0.0.1', { allowPrivate: false, assumePublic: [] }).allowed).toBe(false);
    expect(checkTarget('::ffff:127.0.0.1', { allowPrivate: false }).allowed).toBe(false);
  });
  it('allows public targets and lab targets', () => {
    expect(checkTarget('8.8.8.8', { allowPrivate: false })).toEqual({ allowed: true });
    expect(checkTarget('127.0.0.1', { allowPrivate: true })).toEqual({ allowed: true });
    expect(checkTarget('::1', { allowPrivate: true })).toEqual({ allowed: true });
    expect(checkTarget('10.9.0.2', { allowPrivate: false, assumePublic: ['10.9.0.0/24'] })).toEqual({ allowed: true });
  });
  it('never probes non-unicast addresses, even in a lab', () => {
    for (const ip of ['0.0.0.0', '::', '224.0.0.1', '255.255.255.255', 'ff02::1']) {
      const v = checkTarget(ip, { allowPrivate: true });
      expect(v.allowed).toBe(false);
    }
    expect(checkTarget('not-an-ip', { allowPrivate: true }).allowed).toBe(false);
  });
});

describe('isPublicRelayAddress', () => {
  it('judges relayed addresses with or without ports', () => {
    expect(isPublicRelayAddress('203.0.113.5:50000')).toBe(false);
    expect(isPublicRelayAddress('8.8.4.4:50000')).toBe(true);
    expect(isPublicRelayAddress('[2a00:1450::1]:50000')).toBe(true);
    expect(isPublicRelayAddress('[fd00::1]:50000')).toBe(false);
    expect(isPublicRelayAddress('10.0.0.5:50000')).toBe(false);
    expect(isPublicRelayAddress('10.0.0.5:50000', ['10.0.0.0/8'])).toBe(true);
    expect(isPublicRelayAddress('::1', ['::1/128'])).toBe(true);
    expect(isPublicRelayAddress('garbage')).toBe(false);
  });
  it('splits host and port', () => {
    expect(hostOf('1.2.3.4:5')).toBe('1.2.3.4');
    expect(hostOf('[::1]:5')).toBe('::1');
    expect(hostOf('::1')).toBe('::1');
  });
});
