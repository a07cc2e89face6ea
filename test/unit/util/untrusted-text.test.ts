/** The sanitisers: what each medium must never receive, and what it must keep. */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { escapeHtml, escapeMarkdown, escapeXml, toJsonText, toTerminalLines, toTerminalText } from '../../../src/util/untrusted-text.js';
import { itNeeding } from '../../helpers/requirements.js';

const HOSTILE = 'a\u001b]0;title\u0007b\u001b[2Jc\u009b31md\re\nf\u202eg\ud800h';

describe('toTerminalText', () => {
  it('leaves no control character, no bidi override and no lone surrogate; keeps printable text and pairs', () => {
    const safe = toTerminalText(`${HOSTILE} 😀 é`);
    expect(safe).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
    expect(safe).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
    expect(safe).toContain('😀 é');
    expect(safe.split('\ufffd').length - 1).toBe(8);
  });

  it('toTerminalLines keeps the line breaks of a block and cleans each line', () => {
    expect(toTerminalLines('one\u001b[1m\ntwo\r')).toBe('one\ufffd[1m\ntwo\ufffd');
  });
});

describe('escapeXml', () => {
  itNeeding('drops what XML forbids, escapes markup and keeps tab/LF/CR as references: xmllint reads it back', { tools: ['xmllint'] }, () => {
    const text = `${HOSTILE}\uffff\ufffe\u0000<&>"'\t`;
    const escaped = escapeXml(text);
    const xml = `<?xml version="1.0"?><r a="${escaped}">${escaped}</r>`;
    expect(() => execFileSync('xmllint', ['--noout', '-'], { input: xml, stdio: ['pipe', 'pipe', 'pipe'] })).not.toThrow();
    const roundTrip = execFileSync('xmllint', ['--xpath', 'string(/r/@a)', '-'], { input: xml }).toString();
    expect(roundTrip).toContain('<&>"\'\t');
    expect(roundTrip).toContain('e\nf');
  });

  it('takes numbers', () => {
    expect(escapeXml(65535)).toBe('65535');
  });
});

describe('escapeHtml', () => {
  it('escapes markup and controls but keeps newlines and tabs (Parameters stay readable)', () => {
    expect(escapeHtml('{\n\t"a": "<b>"\n}\u001b')).toBe('{\n\t&quot;a&quot;: &quot;&lt;b&gt;&quot;\n}\ufffd');
  });
});

describe('escapeMarkdown', () => {
  it('a quote stays a quote, markup is escaped, entities are never broken by an escape', () => {
    expect(escapeMarkdown("target's <b>x</b> | [a](b) #1 & *c*")).toBe("target's &lt;b&gt;x&lt;/b&gt; \\| \\[a\\]\\(b\\) \\#1 &amp; \\*c\\*");
    expect(escapeMarkdown('two\nlines\r\nhere')).toBe('two lines here');
  });
});

describe('toJsonText', () => {
  it('parses back to the same value and shows no raw C1 or bidi control', () => {
    const value = { banner: HOSTILE, list: ['\u2028', '\u009b'] };
    const text = toJsonText(value);
    expect(JSON.parse(text)).toEqual(value);
    expect(text.replaceAll('\n', '')).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e]/);
  });
});
