// Hostile input through the parser: only StunParseError or success, never
// another exception, never slow. Seeded PRNG so failures reproduce.
import {
  ATTR,
  METHOD,
  StreamFramer,
  StunMessageBuilder,
  StunParseError,
  decodeAllAttributes,
  decodeChannelData,
  decodeStun,
  encodeAddress,
  encodeChannelData,
  encodeErrorCode,
  getErrorCode,
  verifyFingerprint,
  verifyIntegrity,
  verifyIntegritySha256,
} from '../../src/tester/stun';

function prng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x100000000;
  };
}
const rnd = prng(0x5eed);
const int = (n: number) => Math.floor(rnd() * n);
const randomBytes = (n: number) => {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = int(256);
  return b;
};

const tid = Buffer.alloc(12, 0x42);
const key = Buffer.alloc(16, 1);
const seeds: Buffer[] = [
  new StunMessageBuilder(METHOD.Allocate, 'success', tid)
    .add(ATTR.XOR_RELAYED_ADDRESS, encodeAddress({ address: '2001:db8::1', port: 5000 }, tid))
    .add(ATTR.XOR_MAPPED_ADDRESS, encodeAddress({ address: '192.0.2.7', port: 40000 }, tid))
    .add(ATTR.LIFETIME, Buffer.from([0, 0, 2, 0x58]))
    .add(ATTR.SOFTWARE, Buffer.from('Coturn'))
    .build({ integrityKey: key, fingerprint: true }),
  new StunMessageBuilder(METHOD.Allocate, 'error', tid)
    .add(ATTR.ERROR_CODE, encodeErrorCode(401, 'Unauthorized'))
    .add(ATTR.REALM, Buffer.from('lab'))
    .add(ATTR.NONCE, Buffer.from('0123456789abcdef'))
    .add(ATTR.UNKNOWN_ATTRIBUTES, Buffer.from([0, 1, 0, 2, 0]))
    .add(ATTR.PASSWORD_ALGORITHMS, Buffer.from([0, 2, 0, 0]))
    .build({ fingerprint: true }),
  new StunMessageBuilder(METHOD.Data, 'indication', tid)
    .add(ATTR.XOR_PEER_ADDRESS, encodeAddress({ address: '127.0.0.1', port: 9 }, tid))
    .add(ATTR.DATA, Buffer.from('hello, odd'))
    .build(),
];

/** Everything a client does with an incoming message; must throw only StunParseError. */
function consume(buf: Buffer): 'ok' | 'parse-error' {
  try {
    if (buf.length > 0 && (buf[0] & 0xc0) === 0x40) {
      decodeChannelData(buf);
      return 'ok';
    }
    const m = decodeStun(buf);
    decodeAllAttributes(m);
    getErrorCode(m);
    verifyIntegrity(m, key);
    verifyIntegritySha256(m, key);
    verifyFingerprint(m);
    return 'ok';
  } catch (e) {
    if (e instanceof StunParseError) return 'parse-error';
    throw e;
  }
}

function mutate(src: Buffer): Buffer {
  const b = Buffer.from(src);
  if (b.length < 4) return Buffer.concat([b, randomBytes(int(24))]);
  switch (int(6)) {
    case 0: // bit flips
      for (let k = 1 + int(4); k > 0; k--) b[int(b.length)] ^= 1 << int(8);
      return b;
    case 1: // truncation
      return b.subarray(0, int(b.length));
    case 2: // header length corruption
      b.writeUInt16BE(int(0x10000), 2);
      return b;
    case 3: {
      // attribute length corruption
      const off = 20 + 4 * int((b.length - 20) / 4);
      if (off + 4 <= b.length) b.writeUInt16BE(int(0x10000), off + 2);
      return b;
    }
    case 4: // appended garbage with a consistent header length
      return (() => {
        const g = Buffer.concat([b, randomBytes(4 * int(8))]);
        if (g.length >= 20) g.writeUInt16BE(g.length - 20, 2);
        return g;
      })();
    default: // random byte overwrite
      for (let k = 1 + int(8); k > 0; k--) b[int(b.length)] = int(256);
      return b;
  }
}

