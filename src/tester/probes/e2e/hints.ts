// Admin-facing hints for E2E-1, keyed by cause (data, not scattered strings).
import type { E2ECause } from './outcome';

export const E2E_HINTS: Partial<Record<E2ECause, string>> = {
  'no-relay-candidate':
    'The WebRTC client got no relay candidate: check the TURN credentials (coturn `static-auth-secret` = Synapse `turn_shared_secret`), that the port is open for this transport, and for turns: the certificate. AUTH-2 and NET-1 name the exact failure.',
  'ice-failed':
    'Both peers got relay candidates but could not reach each other through the relay: allow relay-to-relay traffic on the same server (coturn `allowed-peer-ip` for its own address, `denied-peer-ip` ranges) and open the relay port range (`min-port`-`max-port`) in the firewall.',
  timeout:
    'The connection did not complete in time: a firewall may drop the relay port range (`min-port`-`max-port`) or the server is overloaded; see DATA-1 and DATA-2.',
  'wrong-transport':
    'Clients silently fell back to another transport: the advertised transport does not work, see NET-1 and AUTH-2 for it.',
  'not-relayed':
    'The test connection did not go through the relay, so it proves nothing about TURN; rerun from a host whose addresses differ from the relay address.',
  'no-echo': 'Data through the relay was altered or lost: check for middleboxes between clients and the TURN server.',
};
