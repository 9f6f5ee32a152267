// JSON (schema 1, ARCHITECTURE.md): the report model as is.
import { toJson, type Report } from '../tester/report';

export function renderJson(r: Report): string {
  return `${toJson(r, true)}\n`;
}
