// STUN message header and attribute list (RFC 8489 section 5 and 14):
// decode a buffer into a lazily-typed attribute list, encode with a builder
// that appends MESSAGE-INTEGRITY and FINGERPRINT in the right order.
import { randomFillSync } from 'node:crypto';
import {
  CLASS_BITS,
  HEADER_LENGTH,
  MAGIC_COOKIE,
  MAX_MESSAGE_LENGTH,
  methodName,
  type StunClass,
} from './constants';
import { StunParseError } from './errors';
import { fingerprintOf, integrityOf, integritySha256Of } from './integrity';

export interface StunAttribute {
  type: number;
  /** Offset of the value inside the message buffer. */
  offset: number;
  /** Value length as the attribute header says (without padding). */
  length: number;
}

/** Message type = method bits M0-M11 interleaved with class bits C0 (0x010) and C1 (0x100). */
export function encodeMessageType(method: number, cls: StunClass): number {
  const m = method & 0xfff;
  return ((m & 0xf80) << 2) | ((m & 0x070) << 1) | (m & 0x00f) | CLASS_BITS[cls];
}

export function decodeMessageType(type: number): { method: number; cls: StunClass } {
  const method = ((type & 0x3e00) >> 2) | ((type & 0x00e0) >> 1) | (type & 0x000f);
  const c = type & 0x110;
  const cls: StunClass = c === 0 ? 'request' : c === 0x010 ? 'indication' : c === 0x100 ? 'success' : 'error';
  return { method, cls };
}

export class StunMessage {
  constructor(
    /** The exact bytes (a view, not a copy) the message was decoded from. */
    readonly raw: Buffer,
    readonly method: number,
    readonly cls: StunClass,
    /** 96-bit transaction id (a view into raw). */
    readonly transactionId: Buffer,
    readonly attributes: StunAttribute[],
  ) {}

  get methodName(): string {
    return methodName(this.method);
  }

  /** First attribute of this type. */
  find(type: number): StunAttribute | undefined {
    for (const a of this.attributes) if (a.type === type) return a;
    return undefined;
  }

  has(type: number): boolean {
    return this.find(type) !== undefined;
  }

  /** Value bytes of the first attribute of this type (a view into raw). */
  get(type: number): Buffer | undefined {
    const a = this.find(type);
    return a ? this.raw.subarray(a.offset, a.offset + a.length) : undefined;
  }

  valueOf(a: StunAttribute): Buffer {
    return this.raw.subarray(a.offset, a.offset + a.length);
  }
}


/**
 * Decode one STUN message that fills `buf` exactly (a datagram, or a frame cut
 * from a stream). Throws only StunParseError. Linear in the input size: every
 * loop step consumes at least 4 bytes.
 */
export function decodeStun(buf: Buffer): StunMessage {
  if (!Buffer.isBuffer(buf)) throw new StunParseError('not-stun', 'input is not a buffer');
  if (buf.length > MAX_MESSAGE_LENGTH) throw new StunParseError('oversized', `message of ${buf.length} bytes`);
  if (buf.length < HEADER_LENGTH) throw new StunParseError('truncated', `${buf.length} bytes, shorter than a header`);
  if ((buf[0] & 0xc0) !== 0) throw new StunParseError('not-stun', 'first two bits are not zero');
  if (buf.readUInt32BE(4) !== MAGIC_COOKIE) throw new StunParseError('bad-cookie', 'magic cookie missing');
  const length = buf.readUInt16BE(2);
  if (length % 4 !== 0) throw new StunParseError('bad-length', `length ${length} is not a multiple of 4`);
  if (HEADER_LENGTH + length > buf.length) {
    throw new StunParseError('truncated', `header says ${length} bytes of attributes, ${buf.length - HEADER_LENGTH} present`);
  }
  if (HEADER_LENGTH + length < buf.length) {
    throw new StunParseError('bad-length', `header says ${length} bytes of attributes, ${buf.length - HEADER_LENGTH} present`);
  }
  const { method, cls } = decodeMessageType(buf.readUInt16BE(0));
  const end = HEADER_LENGTH + length;
  const attributes: StunAttribute[] = [];
  let off = HEADER_LENGTH;
  while (off < end) {
    if (off + 4 > end) throw new StunParseError('attribute-overrun', `attribute header at ${off} runs past the end`);
    const type = buf.readUInt16BE(off);
    const len = buf.readUInt16BE(off + 2);
    const valueOff = off + 4;
    // The last attribute's padding may be missing in sloppy encoders; the value itself must fit.
    if (valueOff + len > end) {
      throw new StunParseError('attribute-overrun', `attribute 0x${type.toString(16)} of ${len} bytes runs past the end`);
    }
    attributes.push({ type, offset: valueOff, length: len });
    off = valueOff + ((len + 3) & ~3);
  }
  return new StunMessage(buf, method, cls, buf.subarray(8, 20), attributes);
}

