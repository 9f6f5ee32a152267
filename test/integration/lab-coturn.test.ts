// The lab's coturn: starts with TLS on free ports, answers STUN over UDP,
// accepts TCP, completes a TLS handshake trusted via the returned CA, and
// leaves no process behind after stop().
import { connect as tlsConnect } from 'node:tls';
import { existsSync } from 'node:fs';
import { startCoturn, stunBindingUdp, tcpConnects, type CoturnLab } from '../../scripts/lab/coturn';
import { makeSelfSigned } from '../../scripts/lab/certs';
import { pidAlive } from '../../scripts/lab/proc';

jest.setTimeout(30_000);

function tlsHandshake(host: string, port: number, ca: string | undefined, servername?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host, port, ca, servername, rejectUnauthorized: true, timeout: 3000 });
    s.once('secureConnect', () => {
      const proto = s.getProtocol() ?? '?';
      s.destroy();
      resolve(proto);
    });
    s.once('error', (e) => {
      s.destroy();
      reject(e);
    });
    s.once('timeout', () => {
      s.destroy();
      reject(new Error('tls timeout'));
    });
  });
}

describe('lab coturn', () => {
  let lab: CoturnLab | undefined;
  afterAll(async () => {
    await lab?.stop();
  });

  test('starts with TLS, answers UDP/TCP/TLS, stops cleanly', async () => {
    lab = await startCoturn({ tls: true });
    expect(lab.port).toBeGreaterThan(1024);
    expect(lab.secret).toBeTruthy();
    expect(lab.caPem).toContain('BEGIN CERTIFICATE');
    expect(await stunBindingUdp('127.0.0.1', lab.port, 1000)).toBe(true);
    expect(await stunBindingUdp('::1', lab.port, 1000)).toBe(true);
    expect(await tcpConnects('127.0.0.1', lab.port, 1000)).toBe(true);
    expect(await tlsHandshake('127.0.0.1', lab.tlsPort, lab.caPem)).toMatch(/TLS/);
    expect(await tlsHandshake('localhost', lab.tlsPort, lab.caPem, 'localhost')).toMatch(/TLS/);
    // Without the lab CA the self-signed certificate is refused.
    await expect(tlsHandshake('127.0.0.1', lab.tlsPort, undefined)).rejects.toThrow();
    expect(lab.uris().turns).toBe(`turns:localhost:${lab.tlsPort}?transport=tcp`);
    expect(lab.log()).toMatch(/listener|relay/i);

    const { pid, dir } = lab;
    expect(pidAlive(pid)).toBe(true);
    await lab.stop();
    await lab.stop(); // idempotent
    expect(pidAlive(pid)).toBe(false);
    expect(existsSync(dir)).toBe(false);
    expect(lab.log().length).toBeGreaterThan(0);
  });

  test('expired certificate is served and refused by a verifying client', async () => {
    const cert = await makeSelfSigned({ expired: true });
    const l = await startCoturn({ tlsCert: cert, noTcp: true, listenIps: ['127.0.0.1'] });
    try {
      await expect(tlsHandshake('127.0.0.1', l.tlsPort, cert.certPem)).rejects.toThrow(/expired/i);
    } finally {
      await l.stop();
    }
    expect(pidAlive(l.pid)).toBe(false);
  });

  test('two instances in parallel get distinct ports', async () => {
    const [a, b] = await Promise.all([startCoturn({ users: [{ name: 'u', password: 'p' }] }), startCoturn({ noAuth: true })]);
    try {
      expect(a.port).not.toBe(b.port);
      expect(a.secret).toBeUndefined();
      expect(await stunBindingUdp('127.0.0.1', a.port)).toBe(true);
      expect(await stunBindingUdp('127.0.0.1', b.port)).toBe(true);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  test('missing binary gives a clear error', async () => {
    await expect(startCoturn({ bin: '/nonexistent/turnserver' })).rejects.toThrow(/ensure-deps/);
  });
});
