import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/load-config.js';
import { ConfigError } from '../../src/config/config-error.js';
import { parseStartupOptions } from '../../src/config/startup-options.js';

const roots: string[] = [];
async function withOptions(yaml: string | undefined) {
  const root = await mkdtemp(join(tmpdir(), 'aiframe-config-'));
  roots.push(root);
  const dataDir = join(root, 'data');
  await mkdir(dataDir, { recursive: true });
  if (yaml !== undefined) await writeFile(join(dataDir, 'options.yml'), yaml);
  const startup = { host: '127.0.0.1', port: 0, dataDir, imagesDir: undefined, logDir: join(root, 'log'), help: false, version: false };
  return { root, dataDir, load: () => loadConfig(startup) };
}

async function configError(yaml: string): Promise<string> {
  const { load } = await withOptions(yaml);
  try {
    await load();
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.message;
  }
  assert.fail('expected a ConfigError');
}

after(async () => {
  await Promise.all(roots.map((root) => rm(root, { recursive: true, force: true })));
});

describe('options.yml', () => {
  test('first start writes a commented default file and uses the defaults', async () => {
    const { dataDir, load } = await withOptions(undefined);
    const { config, notices } = await load();
    const text = await readFile(join(dataDir, 'options.yml'), 'utf8');
    assert.ok(text.split('\n').filter((line) => line.startsWith('#')).length > 10, 'commented');
    assert.ok(parse(text), 'valid YAML');
    assert.deepEqual([config.frame.width, config.frame.height, config.frame.fitThreshold, config.frame.fitMode], [320, 480, 0.03, 'auto']);
    assert.deepEqual(config.library, { minCount: 1000, maxCount: 2000 });
    assert.equal(config.generateThresholdMinutes, 10);
    assert.equal(config.promptsAmount, 10);
    assert.equal(config.cron.checkPending, '* * * * *');
    assert.equal(config.cron.scanImages, '0 0 * * *');
    assert.equal(config.logLevel, 'info');
    assert.ok(notices.some((notice) => notice.message.includes('wrote the default options')));
  });

  test('an upstream ImageServer file keeps its meaning', async () => {
    const { load } = await withOptions(`log_level: DEBUG
image_path: /tmp/somewhere
image_amount_min: 10
image_amount_max: 20
image_generate_threshold: 30
check_pending_cron: "*/2 * * * *"
scan_image_cron: "0 3 * * *"
iframe_image_parameters:
  image_weight: 480
  image_height: 320
  fit_threshold: 0.05
prompts_amount: 5
`);
    const { config } = await load();
    assert.equal(config.logLevel, 'debug');
    assert.equal(config.paths.imagesDir, '/tmp/somewhere');
    assert.deepEqual(config.library, { minCount: 10, maxCount: 20 });
    assert.equal(config.generateThresholdMinutes, 30);
    assert.deepEqual([config.frame.width, config.frame.height, config.frame.fitThreshold], [480, 320, 0.05]);
    assert.equal(config.promptsAmount, 5);
    assert.equal(config.cron.checkPending, '*/2 * * * *');
  });

  test('the older flat image_weight/image_height keys still work', async () => {
    const { load } = await withOptions('image_weight: 240\nimage_height: 320\n');
    const { config } = await load();
    assert.deepEqual([config.frame.width, config.frame.height], [240, 320]);
  });

  test('a wrong value stops start-up with one line naming the file, the key and what is expected', async () => {
    const message = await configError('image_amount_min: lots\n');
    assert.match(message, /options\.yml: image_amount_min: expected a whole number/);
    assert.match(message, /got "lots"/);
    assert.equal(message.includes('\n'), false);
  });

  test('nested keys are named in full', async () => {
    assert.match(await configError('iframe_image_parameters:\n  fit_threshold: 3\n'), /iframe_image_parameters\.fit_threshold: expected a number from 0 to 1/);
  });

  test('a bad cron expression is a clear start-up error', async () => {
    assert.match(await configError('check_pending_cron: "every minute"\n'), /check_pending_cron: expected a valid cron expression/);
  });

  test('bad log level, min above max, broken YAML', async () => {
    assert.match(await configError('log_level: LOUD\n'), /log_level: expected one of DEBUG, INFO, WARNING, ERROR/);
    assert.match(await configError('image_amount_min: 50\nimage_amount_max: 40\n'), /image_amount_min: expected less than image_amount_max/);
    assert.match(await configError('log_level: [\n'), /not valid YAML/);
  });

  test('unknown keys warn and do not stop start-up', async () => {
    const { load } = await withOptions('colour_scheme: dark\niframe_image_parameters:\n  brightness: 5\n');
    const { notices } = await load();
    const warnings = notices.filter((notice) => notice.level === 'warn').map((notice) => notice.message);
    assert.ok(warnings.some((line) => line.includes('"colour_scheme"')));
    assert.ok(warnings.some((line) => line.includes('"iframe_image_parameters.brightness"')));
  });
});

describe('start-up options', () => {
  test('defaults, environment, and flags over environment', () => {
    const defaults = parseStartupOptions([], {});
    assert.equal(defaults.port, 8099);
    assert.equal(defaults.host, '0.0.0.0');
    assert.equal(defaults.imagesDir, undefined);
    const fromEnv = parseStartupOptions([], { PORT: '9000', HOST: '127.0.0.1', DATA_DIR: '/tmp/d', IMAGES_DIR: '/tmp/i', LOG_DIR: '/tmp/l' });
    assert.deepEqual([fromEnv.port, fromEnv.host, fromEnv.dataDir, fromEnv.imagesDir, fromEnv.logDir], [9000, '127.0.0.1', '/tmp/d', '/tmp/i', '/tmp/l']);
    const fromFlags = parseStartupOptions(['--port', '9100', '--data', '/tmp/x'], { PORT: '9000' });
    assert.deepEqual([fromFlags.port, fromFlags.dataDir], [9100, '/tmp/x']);
  });

  test('a bad port or an unknown flag is a clear error', () => {
    assert.throws(() => parseStartupOptions(['--port', 'eighty'], {}), /--port: expected a port number/);
    assert.throws(() => parseStartupOptions([], { PORT: '70000' }), /PORT: expected a port number/);
    assert.throws(() => parseStartupOptions(['--colour'], {}), ConfigError);
  });
});
