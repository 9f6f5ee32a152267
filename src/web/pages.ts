// The server-made pages: a clear page for a link that is unknown, expired,
// used or open elsewhere (never a stack trace). Every string is escaped; the
// style comes from our stylesheet (the CSP allows no inline style).
import { htmlEscape } from '../render/escape';

export type LinkProblem = 'unknown' | 'expired' | 'spent' | 'claimed' | 'busy' | 'error';

export const LINK_PROBLEMS: Record<LinkProblem, { status: number; title: string; text: string }> = {
  unknown: { status: 404, title: 'This link is not valid', text: 'This helper link does not exist. Check that you copied the whole link, or ask the bot for a new one with !voiptest browser.' },
  expired: { status: 410, title: 'This link has expired', text: 'Helper links work for a short time only. Ask the bot for a new one with !voiptest browser.' },
  spent: { status: 410, title: 'This link has been used', text: 'Each helper link serves one test. The results were posted to your room. Ask the bot for a new link with !voiptest browser to test again.' },
  claimed: { status: 409, title: 'This link is open in another browser', text: 'Each helper link serves one browser session. Go back to the window where you first opened it, or ask the bot for a new link with !voiptest browser.' },
  busy: { status: 503, title: 'The helper is busy', text: 'Too many tests are running right now. Please try again in a minute.' },
  error: { status: 500, title: 'Something went wrong', text: 'The helper could not answer this request. Please try again, or ask the bot for a new link.' },
};

export function problemPage(problem: LinkProblem): { status: number; html: string } {
  const p = LINK_PROBLEMS[problem];
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${htmlEscape(p.title)}</title><link rel="stylesheet" href="/static/helper.css"></head>
<body><main class="problem" data-problem="${htmlEscape(problem)}"><h1>${htmlEscape(p.title)}</h1><p>${htmlEscape(p.text)}</p></main></body></html>
`;
  return { status: p.status, html };
}
