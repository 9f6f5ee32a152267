// Every check, once: the registry the runner runs. Order matters only within
// a scope (a unit runs its scope's checks in this order, which must put each
// check after those it needs); the test in test/unit/registry.test.ts holds
// that every catalogue id has exactly one definition here, with hint rows.
import type { CheckId } from '../checks';
import { ADV_1 } from './advertised-uris';
import { ALLOC_4 } from './allocation-quota';
import { STUN_2 } from './amplification';
import { AUTH_1, AUTH_2 } from './auth-allocate';
import { DATA_3 } from './channel-data';
import type { AnyCheckDef } from './check';
import { DNS_1 } from './dns';
import { E2E_1 } from './e2e';
import { HS_1, HS_2 } from './homeserver-turn';
import { ACL_4, ALLOC_2 } from './ipv6-relay';
import { QUAL_1 } from './path-quality';
import { ACL_1, ACL_2, ACL_3, ACL_5 } from './peer-acl';
import { NET_1 } from './reachability';
import { AUTH_5 } from './realm-consistency';
import { DATA_1, DATA_2 } from './relayed-data';
import { ALLOC_1 } from './relayed-address';
import { AUTH_3 } from './rest-expiry';
import { SEC_1 } from './server-version';
import { AUTH_4 } from './shared-secret';
import { STUN_1 } from './stun-binding';
import { TCPR_1 } from './tcp-relay';
import { TLS_1, TLS_2 } from './tls';
import { ALLOC_3 } from './transport-matrix';
import { RTC_1, RTC_2, RTC_3, RTC_4, RTC_5, RTC_6, RTC_7, RTC_8 } from '../rtc/checks';
import { XMPP_1, XMPP_2, XMPP_3, XMPP_4, XMPP_5, XMPP_6 } from './xmpp-discovery';

export const CHECK_DEFS: readonly AnyCheckDef[] = [
  // run: what the source and the URI list say (no packet sent)
  HS_1,
  HS_2,
  XMPP_1,
  XMPP_2,
  XMPP_3,
  XMPP_4,
  XMPP_5,
  XMPP_6,
  AUTH_3,
  ADV_1,
  // uri-family: one target's gate chain, then the checks on its live allocation
  NET_1,
  TLS_1,
  TLS_2,
  STUN_1,
  STUN_2,
  AUTH_1,
  AUTH_2,
  ACL_5,
  ACL_1,
  ACL_2,
  ACL_3,
  ALLOC_1,
  DATA_1,
  DATA_2,
  DATA_3,
  E2E_1,
  // uri: once per URI, after its targets
  ALLOC_2,
  ACL_4,
  TCPR_1,
  ALLOC_4,
  DNS_1,
  // run: judged over everything (SEC-1 last: every request may have seen SOFTWARE)
  ALLOC_3,
  // The quality windows, all at once, once the targets' other checks are done.
  QUAL_1,
  AUTH_4,
  AUTH_5,
  SEC_1,
  // MatrixRTC (rtc/checks.ts): the session once, then each LiveKit transport's chain
  RTC_1,
  RTC_4,
  RTC_2,
  RTC_3,
  RTC_5,
  RTC_6,
  RTC_7,
  RTC_8,
];

/** The definitions a run executes: all, or those of --only and everything they need, in registry order. */
export function selectChecks(only?: readonly CheckId[], defs: readonly AnyCheckDef[] = CHECK_DEFS): AnyCheckDef[] {
  if (!only) return [...defs];
  const byId = new Map(defs.map((d) => [d.id, d] as const));
  const want = new Set<CheckId>();
  const visit = (id: CheckId) => {
    if (want.has(id)) return;
    want.add(id);
    for (const n of byId.get(id)?.needs ?? []) visit(n);
  };
  only.forEach(visit);
  return defs.filter((d) => want.has(d.id));
}
