// `npm run config:sample`: regenerate config/config.sample.yaml.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderSample } from './sample';

const out = join(__dirname, '..', '..', 'config', 'config.sample.yaml');
writeFileSync(out, renderSample());
console.log(`wrote ${out}`);
