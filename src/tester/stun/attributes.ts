// Typed attribute values: decode (throwing only StunParseError on malformed
// values from a hostile server) and encode (for what we send).
import { ATTR, attrName, FAMILY_CODE, MAGIC_COOKIE } from './constants';
import { StunParseError } from './errors';
import { bytesToIp, familyOf, ipToBytes, type TransportAddress } from './ip';
import type { StunMessage } from './message';
import type { Family } from '../types';

function bad(what: string): never {
  throw new StunParseError('bad-attribute', what);
}

// ---- addresses (MAPPED-ADDRESS family and XOR-*-ADDRESS family) ----

const COOKIE_BYTES = Buffer.from([0x21, 0x12, 0xa4, 0x42]);

/** Decode an address attribute; `transactionId` given means XOR-encoded. */
export function decodeAddress(value: Buffer, transactionId?: Buffer): TransportAddress {
  if (value.length < 4) bad(`address attribute of ${value.length} bytes`);
  const fam = value[1];
  const ipLen = fam === FAMILY_CODE.ipv4 ? 4 : fam === FAMILY_CODE.ipv6 ? 16 : 0;
  if (ipLen === 0) bad(`address family 0x${fam.toString(16)}`);
  if (value.length !== 4 + ipLen) bad(`address attribute of ${value.length} bytes for family ${fam}`);
  let port = value.readUInt16BE(2);
  const ip = Buffer.from(value.subarray(4, 4 + ipLen));
  if (transactionId) {
    port ^= MAGIC_COOKIE >>> 16;
    for (let i = 0; i < ipLen; i++) ip[i] ^= i < 4 ? COOKIE_BYTES[i] : transactionId[i - 4];
  }
  return { family: ipLen === 4 ? 'ipv4' : 'ipv6', address: bytesToIp(ip), port };
}

export function encodeAddress(addr: { address: string; port: number }, transactionId?: Buffer): Buffer {
  const ip = ipToBytes(addr.address);
  const out = Buffer.alloc(4 + ip.length);
  out[1] = ip.length === 4 ? FAMILY_CODE.ipv4 : FAMILY_CODE.ipv6;
  out.writeUInt16BE(transactionId ? addr.port ^ (MAGIC_COOKIE >>> 16) : addr.port, 2);
  for (let i = 0; i < ip.length; i++) {
    out[4 + i] = transactionId ? ip[i] ^ (i < 4 ? COOKIE_BYTES[i] : transactionId[i - 4]) : ip[i];
  }
  return out;
}

// ---- ERROR-CODE and ADDRESS-ERROR-CODE ----

export interface ErrorCodeValue {
  /** class * 100 + number (e.g. 401, 438). */
  code: number;
  /** Untrusted reason phrase (may be empty: coturn >= 4.10 omits it); evidence only. */
  reason: string;
}

const MAX_REASON_CHARS = 256;

function reasonText(b: Buffer): string {
  return b.toString('utf8').slice(0, MAX_REASON_CHARS);
}

/** ERROR-CODE: 21 reserved bits, class (3 bits), number (8 bits), reason. */
export function decodeErrorCode(value: Buffer): ErrorCodeValue {
  if (value.length < 4) bad(`ERROR-CODE of ${value.length} bytes`);
  const cls = value[2] & 0x07;
  const num = value[3];
  return { code: cls * 100 + num, reason: reasonText(value.subarray(4)) };
}

export function encodeErrorCode(code: number, reason = ''): Buffer {
  const r = Buffer.from(reason, 'utf8');
  const out = Buffer.alloc(4 + r.length);
  out[2] = Math.floor(code / 100) & 0x07;
  out[3] = code % 100;
  r.copy(out, 4);
  return out;
}

/** ADDRESS-ERROR-CODE (RFC 8656 18.1): family, reserved, class, number, reason. */
export function decodeAddressErrorCode(value: Buffer): ErrorCodeValue & { family: Family | number } {
  if (value.length < 4) bad(`ADDRESS-ERROR-CODE of ${value.length} bytes`);
  return { family: familyName(value[0]), ...decodeErrorCode(value) };
}

// ---- small scalar attributes ----

export function decodeUint32(value: Buffer, name = 'attribute'): number {
  if (value.length !== 4) bad(`${name} of ${value.length} bytes`);
  return value.readUInt32BE(0);
}

