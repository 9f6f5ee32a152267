// The renderers: one report model in, one string (or Matrix message parts) out per format.
export { renderText, type TextOptions } from './text';
export { renderMarkdown, markdownParts } from './markdown';
export { renderHtml, sanitizeMatrixHtml, MATRIX_ALLOWED } from './html';
export { renderJson } from './json';
export { renderPlain } from './plain';
export { threadedReport, type ThreadedReport, type MessagePart } from './thread';
export { formatDuration, formatMs, formatTime } from './format';
