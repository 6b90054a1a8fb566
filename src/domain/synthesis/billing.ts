/**
 * Characters a synthesis request is billed for, as Azure counts them: the text of the SSML document
 * — letters, digits, punctuation and spaces — without its markup. Runs of whitespace count as one
 * space (indentation between elements is not text anyone sends to be spoken).
 * Called on SSML the parser already accepted, so tags and entities are well-formed.
 */
export function billableCharacters(ssml: string): number {
  const text = ssml
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/<\?[\s\S]*?\?>/g, '')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, '_')
    .replace(/\s+/g, ' ')
    .trim();
  // Code points, not UTF-16 units: a character outside the BMP is one character.
  return [...text].length;
}
