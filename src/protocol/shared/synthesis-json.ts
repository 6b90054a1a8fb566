import { msToTicks } from '../../kernel/time.js';
import type { SynthesisOutput } from '../../domain/synthesis/synthesis-service.js';
import type { CatalogVoice } from '../../domain/synthesis/voices.js';

/**
 * One voices/list entry (protocol §C.3). Azure sends SampleRateHertz and WordsPerMinute as strings.
 * VoiceType is "Neural" although these are classic voices: the JS SDK maps anything else to Unknown,
 * and apps filter on it (written down in docs/spec-deviations.md).
 */
export function voiceJson(v: CatalogVoice): Record<string, unknown> {
  return {
    Name: `Parlance Speech Voice (${v.voice.locale}, ${v.name})`,
    DisplayName: v.displayName,
    LocalName: v.displayName,
    ShortName: v.shortName,
    Gender: v.voice.gender,
    Locale: v.voice.locale,
    LocaleName: v.localeName,
    SampleRateHertz: String(v.voice.sampleRate),
    VoiceType: 'Neural',
    Status: 'GA',
    WordsPerMinute: String(v.voice.wordsPerMinute),
  };
}

/** An audio.metadata item (protocol §B.4): note the lower-case `text` object inside PascalCase Data. */
export function metadataItem(e: Exclude<SynthesisOutput, { type: 'audio' }>): Record<string, unknown> {
  switch (e.type) {
    case 'boundary': {
      const boundaryType = e.boundary === 'word' ? 'WordBoundary' : e.boundary === 'punctuation' ? 'PunctuationBoundary' : 'SentenceBoundary';
      return {
        Type: e.boundary === 'sentence' ? 'SentenceBoundary' : 'WordBoundary',
        Data: { Offset: msToTicks(e.offsetMs), Duration: msToTicks(e.durationMs), text: { Text: e.text, Length: e.text.length, BoundaryType: boundaryType } },
      };
    }
    case 'bookmark':
      return { Type: 'Bookmark', Data: { Offset: msToTicks(e.offsetMs), Bookmark: e.name } };
    case 'viseme':
      // The JS SDK fires visemeReceived only when IsLastAnimation is true.
      return { Type: 'Viseme', Data: { Offset: msToTicks(e.offsetMs), VisemeId: e.visemeId, AnimationChunk: '', IsLastAnimation: true } };
    case 'end':
      return { Type: 'SessionEnd', Data: { Offset: msToTicks(e.durationMs) } };
  }
}
