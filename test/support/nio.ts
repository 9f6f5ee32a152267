// Drives test/support/nio_driver.py (matrix-nio with its crypto: a real E2EE
// client that is not ours) from a test: one JSON request per line.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export function nioPython(): string {
  return process.env.MXV_NIO_VENV ? join(process.env.MXV_NIO_VENV, 'bin/python') : join(homedir(), '.cache/mx-voiptest/nio-venv/bin/python');
}

export function nioAvailable(): boolean {
  return existsSync(nioPython());
}

export interface NioEvent {
  event_id: string; sender: string; type: string; class: string; decrypted: boolean; undecryptable: boolean; content: Record<string, any>;
  /** origin_server_ts, and when nio's sync delivered it (ms, nio's clock: the same as its send's sent_at). */
  server_ts: number | null; received_at: number;
}

export class NioClient {
  private readonly proc: ChildProcess;
  private readonly waiting = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  private next = 1;
  private stderr = '';

  constructor() {
    this.proc = spawn(nioPython(), [join(__dirname, 'nio_driver.py')], { stdio: ['pipe', 'pipe', 'pipe'] });
    createInterface({ input: this.proc.stdout! }).on('line', (line) => {
      const msg = JSON.parse(line) as { id: number; ok: boolean; result?: unknown; error?: string };
      const w = this.waiting.get(msg.id);
      this.waiting.delete(msg.id);
      if (msg.ok) w?.resolve(msg.result);
      else w?.reject(new Error(`nio: ${msg.error}`));
    });
    this.proc.stderr!.on('data', (d: Buffer) => { this.stderr = (this.stderr + d.toString()).slice(-4000); });
    this.proc.on('exit', (code) => {
      for (const w of this.waiting.values()) w.reject(new Error(`nio driver exited (${code}): ${this.stderr}`));
      this.waiting.clear();
    });
  }

  call<T = any>(op: string, args: Record<string, unknown> = {}): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.proc.stdin!.write(`${JSON.stringify({ id, op, args })}\n`);
    });
  }

  waitEvent(room: string, sender: string, o: { pattern?: string; type?: string; after?: string; timeout?: number } = {}): Promise<NioEvent> {
    return this.call('wait_event', { room, sender, ...o });
  }

  async close(): Promise<void> {
    if (this.proc.exitCode !== null) return;
    await Promise.race([this.call('close').catch(() => undefined), new Promise((r) => setTimeout(r, 5000).unref())]);
    this.proc.kill();
  }
}
