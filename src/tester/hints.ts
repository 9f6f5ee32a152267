// Every admin hint, as one table keyed by (check id, cause). Probes name the
// cause; the hint text lives here only. `{name}` placeholders are filled from
// the finding's evidence (see PLACEHOLDERS for the names and their fallbacks).
// Every id has a 'default' row, used when a cause has no row of its own.
import { CHECK_IDS, type CheckId } from './checks';
import { RTC_HINTS } from './rtc/hints';
import { Secret } from './secret';

/**
 * The server implementation a hint is written for. Rows without one are the
 * default: coturn for the TURN checks, both XMPP servers for XMPP-*.
 */
export type Implementation = 'ejabberd' | 'prosody' | 'livekit';

export interface HintRow {
  id: CheckId;
  cause: string;
  hint: string;
  impl?: Implementation;
}

/** Placeholders a hint may use: what they mean and what is shown when the evidence lacks them. */
export const PLACEHOLDERS: Record<string, { doc: string; fallback: string }> = {
  port: { doc: 'the port of the URI the finding is about', fallback: 'the TURN port' },
  relayRange: { doc: 'the relay port range, "min-max"', fallback: '49152-65535' },
  host: { doc: 'the host name of the URI', fallback: 'the TURN host' },
  address: { doc: 'the IP address probed', fallback: 'the server address' },
  relayedAddress: { doc: 'the relayed address the server handed out', fallback: 'the relayed address' },
  range: { doc: 'the special range an address fell in (guard.ts range name)', fallback: 'a non-public range' },
  ttl: { doc: 'credential lifetime in seconds', fallback: 'the lifetime' },
  version: { doc: 'the SOFTWARE string the server disclosed', fallback: 'this version' },
  fixedIn: { doc: 'the first version with the fix', fallback: 'the latest release' },
  notAfter: { doc: 'certificate expiry date', fallback: 'its expiry date' },
};

const FW = 'open 3478/udp+tcp, 5349/tcp and the relay range {relayRange}/udp';

