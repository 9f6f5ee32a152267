'use strict';
// Stub for @matrix-org/matrix-sdk-crypto-nodejs. matrix-bot-sdk requires this
// module at load time; mx-voiptest never enables E2EE, so every export is a
// placeholder that fails loudly if something actually tries to use crypto.
function unavailable(name) {
  return class {
    constructor() {
      throw new Error(`${name}: end-to-end encryption is not available in mx-voiptest (crypto module stubbed)`);
    }
    static initialize() {
      throw new Error(`${name}: end-to-end encryption is not available in mx-voiptest (crypto module stubbed)`);
    }
  };
}
const enums = {
  StoreType: { Sled: 0, Sqlite: 1 },
  RequestType: { KeysUpload: 0, KeysQuery: 1, KeysClaim: 2, ToDevice: 3, SignatureUpload: 4, RoomMessage: 5, KeysBackup: 6 },
  EncryptionAlgorithm: { OlmV1Curve25519AesSha2: 0, MegolmV1AesSha2: 1 },
  HistoryVisibility: { Invited: 0, Joined: 1, Shared: 2, WorldReadable: 3 },
  LoggerLevel: { Trace: 0, Debug: 1, Info: 2, Warn: 3, Error: 4 },
};
module.exports = new Proxy(enums, {
  get(target, prop) {
    if (prop in target) return target[prop];
    if (prop === '__esModule') return false;
    if (typeof prop === 'symbol') return undefined;
    return unavailable(String(prop));
  },
});
