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
