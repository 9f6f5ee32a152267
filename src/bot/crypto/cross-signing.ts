// Cross-signing bootstrapped by the bot, so Element shows its device as
// verified by its owner: master, self-signing and user-signing keys made by the
// crypto machine, uploaded (the server asks for the password), and our device
// signed. Done once: the private keys stay in the crypto store.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MatrixClient } from 'matrix-bot-sdk';
import type { OlmMachine } from '@matrix-org/matrix-sdk-crypto-nodejs';
import type { Secret } from '../../tester/secret';
import { withPasswordAuth } from './uia';

export type CrossSigningResult = 'already' | 'bootstrapped' | 'needs-password';

/** Written once the server took our keys (the store alone cannot tell an upload that was refused). */
const DONE_FILE = 'cross-signing.done';

export async function ensureCrossSigning(client: MatrixClient, machine: OlmMachine, storeDir: string, userId: string, password: Secret | null): Promise<CrossSigningResult> {
  const s = await machine.crossSigningStatus();
  // Done before with this store: bootstrapping again would change our identity for everyone.
  if (s.hasMaster && s.hasSelfSigning && s.hasUserSigning && existsSync(join(storeDir, DONE_FILE))) return 'already';
  const r = await machine.bootstrapCrossSigning(true);
  if (r.uploadKeys) {
    const resp = await client.doRequest('POST', '/_matrix/client/v3/keys/upload', null, JSON.parse(r.uploadKeys.body));
    await machine.markRequestAsSent(r.uploadKeys.id, r.uploadKeys.type, JSON.stringify(resp));
  }
  try {
    // Synapse lets a first upload through without auth; replacing keys needs the password.
    await withPasswordAuth(client, 'POST', '/_matrix/client/v3/keys/device_signing/upload', JSON.parse(r.signingKeysBody), userId, password);
  } catch (e) {
    if ((e as { uia?: boolean }).uia) return 'needs-password';
    throw e;
  }
  await client.doRequest('POST', '/_matrix/client/v3/keys/signatures/upload', null, JSON.parse(r.signaturesBody));
  writeFileSync(join(storeDir, DONE_FILE), `${new Date().toISOString()}\n`);
  return 'bootstrapped';
}
