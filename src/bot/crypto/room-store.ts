// matrix-bot-sdk's crypto store with a memory of rooms found unencrypted: the
// SDK asks the server for m.room.encryption before every send to a room it has
// no config for, i.e. every send to an unencrypted room. Any encrypted or
// encryption event seen in a sync clears that memory, so a room that turns
// encryption on is checked again before its first encrypted event is handled.
import { RustSdkCryptoStorageProvider, type IPreprocessor, type MatrixClient } from 'matrix-bot-sdk';
import { StoreType } from '@matrix-org/matrix-sdk-crypto-nodejs';

const MAX_REMEMBERED = 10_000;

export class RoomCryptoStore extends RustSdkCryptoStorageProvider {
  private readonly unencrypted = new Set<string>();

  constructor(dir: string) {
    super(dir, StoreType.Sqlite);
  }

  override async getRoom(roomId: string): Promise<Awaited<ReturnType<RustSdkCryptoStorageProvider['getRoom']>>> {
    const stored = await super.getRoom(roomId);
    if (stored) return stored;
    // First miss: let the SDK look it up. Later misses: it was not encrypted then ({} = no algorithm).
    if (this.unencrypted.has(roomId)) return {} as never;
    if (this.unencrypted.size >= MAX_REMEMBERED) this.unencrypted.clear();
    this.unencrypted.add(roomId);
    return undefined as never;
  }

  forgetUnencrypted(): void {
    this.unencrypted.clear();
  }

  /** Clear the memory on every encrypted/encryption event, before the SDK decides whether to decrypt it. */
  watch(client: MatrixClient): void {
    const p: IPreprocessor = {
      getSupportedEventTypes: () => ['m.room.encrypted', 'm.room.encryption'],
      processEvent: async () => this.forgetUnencrypted(),
    };
    client.addPreprocessor(p);
  }
}
