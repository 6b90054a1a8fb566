import type { TtsVoice, VoiceGender } from '../ports/engines.js';
import { Errors } from '../errors.js';

/** A local voice as the catalogue presents it (Azure-shaped names; the protocol adapter renders the JSON). */
export interface CatalogVoice {
  voice: TtsVoice;
  /** Azure-style short name, `{locale}-{Name}`, e.g. "en-US-SltHts". */
  shortName: string;
  /** The part after the locale, e.g. "SltHts". */
  name: string;
  displayName: string;
  localeName: string;
}

/**
 * Popular Azure voices and their gender, so a request naming one is served by a local voice of the same
 * locale and gender. Not exhaustive: any other `{locale}-…Neural` name still resolves by locale.
 */
const AZURE_VOICES: Record<string, Record<VoiceGender, readonly string[]>> = {
  'en-US': {
    Female: ['Ava', 'AvaMultilingual', 'Jenny', 'JennyMultilingual', 'Aria', 'Emma', 'EmmaMultilingual', 'Michelle', 'Sara', 'Nancy', 'Jane', 'Amber', 'Ana', 'Ashley', 'Cora', 'Elizabeth', 'Monica', 'Phoebe', 'Serena', 'Nova', 'Shimmer'],
    Male: ['Andrew', 'AndrewMultilingual', 'Brian', 'BrianMultilingual', 'Guy', 'Davis', 'Christopher', 'Eric', 'Jacob', 'Jason', 'Tony', 'Brandon', 'Roger', 'Steffan', 'Adam', 'Derek', 'Dustin', 'Kai', 'Lewis', 'Ryan', 'Echo', 'Onyx', 'Alloy'],
    Neutral: [],
  },
  'en-GB': { Female: ['Sonia', 'Libby', 'Maisie', 'Abbi', 'Bella', 'Hollie', 'Olivia'], Male: ['Ryan', 'Thomas', 'Alfie', 'Elliot', 'Ethan', 'Noah', 'Oliver'], Neutral: [] },
  'en-AU': { Female: ['Natasha', 'Annette', 'Carly'], Male: ['William', 'Darren', 'Duncan'], Neutral: [] },
  'en-IN': { Female: ['Neerja', 'Aashi'], Male: ['Prabhat', 'Aarav'], Neutral: [] },
  'de-DE': { Female: ['Katja', 'Amala', 'Seraphina', 'SeraphinaMultilingual', 'Louisa'], Male: ['Conrad', 'Killian', 'Florian', 'FlorianMultilingual', 'Kasper'], Neutral: [] },
  'fr-FR': { Female: ['Denise', 'Vivienne', 'VivienneMultilingual', 'Eloise', 'Brigitte'], Male: ['Henri', 'Remy', 'RemyMultilingual', 'Alain'], Neutral: [] },
  'es-ES': { Female: ['Elvira', 'Ximena', 'Abril'], Male: ['Alvaro', 'Arnau', 'Tristan'], Neutral: [] },
  'es-MX': { Female: ['Dalia', 'Beatriz'], Male: ['Jorge', 'Cecilio'], Neutral: [] },
  'it-IT': { Female: ['Elsa', 'Isabella', 'Alessio'], Male: ['Diego', 'Giuseppe', 'Benigno'], Neutral: [] },
  'pt-BR': { Female: ['Francisca', 'Thalita', 'Brenda'], Male: ['Antonio', 'Donato'], Neutral: [] },
  'nl-NL': { Female: ['Colette', 'Fenna'], Male: ['Maarten'], Neutral: [] },
  'ja-JP': { Female: ['Nanami', 'Aoi', 'Mayu'], Male: ['Keita', 'Daichi', 'Naoki'], Neutral: [] },
  'zh-CN': { Female: ['Xiaoxiao', 'Xiaoyi', 'Xiaochen', 'XiaoxiaoMultilingual'], Male: ['Yunxi', 'Yunjian', 'Yunyang'], Neutral: [] },
  'ko-KR': { Female: ['SunHi', 'JiMin'], Male: ['InJoon', 'BongJin'], Neutral: [] },
  'ru-RU': { Female: ['Svetlana', 'Dariya'], Male: ['Dmitry'], Neutral: [] },
  'pl-PL': { Female: ['Zofia', 'Agnieszka'], Male: ['Marek'], Neutral: [] },
  'sv-SE': { Female: ['Sofie', 'Hillevi'], Male: ['Mattias'], Neutral: [] },
  'hi-IN': { Female: ['Swara', 'Ananya'], Male: ['Madhur', 'Kunal'], Neutral: [] },
};

