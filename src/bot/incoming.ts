// Incoming events size-capped before anything looks inside them: an event
// with an oversized id, sender or field is not a command and is dropped whole.
import { MAX_BODY_CHARS, MAX_HTML_CHARS } from '../commands/parse';

export type MatrixEvent = { type: string; sender: string; event_id: string; origin_server_ts?: number; state_key?: string; content?: Record<string, unknown> };

const MAX_ID_CHARS = 255; // the spec's limit for user, room and event ids
const MAX_SMALL_CHARS = 100; // msgtype, format, rel_type

const small = (v: unknown) => v === undefined || (typeof v === 'string' && v.length <= MAX_SMALL_CHARS);

/** The event when every field we read is within its cap; null otherwise. */
export function boundedMessage(ev: MatrixEvent): MatrixEvent | null {
  if (typeof ev.sender !== 'string' || ev.sender.length > MAX_ID_CHARS || typeof ev.event_id !== 'string' || ev.event_id.length > MAX_ID_CHARS) return null;
  const c = ev.content;
  if (!c || typeof c !== 'object') return null;
  if (!small(c.msgtype) || !small(c.format)) return null;
  if (typeof c.body === 'string' && c.body.length > MAX_BODY_CHARS) return null;
  const rel = c['m.relates_to'];
  if (rel !== undefined && (typeof rel !== 'object' || rel === null || !small((rel as { rel_type?: unknown }).rel_type))) return null;
  // An oversized formatted_body is dropped; the plain body may still be a command.
  if (typeof c.formatted_body === 'string' && c.formatted_body.length > MAX_HTML_CHARS) {
    const { formatted_body: _drop, format: _f, ...rest } = c;
    return { ...ev, content: rest };
  }
  return ev;
}
