// The engine's front door: credentials -> plan -> probes -> findings -> score -> report.
// The CLI and the bot both call runCheck; nothing here knows about Matrix.
import type { CheckOptions } from './options';

/** Progress callback: probes report as they finish (the bot may show it; the CLI ignores it). */
export type ProgressListener = (event: { phase: string; detail?: string }) => void;

export class RunRefusedError extends Error {
  // Bad input or a refused target: the run could not start (CLI exit 2).
  constructor(message: string) {
    super(message);
    this.name = 'RunRefusedError';
  }
}

// Filled in by the engine work (issue 2); the signature is the contract.
export async function runCheck(_options: CheckOptions, _onProgress?: ProgressListener): Promise<unknown> {
  throw new Error('engine not wired yet');
}
