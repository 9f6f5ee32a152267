// A report as a desktop Matrix client shows it: the room message (the
// summary) in the timeline, its thread replies in a side panel, in Chromium.
// Only the tags a client renders from formatted_body, with a client's usual
// styles; a <details> would be shown open (clients such as nheko and Element X
// do not fold it). Used by the rendering test and for docs/report.png.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { ThreadedReport } from '../../src/render';

/** The timeline column of a desktop client at 1280 px (room list and margins take the rest). */
export const TIMELINE_WIDTH = 760;
export const VIEWPORT = { width: 1280, height: 800 };

const STYLE = `
  body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Ubuntu,sans-serif;background:#f4f6fa;margin:0;color:#17191c}
  .app{display:flex;gap:16px;padding:16px;align-items:flex-start}
  .timeline{width:${TIMELINE_WIDTH}px;flex:none}
  .thread{flex:1;min-width:0;background:#fff;border-radius:10px;padding:12px 16px;box-shadow:0 1px 3px #0002;font-size:14px}
  .thread h3.panel{margin:0 0 8px;font-size:15px}
  .msg{display:flex;gap:12px;background:#fff;border-radius:10px;padding:12px 16px;box-shadow:0 1px 3px #0002;margin-bottom:12px}
  .thread .msg{box-shadow:none;border-top:1px solid #e3e8f0;border-radius:0;padding:10px 0;margin:0}
  .av{width:32px;height:32px;border-radius:50%;background:#0dbd8b;color:#fff;font-weight:700;display:flex;align-items:center;justify-content:center;flex:none}
  .who{font-weight:600;color:#0dbd8b} .who span{color:#737d8c;font-weight:400;margin-left:8px;font-size:12px}
  .content{min-width:0;overflow-wrap:break-word}
  .content > :first-child{margin-top:2px}
  .cmd{color:#17191c}
  table{border-collapse:collapse;margin:4px 0} td,th{border:1px solid #e3e8f0;padding:2px 8px;text-align:left;vertical-align:top}
  code{background:#f0f2f5;border-radius:3px;padding:0 3px;font-size:90%}
  h2{font-size:18px;margin:4px 0} h3{font-size:16px;margin:8px 0 4px} h4{font-size:15px;margin:4px 0}
  p{margin:4px 0} ul,ol{margin:4px 0;padding-left:24px}
  details>summary{display:none} details{display:block}
`;

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

function message(who: string, html: string, cls = 'summary'): string {
  return `<div class="msg"><div class="av">${esc(who[0]!.toUpperCase())}</div><div class="content ${cls}"><div class="who">${esc(who)}<span>now</span></div>${html}</div></div>`;
}

/** The page: the admin's command, the bot's summary, and the thread panel. */
export function chatPage(t: ThreadedReport, command = '!voiptest'): string {
  const thread = t.threadParts.map((p, i) => message('VoIP test bot', p.html, `part part-${i}`)).join('\n');
  return `<!doctype html><html><head><meta charset="utf-8"><style>${STYLE}</style></head><body><div class="app">
  <div class="timeline">${message('admin', `<p class="cmd">${esc(command)}</p>`, 'command')}${message('VoIP test bot', t.summary.html)}</div>
  <div class="thread"><h3 class="panel">Thread · ${t.threadParts.length} replies</h3>${thread}</div>
  </div></body></html>`;
}

export interface Rendered {
  /** Visual lines of the summary message's content as laid out. */
  summaryLines: number;
  /** Text of the summary that lies within the first screen (the viewport's height). */
  firstScreenText: string;
}

/** Lines as laid out (text line boxes, merged when within a few px), and what is visible in the first screen. */
async function measure(page: Page): Promise<Rendered> {
  return page.evaluate((screenH) => {
    const el = document.querySelector('.timeline .summary') as HTMLElement;
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    const tops: number[] = [];
    let seen = '';
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      if (!n.textContent?.trim() || (n.parentElement && n.parentElement.closest('.who'))) continue;
      const r = document.createRange();
      r.selectNodeContents(n);
      const rects = Array.from(r.getClientRects()).filter((x) => x.width > 0 && x.height > 0);
      for (const rect of rects) tops.push(rect.top);
      if (rects[0] && rects[0].bottom <= screenH) seen += ` ${n.textContent}`;
    }
    tops.sort((a, b) => a - b);
    let lines = 0;
    let last = -1e9;
    for (const t of tops) if (t - last > 6) (lines += 1), (last = t);
    return { summaryLines: lines, firstScreenText: seen.replace(/\s+/g, ' ') };
  }, VIEWPORT.height);
}

export interface ChatBrowser {
  /** Lay the report out; screenshots: the summary message, the whole page, the first screen (`message`). */
  show(t: ThreadedReport, shots?: { summary?: string; page?: string; message?: string }): Promise<Rendered>;
  close(): Promise<void>;
}

export async function openChatBrowser(): Promise<ChatBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'mxv-chat-'));
  const ctx: BrowserContext = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: VIEWPORT,
  });
  return {
    async show(t, shots = {}) {
      const p = await ctx.newPage();
      try {
        // Offline page: nothing but this HTML (no network at all).
        await p.route('**/*', (r) => r.abort());
        await p.setContent(chatPage(t), { waitUntil: 'load' });
        const m = await measure(p);
        if (shots.summary) await p.locator('.timeline .msg').nth(1).screenshot({ path: shots.summary });
        // The first screen: what a person sees on opening the room and the thread.
        if (shots.message) await p.screenshot({ path: shots.message, clip: { x: 0, y: 0, ...VIEWPORT } });
        if (shots.page) await p.screenshot({ path: shots.page, fullPage: true });
        return m;
      } finally {
        await p.close();
      }
    },
    async close() {
      await ctx.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
