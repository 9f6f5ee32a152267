// The tool's version, from package.json (read once at load).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

function readVersion(): string {
  for (const rel of ['../../package.json', '../../../package.json']) {
    try {
      const v = (JSON.parse(readFileSync(join(__dirname, rel), 'utf8')) as { name?: string; version?: string });
      if (v.name === 'mx-voiptest' && v.version) return v.version;
    } catch {
      // try the next location (src/ vs dist/src/)
    }
  }
  return '0.0.0';
}

export const TOOL_VERSION = readVersion();