export function encodeUint32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0, 0);
  return b;
}

function familyName(code: number): Family | number {
  return code === FAMILY_CODE.ipv4 ? 'ipv4' : code === FAMILY_CODE.ipv6 ? 'ipv6' : code;
}

/** REQUESTED-ADDRESS-FAMILY / ADDITIONAL-ADDRESS-FAMILY: family byte + 3 reserved. */
export function decodeFamily(value: Buffer): Family | number {
  if (value.length !== 4) bad(`address family attribute of ${value.length} bytes`);
  return familyName(value[0]);
}

export function encodeFamily(f: Family): Buffer {
  return Buffer.from([FAMILY_CODE[f], 0, 0, 0]);
}

/** REQUESTED-TRANSPORT: protocol byte + 3 reserved (RFU). */
export function decodeRequestedTransport(value: Buffer): number {
  if (value.length !== 4) bad(`REQUESTED-TRANSPORT of ${value.length} bytes`);
  return value[0];
}

export function encodeRequestedTransport(protocol: number): Buffer {
  return Buffer.from([protocol, 0, 0, 0]);
}

/** CHANNEL-NUMBER: 16-bit channel + 16 reserved bits. */
export function decodeChannelNumber(value: Buffer): number {
  if (value.length !== 4) bad(`CHANNEL-NUMBER of ${value.length} bytes`);
  return value.readUInt16BE(0);
}

export function encodeChannelNumber(channel: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt16BE(channel, 0);
  return b;
}

/** EVEN-PORT: one byte, R bit = reserve the next port too. */
export function decodeEvenPort(value: Buffer): { reserveNext: boolean } {
  if (value.length !== 1) bad(`EVEN-PORT of ${value.length} bytes`);
  return { reserveNext: (value[0] & 0x80) !== 0 };
}

export function encodeEvenPort(reserveNext: boolean): Buffer {
  return Buffer.from([reserveNext ? 0x80 : 0]);
}


/** UNKNOWN-ATTRIBUTES: a list of 16-bit types (an odd trailing byte is tolerated and dropped). */
export function decodeUnknownAttributes(value: Buffer): number[] {
  const out: number[] = [];
  for (let i = 0; i + 2 <= value.length; i += 2) out.push(value.readUInt16BE(i));
  return out;
}


/** PASSWORD-ALGORITHMS (RFC 8489 14.11): tolerated, decoded as far as it goes. */
export function decodePasswordAlgorithms(value: Buffer): { algorithm: number; parameters: Buffer }[] {
  const out: { algorithm: number; parameters: Buffer }[] = [];
  let off = 0;
  while (off + 4 <= value.length) {
    const algorithm = value.readUInt16BE(off);
    const len = value.readUInt16BE(off + 2);
    if (off + 4 + len > value.length) bad('PASSWORD-ALGORITHMS entry runs past the attribute');
    out.push({ algorithm, parameters: Buffer.from(value.subarray(off + 4, off + 4 + len)) });
    off += 4 + ((len + 3) & ~3);
  }
  return out;
}

export function decodeText(value: Buffer, max = 1024): string {
  return value.toString('utf8').slice(0, max);
}

// ---- a generic typed view, for evidence and for tests ----

export type DecodedAttribute =
  | { type: number; name: string; kind: 'address'; value: TransportAddress }
  | { type: number; name: string; kind: 'error-code'; value: ErrorCodeValue & { family?: Family | number } }
  | { type: number; name: string; kind: 'text'; value: string }
  | { type: number; name: string; kind: 'number'; value: number }
  | { type: number; name: string; kind: 'family'; value: Family | number }
  | { type: number; name: string; kind: 'flag'; value: true }
  | { type: number; name: string; kind: 'even-port'; value: { reserveNext: boolean } }
  | { type: number; name: string; kind: 'types'; value: number[] }
  | { type: number; name: string; kind: 'algorithms'; value: { algorithm: number; parameters: Buffer }[] }
  | { type: number; name: string; kind: 'bytes'; value: Buffer };

