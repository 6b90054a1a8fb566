/**
 * The recent audio of a turn, addressed by absolute sample index on the turn's timeline.
 * Holds only what an open utterance (plus pre-roll) still needs; callers drop the rest.
 */
export class AudioWindow {
  #chunks: Int16Array[] = [];
  #start = 0;
  #length = 0;

  get startSample(): number {
    return this.#start;
  }

  get endSample(): number {
    return this.#start + this.#length;
  }

  append(samples: Int16Array): void {
    if (samples.length === 0) return;
    this.#chunks.push(samples);
    this.#length += samples.length;
  }

  /** Copies [from, to) clamped to what is held. */
  slice(from: number, to: number): Int16Array {
    const a = Math.max(from, this.#start);
    const b = Math.min(to, this.endSample);
    const out = new Int16Array(Math.max(0, b - a));
    let pos = this.#start;
    let written = 0;
    for (const chunk of this.#chunks) {
      const cStart = pos;
      const cEnd = pos + chunk.length;
      pos = cEnd;
      if (cEnd <= a) continue;
      if (cStart >= b) break;
      const s = Math.max(a, cStart) - cStart;
      const e = Math.min(b, cEnd) - cStart;
      out.set(chunk.subarray(s, e), written);
      written += e - s;
    }
    return out;
  }

  /** Forgets samples before `sample` (whole chunks only, then trims the first one). */
  dropBefore(sample: number): void {
    while (this.#chunks.length > 0 && sample > this.#start) {
      const first = this.#chunks[0];
      if (!first) break;
      const drop = Math.min(first.length, sample - this.#start);
      if (drop === first.length) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(drop);
      this.#start += drop;
      this.#length -= drop;
    }
  }
}