export const HINTS: readonly HintRow[] = [
  // HS-1: /voip/turnServer
  { id: 'HS-1', cause: 'default', hint: 'Configure TURN in homeserver.yaml: `turn_uris`, `turn_shared_secret` (equal to coturn `static-auth-secret`) and `turn_user_lifetime`.' },
  { id: 'HS-1', cause: 'empty', hint: 'Synapse answers `{}` until `turn_uris`, `turn_shared_secret` (or `turn_username`/`turn_password`) and `turn_user_lifetime` are all set in homeserver.yaml; set them and restart Synapse.' },
  { id: 'HS-1', cause: 'stun-only', hint: 'homeserver.yaml `turn_uris` lists only stun: URIs, which Synapse does not hand out; add `turn:` and `turns:` URIs of your coturn.' },
  { id: 'HS-1', cause: 'malformed', hint: 'The homeserver answered without usable `uris`, `username` or `password`; check `turn_uris` and the TURN credentials in homeserver.yaml (a reverse proxy rewriting the answer can also cause this).' },
  { id: 'HS-1', cause: 'http-error', hint: 'The /voip/turnServer request failed; check the reverse proxy forwards /_matrix/client to Synapse and that guests are allowed (`turn_allow_guests`) if the account is a guest.' },
  { id: 'HS-1', cause: 'rate-limited', hint: 'The homeserver rate-limited the request; retry later or raise the `rc_*` limits for the tester account.' },
  { id: 'HS-1', cause: 'unreachable', hint: 'The homeserver could not be reached; check its URL, DNS and the reverse proxy, or `.well-known/matrix/client`.' },
  // XMPP-1..6: the XMPP front door (XEP-0215); default rows name both servers, keyed rows one.
  { id: 'XMPP-1', cause: 'default', hint: 'The tester could not log in as an XMPP client: check the JID and password, the `_xmpp-client._tcp` / `_xmpps-client._tcp` SRV records, and the server certificate.' },
  { id: 'XMPP-1', cause: 'auth', hint: 'The server refused the account\'s password (SASL not-authorized): check the password given to the tester, or reset it (`prosodyctl passwd JID`, `ejabberdctl change_password USER HOST PASS`).' },
  { id: 'XMPP-1', cause: 'tls', hint: 'The server\'s TLS certificate was not accepted for the XMPP domain: clients refuse it too; install a certificate that names the domain (Let\'s Encrypt) and reload the server.' },
  { id: 'XMPP-1', cause: 'no-tls', hint: 'The server offers no STARTTLS before authentication, so no client will send a password: configure a certificate and require encryption (Prosody `c2s_require_encryption = true`, ejabberd `starttls_required: true`).' },
  { id: 'XMPP-1', cause: 'unreachable', hint: 'No client port answered: check the `_xmpp-client._tcp` SRV record (or port 5222 on the domain), that the server listens there, and the firewall.' },
  { id: 'XMPP-1', cause: 'timeout', hint: 'The login did not finish in time: check the server is not overloaded and that nothing between drops the stream after connecting.' },
  { id: 'XMPP-1', cause: 'protocol', hint: 'The XMPP stream broke during login: check the server log for the stream error, and that the client port is the XMPP server (not a web proxy).' },
  { id: 'XMPP-1', cause: 'refused', hint: 'The XMPP server resolves to an address the tester may not probe (loopback or private): publish its public address in DNS.' },
  { id: 'XMPP-2', cause: 'default', hint: 'Enable external service discovery (XEP-0215): Prosody `modules_enabled = { "external_services" }` with `external_services`, ejabberd `mod_stun_disco`.' },
  { id: 'XMPP-2', cause: 'not-supported', hint: 'The server does not answer XEP-0215: enable Prosody\'s `external_services` module (0.12+, or `turn_external` with `turn_external_host`/`turn_external_secret`) or ejabberd\'s `mod_stun_disco`.' },
  { id: 'XMPP-2', cause: 'not-supported', impl: 'prosody', hint: 'Add "external_services" (or "turn_external") to Prosody `modules_enabled` and list your STUN/TURN in `external_services` with `external_service_secret` = coturn `static-auth-secret`; then `prosodyctl reload`.' },
  { id: 'XMPP-2', cause: 'not-supported', impl: 'ejabberd', hint: 'Enable `mod_stun_disco: {}` in ejabberd.yml `modules` (it announces the `ejabberd_stun` listeners; set `services` for an external coturn) and reload ejabberd.' },
  { id: 'XMPP-2', cause: 'forbidden', hint: 'The server denies this account external services: check Prosody `external_service_access` or ejabberd `mod_stun_disco` `access` so ordinary users are allowed.' },
  { id: 'XMPP-2', cause: 'error', hint: 'The discovery request failed with an error: check the server log for the XEP-0215 module\'s error.' },
  { id: 'XMPP-2', cause: 'timeout', hint: 'The server did not answer the discovery request: check the XEP-0215 module loads without errors (server log).' },
  { id: 'XMPP-2', cause: 'empty', hint: 'The XEP-0215 module answers with no services: list your STUN/TURN servers (Prosody `external_services`, ejabberd `mod_stun_disco` `services` or an `ejabberd_stun` listener).' },
  { id: 'XMPP-2', cause: 'empty', impl: 'prosody', hint: 'Prosody `external_services` is empty: add `{ type = "stun", transport = "udp", host = ..., port = 3478 }` and `{ type = "turn", transport = "udp", host = ..., port = 3478, secret = true }` entries.' },
  { id: 'XMPP-2', cause: 'empty', impl: 'ejabberd', hint: 'mod_stun_disco found nothing to announce: add an `ejabberd_stun` listener with `use_turn: true`, or list services in `mod_stun_disco` `services`.' },
  { id: 'XMPP-2', cause: 'stun-only', hint: 'Only STUN is advertised: add TURN services (type "turn" with credentials) so users behind symmetric NAT can call.' },
  { id: 'XMPP-2', cause: 'stun-only', impl: 'prosody', hint: 'Add `{ type = "turn", transport = "udp", host = ..., port = 3478, secret = true }` (and a "turns" entry on 443 with `algorithm = "turn"`) to Prosody `external_services`.' },
  { id: 'XMPP-2', cause: 'stun-only', impl: 'ejabberd', hint: 'Set `use_turn: true` (with `turn_ipv4_address` = the public IP) on the `ejabberd_stun` listener so mod_stun_disco announces TURN.' },
  { id: 'XMPP-2', cause: 'v1-only', hint: 'Upgrade the XEP-0215 module: current clients (Conversations, Dino, Monal) ask urn:xmpp:extdisco:2.' },
  { id: 'XMPP-3', cause: 'default', hint: 'Give every TURN service credentials: a shared secret equal to the TURN server\'s (Prosody `secret = true` + `external_service_secret`, ejabberd `mod_stun_disco` `secret`).' },
  { id: 'XMPP-3', cause: 'no-credentials', hint: 'TURN services go out without username/password: give them the TURN server\'s shared secret (Prosody `secret = true` with `external_service_secret`; ejabberd `mod_stun_disco` `secret` or `restricted: true`).' },
  { id: 'XMPP-3', cause: 'no-credentials', impl: 'prosody', hint: 'Add `secret = true` (with `external_service_secret` = coturn `static-auth-secret`) to these `external_services` entries; Prosody 0.12 mints credentials by type only for "turn", so "turns" entries also need `algorithm = "turn"`.' },
  { id: 'XMPP-3', cause: 'no-credentials', impl: 'ejabberd', hint: 'Mark the TURN entries of `mod_stun_disco` `services` `restricted: true` and set its `secret` to the TURN server\'s shared secret.' },
  { id: 'XMPP-3', cause: 'expired', hint: 'The server hands out TURN credentials that are already expired: fix the XMPP server\'s clock (NTP) and the credential lifetime (Prosody `external_service_ttl`, ejabberd `credentials_lifetime`).' },
  { id: 'XMPP-3', cause: 'expiring', hint: 'Raise the credential lifetime (Prosody `external_service_ttl`, ejabberd `mod_stun_disco` `credentials_lifetime`) to an hour or more.' },
  { id: 'XMPP-3', cause: 'bad-expires', hint: 'The `expires` attribute must be an XML date-time (e.g. 2026-01-01T12:00:00Z): check a static `expires` in the service list, or upgrade the server.' },
  { id: 'XMPP-4', cause: 'default', hint: 'The server advertises restricted services but does not hand out their credentials on request: include credentials in the services answer, or fix the credentials handler (server log).' },
  { id: 'XMPP-4', cause: 'request-failed', hint: 'Credential requests (XEP-0215 section 3.3) for restricted services fail: clients cannot use them; give those services a secret so credentials are included, or check the server log for the handler\'s error.' },
  { id: 'XMPP-5', cause: 'default', hint: 'Advertise STUN/UDP, TURN/UDP and TURNS on 443, each reachable over IPv4 and IPv6 (a host name with A and AAAA records, or one entry per address).' },
  { id: 'XMPP-5', cause: 'missing', hint: 'Add the missing variants to the service list: STUN/UDP, TURN/UDP and TURNS (TLS, port 443), each on IPv4 and IPv6 (a host with A and AAAA records covers both).' },
  { id: 'XMPP-5', cause: 'missing', impl: 'ejabberd', hint: 'Add the missing variants: an `ejabberd_stun` listener on `::` (with `turn_ipv6_address`), and one with `tls: true` on 5349 or 443, or list an external coturn in `mod_stun_disco` `services`.' },
  { id: 'XMPP-5', cause: 'no-ipv6', hint: 'No IPv6 service is advertised: give the TURN host an AAAA record (or add entries with its IPv6 address) so IPv6-only mobile clients get STUN/TURN.' },
  { id: 'XMPP-5', cause: 'no-ipv6', impl: 'prosody', hint: 'Prosody `external_services` has no IPv6 entry: use a host name with an AAAA record as `host`, or add entries with the TURN server\'s IPv6 address.' },
  { id: 'XMPP-5', cause: 'no-ipv6', impl: 'ejabberd', hint: 'Let `ejabberd_stun` listen on `::` and set `turn_ipv6_address`, so mod_stun_disco announces IPv6 services too.' },
  { id: 'XMPP-6', cause: 'default', hint: 'Check that each advertised `host` resolves to the TURN server, with the same addresses the other entries name.' },
  { id: 'XMPP-6', cause: 'no-address', hint: '{host} is advertised but has no A/AAAA record: fix the name in the service list or publish the record.' },
  { id: 'XMPP-6', cause: 'mismatch', hint: 'A host name and an address advertised for the same service disagree: one of them is stale; make the service list name one server (usually the host name only).' },
  // HS-2
  { id: 'HS-2', cause: 'default', hint: 'Set homeserver.yaml `turn_user_lifetime` to a duration between 10m and 1d (e.g. `1h`).' },
  { id: 'HS-2', cause: 'too-short', hint: 'homeserver.yaml `turn_user_lifetime` is a duration and bare numbers are milliseconds: write `1h` or `86400000`, not `86400`.' },
  { id: 'HS-2', cause: 'too-long', hint: 'Lower homeserver.yaml `turn_user_lifetime` (e.g. `1h`; clients refresh credentials): a leaked credential works for {ttl} s.' },
  // ADV-1
  { id: 'ADV-1', cause: 'default', hint: 'Advertise `turn:HOST?transport=udp`, `turn:HOST?transport=tcp` and `turns:HOST:443?transport=tcp` in homeserver.yaml `turn_uris`.' },
  { id: 'ADV-1', cause: 'unparsable', hint: 'Fix this entry of homeserver.yaml `turn_uris`: the form is `turn:host[:port][?transport=udp|tcp]` (IPv6 in brackets, no user:password@).' },
  { id: 'ADV-1', cause: 'duplicate', hint: 'Remove the duplicate from homeserver.yaml `turn_uris`: clients try every entry, so duplicates only slow ICE down.' },
  { id: 'ADV-1', cause: 'turns-udp', hint: 'Browsers do not speak TURN over DTLS: use `turns:{host}:{port}?transport=tcp` in `turn_uris` instead.' },
  { id: 'ADV-1', cause: 'turns-ip-literal', hint: 'Use a host name in `turns:` URIs (one the coturn `cert` is issued for): a certificate cannot be checked against an IP literal by most clients.' },
  { id: 'ADV-1', cause: 'no-udp-turn', hint: 'Add `turn:{host}?transport=udp` to homeserver.yaml `turn_uris` (and keep coturn `no-udp` off): UDP relaying gives the best call quality.' },
  { id: 'ADV-1', cause: 'no-stream-fallback', hint: 'Add `turn:{host}?transport=tcp` and `turns:{host}:443?transport=tcp` to `turn_uris` (coturn `tls-listening-port` with `cert`/`pkey`) for clients behind UDP-blocking firewalls.' },
  { id: 'ADV-1', cause: 'no-turn', hint: 'Add `turn:` URIs of a TURN server to homeserver.yaml `turn_uris`; STUN alone does not connect users behind symmetric NAT.' },
  // DNS-1
  { id: 'DNS-1', cause: 'default', hint: 'Publish A (and AAAA) records for {host} pointing at the TURN server.' },
  { id: 'DNS-1', cause: 'nxdomain', hint: '{host} does not exist in DNS: fix the name in `turn_uris` or add the record at your DNS provider.' },
  { id: 'DNS-1', cause: 'no-address', hint: 'Add an A (and, if the server has IPv6, AAAA) record for {host}.' },
  { id: 'DNS-1', cause: 'aaaa-silent', hint: 'The AAAA record of {host} leads nowhere: make coturn listen on IPv6 (`listening-ip` with the IPv6 address, `relay-ip` too) and open the firewall for IPv6, or remove the AAAA record.' },
  { id: 'DNS-1', cause: 'a-silent', hint: 'An A record of {host} leads nowhere: remove stale A records or make coturn listen there (`listening-ip`).' },
  // NET-1
  { id: 'NET-1', cause: 'default', hint: `Check that coturn listens on {address} port {port} and the firewall lets it through (${FW}).` },
  { id: 'NET-1', cause: 'refused', hint: 'Nothing listens on {address} port {port}: check coturn `listening-port`/`tls-listening-port`, `listening-ip`, and that `no-udp`/`no-tcp`/`no-tls` are not set for this transport.' },
  { id: 'NET-1', cause: 'filtered', hint: `Packets to {address} port {port} are dropped silently, usually by a firewall or cloud security group: ${FW}.` },
  { id: 'NET-1', cause: 'unreachable', hint: 'The tester has no route to {address}: check the address in DNS is right and routed (a wrong AAAA or a private address published in public DNS).' },
  // TLS-1
  { id: 'TLS-1', cause: 'default', hint: 'Fix the certificate coturn serves (`cert` = full chain, `pkey` = key) and reload coturn after renewing.' },
  { id: 'TLS-1', cause: 'expired', hint: 'The certificate expired ({notAfter}): renew it and make the renewal hook reload coturn (`cert`/`pkey` point at the renewed files).' },
  { id: 'TLS-1', cause: 'not-yet-valid', hint: 'The certificate is not valid yet: check the server clock (NTP) or wait for the certificate start date.' },
  { id: 'TLS-1', cause: 'hostname-mismatch', hint: 'The certificate does not name {host}: issue one that includes {host} and point coturn `cert`/`pkey` at it.' },
  { id: 'TLS-1', cause: 'untrusted', hint: 'The certificate is self-signed or from an unknown CA: use a publicly trusted one (e.g. Let\'s Encrypt) in coturn `cert`.' },
  { id: 'TLS-1', cause: 'incomplete-chain', hint: 'The server sends no intermediate certificate: point coturn `cert` at the full chain (fullchain.pem), not the leaf alone.' },
  { id: 'TLS-1', cause: 'expiring-soon', hint: 'The certificate expires soon ({notAfter}): check that automatic renewal runs and reloads coturn.' },
  { id: 'TLS-1', cause: 'old-tls', hint: 'Only TLS below 1.2 was offered: set coturn `no-tlsv1` and `no-tlsv1_1` and use a current OpenSSL.' },
  { id: 'TLS-1', cause: 'handshake-failed', hint: 'The TLS handshake failed: check coturn `cert`/`pkey` are readable by the coturn user and `cipher-list` is not too strict.' },
  // TLS-2
  { id: 'TLS-2', cause: 'default', hint: 'Port {port} on {address} is not served by coturn: give coturn its own IP for 443, or put a TLS/ALPN-aware proxy in front that passes TURN through.' },
  { id: 'TLS-2', cause: 'http-answer', hint: 'A web server answers on {address}:{port}: give coturn `tls-listening-port=443` on its own IP (`listening-ip`), or route by SNI/ALPN in the proxy.' },
  { id: 'TLS-2', cause: 'web-certificate', hint: 'The certificate on {address}:{port} belongs to the web site, not coturn: 443 is taken by the web server; give coturn its own address for 443.' },
  // STUN-1
  { id: 'STUN-1', cause: 'default', hint: 'Make coturn answer STUN Binding on 3478/udp (`listening-port`, and `no-udp` off) and open 3478/udp in the firewall.' },
  { id: 'STUN-1', cause: 'no-answer', hint: 'No STUN answer on {address}:{port}: check coturn runs with UDP enabled (no `no-udp`, no `stun-only` mix-up) and 3478/udp is open.' },
  { id: 'STUN-1', cause: 'auth-required', hint: 'coturn requires credentials for STUN Binding: remove `secure-stun` from turnserver.conf (browsers send unauthenticated Binding requests).' },
  { id: 'STUN-1', cause: 'mapped-mismatch', hint: 'The mapped address is not the tester\'s public address: a NAT or proxy between rewrites packets; run coturn on a public address or set `external-ip`.' },
  { id: 'STUN-1', cause: 'no-mapped-address', hint: 'The Binding answer carries no XOR-MAPPED-ADDRESS: the server is not a standard STUN server or is misconfigured; check it is coturn answering on {port}.' },
  { id: 'STUN-1', cause: 'not-stun', hint: 'Something other than STUN answers on {address}:{port} (another service owns the port): move it away or point the URI at coturn\'s `listening-port`.' },
  { id: 'STUN-1', cause: 'binding-ignored', hint: 'The port answers TURN but ignores STUN Binding on {address}:{port}: check coturn does not run with `no-stun`, and that no firewall rule filters Binding requests (browsers need STUN for their own address).' },
  { id: 'STUN-1', cause: 'error', hint: 'The server answers STUN Binding with an error: check coturn logs, and that `secure-stun` and `stun-only`/`no-stun` are not set.' },
  // STUN-2
  { id: 'STUN-2', cause: 'default', hint: 'Reduce the reflection surface: set coturn `no-rfc5780` and `no-stun-backward-compatibility`.' },
  { id: 'STUN-2', cause: 'rfc5780', hint: 'RFC 5780 NAT-behaviour discovery is on (OTHER-ADDRESS/RESPONSE-ORIGIN): set coturn `no-rfc5780` unless you need it; it enlarges answers used for amplification.' },
  { id: 'STUN-2', cause: 'amplification', hint: 'Unauthenticated answers are much larger than requests: set coturn `no-rfc5780`, `no-software-attribute` and `no-stun-backward-compatibility`.' },
  { id: 'STUN-2', cause: 'response-origin', hint: 'coturn adds RESPONSE-ORIGIN to every Binding answer even without RFC 5780: set `response-origin-only-with-rfc5780` (and `no-rfc5780`) in turnserver.conf.' },
  // AUTH-1
  { id: 'AUTH-1', cause: 'default', hint: 'coturn relays without credentials: remove `no-auth`, set `use-auth-secret` with `static-auth-secret` (or `lt-cred-mech` with users).' },
  { id: 'AUTH-1', cause: 'open-relay', hint: 'This is an open relay anyone can abuse: remove `no-auth` from turnserver.conf and set `use-auth-secret` + `static-auth-secret` (the same value as Synapse `turn_shared_secret`).' },
  // AUTH-2
  { id: 'AUTH-2', cause: 'default', hint: 'Make Synapse `turn_shared_secret` and coturn `static-auth-secret` identical, with `use-auth-secret` enabled in turnserver.conf.' },
  { id: 'AUTH-2', cause: 'wrong-secret', hint: 'The secrets differ: homeserver.yaml `turn_shared_secret` must equal turnserver.conf `static-auth-secret` (and `use-auth-secret` must be set); restart both after changing.' },
  { id: 'AUTH-2', cause: 'expired', hint: 'The credentials were already expired: check the homeserver clock (NTP) and `turn_user_lifetime` (a duration; bare numbers are milliseconds).' },
  { id: 'AUTH-2', cause: 'rejected', hint: 'The TURN server rejects these credentials: check `use-auth-secret`/`static-auth-secret` in turnserver.conf match Synapse `turn_shared_secret`, and that `realm` is set.' },
  { id: 'AUTH-2', cause: 'bad-request', hint: 'The server answered 400 to an authenticated Allocate (Pion/LiveKit style rejection): check its shared secret or user list matches the homeserver\'s.' },
  { id: 'AUTH-2', cause: 'quota', hint: 'coturn refused the allocation for quota (486): raise turnserver.conf `user-quota`/`total-quota` or remove them.' },
  { id: 'AUTH-2', cause: 'capacity', hint: 'coturn has no free relay port (508): widen `min-port`/`max-port` (e.g. 49152-65535) or check for leaked allocations.' },
  { id: 'AUTH-2', cause: 'forbidden', hint: 'coturn forbids allocations for this user (403): check `denied-peer-ip`/`allowed-peer-ip`, the user database and any `no-udp-relay`/`no-tcp-relay` setting.' },
  // AUTH-3
  { id: 'AUTH-3', cause: 'default', hint: 'Check the homeserver clock (NTP) and `turn_user_lifetime` in homeserver.yaml.' },
  { id: 'AUTH-3', cause: 'expired', hint: 'The homeserver issues credentials that are already expired: fix its clock (NTP) and `turn_user_lifetime` (a duration; bare numbers are milliseconds).' },
  { id: 'AUTH-3', cause: 'too-long', hint: 'Credentials stay valid for over a day: lower homeserver.yaml `turn_user_lifetime` (e.g. `1h`).' },
  // AUTH-4
  { id: 'AUTH-4', cause: 'default', hint: 'Set the same value in homeserver.yaml `turn_shared_secret` and turnserver.conf `static-auth-secret`.' },
  { id: 'AUTH-4', cause: 'homeserver-secret-differs', hint: 'The homeserver\'s `turn_shared_secret` differs from the TURN server\'s `static-auth-secret`: copy one to the other and restart Synapse.' },
  { id: 'AUTH-4', cause: 'server-rejects-minted', hint: 'The TURN server rejects credentials minted with the secret you gave: check turnserver.conf `use-auth-secret` and `static-auth-secret` (no quotes, no trailing space), and that no `lt-cred-mech` user list overrides it.' },
  // AUTH-5
  { id: 'AUTH-5', cause: 'default', hint: 'Set coturn `realm` explicitly (e.g. your TURN host name) so every listener uses the same realm.' },
  { id: 'AUTH-5', cause: 'realm-mismatch', hint: 'The realm differs from the expected one: set turnserver.conf `realm` to the same value on every coturn instance behind {host}.' },
  { id: 'AUTH-5', cause: 'stale-realm', hint: 'The server changed realm between requests (437): instances behind one name disagree; give them the same `realm`.' },
  { id: 'AUTH-5', cause: 'inconsistent', hint: 'The addresses of {host} announce different realms: set the same turnserver.conf `realm` on every coturn instance (and listener) behind that name.' },
  // ALLOC-1
  { id: 'ALLOC-1', cause: 'default', hint: 'Set coturn `external-ip=PUBLIC_IP/PRIVATE_IP` when it runs behind NAT, so relayed addresses are public.' },
  { id: 'ALLOC-1', cause: 'private-relay', hint: 'The relayed address {relayedAddress} is not public ({range}): coturn runs behind NAT without `external-ip`; set `external-ip=PUBLIC_IP/PRIVATE_IP` (and `relay-ip=PRIVATE_IP`) in turnserver.conf.' },
  // ALLOC-2
  { id: 'ALLOC-2', cause: 'default', hint: 'Give coturn an IPv6 relay address (`relay-ip` with the server\'s IPv6 address, `listening-ip` too) so IPv6-only peers can be reached.' },
  { id: 'ALLOC-2', cause: 'no-ipv6-relay', hint: 'coturn has no IPv6 relay address (440): add the server\'s IPv6 address as `relay-ip` (and `listening-ip`) in turnserver.conf.' },
  // ALLOC-3
  { id: 'ALLOC-3', cause: 'default', hint: 'Make TURN work over UDP, TCP and TLS: coturn `listening-port`, `tls-listening-port` with `cert`/`pkey`, and advertise all three in `turn_uris`.' },
  { id: 'ALLOC-3', cause: 'no-transport', hint: 'No transport gave a working relay: fix the first failing check of each URI above (firewall, credentials, `external-ip`).' },
  // ALLOC-4
  { id: 'ALLOC-4', cause: 'default', hint: 'Raise coturn `user-quota` (and `total-quota`): each device of a user holds one allocation per URI during a call.' },
  { id: 'ALLOC-4', cause: 'quota', hint: 'coturn refused a 2nd/3rd allocation (486): raise turnserver.conf `user-quota` to at least URIs x devices (e.g. 12) or remove it.' },
  // DATA-1
  { id: 'DATA-1', cause: 'default', hint: `Relayed data did not flow: ${FW} and check coturn \`external-ip\`.` },
  { id: 'DATA-1', cause: 'inbound-missing', hint: 'Packets to the relayed address never reach coturn: open the relay port range {relayRange}/udp inbound in the firewall or security group (coturn `min-port`/`max-port`), and check `external-ip` maps to this host.' },
  { id: 'DATA-1', cause: 'outbound-missing', hint: 'The relay cannot send to peers: allow outbound UDP from coturn\'s relay ports {relayRange}, and check `denied-peer-ip` does not cover ordinary public addresses.' },
  { id: 'DATA-1', cause: 'both-missing', hint: 'No relayed data in either direction: open the relay range {relayRange}/udp both ways and set `external-ip` correctly (a wrong public IP hands out an address nobody can reach).' },
  { id: 'DATA-1', cause: 'wrong-external-ip', hint: 'Set coturn `external-ip` to the public address the relay really sends from (`external-ip=PUBLIC/PRIVATE` behind 1:1 NAT): clients are told to send to an address that does not reach coturn.' },
  { id: 'DATA-1', cause: 'port-changed', hint: 'A NAT in front of coturn rewrites relay ports, so peers answer the wrong port: forward the relay range {relayRange}/udp 1:1 and set `external-ip`, or run coturn on the public address.' },
  { id: 'DATA-1', cause: 'permission-denied', hint: 'coturn refused a permission for an ordinary public peer (403): `denied-peer-ip` is too broad; narrow it to private and special ranges.' },
  { id: 'DATA-1', cause: 'permission-failed', hint: 'CreatePermission failed: check coturn logs for the error and that the allocation was not deleted early (`max-allocate-lifetime`).' },
  // DATA-2
  { id: 'DATA-2', cause: 'default', hint: 'Let the relay reach its own relayed addresses: add `allowed-peer-ip=<the server\'s public IP>` to turnserver.conf.' },
  { id: 'DATA-2', cause: 'self-denied', hint: 'coturn denies permissions to its own relay address (403), so two users both behind TURN cannot talk: add `allowed-peer-ip=<public IP>` (it wins over `denied-peer-ip`).' },
  { id: 'DATA-2', cause: 'silent', hint: 'Relay-to-relay data got lost: the server probably cannot reach its own public IP (hairpin NAT); set `allowed-peer-ip` and check `external-ip`.' },
  { id: 'DATA-2', cause: 'permission-failed', hint: 'A permission between two relays on this server failed: check coturn logs and `denied-peer-ip`/`allowed-peer-ip`.' },
  // DATA-3
  { id: 'DATA-3', cause: 'default', hint: 'ChannelData over TCP/TLS arrived damaged: update coturn, or check a proxy in front of it is not rewriting the stream.' },
  { id: 'DATA-3', cause: 'corrupted', hint: 'ChannelData framing over a stream transport broke: a TLS/TCP proxy in front of coturn may be buffering or rewriting; connect clients to coturn directly.' },
  { id: 'DATA-3', cause: 'lost', hint: 'ChannelData over TCP/TLS never arrives although Send/Data works: a proxy in front of coturn may drop non-STUN frames; connect clients to coturn directly or update coturn.' },
  { id: 'DATA-3', cause: 'bind-failed', hint: 'ChannelBind to an ordinary peer failed: check coturn logs and that `denied-peer-ip` does not cover public addresses (browsers use channels for all media).' },
  // QUAL-1
  { id: 'QUAL-1', cause: 'default', hint: 'Path quality is poor: check the server\'s network load and bandwidth limits (`max-bps`, `bps-capacity`).' },
  { id: 'QUAL-1', cause: 'high-rtt', hint: 'Round trips through the relay are slow: host TURN closer to your users, or check the server is not CPU-bound.' },
  { id: 'QUAL-1', cause: 'jitter', hint: 'Jitter through the relay is high: the server or its uplink is congested; check load and `max-bps`.' },
  { id: 'QUAL-1', cause: 'loss', hint: 'Packets are lost through the relay: check the server uplink, `max-bps`/`bps-capacity`, and UDP rate limits in the firewall.' },
  { id: 'QUAL-1', cause: 'low-goodput', hint: 'Throughput through the relay is low: raise or remove coturn `max-bps` and `bps-capacity`.' },
  // E2E-1
  { id: 'E2E-1', cause: 'default', hint: 'A real WebRTC connection through this relay failed although the TURN checks passed: check `external-ip` and the relay range {relayRange}/udp.' },
  { id: 'E2E-1', cause: 'no-relay-candidate', hint: 'The WebRTC stack got no relay candidate from this URI: check the credentials and that the URI is reachable from clients.' },
  { id: 'E2E-1', cause: 'no-connection', hint: 'ICE found relay candidates but no connection: open the relay range {relayRange}/udp and set `external-ip`.' },
  { id: 'E2E-1', cause: 'ice-failed', hint: 'ICE failed through this relay: open the relay range {relayRange}/udp and check `external-ip` (a wrong public IP gives candidates nobody can reach).' },
  { id: 'E2E-1', cause: 'timeout', hint: 'WebRTC did not connect through this relay in time: check the relay range {relayRange}/udp and `external-ip`.' },
  { id: 'E2E-1', cause: 'no-echo', hint: 'A data channel opened but no data came back: relayed traffic is lost one way; check the relay range {relayRange}/udp both ways.' },
  { id: 'E2E-1', cause: 'wrong-transport', hint: 'The WebRTC stack fell back to another transport than this URI\'s: the advertised transport does not work for real clients; see NET-1 and DATA-1 for it.' },
  { id: 'E2E-1', cause: 'not-relayed', hint: 'The test connection did not use the relay, so it says nothing about TURN; run the check from a network where direct paths are blocked.' },
  // ACL-*
  { id: 'ACL-5', cause: 'default', hint: 'The server denied a permission to an ordinary public address: `denied-peer-ip` is too broad; the other ACL results mean nothing until this passes.' },
  { id: 'ACL-5', cause: 'control-denied', hint: 'A permission to the tester\'s own public address was refused: narrow turnserver.conf `denied-peer-ip` so it covers only private and special ranges.' },
  { id: 'ACL-1', cause: 'default', hint: 'The relay can reach the server\'s own loopback (CVE-2020-26262): remove `allow-loopback-peers`, set `no-loopback-peers` on old versions, add `denied-peer-ip=0.0.0.0-0.255.255.255` and `denied-peer-ip=127.0.0.0-127.255.255.255`, and upgrade coturn.' },
  { id: 'ACL-1', cause: 'loopback-allowed', hint: 'Loopback peers are allowed (CVE-2020-26262): remove `allow-loopback-peers`, add `denied-peer-ip=127.0.0.0-127.255.255.255` and `denied-peer-ip=0.0.0.0-0.255.255.255` (and `::1`, `::`), and upgrade to coturn >= 4.5.2.' },
  { id: 'ACL-2', cause: 'default', hint: 'The relay can reach link-local addresses such as the cloud metadata service: add `denied-peer-ip=169.254.0.0-169.254.255.255` and `denied-peer-ip=fe80::-febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff`.' },
  { id: 'ACL-2', cause: 'link-local-allowed', hint: 'The relay reaches link-local peers such as the cloud metadata service 169.254.169.254: add `denied-peer-ip=169.254.0.0-169.254.255.255` and `denied-peer-ip=fe80::-febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff`.' },
  { id: 'ACL-3', cause: 'default', hint: 'The relay can reach private networks (coturn allows RFC 1918 by default): add `denied-peer-ip` lines for 10.0.0.0-10.255.255.255, 172.16.0.0-172.31.255.255, 192.168.0.0-192.168.255.255, 100.64.0.0-100.127.255.255 and fc00::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff.' },
  { id: 'ACL-3', cause: 'private-allowed', hint: 'The relay reaches private networks (coturn allows RFC 1918 by default): add `denied-peer-ip` lines for 10.0.0.0-10.255.255.255, 172.16.0.0-172.31.255.255, 192.168.0.0-192.168.255.255, 100.64.0.0-100.127.255.255 and fc00::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff.' },
  { id: 'ACL-4', cause: 'default', hint: 'The IPv6 relay reaches IPv4 internals via mapped or NAT64 addresses: add `denied-peer-ip=::ffff:0.0.0.0-::ffff:255.255.255.255` and `denied-peer-ip=64:ff9b::-64:ff9b::ffff:ffff`, and upgrade coturn.' },
  { id: 'ACL-4', cause: 'mapped-allowed', hint: 'IPv4-mapped peers (::ffff:127.0.0.1) bypass the IPv4 deny list: add `denied-peer-ip=::ffff:0.0.0.0-::ffff:255.255.255.255` and upgrade coturn.' },
  { id: 'ACL-4', cause: 'nat64-allowed', hint: 'NAT64 peers (64:ff9b::/96) reach IPv4 internals: add `denied-peer-ip=64:ff9b::-64:ff9b::ffff:ffff`.' },
  { id: 'TCPR-1', cause: 'default', hint: 'RFC 6062 TCP relaying is on, which lets clients open TCP connections anywhere the server reaches: set `no-tcp-relay` in turnserver.conf (WebRTC does not need it).' },
  { id: 'TCPR-1', cause: 'tcp-relay-enabled', hint: 'RFC 6062 TCP relaying is on: set `no-tcp-relay` in turnserver.conf; browsers never use it and it lets clients open TCP connections from your server.' },
  // SEC-1
  { id: 'SEC-1', cause: 'default', hint: 'Hide the version: set `no-software-attribute` in turnserver.conf (coturn 4.6 name).' },
  { id: 'SEC-1', cause: 'disclosed', hint: 'The server discloses its version ({version}): set `no-software-attribute` in turnserver.conf.' },
  { id: 'SEC-1', cause: 'vulnerable', hint: '{version} has known vulnerabilities fixed in {fixedIn}: upgrade coturn, then set `no-software-attribute`.' },
  // ejabberd's built-in STUN/TURN (ejabberd_stun listener, mod_stun_disco): its settings instead of coturn's.
  { id: 'NET-1', cause: 'default', impl: 'ejabberd', hint: 'Nothing answers on {address} port {port}: check the `ejabberd_stun` listener (`port`, `ip`, `transport`) in ejabberd.yml matches what mod_stun_disco advertises, and the firewall.' },
  { id: 'STUN-1', cause: 'default', impl: 'ejabberd', hint: 'Add an `ejabberd_stun` listener with `transport: udp` on 3478 in ejabberd.yml `listen` and open 3478/udp.' },
  { id: 'AUTH-1', cause: 'default', impl: 'ejabberd', hint: 'ejabberd relays without credentials: set `auth_type: user` on the `ejabberd_stun` listener (not `anonymous`).' },
  { id: 'AUTH-2', cause: 'default', impl: 'ejabberd', hint: 'ejabberd\'s TURN rejects the credentials mod_stun_disco handed out: check `auth_type: user` and `auth_realm` on the `ejabberd_stun` listener, and that `mod_stun_disco` `secret` is the same on every node.' },
  { id: 'ALLOC-1', cause: 'default', impl: 'ejabberd', hint: 'Set `turn_ipv4_address` (and `turn_ipv6_address`) on the `ejabberd_stun` listener to the public address when ejabberd runs behind NAT.' },
  { id: 'ALLOC-2', cause: 'default', impl: 'ejabberd', hint: 'Give ejabberd\'s TURN an IPv6 relay: set `turn_ipv6_address` on the `ejabberd_stun` listener (ejabberd 20.04+).' },
  { id: 'DATA-1', cause: 'default', impl: 'ejabberd', hint: 'Relayed data did not flow: open the relay range {relayRange}/udp (`turn_min_port`/`turn_max_port` of the `ejabberd_stun` listener) and check `turn_ipv4_address`.' },
  { id: 'ACL-1', cause: 'default', impl: 'ejabberd', hint: 'ejabberd\'s TURN relays to the server\'s own loopback: add "127.0.0.0/8" and "::1/128" to `turn_blacklist` of the `ejabberd_stun` listener (ejabberd 22.05+; upgrade if it lacks the option).' },
  { id: 'ACL-2', cause: 'default', impl: 'ejabberd', hint: 'ejabberd\'s TURN relays to link-local peers (cloud metadata): add "169.254.0.0/16" and "fe80::/10" to `turn_blacklist` of the `ejabberd_stun` listener.' },
  { id: 'ACL-3', cause: 'default', impl: 'ejabberd', hint: 'ejabberd\'s TURN relays to private networks: add "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10" and "fc00::/7" to `turn_blacklist` of the `ejabberd_stun` listener.' },
  { id: 'ACL-4', cause: 'default', impl: 'ejabberd', hint: 'ejabberd\'s IPv6 relay reaches IPv4 internals via mapped/NAT64 addresses: add "::ffff:0:0/96" and "64:ff9b::/96" to `turn_blacklist`.' },
  { id: 'SEC-1', cause: 'default', impl: 'ejabberd', hint: 'ejabberd\'s STUN/TURN names itself ({version}): set `server_name` on the `ejabberd_stun` listener to a neutral value.' },
  ...RTC_HINTS,
];

