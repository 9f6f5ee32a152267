// A minimal WebSocket client (RFC 6455) for one exchange with LiveKit's
// signalling: open, read the first binary message, optionally send one,
// close. Node 20 has no WebSocket client; the address guard runs inside the
// connection's DNS lookup as for homeserver HTTP.
import { randomBytes } from 'node:crypto';
import { lookup as dnsLookup } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { AddressCheck } from '../credentials/http';

export type WsOutcome =
  | { kind: 'message'; data: Buffer; socket: WsSocket; connectMs: number }
  | { kind: 'http'; status: number; body: string }
  | { kind: 'error'; code: string; message: string };

export interface WsSocket {
  send(data: Uint8Array): void;
  /** Messages after the first (queued until a listener is set). */
  onMessage(cb: (data: Buffer) => void): void;
  close(): void;
}

const MAX_MESSAGE = 1024 * 1024;

function frame(opcode: number, payload: Uint8Array): Buffer {
  // Client frames are masked (RFC 6455 5.3).
  const mask = randomBytes(4);
  const len = payload.length;
  const head = len < 126 ? Buffer.from([0x80 | opcode, 0x80 | len]) : len < 65536 ? Buffer.from([0x80 | opcode, 0x80 | 126, len >> 8, len & 0xff]) : null;
  if (!head) throw new Error('frame too large');
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i] ^= mask[i & 3];
  return Buffer.concat([head, mask, body]);
}

export function openWs(url: string, opts: { timeoutMs: number; checkAddress?: AddressCheck; ca?: string[] }): Promise<WsOutcome> {
  const t0 = performance.now();
  const u = new URL(url);
  const secure = u.protocol === 'wss:';
  const mod = secure ? https : http;
  return new Promise((resolve) => {
    let done = false;
    let upgraded: Socket | null = null;
    const finish = (o: WsOutcome) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (o.kind !== 'message') {
        req.destroy();
        upgraded?.destroy();
      }
      resolve(o);
    };
    const req = mod.request({
      host: u.hostname.replace(/^\[|\]$/g, ''),
      port: u.port || (secure ? 443 : 80),
      path: `${u.pathname}${u.search}`,
      servername: secure ? u.hostname : undefined,
      ca: opts.ca,
      agent: false,
      headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': randomBytes(16).toString('base64') },
      lookup: opts.checkAddress
        ? (host, o, cb) =>
            dnsLookup(host, { ...o, all: false }, (err, address, family) => {
              const why = err ? null : opts.checkAddress!(address as string);
              if (why) return cb(Object.assign(new Error(why), { code: 'ETARGETREFUSED' }), '', 0);
              cb(err, address as string, family as number);
            })
        : undefined,
    });
    const timer = setTimeout(() => finish({ kind: 'error', code: 'ETIMEDOUT', message: `no WebSocket answer within ${opts.timeoutMs} ms` }), opts.timeoutMs);
    req.on('error', (e: Error & { code?: string }) => finish({ kind: 'error', code: e.code ?? 'ERROR', message: e.message }));
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        if (body.length < 500) body += c;
      });
      res.on('end', () => finish({ kind: 'http', status: res.statusCode ?? 0, body: body.slice(0, 500) }));
    });
    req.on('upgrade', (_res, socket: Socket, head: Buffer) => {
      const connectMs = performance.now() - t0;
      upgraded = socket;
      let buf = head;
      let parts: Buffer[] = [];
      const queued: Buffer[] = [];
      let listener: ((d: Buffer) => void) | null = null;
      const ws: WsSocket = {
        send: (data) => socket.write(frame(0x2, data)),
        onMessage: (cb) => {
          listener = cb;
          for (const q of queued.splice(0)) cb(q);
        },
        close: () => {
          try {
            socket.end(frame(0x8, Buffer.from([0x03, 0xe8])));
          } catch {
            /* gone */
          }
          setTimeout(() => socket.destroy(), 200).unref();
        },
      };
      const pump = () => {
        while (buf.length >= 2) {
          const fin = (buf[0] & 0x80) !== 0;
          const opcode = buf[0] & 0x0f;
          let len = buf[1] & 0x7f;
          let off = 2;
          if (len === 126) {
            if (buf.length < 4) return;
            len = buf.readUInt16BE(2);
            off = 4;
          } else if (len === 127) {
            if (buf.length < 10) return;
            len = Number(buf.readBigUInt64BE(2));
            off = 10;
          }
          if (len > MAX_MESSAGE) return finish({ kind: 'error', code: 'ETOOBIG', message: 'signalling message too large' });
          if (buf.length < off + len) return;
          const payload = buf.subarray(off, off + len);
          buf = buf.subarray(off + len);
          if (opcode === 0x8) {
            finish({ kind: 'error', code: 'ECLOSED', message: 'the SFU closed the WebSocket before its join response' });
            socket.destroy();
            return;
          }
          if (opcode === 0x9) socket.write(frame(0xa, payload));
          if (opcode === 0x2 || opcode === 0x0) {
            parts.push(Buffer.from(payload));
            if (fin) {
              const msg = Buffer.concat(parts);
              parts = [];
              if (!done) finish({ kind: 'message', data: msg, socket: ws, connectMs });
              else if (listener) listener(msg);
              else queued.push(msg);
            }
          }
        }
      };
      socket.on('data', (c: Buffer) => {
        buf = Buffer.concat([buf, c]);
        pump();
      });
      socket.on('error', (e: Error & { code?: string }) => finish({ kind: 'error', code: e.code ?? 'ERROR', message: e.message }));
      socket.on('close', () => finish({ kind: 'error', code: 'ECLOSED', message: 'the SFU closed the WebSocket before its join response' }));
      pump();
    });
    req.end();
  });
}
