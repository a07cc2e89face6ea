/**
 * Text from the network (banners, sysDescr, SIP headers, host names), from matrix and policy
 * files, from saved results and from imported documents is untrusted. These helpers make it
 * safe for each medium; renderers and commands call them, nothing else escapes by hand.
 */

// C0 and C1 controls, DEL, the bidi overrides and isolates that reorder what is shown, and
// noncharacters and lone surrogates (not text; a terminal shows garbage for them).
const TERMINAL_UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * For one terminal line: every control character (escape sequences, carriage returns, line
 * feeds included) becomes U+FFFD, so a file or a banner cannot move the cursor, clear the
 * screen, set the title (OSC) or forge a line of its own. The one sanitiser for every line a
 * command prints.
 */
export function toTerminalText(text: string): string {
  return text.replace(TERMINAL_UNSAFE, '\ufffd');
}

// As above, without tab and line feed: HTML <pre> and multi-line cells keep their layout.
const HTML_UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** For HTML text and attributes: markup escaped, controls shown as U+FFFD; newlines and tabs kept. */
export function escapeHtml(text: string): string {
  return text.replace(HTML_UNSAFE, '\ufffd').replace(/[&<>"']/g, (character) => ENTITIES[character]!);
}

// Not allowed anywhere in an XML 1.0 document: C0 controls but tab, LF, CR; lone surrogates; U+FFFE, U+FFFF.
const XML_INVALID = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
// Allowed by XML but still able to steer a terminal or reorder text when the file is read.
const XML_DISPLAY_UNSAFE = /[\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
const XML_ENTITIES: Record<string, string> = { ...ENTITIES, '\t': '&#9;', '\n': '&#10;', '\r': '&#13;' };

/**
 * For XML text and attribute values alike: characters XML forbids are dropped (a well-formed
 * file beats a faithful one), markup is escaped, and tab, LF and CR become character references
 * so that attribute-value normalisation does not turn them into spaces.
 */
export function escapeXml(value: string | number): string {
  return String(value)
    .replace(XML_INVALID, '')
    .replace(XML_DISPLAY_UNSAFE, '\ufffd')
    .replace(/[&<>"'\t\n\r]/g, (character) => XML_ENTITIES[character]!);
}

const MARKDOWN_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };

/**
 * For Markdown table cells and prose: one line (line breaks become spaces, controls U+FFFD);
 * markup, link and cell characters backslash-escaped, then &, < and > as entities, in that
 * order, so that no escape lands inside an entity (the old order showed a quote as &\#39;).
 * Quotes need nothing in Markdown and stay as they are.
 */
export function escapeMarkdown(text: string): string {
  return toTerminalText(text.replace(/\r\n|[\r\n\t]/g, ' '))
    .replace(/[\\`*_{}[\]()#+!|~]/g, (character) => `\\${character}`)
    .replace(/[&<>]/g, (character) => MARKDOWN_ENTITIES[character]!);
}

/** For a block of terminal lines (a report, a list): each line through toTerminalText, the line breaks kept. */
export function toTerminalLines(text: string): string {
  return text.split('\n').map(toTerminalText).join('\n');
}

// JSON.stringify escapes C0 controls but leaves DEL, C1 (U+009B is a one-character CSI), the bidi
// controls and the JavaScript line separators raw.
const JSON_DISPLAY_UNSAFE = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufffe\uffff]/g;

/** JSON text that is safe on a terminal too: the same value once parsed, every control written as \uXXXX. */
export function toJsonText(value: unknown, indent = 2): string {
  return JSON.stringify(value, null, indent).replace(JSON_DISPLAY_UNSAFE, (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * For storing text read from the network (certificate names, Server headers, greetings): one
 * line, control characters and bidi overrides dropped, whitespace collapsed, at most maxLength
 * characters. The renderers still escape it for their medium.
 */
export function toUntrustedLine(raw: string, maxLength = 200): string {
  const line = raw.replace(TERMINAL_UNSAFE, ' ').replace(/\s+/g, ' ').trim();
  const characters = [...line];
  return characters.length > maxLength ? `${characters.slice(0, maxLength - 1).join('')}…` : line;
}