const INDEX: ReadonlyMap<string, string> = new Map(HINTS.map((r) => [`${r.id}\u0000${r.cause}${r.impl ? `\u0000${r.impl}` : ''}`, r.hint]));

/** The causes the table knows for one check id. */
export function causesFor(id: CheckId): string[] {
  return [...new Set(HINTS.filter((r) => r.id === id).map((r) => r.cause))];
}

const SENSITIVE_KEY = /(pass(word)?|passwd|secret|token)$/i;

function fillValue(name: string, evidence: Record<string, unknown>): string {
  const spec = PLACEHOLDERS[name];
  const value = SENSITIVE_KEY.test(name) ? undefined : evidence[name];
  if (value === undefined || value === null || value instanceof Secret || typeof value === 'object' || typeof value === 'function') {
    return spec?.fallback ?? name;
  }
  // Evidence can come from the server (SOFTWARE, host names): keep it short, on one
  // line, and free of characters that could form Markdown or HTML, because
  // renderers treat hint text as trusted Markdown.
  return String(value)
    .slice(0, 120)
    .replace(/[^A-Za-z0-9 .:\/+=,()%'-]/g, '?');
}

/**
 * The hint for (id, cause), falling back to the id's default; placeholders
 * filled from evidence. With an implementation, its own rows come first
 * (cause, then its default): another server's setting names would mislead.
 */
export function hintFor(id: CheckId, cause: string | undefined, evidence: Record<string, unknown> = {}, impl?: Implementation): string | null {
  const c = cause ?? 'default';
  const template =
    (impl ? (INDEX.get(`${id}\u0000${c}\u0000${impl}`) ?? INDEX.get(`${id}\u0000default\u0000${impl}`)) : undefined) ??
    INDEX.get(`${id}\u0000${c}`) ??
    INDEX.get(`${id}\u0000default`);
  if (template === undefined) return null;
  return template.replace(/\{([A-Za-z][A-Za-z0-9]*)\}/g, (_m, name: string) => fillValue(name, evidence));
}

/** Placeholder names used in the table (for the completeness test). */
export function placeholdersUsed(): string[] {
  const names = new Set<string>();
  for (const r of HINTS) for (const m of r.hint.matchAll(/\{([A-Za-z][A-Za-z0-9]*)\}/g)) names.add(m[1]!);
  return [...names];
}

/** Ids of the catalogue without any hint (should be empty; the test checks it). */
export function idsWithoutHints(): CheckId[] {
  return CHECK_IDS.filter((id) => !INDEX.has(`${id}\u0000default`));
}

/**
 * The TURN implementation, recognised from its SOFTWARE attribute (ejabberd's
 * built-in TURN says "P1 STUN library"); undefined = coturn or unknown (default rows).
 */
export function turnImplementation(software: string | null | undefined): Implementation | undefined {
  if (!software) return undefined;
  return /p1 stun|ejabberd/i.test(software) ? 'ejabberd' : undefined;
}

/** The XMPP server implementation from its XEP-0092 name. */
export function xmppImplementation(name: string | null | undefined): Implementation | undefined {
  if (!name) return undefined;
  if (/prosody/i.test(name)) return 'prosody';
  if (/ejabberd/i.test(name)) return 'ejabberd';
  return undefined;
}

/** Findings with their hints re-chosen for an implementation (warn/fail ones only; others keep none). */
export function withImplementationHints<F extends { id: CheckId; status: string; cause?: string; evidence: Record<string, unknown>; hint: string | null }>(findings: readonly F[], impl: Implementation | undefined): F[] {
  if (!impl) return [...findings];
  return findings.map((f) => (f.status === 'warn' || f.status === 'fail' ? { ...f, hint: hintFor(f.id, f.cause, f.evidence, impl) } : f));
}
