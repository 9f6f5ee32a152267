// MESSAGE-INTEGRITY (HMAC-SHA1), MESSAGE-INTEGRITY-SHA256 and FINGERPRINT
// (CRC-32 xor 0x5354554e), RFC 8489 sections 14.5-14.7 and 9.2.2.
//
// Each one covers the message up to the attribute, with the header length
// field patched to end just after that attribute. We hash in pieces (bytes
// 0-1, the patched length, bytes 4..offset) instead of copying the message.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import * as zlib from 'node:zlib';
import type { Secret } from '../secret';
import { ATTR, FINGERPRINT_XOR, HEADER_LENGTH } from './constants';
import type { StunMessage } from './message';

export type CheckResult = 'ok' | 'bad' | 'absent';

/**
 * Long-term credential key: MD5(username ":" realm ":" password) (RFC 8489 9.2.2).
 * SASLprep/OpaqueString would only change non-ASCII passwords; TURN REST and
 * homeserver-issued passwords are base64/ASCII, so the bytes are used as given.
 */
export function longTermKey(username: string, realm: string, password: string | Secret): Buffer {
  const pw = typeof password === 'string' ? password : password.reveal();
  return createHash('md5').update(`${username}:${realm}:${pw}`, 'utf8').digest();
}

/** Short-term credential key: the password itself. */
export function shortTermKey(password: string | Secret): Buffer {
  return Buffer.from(typeof password === 'string' ? password : password.reveal(), 'utf8');
}

function patchedLength(attrOffset: number, attrTotal: number): Buffer {
  const b = Buffer.allocUnsafe(2);
  b.writeUInt16BE(attrOffset + attrTotal - HEADER_LENGTH, 0);
  return b;
}

/** HMAC-SHA1 of buf[0..miOffset) as if the header length ended after a 24-byte MESSAGE-INTEGRITY at miOffset. */
export function integrityOf(buf: Buffer, miOffset: number, key: Buffer): Buffer {
  return createHmac('sha1', key)
    .update(buf.subarray(0, 2))
    .update(patchedLength(miOffset, 24))
    .update(buf.subarray(4, miOffset))
    .digest();
}

/** HMAC-SHA256 of buf[0..offset) for a MESSAGE-INTEGRITY-SHA256 of valueLength bytes at offset. */
export function integritySha256Of(buf: Buffer, offset: number, key: Buffer, valueLength = 32): Buffer {
  return createHmac('sha256', key)
    .update(buf.subarray(0, 2))
    .update(patchedLength(offset, 4 + valueLength))
    .update(buf.subarray(4, offset))
    .digest();
}

// CRC-32 (IEEE): zlib.crc32 exists from Node 20.15; a table fallback for older 20.x.
const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

function crc32Table(data: Buffer, prev = 0): number {
  let c = ~prev;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

type Crc32 = (data: Buffer, prev?: number) => number;
const zcrc = (zlib as unknown as { crc32?: Crc32 }).crc32;
export const crc32: Crc32 = typeof zcrc === 'function' ? (d, p = 0) => zcrc(d, p) >>> 0 : crc32Table;

/** FINGERPRINT value for a FINGERPRINT attribute at fpOffset. */
export function fingerprintOf(buf: Buffer, fpOffset: number): number {
  let c = crc32(buf.subarray(0, 2));
  c = crc32(patchedLength(fpOffset, 8), c);
  c = crc32(buf.subarray(4, fpOffset), c);
  return (c ^ FINGERPRINT_XOR) >>> 0;
}

/** Verify MESSAGE-INTEGRITY (HMAC-SHA1) of a decoded message. */
export function verifyIntegrity(msg: StunMessage, key: Buffer): CheckResult {
  const a = msg.find(ATTR.MESSAGE_INTEGRITY);
  if (!a) return 'absent';
  if (a.length !== 20) return 'bad';
  const want = integrityOf(msg.raw, a.offset - 4, key);
  return timingSafeEqual(want, msg.valueOf(a)) ? 'ok' : 'bad';
}

/** Verify MESSAGE-INTEGRITY-SHA256 (possibly truncated to 16..32 bytes). */
export function verifyIntegritySha256(msg: StunMessage, key: Buffer): CheckResult {
  const a = msg.find(ATTR.MESSAGE_INTEGRITY_SHA256);
  if (!a) return 'absent';
  if (a.length < 16 || a.length > 32 || a.length % 4 !== 0) return 'bad';
  const want = integritySha256Of(msg.raw, a.offset - 4, key, a.length).subarray(0, a.length);
  return timingSafeEqual(want, msg.valueOf(a)) ? 'ok' : 'bad';
}

export function verifyFingerprint(msg: StunMessage): CheckResult {
  const a = msg.find(ATTR.FINGERPRINT);
  if (!a) return 'absent';
  if (a.length !== 4) return 'bad';
  return fingerprintOf(msg.raw, a.offset - 4) === msg.raw.readUInt32BE(a.offset) ? 'ok' : 'bad';
}
