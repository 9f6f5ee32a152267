// The lab's network namespaces: two hosts on a bridge plus a root link, echo
// across (IPv4 and IPv6), a DROP rule inside a namespace, coturn inside a
// namespace reached from the test process, and a teardown that leaves no
// namespace or link behind.
import { execFileSync } from 'node:child_process';
import { connect as tlsConnect } from 'node:tls';
import { createLab, echoReachable, listLabNamespaces, startEcho, type NetLab } from '../../scripts/lab/netns';
import { stunBindingUdp } from '../../scripts/lab/coturn';
import { pidAlive } from '../../scripts/lab/proc';

jest.setTimeout(60_000);

const isRoot = process.getuid?.() === 0;
(isRoot ? describe : describe.skip)('lab netns', () => {
  let lab: NetLab | undefined;
  afterAll(async () => {
    await lab?.destroy();
  });

  test('reach across, drop, coturn inside, destroy', async () => {
    lab = await createLab({ hosts: ['client', 'turn'] });
    const { client, turn } = lab.hosts;
    expect(client.v4).toMatch(/^198\.1[89]\./);
    expect(turn.v6).toMatch(/^2001:db8:/);
    expect(client.ns).not.toBe(turn.ns);

    const port = 40000;
    const echo = startEcho(lab, 'turn', port);
    // The echo server needs a moment to bind.
    let up = false;
    for (let i = 0; i < 30 && !up; i++) up = await echoReachable(lab, 'client', turn.v4, port, 'udp', 300);
    expect(up).toBe(true);
    expect(await echoReachable(lab, 'client', turn.v6!, port, 'udp')).toBe(true);
    expect(await echoReachable(lab, 'client', turn.v4, port, 'tcp')).toBe(true);
    expect(await echoReachable(lab, null, turn.v4, port, 'udp')).toBe(true); // root link
    expect(await echoReachable(lab, null, turn.v6!, port, 'tcp')).toBe(true);

    await lab.drop('turn', { proto: 'udp', ports: [port, port + 10] });
    expect(await echoReachable(lab, 'client', turn.v4, port, 'udp')).toBe(false);
    expect(await echoReachable(lab, 'client', turn.v6!, port, 'udp')).toBe(false);
    expect(await echoReachable(lab, 'client', turn.v4, port, 'tcp')).toBe(true);
    const rules = await lab.run('turn', ['iptables', '-S', 'INPUT']);
    expect(rules).toContain('--dport 40000:40010');
    await lab.flush('turn');
    expect(await echoReachable(lab, 'client', turn.v4, port, 'udp')).toBe(true);

    // Random loss rule is accepted by the kernel.
    await lab.drop('client', { proto: 'udp', direction: 'out', probability: 0.3 });

    const coturn = await lab.startCoturn('turn', { tls: true });
    expect(coturn.listenIps).toEqual([turn.v4, turn.v6]);
    expect(await stunBindingUdp(turn.v4, coturn.port, 1000)).toBe(true);
    expect(await stunBindingUdp(turn.v6!, coturn.port, 1000)).toBe(true);
    // The generated certificate names the namespace address too.
    const proto = await new Promise<string>((resolve, reject) => {
      const s = tlsConnect({ host: turn.v4, port: coturn.tlsPort, ca: coturn.caPem, timeout: 3000 }, () => {
        resolve(s.getProtocol() ?? '?');
        s.destroy();
      });
      s.once('error', reject);
    });
    expect(proto).toMatch(/TLS/);
    expect(coturn.uris().turns).toBe(`turns:${turn.v4}:${coturn.tlsPort}?transport=tcp`);
    // Nothing listens on loopback in the root namespace for it.
    expect(await stunBindingUdp('127.0.0.1', coturn.port, 300)).toBe(false);

    const id = lab.id;
    const nsBefore = await listLabNamespaces();
    expect(nsBefore.filter((n) => n.includes(id))).toHaveLength(3);
    await lab.destroy(); // also kills the coturn and echo left inside
    await lab.destroy();
    await coturn.stop();
    expect(pidAlive(echo.pid)).toBe(false);
    expect(pidAlive(coturn.pid)).toBe(false);
    expect((await listLabNamespaces()).filter((n) => n.includes(id))).toHaveLength(0);
    expect(execFileSync('ip', ['-o', 'link', 'show']).toString()).not.toContain(`mxv${id}`);
  });

  test('bad host names are refused', async () => {
    await expect(createLab({ hosts: ['Bad Name'] })).rejects.toThrow(/bad host name/);
    await expect(createLab({ hosts: ['a', 'a'] })).rejects.toThrow(/duplicate/);
  });
});
