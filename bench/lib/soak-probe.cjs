// Preloaded into the bot by the soak (node --expose-gc --require): on SIGUSR2 it
// forces a full GC and logs one JSON line of memory figures, so the soak can
// tell a leak (live heap grows) from GC timing (RSS breathes). With
// $MXV_SOAK_SNAPSHOTS=DIR:5,25 it also writes a heap snapshot there at the
// 5th and 25th probe (diff them in Chrome DevTools' Comparison view).
'use strict';
const v8 = require('node:v8');
const { join } = require('node:path');
let n = 0;
process.on('SIGUSR2', () => {
  if (typeof global.gc === 'function') { global.gc(); global.gc(); }
  const m = process.memoryUsage();
  const line = {
    time: new Date().toISOString(),
    level: 'info',
    msg: 'soak-probe',
    rssKb: Math.round(m.rss / 1024),
    heapUsedKb: Math.round(m.heapUsed / 1024),
    heapTotalKb: Math.round(m.heapTotal / 1024),
    externalKb: Math.round(m.external / 1024),
    arrayBuffersKb: Math.round(m.arrayBuffers / 1024),
    handles: process._getActiveHandles().length,
    requests: process._getActiveRequests().length,
  };
  const [dir, at] = (process.env.MXV_SOAK_SNAPSHOTS || '').split(':');
  n++;
  if (dir && (at || '').split(',').includes(String(n))) line.snapshot = v8.writeHeapSnapshot(join(dir, `bot-${process.pid}-${n}.heapsnapshot`));
  process.stderr.write(JSON.stringify(line) + '\n');
});
