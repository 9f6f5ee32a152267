// The lab's Synapse: starts with TURN settings, registers a user via the
// shared-secret admin API, serves /voip/turnServer, restarts on the same port
// and data, and leaves no process behind.
import { existsSync } from 'node:fs';
import { startSynapse, type SynapseLab } from '../../scripts/lab/synapse';
import { pidAlive } from '../../scripts/lab/proc';

jest.setTimeout(120_000);

describe('lab synapse', () => {
  let hs: SynapseLab | undefined;
  afterAll(async () => {
    await hs?.stop();
  });

  test('TURN credentials from /voip/turnServer, restart, stop', async () => {
    hs = await startSynapse({
      turnUris: ['turn:127.0.0.1:3478?transport=udp', 'turns:localhost:5349?transport=tcp'],
      turnSharedSecret: 'lab-shared-secret',
      turnUserLifetime: '1h',
    });
    const alice = await hs.registerUser('alice', 'alice-password');
    expect(alice.userId).toBe('@alice:localhost');
    expect(String(alice.accessToken)).toBe('[redacted]');

    const get = async (token: string) => {
      const r = await fetch(`${hs!.url}/_matrix/client/v3/voip/turnServer`, { headers: { authorization: `Bearer ${token}` } });
      return { status: r.status, body: (await r.json()) as any };
    };
    const r = await get(alice.accessToken.reveal());
    expect(r.status).toBe(200);
    expect(r.body.uris).toEqual(['turn:127.0.0.1:3478?transport=udp', 'turns:localhost:5349?transport=tcp']);
    expect(r.body.username).toMatch(/^\d+:@alice:localhost$/);
    expect(typeof r.body.password).toBe('string');
    expect(r.body.ttl).toBe(3600);

    const again = await hs.login('alice', 'alice-password');
    expect(again.userId).toBe('@alice:localhost');
    await expect(hs.login('alice', 'wrong')).rejects.toThrow(/403/);

    // Restart keeps port and data: the old token still works.
    const oldPid = hs.pid;
    await hs.restart();
    expect(pidAlive(oldPid)).toBe(false);
    expect(hs.pid).not.toBe(oldPid);
    expect((await get(alice.accessToken.reveal())).status).toBe(200);

    const { dir } = hs;
    const pid = hs.pid;
    await hs.stop();
    await hs.stop();
    expect(pidAlive(pid)).toBe(false);
    expect(existsSync(dir)).toBe(false);
    expect(hs.log()).not.toContain('lab-shared-secret');
  });
});
