'use strict';
// Keeps an in-memory IndexedDB (fake-indexeddb) crypto store on disk: the whole
// database set is dumped to one file (atomic rename, 0600) and loaded back at start.
const fs = require('node:fs');
const path = require('node:path');
const v8 = require('node:v8');

const FORMAT = 1;

class SnapshotError extends Error {
  constructor(message) {
    super(message);
    this.name = 'SnapshotError';
  }
}

function req(r) {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

function open(idb, name, version, upgrade) {
  return new Promise((resolve, reject) => {
    const r = version === undefined ? idb.open(name) : idb.open(name, version);
    r.onupgradeneeded = () => upgrade && upgrade(r.result);
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
    r.onblocked = () => reject(new SnapshotError(`database ${name} is held open elsewhere`));
  });
}

/** Every record of every object store of the databases whose names start with prefix. */
async function dump(idb, prefix) {
  const out = { format: FORMAT, dbs: [] };
  for (const info of await idb.databases()) {
    if (!info.name.startsWith(prefix)) continue;
    const db = await open(idb, info.name);
    try {
      const stores = [];
      const names = [...db.objectStoreNames];
      if (names.length) {
        const tx = db.transaction(names, 'readonly');
        for (const name of names) {
          const s = tx.objectStore(name);
          const indexes = [...s.indexNames].map((i) => {
            const ix = s.index(i);
            return { name: i, keyPath: ix.keyPath, unique: ix.unique, multiEntry: ix.multiEntry };
          });
          const [keys, values] = await Promise.all([req(s.getAllKeys()), req(s.getAll())]);
          stores.push({ name, keyPath: s.keyPath, autoIncrement: s.autoIncrement, indexes, keys, values });
        }
      }
      out.dbs.push({ name: info.name, version: db.version, stores });
    } finally {
      db.close();
    }
  }
  return out;
}

/** Recreate the databases of a dump (schema at the dumped version, then the records). */
async function restore(idb, data) {
  if (!data || data.format !== FORMAT || !Array.isArray(data.dbs)) throw new SnapshotError('unknown snapshot format');
  for (const d of data.dbs) {
    const db = await open(idb, d.name, d.version, (up) => {
      for (const s of d.stores) {
        const os = up.createObjectStore(s.name, { keyPath: s.keyPath, autoIncrement: s.autoIncrement });
        for (const ix of s.indexes) os.createIndex(ix.name, ix.keyPath, { unique: ix.unique, multiEntry: ix.multiEntry });
      }
    });
    try {
      if (d.stores.length) {
        const tx = db.transaction(d.stores.map((s) => s.name), 'readwrite');
        const done = new Promise((resolve, reject) => {
          tx.oncomplete = resolve;
          tx.onerror = () => reject(tx.error);
          tx.onabort = () => reject(tx.error || new SnapshotError('restore aborted'));
        });
        for (const s of d.stores) {
          const os = tx.objectStore(s.name);
          for (let i = 0; i < s.keys.length; i++) {
            if (s.keyPath === null) os.put(s.values[i], s.keys[i]);
            else os.put(s.values[i]);
          }
        }
        await done;
      }
    } finally {
      db.close();
    }
  }
}

// The wasm machine never closes its IndexedDB connections (close() only frees
// the machine), and a database with open connections cannot be deleted: so we
// note every connection opened and close those of a store before dropping it.
const connections = new WeakMap();

function trackConnections(idb) {
  if (connections.has(idb)) return idb;
  const open = new Set();
  connections.set(idb, open);
  const original = idb.open.bind(idb);
  idb.open = (...args) => {
    const r = original(...args);
    r.addEventListener('success', () => {
      const db = r.result;
      open.add(db);
      // Our own dump/restore connections close themselves: forget them then (no growth).
      const close = db.close.bind(db);
      db.close = () => {
        open.delete(db);
        close();
      };
      db.addEventListener('close', () => open.delete(db));
    });
    return r;
  };
  return idb;
}

function closeConnections(idb, prefix) {
  const open = connections.get(idb);
  if (!open) return;
  for (const db of [...open]) {
    if (!db.name.startsWith(prefix)) continue;
    db.close();
  }
}

async function drop(idb, prefix) {
  closeConnections(idb, prefix);
  for (const info of await idb.databases()) {
    if (!info.name.startsWith(prefix)) continue;
    await new Promise((resolve, reject) => {
      const r = idb.deleteDatabase(info.name);
      r.onsuccess = resolve;
      r.onerror = () => reject(r.error);
      // Still open: another client of this process uses the same store directory.
      r.onblocked = () => reject(new SnapshotError(`the crypto store ${info.name} is in use by another client of this process`));
    });
  }
}

/** Read a snapshot file: null when there is none, SnapshotError when it is unreadable. */
function readFile(file) {
  let buf;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    if (e.code === 'ENOENT') return null;
    throw new SnapshotError(`cannot read ${file}: ${e.code || e.message}`);
  }
  try {
    return v8.deserialize(buf);
  } catch {
    throw new SnapshotError(`${file} is corrupt (not a crypto store snapshot)`);
  }
}

function writeFile(file, data) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, 'w', 0o600);
  try {
    fs.writeSync(fd, v8.serialize(data));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

/**
 * Coalescing writer: save() resolves once a dump taken after the call is on disk;
 * concurrent calls share one dump.
 */
class Persister {
  constructor(idb, prefix, file) {
    this.idb = idb;
    this.prefix = prefix;
    this.file = file;
    this.running = null;
    this.queued = null;
  }

  save() {
    if (this.queued) return this.queued;
    if (!this.running) {
      this.running = this.once().finally(() => { this.running = null; });
      return this.running;
    }
    this.queued = this.running.catch(() => undefined).then(() => {
      this.queued = null;
      this.running = this.once().finally(() => { this.running = null; });
      return this.running;
    });
    return this.queued;
  }

  async once() {
    writeFile(this.file, await dump(this.idb, this.prefix));
  }
}

module.exports = { SnapshotError, trackConnections, dump, restore, drop, readFile, writeFile, Persister };
