'use strict';
// @matrix-org/matrix-sdk-crypto-nodejs for matrix-bot-sdk 0.8, built on
// @matrix-org/matrix-sdk-crypto-wasm (the same Rust crypto, shipped by the
// registry): the calls, arguments and results RustEngine/CryptoClient use,
// with the store kept in an in-memory IndexedDB that snapshot.js saves to disk.
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { SnapshotError, trackConnections, restore, drop, readFile, Persister } = require('./snapshot');

const StoreType = { Sled: 0, Sqlite: 1 };
const RequestType = { KeysUpload: 0, KeysQuery: 1, KeysClaim: 2, ToDevice: 3, SignatureUpload: 4, RoomMessage: 5, KeysBackup: 6 };
const EncryptionAlgorithm = { OlmV1Curve25519AesSha2: 0, MegolmV1AesSha2: 1 };
const HistoryVisibility = { Invited: 0, Joined: 1, Shared: 2, WorldReadable: 3 };
const LoggerLevel = { Trace: 0, Debug: 1, Info: 2, Warn: 3, Error: 4 };

const SNAPSHOT_FILE = 'olm-store.bin';
const KEY_FILE = 'olm-store.key';

/** Why crypto could not start; `reason` is one of wasm | store | account. */
class CryptoUnavailableError extends Error {
  constructor(reason, message) {
    super(message);
    this.name = 'CryptoUnavailableError';
    this.reason = reason;
  }
}

let wasmPromise = null;
/** Load the wasm module once (a failure is remembered: it will not load later either). */
function loadWasm() {
  if (!wasmPromise) {
    wasmPromise = (async () => {
      const w = require('@matrix-org/matrix-sdk-crypto-wasm');
      await w.initAsync();
      return w;
    })().catch((e) => {
      throw new CryptoUnavailableError('wasm', `the crypto module (WebAssembly) did not load: ${e && e.message ? e.message : e}`);
    });
  }
  return wasmPromise;
}

function indexedDb() {
  if (!globalThis.indexedDB) require('fake-indexeddb/auto');
  return trackConnections(globalThis.indexedDB);
}

// Identifiers hold strings: wasm consumes the objects it is handed, and
// matrix-bot-sdk hands the same UserId array to several calls.
class UserId {
  constructor(id) { this.id = String(id); }
  toString() { return this.id; }
}
class DeviceId {
  constructor(id) { this.id = String(id); }
  toString() { return this.id; }
}
class RoomId {
  constructor(id) { this.id = String(id); }
  toString() { return this.id; }
}
class DeviceLists {
  constructor(changed = [], left = []) {
    this.changed = changed;
    this.left = left;
  }
}
class EncryptionSettings {
  constructor() {
    this.algorithm = EncryptionAlgorithm.MegolmV1AesSha2;
    this.historyVisibility = HistoryVisibility.Shared;
    this.rotationPeriod = undefined;
    this.rotationPeriodMessages = undefined;
  }
}

function toError(e) {
  if (e instanceof Error) return e;
  // MegolmDecryptionError and friends are not Errors: keep their code and text.
  const err = new Error(e && e.description ? String(e.description) : String(e));
  if (e && e.code !== undefined) err.code = e.code;
  if (e && e.maybe_withheld) err.withheld = String(e.maybe_withheld);
  return err;
}

class OlmMachine {
  constructor(w, machine, persister, prefix) {
    this.w = w;
    this.inner = machine;
    this.persister = persister;
    this.prefix = prefix;
    this.closed = false;
    this.txnToRequest = new Map();
  }

  /**
   * (userId, deviceId, storePath, passphrase, storeType): storePath is a directory;
   * the store is encrypted with a random key kept beside it (the passphrase is unused).
   */
  static async initialize(userId, deviceId, storePath) {
    // Lets a test (or an admin) see the fallback without breaking the install.
    if (process.env.MXV_CRYPTO_WASM_FAIL === '1') throw new CryptoUnavailableError('wasm', 'the crypto module (WebAssembly) did not load: disabled by MXV_CRYPTO_WASM_FAIL=1');
    const w = await loadWasm();
    if (!storePath) throw new CryptoUnavailableError('store', 'no crypto store directory given');
    const dir = path.resolve(String(storePath));
    const idb = indexedDb();
    const prefix = `mxv-${crypto.createHash('sha256').update(dir).digest('hex').slice(0, 16)}`;
    let key;
    let snapshot;
    try {
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      key = storeKey(path.join(dir, KEY_FILE));
      snapshot = readFile(path.join(dir, SNAPSHOT_FILE));
      // A previous machine of this process (a restart in tests) may still hold the databases.
      await drop(idb, prefix);
      if (snapshot) await restore(idb, snapshot);
    } catch (e) {
      throw new CryptoUnavailableError('store', `the crypto store in ${dir} cannot be used: ${e.message}`);
    }
    let machine;
    try {
      const handle = await w.StoreHandle.openWithKey(prefix, key);
      machine = await w.OlmMachine.initFromStore(new w.UserId(userId.id), new w.DeviceId(deviceId.id), handle);
    } catch (e) {
      throw new CryptoUnavailableError('store', `the crypto store in ${dir} does not open for ${userId.id} / ${deviceId.id}: ${toError(e).message}`);
    }
    const m = new OlmMachine(w, machine, new Persister(idb, prefix, path.join(dir, SNAPSHOT_FILE)), prefix);
    m.restored = snapshot !== null;
    await m.save();
    return m;
  }

