// STUN/TURN numbers (RFC 8489, RFC 8656, RFC 5780, RFC 6156, RFC 8016), as tables.

export const MAGIC_COOKIE = 0x2112a442;
export const HEADER_LENGTH = 20;
/** The 16-bit length field caps a message at 20 + 65535 bytes (rounded down to a multiple of 4). */
export const MAX_MESSAGE_LENGTH = HEADER_LENGTH + 0xfffc;

export type StunClass = 'request' | 'indication' | 'success' | 'error';

/** Class bits C1 (0x100) and C0 (0x010) of the message type. */
export const CLASS_BITS: Record<StunClass, number> = {
  request: 0x000,
  indication: 0x010,
  success: 0x100,
  error: 0x110,
};

export const METHOD = {
  Binding: 0x001,
  Allocate: 0x003,
  Refresh: 0x004,
  Send: 0x006,
  Data: 0x007,
  CreatePermission: 0x008,
  ChannelBind: 0x009,
  Connect: 0x00a,
  ConnectionBind: 0x00b,
  ConnectionAttempt: 0x00c,
} as const;
export type MethodName = keyof typeof METHOD;

const METHOD_NAMES = new Map<number, MethodName>(
  (Object.keys(METHOD) as MethodName[]).map((k) => [METHOD[k], k]),
);
/** A readable method name; unknown methods render as hex. */
export function methodName(method: number): string {
  return METHOD_NAMES.get(method) ?? `0x${method.toString(16).padStart(3, '0')}`;
}

export const ATTR = {
  MAPPED_ADDRESS: 0x0001,
  CHANGE_REQUEST: 0x0003,
  USERNAME: 0x0006,
  MESSAGE_INTEGRITY: 0x0008,
  ERROR_CODE: 0x0009,
  UNKNOWN_ATTRIBUTES: 0x000a,
  CHANNEL_NUMBER: 0x000c,
  LIFETIME: 0x000d,
  XOR_PEER_ADDRESS: 0x0012,
  DATA: 0x0013,
  REALM: 0x0014,
  NONCE: 0x0015,
  XOR_RELAYED_ADDRESS: 0x0016,
  REQUESTED_ADDRESS_FAMILY: 0x0017,
  EVEN_PORT: 0x0018,
  REQUESTED_TRANSPORT: 0x0019,
  DONT_FRAGMENT: 0x001a,
  MESSAGE_INTEGRITY_SHA256: 0x001c,
  PASSWORD_ALGORITHM: 0x001d,
  USERHASH: 0x001e,
  XOR_MAPPED_ADDRESS: 0x0020,
  RESERVATION_TOKEN: 0x0022,
  PRIORITY: 0x0024,
  USE_CANDIDATE: 0x0025,
  PADDING: 0x0026,
  RESPONSE_PORT: 0x0027,
  CONNECTION_ID: 0x002a,
  ADDITIONAL_ADDRESS_FAMILY: 0x8000,
  ADDRESS_ERROR_CODE: 0x8001,
  PASSWORD_ALGORITHMS: 0x8002,
  ALTERNATE_DOMAIN: 0x8003,
  ICMP: 0x8004,
  SOFTWARE: 0x8022,
  ALTERNATE_SERVER: 0x8023,
  TRANSACTION_TRANSMIT_COUNTER: 0x8025,
  CACHE_TIMEOUT: 0x8027,
  FINGERPRINT: 0x8028,
  ICE_CONTROLLED: 0x8029,
  ICE_CONTROLLING: 0x802a,
  RESPONSE_ORIGIN: 0x802b,
  OTHER_ADDRESS: 0x802c,
} as const;
export type AttrName = keyof typeof ATTR;

const ATTR_NAMES = new Map<number, AttrName>((Object.keys(ATTR) as AttrName[]).map((k) => [ATTR[k], k]));
export function attrName(type: number): string {
  return ATTR_NAMES.get(type) ?? `0x${type.toString(16).padStart(4, '0')}`;
}


/** FINGERPRINT is CRC-32 of the message XOR this constant ("STUN"). */
export const FINGERPRINT_XOR = 0x5354554e;

/** Address family codes inside address attributes and REQUESTED-ADDRESS-FAMILY. */
export const FAMILY_CODE = { ipv4: 0x01, ipv6: 0x02 } as const;

/** IANA protocol numbers for REQUESTED-TRANSPORT. */
export const TRANSPORT_PROTOCOL = { udp: 17, tcp: 6 } as const;

/** ChannelData channel numbers (RFC 8656 section 12). */
export const CHANNEL_MIN = 0x4000;
export const CHANNEL_MAX = 0x7fff;
