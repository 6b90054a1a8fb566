import type { Duplex } from 'node:stream';
import type { CompressedContainer } from '../../kernel/audio/format.js';

/**
 * Decodes compressed audio (OGG/Opus, WebM/Opus, MP3, FLAC ...) into 16 kHz mono s16le PCM.
 * Implemented by an adapter (Debian ffmpeg as a child process). The returned stream takes the
 * compressed bytes on its writable side and yields PCM on its readable side, with backpressure
 * both ways. It errors with a ServiceError (code `InvalidAudio`) when the input cannot be decoded.
 */
export interface CompressedAudioDecoder {
  open(container: CompressedContainer): Duplex;
}

/** Codecs the CompressedAudioEncoder port produces. */
export type EncodedAudioCodec = 'mp3' | 'opus' | 'flac' | 'g722';
/** Containers (or bare bitstreams: mp3 frames, FLAC native, raw G.722) the port produces. */
export type EncodedAudioContainer = 'mp3' | 'ogg' | 'webm' | 'flac' | 'g722';

export interface AudioEncoderSpec {
  codec: EncodedAudioCodec;
  /** Opus goes in 'ogg' or 'webm'; each other codec has the container of its own name. */
  container: EncodedAudioContainer;
  /** Rate of the PCM written to the stream, which is also the encoded rate (no resampling here). */
  sampleRate: number;
  /** Target bitrate for lossy codecs; ignored by FLAC, and G.722 is always 64 kbit/s. */
  bitrateKbps?: number;
}

/**
 * Encodes synthesized speech for the client. Implemented by an adapter (Debian ffmpeg as a child
 * process). The returned stream takes 16-bit little-endian mono PCM at `spec.sampleRate` on its
 * writable side and yields the encoded bytes on its readable side, as soon as the encoder emits
 * them (streaming containers: header first, then pages/clusters/frames while input is still
 * arriving), with backpressure both ways. Ending the writable side flushes the encoder and ends the
 * readable side. Failures surface as a ServiceError with code `InternalError` (status 500): the
 * input is our own PCM, so an encoder failure is the service's fault, never the client's.
 * destroy() stops the encoder and releases its resources.
 */
export interface CompressedAudioEncoder {
  open(spec: AudioEncoderSpec): Duplex;
}
