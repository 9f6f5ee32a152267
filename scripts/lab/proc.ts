// Lab child processes (coturn, Synapse) that cannot outlive the test run.
//
// Three layers, because each one alone leaves gaps:
//  - stop(): SIGTERM, then SIGKILL after a grace period, by PID; idempotent.
//  - a process 'exit' hook that SIGKILLs whatever is still registered (a test
//    that throws before its afterAll, or forgets stop()).
//  - a watchdog `sh` holding a pipe from us: when our process dies in a way no
//    hook sees (SIGKILL, OOM, jest worker killed), the pipe closes, `read`
//    returns and the watchdog kills the child.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';

export interface Guarded {
  pid: number;
  child: ChildProcess;
  /** Resolves with the exit code/signal once the process has gone. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** True until the process has exited. */
  readonly alive: boolean;
  /** SIGTERM, then SIGKILL after graceMs; resolves when it is gone. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

const live = new Set<number>();
let hookInstalled = false;

function installExitHook(): void {
  if (hookInstalled) return;
  hookInstalled = true;
  process.on('exit', () => {
    for (const pid of live) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  });
}

/** True when a process with this PID exists (and is not a zombie we can see). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie still answers kill(0); treat it as gone.
  try {
    const stat = require('node:fs').readFileSync(`/proc/${pid}/stat`, 'utf8') as string;
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/**
 * Spawn `cmd args` with stdout/stderr appended to `logFile` (when given),
 * guarded as described above.
 */
export function spawnGuarded(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; logFile?: string; /** removed by the watchdog after a kill */ removeDir?: string } = {},
): Guarded {
  installExitHook();
  let out: number | 'ignore' = 'ignore';
  if (opts.logFile) out = openSync(opts.logFile, 'a');
  const spawnOpts: SpawnOptions = { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', out, out] };
  const child = spawn(cmd, args, spawnOpts);
  if (typeof out === 'number') closeSync(out);
  let alive = true;
  let spawnError: Error | null = null;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('error', (err) => {
      spawnError = err;
      alive = false;
      resolve({ code: null, signal: null });
    });
    child.once('exit', (code, signal) => {
      alive = false;
      resolve({ code, signal });
    });
  });
  if (child.pid === undefined) {
    // spawn failed synchronously-ish (ENOENT arrives as 'error').
    const g: Guarded = {
      pid: -1,
      child,
      exited,
      get alive() {
        return false;
      },
      stop: async () => undefined,
    };
    return g;
  }
  const pid = child.pid;
  live.add(pid);
  child.unref();

  // Watchdog: `read` returns at EOF, i.e. when every holder of the pipe's
  // write end (only us) has died.
  const rmDir = opts.removeDir ? `; rm -rf '${opts.removeDir.replace(/'/g, `'\\''`)}'` : '';
  const dog = spawn('sh', ['-c', `read _ ; kill -TERM ${pid} 2>/dev/null; sleep 2; kill -KILL ${pid} 2>/dev/null${rmDir}`], {
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  dog.unref();
  (dog.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  dog.on('error', () => undefined);
  dog.stdin?.on('error', () => undefined);

  void exited.then(() => {
    live.delete(pid);
    // Retire the watchdog without letting it signal a possibly reused PID.
    try {
      dog.kill('SIGKILL');
    } catch {
      /* gone */
    }
  });

  let stopping: Promise<void> | null = null;
  return {
    pid,
    child,
    exited,
    get alive() {
      return alive && !spawnError;
    },
    stop(graceMs = 3000) {
      if (stopping) return stopping;
      stopping = (async () => {
        try {
          dog.kill('SIGKILL');
        } catch {
          /* gone */
        }
        if (!alive) return;
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          /* gone */
        }
        // These timers stay ref'd: a script awaiting stop() must not exit before the child is gone.
        let graceTimer: NodeJS.Timeout | undefined;
        const timer = new Promise<'timeout'>((r) => {
          graceTimer = setTimeout(() => r('timeout'), graceMs);
        });
        const outcome = await Promise.race([exited.then(() => 'exited' as const), timer]);
        clearTimeout(graceTimer);
        if (outcome === 'timeout') {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            /* gone */
          }
          let killTimer: NodeJS.Timeout | undefined;
          await Promise.race([exited, new Promise((r) => (killTimer = setTimeout(r, 2000)))]);
          clearTimeout(killTimer);
        }
        live.delete(pid);
      })();
      return stopping;
    },
  };
}

/** Last `lines` lines of a text. */
/** What every lab server hands back besides its addresses. */
export interface Stoppable {
  pid: number;
  log(): string;
  stop(): Promise<void>;
}

/** The stop/log half a lab server hands back: stop once by PID, then clean up, and keep the last log for the test to read. */
export function stoppable(proc: Guarded, readLog: () => string, cleanup: () => Promise<void>, graceMs: number): Stoppable {
  let finalLog: string | null = null;
  return {
    pid: proc.pid,
    log: () => finalLog ?? readLog(),
    async stop() {
      if (finalLog !== null) return;
      await proc.stop(graceMs);
      finalLog = readLog();
      await cleanup();
    },
  };
}

export function tail(text: string, lines = 20): string {
  return text.split('\n').slice(-lines - 1).join('\n').trimEnd();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export interface CleanupGuard {
  /** Stop guarding (call after a normal, complete cleanup). */
  disarm(): void;
}

/**
 * Run `script` (sh) if our process ends without disarming: from the 'exit'
 * hook, and from a watchdog `sh` that notices our death through a closed pipe
 * (SIGKILL, OOM, killed jest worker). For state a PID kill cannot undo, such
 * as network namespaces and links.
 */
export function guardCleanup(script: string): CleanupGuard {
  const dog = spawn('sh', ['-c', `read _ ; ${script}`], { stdio: ['pipe', 'ignore', 'ignore'] });
  dog.unref();
  (dog.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  dog.on('error', () => undefined);
  dog.stdin?.on('error', () => undefined);
  const onExit = () => {
    try {
      dog.kill('SIGKILL');
      require('node:child_process').execFileSync('sh', ['-c', script], { stdio: 'ignore', timeout: 10_000 });
    } catch {
      /* best effort at exit */
    }
  };
  process.on('exit', onExit);
  return {
    disarm() {
      process.off('exit', onExit);
      try {
        dog.kill('SIGKILL');
      } catch {
        /* gone */
      }
    },
  };
}
