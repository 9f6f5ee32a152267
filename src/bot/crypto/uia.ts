// A request behind user-interactive auth, answered with the account password
// (deleting a device, uploading cross-signing keys). The password is only sent
// when the server asks for it.
import type { MatrixClient } from 'matrix-bot-sdk';
import type { Secret } from '../../tester/secret';

interface UiaError { statusCode?: number; body?: { session?: string; flows?: { stages?: string[] }[] } }

export async function withPasswordAuth(
  client: MatrixClient, method: 'POST' | 'DELETE', path: string, body: Record<string, unknown>, userId: string, password: Secret | null,
): Promise<unknown> {
  try {
    return await client.doRequest(method, path, null, body);
  } catch (e) {
    const x = e as UiaError;
    if (x.statusCode !== 401 || !x.body?.flows) throw e;
    const offersPassword = x.body.flows.some((f) => f.stages?.length === 1 && f.stages[0] === 'm.login.password');
    if (!password || !offersPassword) throw Object.assign(new Error(password ? 'the server does not offer password auth for this' : 'the server asks for the account password, and none is configured'), { uia: true });
    return client.doRequest(method, path, null, {
      ...body,
      auth: { type: 'm.login.password', identifier: { type: 'm.id.user', user: userId }, password: password.reveal(), session: x.body.session },
    });
  }
}
