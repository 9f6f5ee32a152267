// config/config.sample.yaml, generated from the schema table so the sample,
// the defaults and the validator can never disagree.
import { stringify } from 'yaml';
import { SCHEMA, isField, type Field, type Section } from './schema';

const HEADER = `# mx-voiptest bot configuration (sample).
# Generated from src/config/schema.ts by \`npm run config:sample\`; do not edit by hand.
# Every key is optional except a way to log in (access token, or user id + password).
# Secrets belong in env vars (or <VAR>_FILE pointing at a file), not in this file.
`;

function value(field: Field): string {
  return stringify(field.default, { flow: true }).trim();
}

function emit(section: Section, indent: string, lines: string[]): void {
  for (const [key, node] of Object.entries(section)) {
    if (isField(node)) {
      if (indent === '') lines.push('');
      lines.push(`${indent}# ${node.doc}`);
      if (node.t === 'enum') lines.push(`${indent}# One of: ${node.values.join(', ')}.`);
      if (node.t === 'int') lines.push(`${indent}# Range: ${node.min}..${node.max}.`);
      if (node.env) lines.push(`${indent}# Env: ${node.env} (or ${node.env}_FILE).`);
      if (node.default === null) lines.push(`${indent}# ${key}: ${node.t === 'secret' ? '<secret>' : node.example ?? '...'}`);
      else if (node.t === 'list' && node.default.length === 0 && node.example) lines.push(`${indent}${key}: []  # e.g. ${node.example}`);
      else lines.push(`${indent}${key}: ${value(node)}`);
    } else {
      lines.push('', `${indent}${key}:`);
      emit(node, `${indent}  `, lines);
    }
  }
}

export function renderSample(): string {
  const lines: string[] = [HEADER.trimEnd()];
  emit(SCHEMA, '', lines);
  return `${lines.join('\n')}\n`;
}
