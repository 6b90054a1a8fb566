/**
 * Letter-to-sound for English from flite's CMU lexicon (`libflite_cmulex`): the lexicon's pronunciation when it
 * has the word, else its letter-to-sound rules (a CART model trained on cmudict). This is what flite itself says
 * for a word, so a recognizer given these pronunciations matches flite's voices exactly and other voices well.
 *
 * Runs on the calling (main) thread: a lookup takes 10–100 µs (measured; the first one ≈5 ms), far below what a
 * worker round trip would cost. The one unsafe step, libflite's unsynchronised `cmu_lex_init`, runs once per
 * process under the lock the flite workers hold while registering voices (which initialises the same lexicon).
 * Lookups only read the lexicon, so they may overlap with synthesis in the workers.
 *
 * Output: CMU arpabet, upper-case, with flite's stress digits ("ZORBLAX" → "Z AO1 R B L AE1 K S"); flite's
 * reduced vowel `ax` is written `AH` (cmudict has no `ax`), pauses are left out.
 */
import koffi, { type LibraryHandle } from 'koffi';

import { EngineError, type LetterToSound } from '../../domain/ports/engines.js';
import { FLITE_INIT_LOCK, withFliteInitLock } from './init-lock.js';

type Ptr = bigint;

interface LexiconApi {
  lexicon: Ptr;
  lex_lookup: (lex: Ptr, word: string, pos: null, feats: null) => Ptr | null;
  val_car: (v: Ptr) => Ptr | null;
  val_cdr: (v: Ptr) => Ptr | null;
  val_string: (v: Ptr) => string | null;
  delete_val: (v: Ptr) => void;
}

let api: LexiconApi | undefined;
/**
 * The libraries, kept reachable for the process's lifetime: koffi unloads (dlclose) a library once its handle
 * and all functions bound from it are garbage-collected, which would leave the lexicon pointing at unmapped data.
 */
const libraries: LibraryHandle[] = [];

function loadLexicon(): LexiconApi {
  if (api !== undefined) return api;
  let flite: LibraryHandle;
  let cmulex: LibraryHandle;
  try {
    flite = koffi.load('libflite.so.1');
    cmulex = koffi.load('libflite_cmulex.so.1');
  } catch (err) {
    throw new EngineError('ModelLoadFailed', 'cannot load libflite.so.1 / libflite_cmulex.so.1 (apt-get install libflite1)', { cause: err });
  }
  libraries.push(flite, cmulex);
  const init = cmulex.func('void *cmu_lex_init(void)') as unknown as () => Ptr | null;
  const lexicon = withFliteInitLock(FLITE_INIT_LOCK, init);
  if (lexicon === null) throw new EngineError('ModelLoadFailed', 'cmu_lex_init returned no lexicon');
  api = {
    lexicon,
    // Returns a new list of phone strings (cst_val), owned by the caller.
    lex_lookup: flite.func('void *lex_lookup(void *l, const char *word, const char *pos, void *feats)') as unknown as LexiconApi['lex_lookup'],
    val_car: flite.func('void *val_car(void *v)') as unknown as LexiconApi['val_car'],
    val_cdr: flite.func('void *val_cdr(void *v)') as unknown as LexiconApi['val_cdr'],
    val_string: flite.func('const char *val_string(void *v)') as unknown as LexiconApi['val_string'],
    delete_val: flite.func('void delete_val(void *v)') as unknown as LexiconApi['delete_val'],
  };
  return api;
}

/** Longer "words" are not words (and flite's rules walk them letter by letter). */
const MAX_LETTERS = 64;

/**
 * The letters flite's rules may see: a–z only. The rules index a table by `letter - 'a'`, so anything else
 * would read outside it; apostrophes and hyphens are dropped ("o'neill" → oneill), other characters make the
 * word unpronounceable here.
 */
function lettersOf(word: string): string | undefined {
  const letters = word.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().replace(/['\u2019-]/gu, '');
  return /^[a-z]+$/.test(letters) && letters.length <= MAX_LETTERS ? letters : undefined;
}

/** flite lexicon phones ("ae1", "ax0", "pau") → CMU arpabet ("AE1", "AH0", dropped). */
function toArpabet(phone: string): string | undefined {
  if (phone === 'pau' || phone === '') return undefined;
  const m = /^([a-z]+)(\d?)$/.exec(phone);
  if (m === null) return undefined;
  const base = m[1] === 'ax' ? 'ah' : (m[1] ?? '');
  return `${base.toUpperCase()}${m[2] ?? ''}`;
}

/** English letter-to-sound from flite's CMU lexicon (see the module comment). */
export class FliteLetterToSound implements LetterToSound {
  /** Pronunciation of `word` for English locales (`en`, `en-*`); undefined for other locales or non-words. */
  async phones(word: string, locale: string): Promise<string | undefined> {
    return this.phonesSync(word, locale);
  }

  /** The same, synchronously (microseconds per word). */
  phonesSync(word: string, locale: string): string | undefined {
    if (!/^en(-|$)/iu.test(locale)) return undefined;
    const letters = lettersOf(word);
    if (letters === undefined) return undefined;
    const a = loadLexicon();
    const list = a.lex_lookup(a.lexicon, letters, null, null);
    if (list === null) return undefined;
    const phones: string[] = [];
    try {
      for (let cell: Ptr | null = list; cell !== null; cell = a.val_cdr(cell)) {
        const head = a.val_car(cell);
        const phone = head === null ? undefined : toArpabet(a.val_string(head) ?? '');
        if (phone !== undefined) phones.push(phone);
      }
    } finally {
      a.delete_val(list);
    }
    return phones.length === 0 ? undefined : phones.join(' ');
  }
}
