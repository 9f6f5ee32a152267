// ChannelData framing (RFC 8656 section 12.4): 2-byte channel number
// (0x4000-0x7FFF), 2-byte length, data; padded to 4 bytes on TCP/TLS.
import { CHANNEL_MAX, CHANNEL_MIN } from './constants';
import { StunParseError } from './errors';

export function isChannelNumber(n: number): boolean {
  return Number.isInteger(n) && n >= CHANNEL_MIN && n <= CHANNEL_MAX;
}

/** One allocation: header + data (+ zero padding when `pad`, required on streams). */
export function encodeChannelData(channel: number, data: Buffer, pad: boolean): Buffer {
  if (!isChannelNumber(channel)) throw new RangeError(`channel ${channel} is outside 0x4000-0x7FFF`);
  if (data.length > 0xffff) throw new RangeError('ChannelData payload over 65535 bytes');
  const total = 4 + (pad ? (data.length + 3) & ~3 : data.length);
  const buf = Buffer.allocUnsafe(total);
  buf.writeUInt16BE(channel, 0);
  buf.writeUInt16BE(data.length, 2);
  data.copy(buf, 4);
  if (total > 4 + data.length) buf.fill(0, 4 + data.length);
  return buf;
}

/** Decode a ChannelData datagram; `data` is a view into buf. Padding may or may not be present. */
export function decodeChannelData(buf: Buffer): { channel: number; data: Buffer } {
  if (buf.length < 4) throw new StunParseError('truncated', `ChannelData of ${buf.length} bytes`);
  const channel = buf.readUInt16BE(0);
  if (!isChannelNumber(channel)) throw new StunParseError('bad-channel-data', `channel 0x${channel.toString(16)}`);
  const len = buf.readUInt16BE(2);
  if (4 + len > buf.length) throw new StunParseError('truncated', `ChannelData says ${len} bytes, ${buf.length - 4} present`);
  return { channel, data: buf.subarray(4, 4 + len) };
}