describe('parser fuzz', () => {
  test('random buffers', () => {
    const t0 = Date.now();
    for (let i = 0; i < 5000; i++) {
      const n = int(4) === 0 ? int(2000) : int(64);
      const b = randomBytes(n);
      // Half of them get a valid-looking header so the attribute walker is exercised.
      if (n >= 20 && i % 2 === 0) {
        b[0] &= 0x3f;
        b.writeUInt32BE(0x2112a442, 4);
        b.writeUInt16BE((n - 20) & ~3, 2);
      }
      consume(i % 2 === 0 && n >= 20 ? b.subarray(0, 20 + ((n - 20) & ~3)) : b);
    }
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  test('mutated valid messages', () => {
    const t0 = Date.now();
    let parsed = 0;
    for (let i = 0; i < 20000; i++) {
      let b = seeds[i % seeds.length];
      for (let k = 1 + int(3); k > 0; k--) b = mutate(b);
      if (consume(b) === 'ok') parsed++;
    }
    expect(parsed).toBeGreaterThan(0); // some mutations stay valid
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  test('maximum-size messages full of empty attributes are fast', () => {
    const b = Buffer.alloc(20 + 0xfffc);
    b.writeUInt16BE(0x0101, 0);
    b.writeUInt16BE(0xfffc, 2);
    b.writeUInt32BE(0x2112a442, 4);
    for (let off = 20; off < b.length; off += 4) b.writeUInt16BE(0x7fff, off);
    const t0 = Date.now();
    const m = decodeStun(b);
    expect(m.attributes.length).toBe(0xfffc / 4);
    consume(b);
    expect(Date.now() - t0).toBeLessThan(500);
  });
});

describe('stream framer', () => {
  function run(stream: Buffer, chunking: () => number, accept: (c: number) => boolean = (c) => c === 0x4001) {
    const out: string[] = [];
    let err: StunParseError | null = null;
    const f = new StreamFramer(
      {
        stun: (fr) => out.push(`stun:${fr.length}:${consume(fr) === 'ok' ? decodeStun(fr).method : 'bad'}`),
        channelData: (ch, d) => out.push(`cd:${ch}:${d.toString('hex')}`),
        error: (e) => {
          err = e;
        },
      },
      accept,
    );
    for (let p = 0; p < stream.length; ) {
      const n = Math.max(1, chunking());
      f.push(stream.subarray(p, p + n));
      p += n;
    }
    return { out, err: err as StunParseError | null };
  }

  const frames = [
    seeds[0],
    encodeChannelData(0x4001, Buffer.from([1, 2, 3]), true),
    seeds[2],
    encodeChannelData(0x4001, Buffer.from([9]), true),
    encodeChannelData(0x4001, Buffer.alloc(0), true),
    seeds[1],
  ];
  const stream = Buffer.concat(frames);

  test('partial reads and coalesced frames give the same frames', () => {
    const whole = run(stream, () => stream.length);
    expect(whole.err).toBeNull();
    expect(whole.out).toEqual([
      `stun:${seeds[0].length}:3`,
      'cd:16385:010203',
      `stun:${seeds[2].length}:7`,
      'cd:16385:09',
      'cd:16385:',
      `stun:${seeds[1].length}:3`,
    ]);
    for (const size of [1, 2, 3, 5, 7, 13]) expect(run(stream, () => size)).toEqual(whole);
    for (let i = 0; i < 200; i++) expect(run(stream, () => 1 + int(40))).toEqual(whole);
  });

  test('an HTTP answer is not-stun at once', () => {
    const r = run(Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n'), () => 100);
    expect(r.out).toEqual([]);
    expect(r.err?.reason).toBe('not-stun');
  });

  test('not-stun within the first 8 bytes for any garbage', () => {
    for (const g of ['SSH-2.0-OpenSSH_9.2\r\n', '\x16\x03\x01\x02\x00\x01\x00\x01', '\x00\x01\x00\x00nope', '\xff\xff']) {
      const r = run(Buffer.from(g, 'latin1').subarray(0, 8), () => 1);
      expect(r.err?.reason).toBe('not-stun');
    }
  });

  test('random streams never throw', () => {
    const t0 = Date.now();
    for (let i = 0; i < 2000; i++) {
      const b = int(2) ? randomBytes(int(300)) : mutate(stream);
      run(b, () => 1 + int(64), () => true);
    }
    expect(Date.now() - t0).toBeLessThan(3000);
  });
});