// Transaction ids come from a pool refilled 4 KiB at a time: one CSPRNG call
// per 341 ids instead of one per request (it showed in allocation latency).
const ID_POOL = Buffer.allocUnsafe(12 * 341);
let idPoolOffset = ID_POOL.length;

export function randomTransactionId(): Buffer {
  if (idPoolOffset + 12 > ID_POOL.length) {
    randomFillSync(ID_POOL);
    idPoolOffset = 0;
  }
  // A copy: the pool is overwritten on the next refill, ids live longer.
  const id = Buffer.from(ID_POOL.subarray(idPoolOffset, idPoolOffset + 12));
  idPoolOffset += 12;
  return id;
}

export interface BuildOptions {
  /** Append MESSAGE-INTEGRITY (HMAC-SHA1) with this key. */
  integrityKey?: Buffer;
  /** Append MESSAGE-INTEGRITY-SHA256 (full 32 bytes) with this key. */
  integritySha256Key?: Buffer;
  /** Append FINGERPRINT last. */
  fingerprint?: boolean;
}

/** Collects attributes, then writes the message in one allocation. */
export class StunMessageBuilder {
  readonly transactionId: Buffer;
  private readonly attrs: { type: number; value: Buffer }[] = [];

  constructor(
    readonly method: number,
    readonly cls: StunClass,
    transactionId?: Buffer,
  ) {
    if (transactionId && transactionId.length !== 12) throw new RangeError('transaction id must be 12 bytes');
    this.transactionId = transactionId ?? randomTransactionId();
  }

  add(type: number, value: Buffer): this {
    if (value.length > 0xffff) throw new RangeError('attribute value over 65535 bytes');
    this.attrs.push({ type, value });
    return this;
  }

  build(opts: BuildOptions = {}): Buffer {
    let size = HEADER_LENGTH;
    for (const a of this.attrs) size += 4 + ((a.value.length + 3) & ~3);
    const miAt = size;
    if (opts.integrityKey) size += 24;
    const mi256At = size;
    if (opts.integritySha256Key) size += 36;
    const fpAt = size;
    if (opts.fingerprint) size += 8;
    if (size > MAX_MESSAGE_LENGTH) throw new RangeError(`message of ${size} bytes is too large`);

    const buf = Buffer.alloc(size); // zeroed: padding bytes are 0
    buf.writeUInt16BE(encodeMessageType(this.method, this.cls), 0);
    buf.writeUInt32BE(MAGIC_COOKIE, 4);
    this.transactionId.copy(buf, 8);
    let off = HEADER_LENGTH;
    for (const a of this.attrs) {
      buf.writeUInt16BE(a.type, off);
      buf.writeUInt16BE(a.value.length, off + 2);
      a.value.copy(buf, off + 4);
      off += 4 + ((a.value.length + 3) & ~3);
    }
    // Each trailer is computed with the header length covering the trailer itself (RFC 8489 14.5, 14.7).
    if (opts.integrityKey) {
      buf.writeUInt16BE(miAt + 24 - HEADER_LENGTH, 2);
      buf.writeUInt16BE(0x0008, miAt);
      buf.writeUInt16BE(20, miAt + 2);
      integrityOf(buf, miAt, opts.integrityKey).copy(buf, miAt + 4);
    }
    if (opts.integritySha256Key) {
      buf.writeUInt16BE(mi256At + 36 - HEADER_LENGTH, 2);
      buf.writeUInt16BE(0x001c, mi256At);
      buf.writeUInt16BE(32, mi256At + 2);
      integritySha256Of(buf, mi256At, opts.integritySha256Key).copy(buf, mi256At + 4);
    }
    buf.writeUInt16BE(size - HEADER_LENGTH, 2);
    if (opts.fingerprint) {
      buf.writeUInt16BE(0x8028, fpAt);
      buf.writeUInt16BE(4, fpAt + 2);
      buf.writeUInt32BE(fingerprintOf(buf, fpAt), fpAt + 4);
    }
    return buf;
  }
}