  /** Whether this machine came from a saved store (false: a new account was made). */
  get fromSavedStore() { return this.restored; }

  save() { return this.closed ? Promise.resolve() : this.persister.save(); }

  /** A save nobody waits for (the next awaited save or close() includes it); failures are reported, not thrown. */
  saveSoon() {
    this.save().catch((e) => process.emitWarning(`crypto store not saved: ${e && e.message}`));
  }

  get identityKeys() { return this.inner.identityKeys; }
  get userId() { return this.inner.userId.toString(); }
  get deviceId() { return this.inner.deviceId.toString(); }

  users(list) { return list.map((u) => new this.w.UserId(u.id)); }

  async outgoingRequests() {
    const reqs = await this.inner.outgoingRequests();
    // Keys the account generated for an upload are on disk before they leave.
    if (reqs.some((r) => r.type === RequestType.KeysUpload)) await this.save();
    return reqs.map((r) => this.request(r));
  }

  /** wasm's ToDeviceRequest carries txn_id/event_type beside a body of messages only. */
  request(r) {
    if (r.type !== RequestType.ToDevice) return { id: r.id, type: r.type, body: r.body };
    const body = JSON.parse(r.body);
    return { id: r.id, type: r.type, body: JSON.stringify({ ...body, txn_id: r.id, event_type: r.event_type }) };
  }

  async markRequestAsSent(id, type, response) {
    const real = this.txnToRequest.get(id) ?? id;
    this.txnToRequest.delete(id);
    await this.inner.markRequestAsSent(real, type, response);
    // Published keys must stay published; the rest (device lists, claimed sessions) can be redone.
    if (type === RequestType.KeysUpload) await this.save();
    else this.saveSoon();
    return true;
  }

  async receiveSyncChanges(toDeviceEvents, deviceLists, otkCounts, unusedFallbackKeys) {
    const w = this.w;
    const lists = new w.DeviceLists(this.users(deviceLists.changed), this.users(deviceLists.left));
    const counts = new Map(Object.entries(otkCounts || {}).map(([k, v]) => [k, Number(v)]));
    const fallback = Array.isArray(unusedFallbackKeys) ? new Set(unusedFallbackKeys) : undefined;
    const processed = await this.inner.receiveSyncChanges(toDeviceEvents, lists, counts, fallback, this.decryptionSettings());
    // Room keys, Olm sessions and device-list changes must be on disk before the next sync acknowledges them.
    if (processed.length || deviceLists.changed.length || deviceLists.left.length) await this.save();
    const decrypted = [];
    for (const ev of processed) {
      if (ev.type === w.ProcessedToDeviceEventType.Decrypted) decrypted.push(JSON.parse(ev.rawEvent));
    }
    return JSON.stringify(decrypted);
  }

  decryptionSettings() {
    // A bot answers whoever may command it: no sender-trust requirement (any device decrypts).
    return new this.w.DecryptionSettings(this.w.TrustRequirement.Untrusted);
  }

  async updateTrackedUsers(users) {
    await this.inner.updateTrackedUsers(this.users(users));
  }

  async getMissingSessions(users) {
    const r = await this.inner.getMissingSessions(this.users(users));
    return r ? this.request(r) : undefined;
  }

  async shareRoomKey(roomId, users, settings) {
    const w = this.w;
    const s = new w.EncryptionSettings();
    s.algorithm = w.EncryptionAlgorithm.MegolmV1AesSha2;
    if (settings.historyVisibility !== undefined) s.historyVisibility = settings.historyVisibility;
    if (typeof settings.rotationPeriod === 'bigint') s.rotationPeriod = settings.rotationPeriod * 1000n; // ms -> us
    if (typeof settings.rotationPeriodMessages === 'bigint') s.rotationPeriodMessages = settings.rotationPeriodMessages;
    const reqs = await this.inner.shareRoomKey(new w.RoomId(roomId.id), this.users(users), s);
    if (reqs.length) await this.save(); // a new room key: on disk before it is sent
    return reqs.map((r) => {
      this.txnToRequest.set(r.txn_id, r.id);
      while (this.txnToRequest.size > 1000) this.txnToRequest.delete(this.txnToRequest.keys().next().value);
      return { txnId: r.txn_id, eventType: r.event_type, body: r.body, type: RequestType.ToDevice };
    });
  }

