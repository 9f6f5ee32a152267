// Cuts STUN messages and ChannelData frames out of a TCP/TLS byte stream
// (RFC 8656 section 12.4: the first two bits tell them apart). Handles
// partial reads and coalesced frames. Anything else (an HTTP answer, SSH
// banner, TLS record) is reported as not-stun after at most 8 bytes, so a
// wrong server fails fast instead of leaving us waiting for a frame that
// never completes.
import { HEADER_LENGTH, MAGIC_COOKIE } from './constants';
import { StunParseError } from './errors';
import { isChannelNumber } from './channel-data';

export interface FramerHandlers {
  stun(frame: Buffer): void;
  channelData(channel: number, data: Buffer): void;
  /** Fatal: the stream cannot be resynchronised afterwards. */
  error(err: StunParseError): void;
}

const COOKIE = Buffer.alloc(4);
COOKIE.writeUInt32BE(MAGIC_COOKIE, 0);

export class StreamFramer {
  private pending: Buffer | null = null;
  private failed = false;

  constructor(
    private readonly on: FramerHandlers,
    /** Which channel numbers may appear (those we bound); others mean the stream is not TURN. */
    private readonly acceptChannel: (channel: number) => boolean = isChannelNumber,
  ) {}

  get broken(): boolean {
    return this.failed;
  }

  push(chunk: Buffer): void {
    if (this.failed || chunk.length === 0) return;
    const buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = null;
    let p = 0;
    while (p < buf.length && !this.failed) {
      const size = this.frameSize(buf, p);
      if (size < 0) break; // need more bytes
      if (p + size > buf.length) break;
      const b0 = buf[p];
      if ((b0 & 0xc0) === 0) {
        this.on.stun(buf.subarray(p, p + size));
      } else {
        const len = buf.readUInt16BE(p + 2);
        this.on.channelData(buf.readUInt16BE(p), buf.subarray(p + 4, p + 4 + len));
      }
      p += size;
    }
    if (!this.failed && p < buf.length) {
      // Copy the leftover: the caller's chunk buffer may be reused.
      this.pending = Buffer.from(buf.subarray(p));
    }
  }

  private fail(msg: string): number {
    this.failed = true;
    this.pending = null;
    this.on.error(new StunParseError('not-stun', msg));
    return -1;
  }

  /** Size of the frame at p, -1 when more bytes are needed (or after a failure). */
  private frameSize(buf: Buffer, p: number): number {
    const avail = buf.length - p;
    const b0 = buf[p];
    if ((b0 & 0xc0) === 0) {
      // STUN: check the cookie bytes as soon as they arrive.
      for (let i = 4; i < Math.min(avail, 8); i++) {
        if (buf[p + i] !== COOKIE[i - 4]) return this.fail('stream bytes are not a STUN message (no magic cookie)');
      }
      if (avail < 8) return -1;
      const len = buf.readUInt16BE(p + 2);
      if (len % 4 !== 0) return this.fail(`STUN length ${len} on the stream is not a multiple of 4`);
      return HEADER_LENGTH + len;
    }
    if ((b0 & 0xc0) === 0x40) {
      if (avail < 2) return -1;
      const channel = buf.readUInt16BE(p);
      if (!this.acceptChannel(channel)) {
        return this.fail(`stream bytes are neither STUN nor ChannelData of a bound channel (0x${channel.toString(16)})`);
      }
      if (avail < 4) return -1;
      return 4 + ((buf.readUInt16BE(p + 2) + 3) & ~3);
    }
    return this.fail(`stream byte 0x${b0.toString(16)} starts neither STUN nor ChannelData`);
  }
}
