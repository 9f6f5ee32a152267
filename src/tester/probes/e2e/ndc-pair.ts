import type { Transport } from '../../types';
import type { PairInput, PairOutcome } from './outcome';
export function ndcSupports(_t: Transport, _a: string): boolean { return false; }
export async function runNdcPair(_i: PairInput): Promise<PairOutcome> { return { ok: false, cause: 'unsupported', elapsedMs: 0, detail: {} }; }
