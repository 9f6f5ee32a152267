import { startEjabberd } from '../scripts/lab/ejabberd';
import { writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
(async () => {
  const e = await startEjabberd({ ...(process.env.ADV ? { advertisePort: Number(process.env.ADV) } : {}) });
  writeFileSync('tmp-x/ca2.pem', e.caPem);
  try {
    const out = execFileSync('npx', ['tsx', 'src/cli.ts', 'check', '--xmpp', e.jid, '--xmpp-server', `127.0.0.1:${e.port}`, '--ca', 'tmp-x/ca2.pem', '--allow-private', '--assume-public', '127.0.0.0/8', '--quality', 'off', '--no-e2e', '--format', 'json'], { env: { ...process.env, MXV_PASSWORD: e.password }, encoding: 'utf8' });
    console.log(out);
  } catch (err) { console.log('exit', (err as any).status, (err as any).stdout, (err as any).stderr); }
  finally { await e.stop(); }
})();
