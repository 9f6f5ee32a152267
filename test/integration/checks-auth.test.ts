// AUTH-4's minted half and AUTH-5 against real coturn on loopback.
import { startCoturn, type CoturnLab } from '../../scripts/lab/coturn';
import { mintRestCredentials } from '../../src/tester/credentials/rest';
import { runCheck } from '../../src/tester/engine';
import { DEFAULT_CHECK_OPTIONS, type CheckOptions } from '../../src/tester/options';
import type { Report } from '../../src/tester/report';
import { Secret } from '../../src/tester/secret';

jest.setTimeout(60_000);

describe('AUTH-4 (minted credentials) and AUTH-5 (realm)', () => {
  let c: CoturnLab;
  beforeAll(async () => {
    c = await startCoturn({ realm: 'lab.test' });
  });
  afterAll(async () => {
    await c?.stop();
  });

  const base = (credentials: CheckOptions['credentials'], extra: Partial<CheckOptions> = {}): CheckOptions => ({
    ...DEFAULT_CHECK_OPTIONS,
    credentials,
    family: 'ipv4',
    allowPrivate: true,
    assumePublic: ['127.0.0.0/8'],
    quality: 'off',
    e2e: false,
    timeoutMs: 15_000,
    ...extra,
  });
  const uri = () => `turn:127.0.0.1:${c.port}?transport=udp`;
  const of = (r: Report, id: string) => r.checks.filter((f) => f.id === id);

  test('given credentials rejected, the secret the run holds works: AUTH-2 fails, AUTH-4 minted passes', async () => {
    const bad = mintRestCredentials(new Secret('not-the-secret'));
    const r = await runCheck(base({ kind: 'explicit', uris: [uri()], username: bad.username, password: bad.password, sharedSecret: new Secret(c.secret!) }, { only: ['AUTH-2', 'AUTH-4'] }));
    expect(of(r, 'AUTH-2')[0].status).toBe('fail');
    expect(of(r, 'AUTH-4')).toHaveLength(1);
    expect(of(r, 'AUTH-4')[0].status).toBe('pass');
  });

  test('given credentials work, the secret the run holds does not: AUTH-4 server-rejects-minted', async () => {
    const good = mintRestCredentials(new Secret(c.secret!));
    const r = await runCheck(base({ kind: 'explicit', uris: [uri()], username: good.username, password: good.password, sharedSecret: new Secret('wrong-secret') }, { only: ['AUTH-2', 'AUTH-4'] }));
    expect(of(r, 'AUTH-2')[0].status).toBe('pass');
    const f = of(r, 'AUTH-4')[0];
    expect(f).toMatchObject({ status: 'fail', cause: 'server-rejects-minted', severity: 'high' });
    expect(f.hint).toContain('static-auth-secret');
    expect(JSON.stringify(r)).not.toContain('wrong-secret');
  });

  test('no shared secret: no AUTH-4 at all', async () => {
    const good = mintRestCredentials(new Secret(c.secret!));
    const r = await runCheck(base({ kind: 'explicit', uris: [uri()], username: good.username, password: good.password }, { only: ['AUTH-4'] }));
    expect(of(r, 'AUTH-4')).toEqual([]);
  });

  test('AUTH-5: info by default, pass when expected, warn on mismatch', async () => {
    const creds = { kind: 'secret' as const, uris: [uri()], secret: new Secret(c.secret!) };
    const [plain, same, other] = await Promise.all([
      runCheck(base(creds, { only: ['AUTH-5'] })),
      runCheck(base(creds, { only: ['AUTH-5'], expectedRealm: 'lab.test' })),
      runCheck(base(creds, { only: ['AUTH-5'], expectedRealm: 'turn.example.org' })),
    ]);
    expect(of(plain, 'AUTH-5')[0]).toMatchObject({ status: 'info', evidence: { realm: 'lab.test' } });
    expect(of(same, 'AUTH-5')[0].status).toBe('pass');
    expect(of(other, 'AUTH-5')[0]).toMatchObject({ status: 'warn', cause: 'realm-mismatch' });
  });
});
