/**
 * ITU-T G.711 µ-law and A-law, decoded and encoded by table lookup. The formulas follow the
 * reference g711.c (Sun Microsystems, public domain), which is what ffmpeg, sox and the Speech SDK
 * produce, so our bytes round-trip with theirs.
 */

function mulawToLinearSlow(code: number): number {
  // Codes are stored inverted so that silence is 0xFF (keeps lines from idling at all-zero bits).
  const u = ~code & 0xff;
  const exponent = (u >> 4) & 0x07;
  const mantissa = u & 0x0f;
  const magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
  return u & 0x80 ? -magnitude : magnitude;
}

function alawToLinearSlow(code: number): number {
  // Even bits are inverted on the wire (XOR 0x55) for the same line-coding reason.
  const a = code ^ 0x55;
  const segment = (a & 0x70) >> 4;
  let magnitude = (a & 0x0f) << 4;
  if (segment === 0) magnitude += 8;
  else if (segment === 1) magnitude += 0x108;
  else magnitude = (magnitude + 0x108) << (segment - 1);
  return a & 0x80 ? magnitude : -magnitude;
}

const MULAW_SEGMENT_END = [0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff, 0x1fff] as const;
const ALAW_SEGMENT_END = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff] as const;
const MULAW_BIAS = 0x84;
const MULAW_CLIP = 8159;

function segmentOf(value: number, ends: readonly number[]): number {
  for (let i = 0; i < ends.length; i++) {
    if (value <= (ends[i] ?? 0)) return i;
  }
  return ends.length;
}

function linearToMulawSlow(sample: number): number {
  // µ-law works on 14-bit magnitudes.
  let pcm = sample >> 2;
  let mask: number;
  if (pcm < 0) {
    pcm = -pcm;
    mask = 0x7f;
  } else {
    mask = 0xff;
  }
  if (pcm > MULAW_CLIP) pcm = MULAW_CLIP;
  pcm += MULAW_BIAS >> 2;
  const segment = segmentOf(pcm, MULAW_SEGMENT_END);
  if (segment >= 8) return 0x7f ^ mask;
  return (((segment << 4) | ((pcm >> (segment + 1)) & 0x0f)) ^ mask) & 0xff;
}

function linearToAlawSlow(sample: number): number {
  // A-law works on 13-bit magnitudes; negative values are one's-complement-ish (-x - 1).
  let pcm = sample >> 3;
  let mask: number;
  if (pcm >= 0) {
    mask = 0xd5;
  } else {
    mask = 0x55;
    pcm = -pcm - 1;
  }
  const segment = segmentOf(pcm, ALAW_SEGMENT_END);
  if (segment >= 8) return (0x7f ^ mask) & 0xff;
  let aval = segment << 4;
  aval |= segment < 2 ? (pcm >> 1) & 0x0f : (pcm >> segment) & 0x0f;
  return (aval ^ mask) & 0xff;
}

/** Code byte → s16 sample. */
export const MULAW_DECODE_TABLE: Int16Array = buildDecodeTable(mulawToLinearSlow);
/** Code byte → s16 sample. */
export const ALAW_DECODE_TABLE: Int16Array = buildDecodeTable(alawToLinearSlow);

function buildDecodeTable(decode: (code: number) => number): Int16Array {
  const table = new Int16Array(256);
  for (let i = 0; i < 256; i++) table[i] = decode(i);
  return table;
}

// Encode tables cover all 65,536 s16 values (64 KiB each) and are built on first use only, since
// most deployments never encode G.711.
let mulawEncodeTable: Uint8Array | undefined;
let alawEncodeTable: Uint8Array | undefined;

function buildEncodeTable(encode: (sample: number) => number): Uint8Array {
  const table = new Uint8Array(65536);
  for (let i = 0; i < 65536; i++) table[i] = encode(i - 32768);
  return table;
}

function mulawTable(): Uint8Array {
  mulawEncodeTable ??= buildEncodeTable(linearToMulawSlow);
  return mulawEncodeTable;
}

function alawTable(): Uint8Array {
  alawEncodeTable ??= buildEncodeTable(linearToAlawSlow);
  return alawEncodeTable;
}

export function mulawToLinear(code: number): number {
  return MULAW_DECODE_TABLE[code & 0xff] ?? 0;
}

export function alawToLinear(code: number): number {
  return ALAW_DECODE_TABLE[code & 0xff] ?? 0;
}

/** s16 sample (clamped to the s16 range) → µ-law code byte. */
export function linearToMulaw(sample: number): number {
  return mulawTable()[clampS16(sample) + 32768] ?? 0xff;
}

/** s16 sample (clamped to the s16 range) → A-law code byte. */
export function linearToAlaw(sample: number): number {
  return alawTable()[clampS16(sample) + 32768] ?? 0xd5;
}

function clampS16(sample: number): number {
  const s = Math.round(sample);
  return s > 32767 ? 32767 : s < -32768 ? -32768 : s;
}

function decodeWith(table: Int16Array, codes: Uint8Array, out?: Int16Array): Int16Array {
  const result = out ?? new Int16Array(codes.length);
  if (result.length < codes.length) throw new RangeError('output buffer shorter than input');
  for (let i = 0; i < codes.length; i++) result[i] = table[codes[i] as number] as number;
  return result;
}

function encodeWith(table: Uint8Array, samples: Int16Array, out?: Uint8Array): Uint8Array {
  const result = out ?? new Uint8Array(samples.length);
  if (result.length < samples.length) throw new RangeError('output buffer shorter than input');
  for (let i = 0; i < samples.length; i++) result[i] = table[(samples[i] as number) + 32768] as number;
  return result;
}

/** Decodes µ-law bytes to s16 samples (into `out` when given, which must be long enough). */
export function decodeMulaw(codes: Uint8Array, out?: Int16Array): Int16Array {
  return decodeWith(MULAW_DECODE_TABLE, codes, out);
}

/** Decodes A-law bytes to s16 samples (into `out` when given, which must be long enough). */
export function decodeAlaw(codes: Uint8Array, out?: Int16Array): Int16Array {
  return decodeWith(ALAW_DECODE_TABLE, codes, out);
}

/** Encodes s16 samples to µ-law bytes. */
export function encodeMulaw(samples: Int16Array, out?: Uint8Array): Uint8Array {
  return encodeWith(mulawTable(), samples, out);
}

/** Encodes s16 samples to A-law bytes. */
export function encodeAlaw(samples: Int16Array, out?: Uint8Array): Uint8Array {
  return encodeWith(alawTable(), samples, out);
}