/** The voice the JS SDK names when the app chose none (protocol §B.2). */
export const SDK_DEFAULT_VOICE = 'en-US-AvaMultilingualNeural';

/** Which local voice serves (locale, gender), best first; voice ids from the engines. Configurable. */
export type VoicePreferences = Record<string, Partial<Record<VoiceGender, readonly string[]>>>;

export const DEFAULT_VOICE_PREFERENCES: VoicePreferences = {
  // Female en-US: festival's HTS voice is the most natural one we have (docs/engines.md §5); flite slt next.
  'en-US': { Female: ['festival:cmu_us_slt_arctic_hts', 'flite:slt'], Male: ['flite:rms', 'flite:kal16'] },
  'en-GB': { Male: ['flite:awb'] },
};

const LOCALE_NAMES: Record<string, string> = {
  'en-US': 'English (United States)',
  'en-GB': 'English (United Kingdom)',
  'en-AU': 'English (Australia)',
  'en-IN': 'English (India)',
  'de-DE': 'German (Germany)',
  'fr-FR': 'French (France)',
  'es-ES': 'Spanish (Spain)',
  'es-MX': 'Spanish (Mexico)',
  'it-IT': 'Italian (Italy)',
  'pt-BR': 'Portuguese (Brazil)',
  'nl-NL': 'Dutch (Netherlands)',
  'ja-JP': 'Japanese (Japan)',
  'zh-CN': 'Chinese (Mandarin, Simplified)',
  'ko-KR': 'Korean (Korea)',
  'ru-RU': 'Russian (Russia)',
  'pl-PL': 'Polish (Poland)',
  'sv-SE': 'Swedish (Sweden)',
  'hi-IN': 'Hindi (India)',
};

function pascal(s: string): string {
  return s
    .split(/[^A-Za-z0-9]+/)
    .filter((p) => p !== '')
    .map((p) => p[0]?.toUpperCase() + p.slice(1))
    .join('');
}

const ENGINE_SUFFIX: Record<string, string> = { flite: 'Flite', festival: 'Hts', 'espeak-ng': 'Espeak' };

/** Azure-style Name part for a local voice: "Slt" + engine → "SltFlite"; espeak "en-us+f3" → "F3Espeak". */
function localName(v: TtsVoice): string {
  const suffix = ENGINE_SUFFIX[v.engine] ?? pascal(v.engine);
  const base = v.name.replace(/\s+/g, '');
  return `${pascal(base)}${suffix}`;
}

/**
 * The voice catalogue: local voices under Azure-shaped names, and the resolution of any requested
 * voice name (local short name, configured alias, popular Azure voice by locale and gender, any
 * `{locale}-…` name by locale) to a local voice.
 */
export class VoiceCatalog {
  readonly voices: readonly CatalogVoice[];
  readonly #byShortName = new Map<string, CatalogVoice>();
  readonly #byId = new Map<string, CatalogVoice>();
  readonly #aliases: Map<string, string>;
  readonly #prefs: VoicePreferences;

  constructor(engineVoices: readonly TtsVoice[], opts: { aliases?: Record<string, string>; preferences?: VoicePreferences } = {}) {
    const seen = new Set<string>();
    const list: CatalogVoice[] = [];
    for (const voice of engineVoices) {
      let name = localName(voice);
      let shortName = `${voice.locale}-${name}`;
      for (let i = 2; seen.has(shortName.toLowerCase()); i++) {
        name = `${localName(voice)}${i}`;
        shortName = `${voice.locale}-${name}`;
      }
      seen.add(shortName.toLowerCase());
      const cv: CatalogVoice = { voice, shortName, name, displayName: name, localeName: LOCALE_NAMES[voice.locale] ?? voice.locale };
      list.push(cv);
      this.#byShortName.set(shortName.toLowerCase(), cv);
      this.#byId.set(voice.id, cv);
    }
    this.voices = list;
    this.#aliases = new Map(Object.entries(opts.aliases ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    this.#prefs = opts.preferences ?? DEFAULT_VOICE_PREFERENCES;
  }

