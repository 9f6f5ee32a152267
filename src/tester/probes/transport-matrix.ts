// ALLOC-3: which transport x family combinations relay data, over the whole run.
import type { Family } from '../types';
import { defineCheck } from './check';
import { finding } from './finding';

export const ALLOC_3 = defineCheck({
  id: 'ALLOC-3',
  scope: 'run',
  needs: ['DATA-1'],
  run: async (run) => {
    const turn = run.states.filter((s) => s.isTurn);
    if (turn.length === 0) return null;
    const matrix: Record<string, Partial<Record<Family, boolean>>> = {};
    for (const s of turn) {
      const key = s.target.uri.scheme === 'turns' ? 'tls' : s.target.uri.transport;
      const row = (matrix[key] ??= {});
      row[s.target.family] = (row[s.target.family] ?? false) || s.result.turnWorks;
    }
    const working = Object.entries(matrix).flatMap(([t, row]) => Object.entries(row).filter(([, ok]) => ok).map(([f]) => `${t.toUpperCase()}/${f === 'ipv4' ? 'IPv4' : 'IPv6'}`));
    if (working.length === 0) {
      // A summary, not a cause: each URI's own first failure says why (no second accusation).
      return finding('ALLOC-3', { status: 'info', cause: 'no-transport', summary: 'No TURN transport relays data (see each URI for why).', evidence: { matrix } });
    }
    return finding('ALLOC-3', { status: 'info', summary: `TURN relays data over ${working.join(', ')}.`, evidence: { matrix } });
  },
});
