// A value that must never reach a message, log, report or database row.
// It renders as "[redacted]" through every path Node offers (String, JSON,
// util.inspect), so an accidental log line leaks nothing.
import { inspect } from 'node:util';

export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  /** The only way to get the value: call it where it goes on the wire. */
  reveal(): string {
    return this.#value;
  }
  get empty(): boolean {
    return this.#value.length === 0;
  }
  toString(): string {
    return '[redacted]';
  }
  toJSON(): string {
    return '[redacted]';
  }
  [inspect.custom](): string {
    return '[redacted]';
  }
}
