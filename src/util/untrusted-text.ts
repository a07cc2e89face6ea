/**
 * Text from the network (banners, sysDescr, SIP headers, host names) is untrusted.
 * These helpers make it safe for each medium; renderers call them, nothing else escapes by hand.
 */

// C0 and C1 controls, DEL, and the bidi overrides that can reorder what a terminal shows.
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** For the terminal: control characters (escape sequences included) become U+FFFD. */
export function toTerminalText(text: string): string {
  return text.replace(CONTROL_CHARACTERS, '\ufffd');
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return toTerminalText(text).replace(/[&<>"']/g, (character) => HTML_ESCAPES[character] ?? character);
}

/** For Markdown table cells and prose: no markup, no links, no line breaks. */
export function escapeMarkdown(text: string): string {
  return escapeHtml(text).replace(/[\\`*_{}[\]()#+!|~]/g, (character) => `\\${character}`);
}