  /** The local voice that serves `requested` (an empty name means the default voice of `lang`). */
  resolve(requested: string, lang: string | undefined): CatalogVoice {
    const name = requested.trim();
    if (name === '') return this.defaultFor(lang ?? 'en-US', undefined, SDK_DEFAULT_VOICE);
    const direct = this.#byShortName.get(name.toLowerCase()) ?? this.#byId.get(name);
    if (direct) return direct;
    const alias = this.#aliases.get(name.toLowerCase());
    if (alias !== undefined) {
      const target = this.#byShortName.get(alias.toLowerCase()) ?? this.#byId.get(alias);
      if (!target) throw Errors.unsupportedVoice(name, `Its configured alias ${alias} is not an installed voice.`);
      return target;
    }
    // "Microsoft Server Speech Text to Speech Voice (en-US, JennyNeural)" is also accepted by Azure.
    const long = /\(([A-Za-z]{2,3}-[A-Za-z0-9]{2,8}),\s*([A-Za-z0-9]+)\)\s*$/.exec(name);
    const short = long ? `${long[1]}-${long[2]}` : name;
    const m = /^([A-Za-z]{2,3})-([A-Za-z0-9]{2,8})-([A-Za-z0-9:]+)$/.exec(short);
    if (!m || !m[1] || !m[2] || !m[3]) throw Errors.unsupportedVoice(name, 'Use a voice short name such as en-US-JennyNeural.');
    const locale = `${m[1].toLowerCase()}-${m[2].toUpperCase()}`;
    const gender = azureGender(locale, m[3]);
    return this.defaultFor(locale, gender, name);
  }

  /** Best local voice for a locale (and gender when known), or an UnsupportedVoiceError naming `forName`. */
  defaultFor(locale: string, gender: VoiceGender | undefined, forName: string): CatalogVoice {
    const canonical = canonicalLocale(locale);
    const prefs = this.#prefs[canonical];
    const order: VoiceGender[] = gender ? [gender, gender === 'Female' ? 'Male' : 'Female', 'Neutral'] : ['Female', 'Male', 'Neutral'];
    for (const g of order) {
      for (const id of prefs?.[g] ?? []) {
        const v = this.#byId.get(id);
        if (v) return v;
      }
      const any = this.voices.find((v) => v.voice.locale === canonical && v.voice.gender === g);
      if (any) return any;
    }
    // Same language, another region (en-AU → en-US …).
    const language = canonical.split('-')[0] ?? canonical;
    const sameLanguage =
      this.voices.find((v) => v.voice.locale.split('-')[0] === language && (!gender || v.voice.gender === gender)) ??
      this.voices.find((v) => v.voice.locale.split('-')[0] === language);
    if (sameLanguage) {
      // A preferred voice of the language's main locale beats an arbitrary one.
      const main = Object.keys(this.#prefs).find((l) => l.startsWith(`${language}-`));
      if (main && main !== canonical) return this.defaultFor(main, gender, forName);
      return sameLanguage;
    }
    throw Errors.unsupportedVoice(forName, `No local voice speaks ${canonical}.`);
  }
}

function canonicalLocale(locale: string): string {
  const [lang, region] = locale.split('-');
  return region ? `${(lang ?? '').toLowerCase()}-${region.toUpperCase()}` : (lang ?? '').toLowerCase();
}

/** Gender of a popular Azure voice ("JennyNeural" in en-US → Female), or undefined when unknown. */
export function azureGender(locale: string, voicePart: string): VoiceGender | undefined {
  const base = voicePart.replace(/(Neural|NeuralHD)$/i, '').replace(/:.*$/, '');
  const table = AZURE_VOICES[locale];
  if (!table) return undefined;
  for (const g of ['Female', 'Male', 'Neutral'] as const) {
    if (table[g].some((n) => n.toLowerCase() === base.toLowerCase())) return g;
  }
  return undefined;
}