  async encryptRoomEvent(roomId, eventType, content) {
    const out = await this.inner.encryptRoomEvent(new this.w.RoomId(roomId.id), eventType, content);
    this.saveSoon(); // the session's message index moved on
    return out;
  }

  async decryptRoomEvent(event, roomId) {
    try {
      const d = await this.inner.decryptRoomEvent(event, new this.w.RoomId(roomId.id), this.decryptionSettings());
      return { event: d.event, sender: d.sender?.toString(), senderDevice: d.senderDevice?.toString() };
    } catch (e) {
      throw toError(e);
    }
  }

  /** Signatures as the binding gave them: get(userId) -> { keyId: { isValid, signature } }. */
  async sign(message) {
    const sigs = await this.inner.sign(message);
    return {
      get: (user) => {
        const map = sigs.get(new this.w.UserId(user.id));
        const out = {};
        if (map) {
          for (const [keyId, s] of map) out[keyId] = { isValid: s.isValid(), signature: s.signature ? { toBase64: () => s.signature.toBase64() } : undefined };
        }
        return out;
      },
    };
  }

  // ---- beyond the binding: used by mx-voiptest's crypto module ----

  async crossSigningStatus() {
    const s = await this.inner.crossSigningStatus();
    return { hasMaster: s.hasMaster, hasSelfSigning: s.hasSelfSigning, hasUserSigning: s.hasUserSigning };
  }

  /** The three requests (device keys, signing keys, signatures) to upload, in order. */
  async bootstrapCrossSigning(reset) {
    const r = await this.inner.bootstrapCrossSigning(Boolean(reset));
    await this.save();
    return {
      uploadKeys: r.uploadKeysRequest ? this.request(r.uploadKeysRequest) : null,
      signingKeysBody: r.uploadSigningKeysRequest.body,
      signaturesBody: r.uploadSignaturesRequest.body,
    };
  }

  /** Save and release the machine and its in-memory databases. */
  async close() {
    if (this.closed) return;
    await this.save().catch(() => undefined);
    this.closed = true;
    try {
      this.inner.close();
    } catch {
      // already closed
    }
    await drop(indexedDb(), this.prefix).catch(() => undefined);
  }
}

/** The store key (32 random bytes, made once, 0600). */
function storeKey(file) {
  try {
    const k = fs.readFileSync(file);
    if (k.length !== 32) throw new SnapshotError(`${file} is not a 32-byte key`);
    return new Uint8Array(k);
  } catch (e) {
    if (e.code !== 'ENOENT') throw e;
  }
  const k = crypto.randomBytes(32);
  fs.writeFileSync(file, k, { mode: 0o600, flag: 'wx' });
  return new Uint8Array(k);
}

/** The attachment calls are synchronous in the binding: the wasm module must be loaded (it is once a machine exists). */
function wasmNow() {
  let w = null;
  try {
    w = require('@matrix-org/matrix-sdk-crypto-wasm');
  } catch {
    // fall through
  }
  if (!w || !w.Attachment) throw new CryptoUnavailableError('wasm', 'the crypto module is not loaded');
  return w;
}

class EncryptedAttachment {
  constructor(encryptedData, mediaEncryptionInfo) {
    this.encryptedData = encryptedData;
    this.mediaEncryptionInfo = mediaEncryptionInfo;
  }
}

const Attachment = {
  encrypt(data) {
    const e = wasmNow().Attachment.encrypt(new Uint8Array(data));
    const info = e.mediaEncryptionInfo;
    return new EncryptedAttachment(e.encryptedData, info);
  },
  decrypt(attachment) {
    const w = wasmNow();
    return w.Attachment.decrypt(new w.EncryptedAttachment(new Uint8Array(attachment.encryptedData), attachment.mediaEncryptionInfo));
  },
};

module.exports = {
  StoreType, RequestType, EncryptionAlgorithm, HistoryVisibility, LoggerLevel,
  UserId, DeviceId, RoomId, DeviceLists, EncryptionSettings, OlmMachine, Attachment, EncryptedAttachment,
  CryptoUnavailableError, loadWasm, SNAPSHOT_FILE, KEY_FILE,
};
