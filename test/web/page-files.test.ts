/** The page's own files: every string in both languages, nothing from outside, small enough for a phone. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DEFAULT_WEB_ROOT } from '../../src/http/web-routes.js';

type Dictionary = Record<string, string | Record<string, string>>;

async function dictionaries(): Promise<Record<string, Dictionary>> {
  const module = (await import(pathToFileURL(join(DEFAULT_WEB_ROOT, 'i18n.js')).href)) as { DICTIONARIES: Record<string, Dictionary> };
  return module.DICTIONARIES;
}

async function webFiles(): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const name of await readdir(DEFAULT_WEB_ROOT)) files.set(name, await readFile(join(DEFAULT_WEB_ROOT, name), 'utf8'));
  return files;
}

describe('the page files', () => {
  test('English and Russian have the same keys, and every key the page uses exists', async () => {
    const { en, ru, ...others } = await dictionaries();
    assert.ok(en && ru);
    assert.deepEqual(Object.keys(others), [], 'two languages');
    assert.deepEqual(Object.keys(ru).sort(), Object.keys(en).sort());
    const files = await webFiles();
    const html = files.get('index.html') ?? '';
    const script = files.get('app.js') ?? '';
    const used = new Set<string>([
      ...[...html.matchAll(/data-i18n(?:-aria)?="([^"]+)"/g)].map((match) => match[1] ?? ''),
      ...[...script.matchAll(/\bt\('([a-zA-Z.]+)'/g)].map((match) => match[1] ?? ''),
      ...[...script.matchAll(/\['(viewer\.[a-zA-Z]+)'/g)].map((match) => match[1] ?? ''),
    ]);
    assert.ok(used.size > 40, `found the keys the page uses (${used.size})`);
    for (const key of used) {
      assert.ok(key in en, `English lacks ${key}`);
      assert.ok(key in ru, `Russian lacks ${key}`);
    }
    for (const [key, value] of Object.entries(ru)) {
      const english: Dictionary[string] | undefined = en[key];
      if (typeof value === 'object') {
        assert.ok(typeof english === 'object' && 'other' in english, `${key}: plural forms in both`);
        for (const form of ['one', 'few', 'many', 'other']) assert.ok(form in value, `${key}: Russian needs the ${form} form`);
      } else {
        // The same placeholders in both languages.
        const names = (text: string): string[] => [...text.matchAll(/\{(\w+)\}/g)].map((match) => match[1] ?? '').sort();
        assert.deepEqual(names(value), names(typeof english === 'string' ? english : ''), key);
      }
    }
  });

  test('nothing is loaded from outside the server, and the page stays small', async () => {
    const files = await webFiles();
    let total = 0;
    for (const [name, text] of files) {
      total += Buffer.byteLength(text);
      // The SVG namespace is a name, not a request.
      const urls = [...text.matchAll(/(?:https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}[^\s"')]*/gi)].map((match) => match[0]).filter((url) => url !== 'http://www.w3.org/2000/svg');
      assert.deepEqual(urls, [], `${name} names no outside address`);
      assert.ok(!/@import|@font-face|innerHTML|eval\(/.test(text), `${name}: no imports, web fonts, innerHTML or eval`);
    }
    const html = files.get('index.html') ?? '';
    for (const [, path] of html.matchAll(/(?:href|src)="(\/ui\/[^"]+)"/g)) {
      assert.ok(files.has((path ?? '').slice('/ui/'.length)), `${path} exists`);
    }
    assert.ok(total < 64 * 1024, `the page's files weigh ${total} bytes`);
  });
});
