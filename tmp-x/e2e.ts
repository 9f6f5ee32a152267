import { startCoturn } from '../scripts/lab/coturn';
import { startProsody } from '../scripts/lab/prosody';
import { writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
(async () => {
  const c = await startCoturn({ tls: true });
  const p = await startProsody({ secret: c.secret, services: [
    { type: 'stun', transport: 'udp', host: '127.0.0.1', port: c.port },
    { type: 'stun', transport: 'udp', host: '::1', port: c.port },
    { type: 'turn', transport: 'udp', host: '127.0.0.1', port: c.port, secret: true },
    { type: 'turn', transport: 'udp', host: '::1', port: c.port, secret: true },
    { type: 'turns', transport: 'tcp', host: 'localhost', port: c.tlsPort, secret: true },
  ] });
  writeFileSync('tmp-x/ca.pem', p.caPem + c.caPem);
  try {
    const t = Date.now();
    const out = execFileSync('npx', ['tsx', 'src/cli.ts', 'check', '--xmpp', p.jid, '--xmpp-server', `127.0.0.1:${p.port}`, '--ca', 'tmp-x/ca.pem', '--allow-private', '--quality', 'off', '--no-e2e', ...process.argv.slice(2)], { env: { ...process.env, MXV_PASSWORD: p.password }, encoding: 'utf8' });
    console.log(out);
    console.log('ms', Date.now() - t, 'leak?', out.includes(p.password), out.includes(c.secret!));
  } catch (e) { console.log('exit', (e as any).status, (e as any).stdout, (e as any).stderr); }
  finally { await p.stop(); await c.stop(); }
})();
