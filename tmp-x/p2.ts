import { startProsody } from '/work/wt/xmpp/scripts/lab/prosody';
import { xmppLogin } from '/work/wt/xmpp/src/tester/credentials/xmpp-session';
import { Secret } from '/work/wt/xmpp/src/tester/secret';
import xml from '@xmpp/xml';
(async () => {
  const p = await startProsody({ secret: 's3cret', services: [{ type: 'stun', transport: 'udp', host: '127.0.0.1', port: 3478 }, { type: 'turn', transport: 'udp', host: '127.0.0.1', port: 3478, secret: true }] });
  try {
    for (const tls of ['starttls', 'direct'] as const) {
      const t = Date.now();
      const s = await xmppLogin({ jid: p.jid, password: new Secret(p.password), server: { host: '127.0.0.1', port: tls === 'direct' ? p.tlsPort : p.port, tls, via: 'override' }, ca: [p.caPem] }, { allowPrivate: true, assumePublic: [] }, 8000);
      console.log(tls, 'logged in', Date.now() - t);
      const r = await s.iq('get', xml('services', { xmlns: 'urn:xmpp:extdisco:2' }), 5000);
      console.log(r.toString().replace(/password='[^']*'/g, "password='X'"));
      await s.close();
    }
    try { await xmppLogin({ jid: p.jid, password: new Secret('wrong'), server: { host: '127.0.0.1', port: p.port, tls: 'starttls', via: 'override' }, ca: [p.caPem] }, { allowPrivate: true, assumePublic: [] }, 8000); } catch (e) { console.log('wrong pw:', (e as any).kind, (e as Error).message); }
    try { await xmppLogin({ jid: p.jid, password: new Secret(p.password), server: { host: '127.0.0.1', port: p.port, tls: 'starttls', via: 'override' } }, { allowPrivate: true, assumePublic: [] }, 8000); } catch (e) { console.log('no ca:', (e as any).kind, (e as Error).message); }
    try { await xmppLogin({ jid: p.jid, password: new Secret(p.password), server: { host: '127.0.0.1', port: p.port, tls: 'starttls', via: 'override' } }, { allowPrivate: false, assumePublic: [] }, 8000); } catch (e) { console.log('guard:', (e as any).kind, (e as Error).message); }
  } finally { await p.stop(); }
})().catch((e) => { console.error('ERR', e); process.exit(1); });
