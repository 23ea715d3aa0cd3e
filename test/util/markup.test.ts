import assert from 'node:assert/strict';
import { test } from 'node:test';
import { XMLParser } from 'fast-xml-parser';
import { escapeMarkup, unicodeEscape } from '../../lib/util/markup.ts';

test('escapeMarkup: & < > always, quotes as the caller says, and a real XML parser reads the value back', () => {
  const text = `<a href="x">Tom & 'Jerry'</a>`;
  assert.equal(escapeMarkup(text), '&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;');
  assert.equal(escapeMarkup(text, '"', "'"), `&lt;a href="x"&gt;Tom &amp; 'Jerry'&lt;/a&gt;`);
  const xml = `<r v="${escapeMarkup(text, '&quot;', '&apos;')}">${escapeMarkup(text, '"', "'")}</r>`;
  const parsed = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@',
    processEntities: true,
    htmlEntities: true,
  }).parse(xml);
  assert.equal(parsed.r['@v'], text);
  assert.equal(parsed.r['#text'], text);
});

test('unicodeEscape: four hex digits after \\u, as JSON writes them', () => {
  assert.equal(unicodeEscape('\u0007'), '\\u0007');
  assert.equal(unicodeEscape('é'), '\\u00e9');
  assert.equal(JSON.parse(`"${unicodeEscape('\uffff')}"`), '\uffff');
});
