// Types of the wasm-backed binding (index.js): what matrix-bot-sdk uses, plus mx-voiptest's extras.
export declare const StoreType: { readonly Sled: 0; readonly Sqlite: 1 };
export type StoreType = 0 | 1;
export declare const RequestType: { KeysUpload: 0; KeysQuery: 1; KeysClaim: 2; ToDevice: 3; SignatureUpload: 4; RoomMessage: 5; KeysBackup: 6 };
export declare const EncryptionAlgorithm: { OlmV1Curve25519AesSha2: 0; MegolmV1AesSha2: 1 };
export declare const HistoryVisibility: { Invited: 0; Joined: 1; Shared: 2; WorldReadable: 3 };
export declare const LoggerLevel: { Trace: 0; Debug: 1; Info: 2; Warn: 3; Error: 4 };
export declare const SNAPSHOT_FILE: string;
export declare const KEY_FILE: string;

export declare class CryptoUnavailableError extends Error {
  readonly reason: 'wasm' | 'store' | 'account';
  constructor(reason: 'wasm' | 'store' | 'account', message: string);
}
export declare function loadWasm(): Promise<unknown>;

export declare class UserId { constructor(id: string); readonly id: string }
export declare class DeviceId { constructor(id: string); readonly id: string }
export declare class RoomId { constructor(id: string); readonly id: string }
export declare class DeviceLists { constructor(changed?: UserId[], left?: UserId[]) }
export declare class EncryptionSettings {
  algorithm?: number;
  historyVisibility?: number;
  rotationPeriod?: bigint;
  rotationPeriodMessages?: bigint;
}

export interface OutgoingRequest { id: string; type: number; body: string }

export declare class OlmMachine {
  static initialize(userId: UserId, deviceId: DeviceId, storePath?: string, passphrase?: string, storeType?: StoreType): Promise<OlmMachine>;
  readonly fromSavedStore: boolean;
  readonly userId: string;
  readonly deviceId: string;
  readonly identityKeys: { ed25519: { toBase64(): string }; curve25519: { toBase64(): string } };
  save(): Promise<void>;
  outgoingRequests(): Promise<OutgoingRequest[]>;
  markRequestAsSent(id: string, type: number, response: string): Promise<true>;
  receiveSyncChanges(toDeviceEvents: string, lists: DeviceLists, otkCounts: Record<string, number>, unusedFallbackKeys: string[]): Promise<string>;
  updateTrackedUsers(users: UserId[]): Promise<void>;
  getMissingSessions(users: UserId[]): Promise<OutgoingRequest | undefined>;
  shareRoomKey(roomId: RoomId, users: UserId[], settings: EncryptionSettings): Promise<{ txnId: string; eventType: string; body: string; type: number }[]>;
  encryptRoomEvent(roomId: RoomId, eventType: string, content: string): Promise<string>;
  decryptRoomEvent(event: string, roomId: RoomId): Promise<{ event: string; sender?: string; senderDevice?: string }>;
  sign(message: string): Promise<{ get(user: UserId): Record<string, { isValid: boolean; signature?: { toBase64(): string } }> }>;
  crossSigningStatus(): Promise<{ hasMaster: boolean; hasSelfSigning: boolean; hasUserSigning: boolean }>;
  bootstrapCrossSigning(reset: boolean): Promise<{ uploadKeys: OutgoingRequest | null; signingKeysBody: string; signaturesBody: string }>;
  close(): Promise<void>;
}

export declare class EncryptedAttachment {
  constructor(encryptedData: Uint8Array, mediaEncryptionInfo: string);
  readonly encryptedData: Uint8Array;
  readonly mediaEncryptionInfo: string;
}
export declare const Attachment: {
  encrypt(data: Uint8Array): EncryptedAttachment;
  decrypt(attachment: EncryptedAttachment): Uint8Array;
};
