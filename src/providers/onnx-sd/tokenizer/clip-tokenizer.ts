/**
 * CLIP's text tokenizer for the SD text encoders, built offline from the slow-tokenizer files that
 * diffusers exports ship (`tokenizer/vocab.json` + `merges.txt`; usually no `tokenizer.json`).
 * @huggingface/tokenizers runs the BPE; we hand it an in-memory `tokenizer.json` equal to the one
 * Hugging Face publishes for CLIP (shared/onnx-sd.md §7.1, §7.3): NFC, whitespace collapsed,
 * lower case, CLIP's split regex, byte-level mapping, BPE with the `</w>` word-end suffix.
 * Padding and truncation are done here, because the library has neither and the encoder needs
 * exactly `maxLength` ids with the end token kept.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';

const BOS_TOKEN = '<|startoftext|>';
const EOS_TOKEN = '<|endoftext|>';
/** CLIP's context length; every SD 1.x/2.x text encoder takes 77 ids. */
const DEFAULT_MAX_LENGTH = 77;
/**
 * CLIP reads only the first 49152 − 256 − 2 merges of merges.txt (openai/CLIP simple_tokenizer.py,
 * and Hugging Face's CLIPTokenizer does the same); the vocabulary has exactly the tokens they make.
 */
const CLIP_MERGE_LIMIT = 49152 - 256 - 2;
/** CLIP's pre-tokenizer regex (the published tokenizer.json): contractions, letters, single digits, other runs. */
const CLIP_SPLIT_REGEX = "'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+";

export interface ClipTokenizerOptions {
  /** The padding token; `<|endoftext|>` (SD 1.x) when absent, `!` (id 0) for SD 2.x / Turbo. */
  readonly padToken?: string;
  /** Ids per encoding, special tokens included; 77 when absent. */
  readonly maxLength?: number;
}

/** What the error messages call each input (file paths for `fromFolder`). */
interface Sources {
  readonly vocab: string;
  readonly merges: string;
  readonly padToken: string;
}

export class ClipTokenizer {
  /** Length of every `encode` result. */
  readonly maxLength: number;
  /** Id that fills the rest after the end token. */
  readonly padId: number;
  readonly bosId: number;
  readonly eosId: number;
  private readonly tokenizer: Tokenizer;

  private constructor(tokenizer: Tokenizer, ids: { bos: number; eos: number; pad: number }, maxLength: number) {
    this.tokenizer = tokenizer;
    this.bosId = ids.bos;
    this.eosId = ids.eos;
    this.padId = ids.pad;
    this.maxLength = maxLength;
  }

  /**
   * Loads an export's tokenizer folder: vocab.json and merges.txt (required), plus
   * special_tokens_map.json and tokenizer_config.json when present (pad token, model_max_length).
   */
  static async fromFolder(tokenizerDir: string): Promise<ClipTokenizer> {
    const vocabFile = path.join(tokenizerDir, 'vocab.json');
    const mergesFile = path.join(tokenizerDir, 'merges.txt');
    const specialFile = path.join(tokenizerDir, 'special_tokens_map.json');
    const configFile = path.join(tokenizerDir, 'tokenizer_config.json');

    const vocab = parseJson(await readRequired(vocabFile), vocabFile);
    const merges = await readRequired(mergesFile);
    const specialText = await readOptional(specialFile);
    const configText = await readOptional(configFile);
    const special = specialText === undefined ? {} : asObject(parseJson(specialText, specialFile), specialFile);
    const config = configText === undefined ? {} : asObject(parseJson(configText, configFile), configFile);

    // special_tokens_map.json wins over tokenizer_config.json, as in transformers.
    const fromSpecial = tokenContent(special['pad_token']);
    const fromConfig = tokenContent(config['pad_token']);
    const padToken = fromSpecial ?? fromConfig;
    const padSource = fromSpecial !== undefined ? specialFile : configFile;
    const options: ClipTokenizerOptions = {
      maxLength: sensibleMaxLength(config['model_max_length']),
      ...(padToken === undefined ? {} : { padToken }),
    };
    return ClipTokenizer.build(vocab, merges, options, { vocab: vocabFile, merges: mergesFile, padToken: padSource });
  }

  /** Builds from the parsed vocab.json object and the text of merges.txt. */
  static fromFiles(vocab: Record<string, number>, merges: string, options: ClipTokenizerOptions = {}): ClipTokenizer {
    return ClipTokenizer.build(vocab, merges, options, { vocab: 'vocab.json', merges: 'merges.txt', padToken: 'padToken' });
  }

  /**
   * Exactly `maxLength` ids: start token, the text's tokens (cut to maxLength − 2), end token,
   * then padding. The end token always survives truncation, as in transformers.
   */
  encode(text: string): number[] {
    const body = this.tokenizer.encode(text, { add_special_tokens: false }).ids;
    const kept = Math.min(body.length, this.maxLength - 2);
    const ids = new Array<number>(this.maxLength);
    ids[0] = this.bosId;
    for (let i = 0; i < kept; i++) ids[i + 1] = body[i] as number;
    ids[kept + 1] = this.eosId;
    ids.fill(this.padId, kept + 2);
    return ids;
  }

