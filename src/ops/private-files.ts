// The bot's data (history.db, sync state, device id, logs it writes) is for
// the bot's user only: files 0600, directories 0700, also when they already
// exist from an older version.
import { chmodSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Make `dir` private (created if missing) and set a umask so every later file is too. */
export function privateDataDir(dir: string): void {
  process.umask(0o077);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    try {
      const st = statSync(p);
      if (st.isDirectory()) chmodSync(p, 0o700);
      else if (st.isFile()) chmodSync(p, 0o600);
    } catch {
      // vanished meanwhile: nothing to protect
    }
  }
}
