// The homeserver credential source end to end: a real Synapse hands out TURN
// credentials for a real coturn (HS-1, HS-2, AUTH-4), with an access token and
// with a password login whose temporary device is logged out afterwards; a
// Synapse without TURN (HS-1 "empty"), a wrong token, and the target guard.
import { startCoturn, startSynapse, type CoturnLab, type SynapseLab } from '../../scripts/lab';
import type { CredentialSpec } from '../../src/tester/credentials/types';
import { runCheck, RunRefusedError } from '../../src/tester/engine';
import { DEFAULT_CHECK_OPTIONS, type CheckOptions } from '../../src/tester/options';
import { toJson, type Report } from '../../src/tester/report';
import { Secret } from '../../src/tester/secret';

jest.setTimeout(120_000);

function options(credentials: CredentialSpec, extra: Partial<CheckOptions> = {}): CheckOptions {
  return { ...DEFAULT_CHECK_OPTIONS, credentials, allowPrivate: true, assumePublic: ['127.0.0.0/8', '::1/128'], quality: 'off', e2e: false, timeoutMs: 15_000, ...extra };
}

const status = (r: Report, id: string) => r.checks.filter((c) => c.id === id).map((c) => `${c.status}${c.cause ? `/${c.cause}` : ''}`);

async function deviceCount(hs: SynapseLab, token: Secret): Promise<number> {
  const res = await fetch(`${hs.url}/_matrix/client/v3/devices`, { headers: { authorization: `Bearer ${token.reveal()}` } });
  return ((await res.json()) as { devices: unknown[] }).devices.length;
}

describe('engine with a homeserver as the credential source', () => {
  let coturn: CoturnLab;
  let hs: SynapseLab;
  let bare: SynapseLab;
  let token: Secret;
  beforeAll(async () => {
    coturn = await startCoturn({});
    const u = coturn.uris('127.0.0.1');
    [hs, bare] = await Promise.all([
      // turn_user_lifetime as a bare number is milliseconds: 86400 = 86 s (HS-2's classic trap).
      startSynapse({ turnUris: [u.turnUdp, u.turnTcp], turnSharedSecret: coturn.secret!, turnUserLifetime: '86400' }),
      startSynapse({}),
    ]);
    token = (await hs.registerUser('alice', 'alice-password')).accessToken;
  });
  afterAll(async () => {
    await Promise.all([coturn?.stop(), hs?.stop(), bare?.stop()]);
  });

  test('access token: HS-1 pass, HS-2 names the ms trap, TURN works, AUTH-4 agrees with the secret', async () => {
    const r = await runCheck(options({ kind: 'homeserver', homeserver: hs.url, accessToken: token, sharedSecret: new Secret(coturn.secret!) }));
    expect(status(r, 'HS-1')).toEqual(['pass']);
    expect(status(r, 'HS-2')).toEqual(['warn/too-short']);
    expect(r.source).toEqual({ kind: 'homeserver', homeserver: hs.url });
    expect(status(r, 'AUTH-2')).toEqual(['pass', 'pass']);
    expect(status(r, 'DATA-1')).toEqual(['pass', 'pass']);
    expect(status(r, 'AUTH-4')).toContain('pass');
    expect(toJson(r)).not.toContain(token.reveal());
    expect(toJson(r)).not.toContain(coturn.secret!);
  });

  test("a secret that is not the homeserver's: AUTH-4 names the homeserver side", async () => {
    const r = await runCheck(options({ kind: 'homeserver', homeserver: hs.url, accessToken: token, sharedSecret: new Secret('not-the-secret') }));
    expect(status(r, 'AUTH-4')).toContain('fail/homeserver-secret-differs');
  });

  test('password login: the temporary device is logged out again', async () => {
    const before = await deviceCount(hs, token);
    const r = await runCheck(options({ kind: 'homeserver', homeserver: hs.url, user: 'alice', password: new Secret('alice-password') }));
    expect(status(r, 'HS-1')).toEqual(['pass']);
    expect(await deviceCount(hs, token)).toBe(before);
    expect(toJson(r)).not.toContain('alice-password');
  });

  test('a homeserver without TURN answers {}: HS-1 fail "empty", grade Fail, no crash', async () => {
    const t = (await bare.registerUser('bob', 'bob-password')).accessToken;
    const r = await runCheck(options({ kind: 'homeserver', homeserver: bare.url, accessToken: t }));
    expect(status(r, 'HS-1')).toEqual(['fail/empty']);
    expect(r.checks.find((c) => c.id === 'HS-1')?.hint).toMatch(/turn_uris/);
    expect(r.grade.overall).toBe('Fail');
    expect(r.uris).toEqual([]);
  });

  test('a wrong token is HS-1 fail with the HTTP status, not an exception', async () => {
    const r = await runCheck(options({ kind: 'homeserver', homeserver: hs.url, accessToken: new Secret('syt_wrong') }));
    expect(status(r, 'HS-1')).toEqual(['fail/http-error']);
    expect(r.checks.find((c) => c.id === 'HS-1')?.evidence).toMatchObject({ status: 401 });
  });

  test('a loopback homeserver is refused without --allow-private', async () => {
    await expect(runCheck(options({ kind: 'homeserver', homeserver: hs.url, accessToken: token }, { allowPrivate: false, assumePublic: [] }))).rejects.toThrow(RunRefusedError);
    await expect(runCheck(options({ kind: 'homeserver', homeserver: hs.url, accessToken: token }, { allowPrivate: false, assumePublic: [] }))).rejects.toThrow(/loopback/);
  });
});
