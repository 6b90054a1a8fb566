/**
 * Deciding whether a recognized utterance is a question, from its words alone (the recognizer gives
 * no prosody). Used to choose the Display form's final "?" over ".".
 *
 * Rules, in order:
 * 1. Leading discourse markers ("well", "okay", "oh", "hey", "and", "but", …) are skipped, and so are
 *    words the caller marks as ignorable (profanity), so "hey what time is it" is still a question.
 *    "so" is not skipped: "so do I" is a statement.
 * 2. A wh-word first ("what", "what's", "where", "how", …) makes a question, except the exclamation
 *    "what a …"/"what an …" ("what a day").
 * 3. A form of "be" or "does"/"did" first (they practically never start an English statement) makes
 *    a question: "is it raining", "did john call".
 * 4. Other auxiliaries (modals, "do", "have", their negatives) start imperatives and wishes as often
 *    as questions ("do it now", "have a nice day", "may the force be with you"), so they count only
 *    when the next word is a plausible subject: "do you", "can the meeting wait", "may I".
 * 5. A negative tag at the end makes a question: "it's cold isn't it", "you saw it didn't you".
 */

/** Wh-words (and their common contractions) that open a question. */
export const WH_QUESTION_WORDS: ReadonlySet<string> = new Set([
  'what', "what's", "what're", "what'd", "what'll", "what've",
  'where', "where's", "where're", "where'd", "where'll",
  'when', "when's", "when'd", "when'll",
  'who', "who's", "who're", "who'd", "who'll", "who've", 'whom', 'whose',
  'why', "why's", "why'd", "why're",
  'how', "how's", "how're", "how'd", "how'll",
  'which',
]);

/** Auxiliaries that open a question whatever follows. */
export const ALWAYS_QUESTION_AUXILIARIES: ReadonlySet<string> = new Set([
  'am', 'is', 'are', 'was', 'were', 'does', 'did',
  "isn't", "aren't", "wasn't", "weren't", "doesn't", "didn't", "ain't",
]);

/** Auxiliaries that open a question only when followed by a subject (see the module comment, rule 4). */
export const SUBJECT_QUESTION_AUXILIARIES: ReadonlySet<string> = new Set([
  'do', "don't", 'have', "haven't", 'has', "hasn't", 'had', "hadn't",
  'can', "can't", 'could', "couldn't", 'will', "won't", 'would', "wouldn't",
  'should', "shouldn't", 'shall', "shan't", 'may', 'might', 'must', "mustn't",
]);

// Subjects for "do"/"have": only persons, because "do it", "do this", "have a …", "have the …"
// open imperatives far more often than questions.
const PERSON_SUBJECTS: ReadonlySet<string> = new Set([
  'i', 'you', 'we', 'they', 'he', 'she', "y'all",
  'anyone', 'anybody', 'everyone', 'everybody', 'someone', 'somebody',
]);

// Modals and "has"/"had" take any pronoun or a determiner-led noun phrase: "can it wait",
// "will the store be open", "has this happened before".
const BROAD_SUBJECTS: ReadonlySet<string> = new Set([
  ...PERSON_SUBJECTS,
  'it', 'there', 'this', 'that', 'these', 'those',
  'the', 'a', 'an', 'my', 'your', 'his', 'her', 'its', 'our', 'their', 'any', 'some',
  'anything', 'something', 'everything', 'nothing',
]);

const PERSON_ONLY_AUXILIARIES: ReadonlySet<string> = new Set([
  'do', "don't", 'have', "haven't",
  // "may the force be with you", "might as well", "must be nice": wishes and elliptical statements.
  'may', 'might', 'must', "mustn't",
]);

const DISCOURSE_MARKERS: ReadonlySet<string> = new Set([
  'well', 'okay', 'ok', 'oh', 'hey', 'um', 'uh', 'uhm', 'hmm', 'and', 'but', 'alright', 'excuse',
]);

const TAG_AUXILIARIES: ReadonlySet<string> = new Set([
  "isn't", "aren't", "wasn't", "weren't", "don't", "doesn't", "didn't", "haven't", "hasn't", "hadn't",
  "can't", "couldn't", "won't", "wouldn't", "shouldn't", "ain't",
]);

const TAG_PRONOUNS: ReadonlySet<string> = new Set(['i', 'you', 'he', 'she', 'it', 'we', 'they', 'there']);

/**
 * True when the lower-case lexical `words` read as a question (rules in the module comment).
 * `ignore` marks words to skip wherever they are (the caller passes profanity so the decision does
 * not depend on the profanity option).
 */
export function isQuestion(words: readonly string[], ignore: (word: string) => boolean = () => false): boolean {
  const kept = words.map((w) => w.toLowerCase()).filter((w) => w !== '' && !ignore(w));
  let start = 0;
  // "excuse me what time is it": skip the marker and its "me".
  while (start < kept.length && DISCOURSE_MARKERS.has(kept[start] ?? '')) {
    start += kept[start] === 'excuse' && kept[start + 1] === 'me' ? 2 : 1;
  }
  const first = kept[start];
  if (first === undefined) return false;
  const next = kept[start + 1];

  if (WH_QUESTION_WORDS.has(first)) {
    return !(first === 'what' && (next === 'a' || next === 'an'));
  }
  if (ALWAYS_QUESTION_AUXILIARIES.has(first)) return true;
  if (SUBJECT_QUESTION_AUXILIARIES.has(first) && next !== undefined) {
    const subjects = PERSON_ONLY_AUXILIARIES.has(first) ? PERSON_SUBJECTS : BROAD_SUBJECTS;
    if (subjects.has(next)) return true;
  }
  const last = kept[kept.length - 1];
  const beforeLast = kept[kept.length - 2];
  return (
    kept.length - start >= 3 &&
    beforeLast !== undefined &&
    last !== undefined &&
    TAG_AUXILIARIES.has(beforeLast) &&
    TAG_PRONOUNS.has(last)
  );
}
