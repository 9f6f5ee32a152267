// The helper page's files: helper.html and helper.css as written, helper.js
// bundled from helper.ts with esbuild (no CDN, no inline script: the CSP
// allows only 'self'). A prebuilt helper.js next to the sources (a production
// image built without dev dependencies) is served as is.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Asset {
  type: string;
  body: Buffer;
}

export type Assets = Record<'helper.html' | 'helper.css' | 'helper.js', Asset>;

const TYPES = { html: 'text/html; charset=utf-8', css: 'text/css; charset=utf-8', js: 'text/javascript; charset=utf-8' } as const;

export function staticDir(): string {
  const candidates = [process.env.MXV_WEB_STATIC, join(__dirname, 'static'), join(__dirname, '..', '..', '..', 'src', 'web', 'static')];
  const dir = candidates.find((d): d is string => !!d && existsSync(join(d, 'helper.html')));
  if (!dir) throw new Error('the helper page files (helper.html) were not found; set MXV_WEB_STATIC');
  return dir;
}

let cached: Promise<Assets> | null = null;

/** Bundle once per process. */
export function loadAssets(): Promise<Assets> {
  cached ??= build().catch((e) => {
    cached = null;
    throw e;
  });
  return cached;
}

async function build(): Promise<Assets> {
  const dir = staticDir();
  const prebuilt = join(dir, 'helper.js');
  let js: Buffer;
  if (existsSync(prebuilt)) js = readFileSync(prebuilt);
  else {
    // Loaded lazily: esbuild is a dev dependency, needed only when no bundle was prebuilt.
    const esbuild = await import('esbuild');
    const out = await esbuild.build({
      entryPoints: [join(dir, 'helper.ts')],
      bundle: true,
      write: false,
      format: 'iife',
      target: ['chrome100', 'firefox100', 'safari15'],
      minify: true,
      legalComments: 'none',
      logLevel: 'silent',
    });
    js = Buffer.from(out.outputFiles[0]!.contents);
  }
  return {
    'helper.html': { type: TYPES.html, body: readFileSync(join(dir, 'helper.html')) },
    'helper.css': { type: TYPES.css, body: readFileSync(join(dir, 'helper.css')) },
    'helper.js': { type: TYPES.js, body: js },
  };
}

/** `npx tsx src/web/assets.ts OUTDIR`: write the bundle for an image without esbuild. */
if (require.main === module) {
  void (async () => {
    const { writeFileSync } = await import('node:fs');
    const outDir = process.argv[2];
    if (!outDir) throw new Error('usage: tsx src/web/assets.ts OUTDIR (then set MXV_WEB_STATIC to a dir holding helper.html, helper.css, helper.js)');
    const a = await build();
    writeFileSync(join(outDir, 'helper.js'), a['helper.js'].body);
    process.stdout.write(`wrote ${join(outDir, 'helper.js')} (${a['helper.js'].body.length} bytes)\n`);
  })();
}