type Kind = DecodedAttribute['kind'];
const KIND: Record<number, Kind> = {
  [ATTR.MAPPED_ADDRESS]: 'address',
  [ATTR.XOR_MAPPED_ADDRESS]: 'address',
  [ATTR.XOR_RELAYED_ADDRESS]: 'address',
  [ATTR.XOR_PEER_ADDRESS]: 'address',
  [ATTR.RESPONSE_ORIGIN]: 'address',
  [ATTR.OTHER_ADDRESS]: 'address',
  [ATTR.ALTERNATE_SERVER]: 'address',
  [ATTR.ERROR_CODE]: 'error-code',
  [ATTR.ADDRESS_ERROR_CODE]: 'error-code',
  [ATTR.USERNAME]: 'text',
  [ATTR.REALM]: 'text',
  [ATTR.NONCE]: 'text',
  [ATTR.SOFTWARE]: 'text',
  [ATTR.ALTERNATE_DOMAIN]: 'text',
  [ATTR.LIFETIME]: 'number',
  [ATTR.FINGERPRINT]: 'number',
  [ATTR.CHANNEL_NUMBER]: 'number',
  [ATTR.REQUESTED_TRANSPORT]: 'number',
  [ATTR.REQUESTED_ADDRESS_FAMILY]: 'family',
  [ATTR.ADDITIONAL_ADDRESS_FAMILY]: 'family',
  [ATTR.DONT_FRAGMENT]: 'flag',
  [ATTR.EVEN_PORT]: 'even-port',
  [ATTR.UNKNOWN_ATTRIBUTES]: 'types',
  [ATTR.PASSWORD_ALGORITHMS]: 'algorithms',
};

/** XOR-encoded address types. */
const XOR_ADDRESS = new Set<number>([ATTR.XOR_MAPPED_ADDRESS, ATTR.XOR_RELAYED_ADDRESS, ATTR.XOR_PEER_ADDRESS]);

/** Decode any attribute to a typed value; unknown types (and MESSAGE-INTEGRITY, DATA, tokens) stay raw bytes. */
export function decodeAttribute(type: number, value: Buffer, transactionId: Buffer): DecodedAttribute {
  const name = attrName(type);
  switch (KIND[type]) {
    case 'address':
      return { type, name, kind: 'address', value: decodeAddress(value, XOR_ADDRESS.has(type) ? transactionId : undefined) };
    case 'error-code':
      return {
        type,
        name,
        kind: 'error-code',
        value: type === ATTR.ADDRESS_ERROR_CODE ? decodeAddressErrorCode(value) : decodeErrorCode(value),
      };
    case 'text':
      return { type, name, kind: 'text', value: decodeText(value) };
    case 'number':
      return {
        type,
        name,
        kind: 'number',
        value:
          type === ATTR.CHANNEL_NUMBER
            ? decodeChannelNumber(value)
            : type === ATTR.REQUESTED_TRANSPORT
              ? decodeRequestedTransport(value)
              : decodeUint32(value, name),
      };
    case 'family':
      return { type, name, kind: 'family', value: decodeFamily(value) };
    case 'flag':
      return { type, name, kind: 'flag', value: true };
    case 'even-port':
      return { type, name, kind: 'even-port', value: decodeEvenPort(value) };
    case 'types':
      return { type, name, kind: 'types', value: decodeUnknownAttributes(value) };
    case 'algorithms':
      return { type, name, kind: 'algorithms', value: decodePasswordAlgorithms(value) };
    default:
      return { type, name, kind: 'bytes', value: Buffer.from(value) };
  }
}

/** All attributes of a message, typed (throws StunParseError on a malformed known one). */
export function decodeAllAttributes(msg: StunMessage): DecodedAttribute[] {
  return msg.attributes.map((a) => decodeAttribute(a.type, msg.valueOf(a), msg.transactionId));
}

// ---- convenience getters on a message ----

export function getAddress(msg: StunMessage, type: number): TransportAddress | undefined {
  const v = msg.get(type);
  return v ? decodeAddress(v, XOR_ADDRESS.has(type) ? msg.transactionId : undefined) : undefined;
}

export function getText(msg: StunMessage, type: number): string | undefined {
  const v = msg.get(type);
  return v ? decodeText(v) : undefined;
}

export function getErrorCode(msg: StunMessage): ErrorCodeValue | undefined {
  const v = msg.get(ATTR.ERROR_CODE);
  return v ? decodeErrorCode(v) : undefined;
}

export function getUint32(msg: StunMessage, type: number): number | undefined {
  const v = msg.get(type);
  return v ? decodeUint32(v, attrName(type)) : undefined;
}

export { familyOf };
