/**
 * What a JPEG's headers say about how it must be decoded. The frame's decoder (TJpgDec)
 * takes only baseline Huffman JPEG (SOF0), 8-bit, YCbCr or grey, 4:4:4, 4:2:2 or 4:2:0
 * (see /work/shared/firmware-contract.md), so tests use this to check what we send.
 */
export interface JpegInfo {
  readonly width: number;
  readonly height: number;
  /** 1 for grey, 3 for YCbCr. */
  readonly components: number;
  /** Bits per sample (8 for everything the frame can show). */
  readonly precision: number;
  /** The n of the SOFn marker that starts the frame: 0 baseline, 1 extended, 2 progressive, 9+ arithmetic. */
  readonly sof: number;
  /** SOF0 and nothing progressive or arithmetic-coded: what TJpgDec decodes. */
  readonly baseline: boolean;
  readonly progressive: boolean;
  readonly arithmetic: boolean;
  /** Chroma subsampling: '4:4:4', '4:2:2', '4:2:0', '4:4:0', '4:1:1', '4:0:0' (grey), or 'HxV,...' when unusual. */
  readonly samplingFactors: string;
  /** An APP1 "Exif" segment is present (renders for the frame carry no metadata). */
  readonly hasExif: boolean;
}

const SOI = 0xd8;
const EOI = 0xd9;
const SOS = 0xda;
const DAC = 0xcc; // arithmetic-coding conditioning table
const APP1 = 0xe1;
const TEM = 0x01;

/** SOFn markers: 0xC0..0xCF except DHT (C4), JPG (C8) and DAC (CC). */
function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== DAC;
}

/** Markers that stand alone, with no length field after them. */
function isStandalone(marker: number): boolean {
  return marker === TEM || marker === SOI || marker === EOI || (marker >= 0xd0 && marker <= 0xd7);
}

/**
 * Reads the marker segments of a JPEG up to its first scan and describes the frame.
 * Returns undefined when the bytes are not a JPEG or the headers are cut short.
 */
export function readJpegInfo(bytes: Uint8Array): JpegInfo | undefined {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== SOI) return undefined;
  let frame: Omit<JpegInfo, 'arithmetic' | 'hasExif' | 'baseline'> | undefined;
  let arithmetic = false;
  let hasExif = false;
  let offset = 2;
  while (offset < bytes.length) {
    if (bytes[offset] !== 0xff) return undefined; // lost sync: not a well-formed header
    // Any number of 0xFF fill bytes may precede a marker.
    while (offset < bytes.length && bytes[offset] === 0xff) offset += 1;
    const marker = bytes[offset];
    offset += 1;
    if (marker === undefined) return undefined;
    if (isStandalone(marker)) {
      if (marker === EOI) break;
      continue;
    }
    const length = readUint16(bytes, offset);
    if (length === undefined || length < 2 || offset + length > bytes.length) return undefined;
    const body = offset + 2;
    if (isStartOfFrame(marker)) {
      if (frame !== undefined) return undefined; // a second frame header: hierarchical mode, not supported anywhere we care about
      frame = readFrameHeader(bytes, body, length - 2, marker - 0xc0);
      if (frame === undefined) return undefined;
      if (marker >= 0xc9) arithmetic = true;
    } else if (marker === DAC) {
      arithmetic = true;
    } else if (marker === APP1 && length >= 8 && ascii(bytes, body, 4) === 'Exif') {
      hasExif = true;
    } else if (marker === SOS) {
      break; // entropy-coded data follows; everything we describe came before it
    }
    offset += length;
  }
  if (frame === undefined) return undefined;
  return { ...frame, arithmetic, hasExif, baseline: frame.sof === 0 && !arithmetic };
}

function readFrameHeader(
  bytes: Uint8Array,
  at: number,
  length: number,
  sof: number,
): Omit<JpegInfo, 'arithmetic' | 'hasExif' | 'baseline'> | undefined {
  if (length < 6) return undefined;
  const precision = bytes[at] ?? 0;
  const height = readUint16(bytes, at + 1) ?? 0;
  const width = readUint16(bytes, at + 3) ?? 0;
  const components = bytes[at + 5] ?? 0;
  if (length < 6 + components * 3) return undefined;
  const factors: Array<[number, number]> = [];
  for (let i = 0; i < components; i += 1) {
    const packed = bytes[at + 6 + i * 3 + 1] ?? 0;
    factors.push([packed >> 4, packed & 0x0f]);
  }
  // SOF2, SOF6, SOF10 and SOF14 are the progressive variants.
  const progressive = sof === 2 || sof === 6 || sof === 10 || sof === 14;
  return { width, height, components, precision, sof, progressive, samplingFactors: describeSampling(factors) };
}

/** Names the usual subsampling schemes from the per-component (horizontal, vertical) factors. */
function describeSampling(factors: Array<[number, number]>): string {
  const [luma, ...chroma] = factors;
  if (luma === undefined) return '';
  if (chroma.length === 0) return '4:0:0';
  const chromaIsUnit = chroma.every(([h, v]) => h === 1 && v === 1);
  if (chromaIsUnit) {
    const [h, v] = luma;
    if (h === 1 && v === 1) return '4:4:4';
    if (h === 2 && v === 1) return '4:2:2';
    if (h === 2 && v === 2) return '4:2:0';
    if (h === 1 && v === 2) return '4:4:0';
    if (h === 4 && v === 1) return '4:1:1';
  }
  return factors.map(([h, v]) => `${h}x${v}`).join(',');
}

function readUint16(bytes: Uint8Array, at: number): number | undefined {
  const high = bytes[at];
  const low = bytes[at + 1];
  return high === undefined || low === undefined ? undefined : (high << 8) | low;
}

function ascii(bytes: Uint8Array, at: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(at, at + length));
}