  private static build(vocabInput: unknown, mergesText: string, options: ClipTokenizerOptions, sources: Sources): ClipTokenizer {
    const vocab = checkVocab(vocabInput, sources.vocab);
    const merges = parseMerges(mergesText, vocab, sources);
    const maxLength = options.maxLength ?? DEFAULT_MAX_LENGTH;
    if (!Number.isInteger(maxLength) || maxLength < 2) {
      throw new RangeError(`CLIP tokenizer: maxLength must be an integer of at least 2, got ${maxLength}`);
    }
    const bos = vocab.get(BOS_TOKEN);
    const eos = vocab.get(EOS_TOKEN);
    if (bos === undefined || eos === undefined) {
      throw new Error(`${sources.vocab}: CLIP vocabulary lacks ${bos === undefined ? BOS_TOKEN : EOS_TOKEN}`);
    }
    const padToken = options.padToken ?? EOS_TOKEN;
    const pad = vocab.get(padToken);
    if (pad === undefined) {
      throw new Error(`${sources.padToken}: pad token ${JSON.stringify(padToken)} is not in ${sources.vocab}`);
    }

    const vocabObject = Object.fromEntries(vocab);
    const tokenizer = new Tokenizer(
      {
        version: '1.0',
        truncation: null,
        padding: null,
        added_tokens: [
          { id: bos, content: BOS_TOKEN, single_word: false, lstrip: false, rstrip: false, normalized: true, special: true },
          { id: eos, content: EOS_TOKEN, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
        ],
        normalizer: {
          type: 'Sequence',
          normalizers: [{ type: 'NFC' }, { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' }, { type: 'Lowercase' }],
        },
        pre_tokenizer: {
          type: 'Sequence',
          pretokenizers: [
            { type: 'Split', pattern: { Regex: CLIP_SPLIT_REGEX }, behavior: 'Removed', invert: true },
            // The split above already made the words; GPT-2's regex must not split them again.
            { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
          ],
        },
        post_processor: {
          type: 'RobertaProcessing',
          sep: [EOS_TOKEN, eos],
          cls: [BOS_TOKEN, bos],
          trim_offsets: false,
          add_prefix_space: false,
        },
        decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
        model: {
          type: 'BPE',
          dropout: null,
          unk_token: EOS_TOKEN,
          continuing_subword_prefix: '',
          end_of_word_suffix: '</w>',
          fuse_unk: false,
          byte_fallback: false,
          vocab: vocabObject,
          merges,
        },
      },
      {},
    );
    return new ClipTokenizer(tokenizer, { bos, eos, pad }, maxLength);
  }
}

/** vocab.json must map token strings to non-negative integer ids. */
function checkVocab(input: unknown, source: string): Map<string, number> {
  const object = asObject(input, source);
  const vocab = new Map<string, number>();
  for (const [token, id] of Object.entries(object)) {
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) {
      throw new Error(`${source}: token ${JSON.stringify(token)} has id ${JSON.stringify(id)}, expected a non-negative integer`);
    }
    vocab.set(token, id);
  }
  if (vocab.size === 0) throw new Error(`${source}: the vocabulary is empty`);
  return vocab;
}

/**
 * merges.txt: an optional "#version" line, then one "left right" pair per line in rank order.
 * Like the Rust tokenizers, every part and every merged token must be in the vocabulary, which
 * also catches a merges.txt from another model (GPT-2's, say) next to CLIP's vocab.json.
 */
function parseMerges(text: string, vocab: Map<string, number>, sources: Sources): string[] {
  if (typeof text !== 'string') throw new Error(`${sources.merges}: expected the text of merges.txt`);
  const lines = text.split(/\r?\n/);
  const merges: string[] = [];
  for (let index = 0; index < lines.length && merges.length < CLIP_MERGE_LIMIT; index++) {
    const line = lines[index] as string;
    if (line === '' || (index === 0 && line.startsWith('#'))) continue;
    const parts = line.split(' ');
    const left = parts[0];
    const right = parts[1];
    if (parts.length !== 2 || !left || !right) {
      throw new Error(`${sources.merges} line ${index + 1}: expected two tokens separated by one space, got ${JSON.stringify(line)}`);
    }
    // The merged token is the plain concatenation: only a word's last symbol carries </w>.
    if (!vocab.has(left) || !vocab.has(right) || !vocab.has(left + right)) {
      throw new Error(`${sources.merges} line ${index + 1}: ${JSON.stringify(line)} uses a token that is not in ${sources.vocab}`);
    }
    merges.push(line);
  }
  if (merges.length === 0) throw new Error(`${sources.merges}: no merge rules`);
  return merges;
}

async function readRequired(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if (isMissing(error)) throw new Error(`CLIP tokenizer: ${file} is missing`);
    throw new Error(`CLIP tokenizer: cannot read ${file}: ${(error as Error).message}`);
  }
}

async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw new Error(`CLIP tokenizer: cannot read ${file}: ${(error as Error).message}`);
  }
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new Error(`${source}: not valid JSON (${(error as Error).message})`);
  }
}

function asObject(value: unknown, source: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new Error(`${source}: expected a JSON object`);
  }
  return value as Record<string, unknown>;
}

/** Special tokens appear as a plain string or as an AddedToken object `{ content, ... }`. */
function tokenContent(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value !== null && typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string') {
    return (value as { content: string }).content;
  }
  return undefined;
}

/**
 * tokenizer_config.json's model_max_length is 77 for CLIP; transformers writes a huge number
 * (int(1e30)) when a tokenizer has no limit, which must not become our array length.
 */
function sensibleMaxLength(value: unknown): number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 2 && value <= 1024 ? value : DEFAULT_MAX_LENGTH;
}
