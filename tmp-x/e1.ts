import { startEjabberd } from '../scripts/lab/ejabberd';
import { xmppLogin } from '../src/tester/credentials/xmpp-session';
import { discoverServices } from '../src/tester/credentials/xmpp-extdisco';
import { Secret } from '../src/tester/secret';
(async () => {
  const t = Date.now();
  const e = await startEjabberd({});
  console.log('up', Date.now() - t, e.port, e.stunPort, e.pid);
  try {
    const s = await xmppLogin({ jid: e.jid, password: new Secret(e.password), server: { host: '127.0.0.1', port: e.port, tls: 'starttls', via: 'override' }, ca: [e.caPem] }, { allowPrivate: true, assumePublic: [] }, 8000);
    const d = await discoverServices(s, 5000);
    console.log(JSON.stringify(d, (k, v) => (k === 'password' ? (v ? 'SET' : v) : v), 1));
    await s.close();
  } catch (err) { console.log('ERR', err); console.log(e.log().slice(-3000)); }
  finally { await e.stop(); }
})().catch((e) => { console.error(e); process.exit(1); });
