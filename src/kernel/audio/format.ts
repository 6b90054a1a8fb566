/** Engines always receive this: 16 kHz, 16-bit signed little-endian, mono. */
export const ENGINE_SAMPLE_RATE = 16_000;

export type PcmEncoding = 'pcm-s16' | 'pcm-u8' | 'pcm-s24' | 'pcm-s32' | 'pcm-f32' | 'mulaw' | 'alaw';

/** A raw (uncompressed or G.711) audio format as a WAV header or a Content-Type describes it. */
export interface RawAudioFormat {
  encoding: PcmEncoding;
  sampleRate: number;
  channels: number;
}

/** Compressed containers that need a real decoder (ffmpeg). */
export type CompressedContainer = 'ogg' | 'webm' | 'mp3' | 'flac' | 'unknown';

export const DEFAULT_STREAM_FORMAT: RawAudioFormat = { encoding: 'pcm-s16', sampleRate: 16_000, channels: 1 };
