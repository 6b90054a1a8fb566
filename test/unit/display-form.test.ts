import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildDisplayForms, inverseTextNormalize } from '../../src/domain/recognition/display-form.js';
import { applyProfanity, isProfane, maskProfanity, maskWord } from '../../src/domain/recognition/profanity-words.js';
import { isQuestion } from '../../src/domain/recognition/question-words.js';

/** [lexical, expected ITN, expected Display (profanity 'masked')]. */
type Case = readonly [lexical: string, itn: string, display: string];

function check(cases: readonly Case[]): void {
  for (const [lexical, itn, display] of cases) {
    it(`${JSON.stringify(lexical)} → ${JSON.stringify(display)}`, () => {
      const forms = buildDisplayForms(lexical.split(' '), { profanity: 'masked' });
      assert.equal(forms.lexical, lexical);
      assert.equal(forms.itn, itn, 'ITN');
      assert.equal(forms.display, display, 'Display');
      assert.equal(inverseTextNormalize(lexical.split(' ')), itn, 'inverseTextNormalize');
    });
  }
}

describe('display form: Azure documentation examples', () => {
  check([
    ['remind me to buy five pencils', 'remind me to buy 5 pencils', 'Remind me to buy 5 pencils.'],
    ["what's the weather like", "what's the weather like", "What's the weather like?"],
    ['that will cost nine hundred dollars', 'that will cost $900', 'That will cost $900.'],
    ['the time is six forty five p m', 'the time is 6:45 pm', 'The time is 6:45 PM.'],
    ['the answer is six point five', 'the answer is 6.5', 'The answer is 6.5.'],
    ['my phone number is one eight hundred four five six eight nine ten', 'my phone number is 1-800-456-8910', 'My phone number is 1-800-456-8910.'],
  ]);
});

describe('display form: cardinal numbers', () => {
  check([
    ['go forward ten meters', 'go forward 10 meters', 'Go forward 10 meters.'],
    ['twenty five', '25', '25.'],
    ['i have two cats', 'i have 2 cats', 'I have 2 cats.'],
    ["i'm sixty five years old", "i'm 65 years old", "I'm 65 years old."],
    ['one hundred and five', '105', '105.'],
    ['one hundred five', '105', '105.'],
    ['three thousand two hundred', '3200', '3200.'],
    ['two thousand and five', '2005', '2005.'],
    ['five hundred thousand', '500000', '500000.'],
    // No digit grouping: "2000000", as the project's spec asks (Azure's own grouping varies).
    ['two million', '2000000', '2000000.'],
    ['one billion', '1000000000', '1000000000.'],
    ['a hundred people', '100 people', '100 people.'],
    ['a thousand and one nights', '1001 nights', '1001 nights.'],
    ['a million thanks', '1000000 thanks', '1000000 thanks.'],
    // Colloquial hundreds.
    ['nineteen hundred', '1900', '1900.'],
    ['twenty five hundred', '2500', '2500.'],
    // "and" belongs to the number only before a final part under a hundred.
    ['between one hundred and two hundred', 'between 100 and 200', 'Between 100 and 200.'],
    ['one thousand and five hundred', '1000 and 500', '1000 and 500.'],
    ['two or three days', '2 or 3 days', '2 or 3 days.'],
    ['page three', 'page 3', 'Page 3.'],
    ['seven days a week', '7 days a week', '7 days a week.'],
    ['five seconds', '5 seconds', '5 seconds.'],
    ['nine to five', '9 to 5', '9 to 5.'],
    ['five minus three', '5 minus 3', '5 minus 3.'],
  ]);
});

describe('display form: "one" and "zero" need a numeric context', () => {
  check([
    ['one of them', 'one of them', 'One of them.'],
    ['one of us', 'one of us', 'One of us.'],
    ['no one knows', 'no one knows', 'No one knows.'],
    ['this one is mine', 'this one is mine', 'This one is mine.'],
    ['one day i will', 'one day i will', 'One day I will.'],
    ['one more time', 'one more time', 'One more time.'],
    ['number one', 'number one', 'Number one.'],
    ['on the one hand', 'on the one hand', 'On the one hand.'],
    ['zero tolerance', 'zero tolerance', 'Zero tolerance.'],
    // Units and ranges make them quantities.
    ['one meter', '1 meter', '1 meter.'],
    ['one percent', '1%', '1%.'],
    ['one dollar', '$1', '$1.'],
    ['it is zero degrees', 'it is 0 degrees', 'It is 0 degrees.'],
    ['from one to ten', 'from 1 to 10', 'From 1 to 10.'],
    ['ten to one', '10 to 1', '10 to 1.'],
    ['the score was three to one', 'the score was 3 to 1', 'The score was 3 to 1.'],
    ['negative one', '-1', '-1.'],
    ['one one one', '111', '111.'],
    ['one point five', '1.5', '1.5.'],
    ['one hundred', '100', '100.'],
    // "one or two" stays in words, partner included.
    ['one or two things', 'one or two things', 'One or two things.'],
  ]);
});

describe('display form: words that must stay words', () => {
  check([
    ['i want to go', 'i want to go', 'I want to go.'],
    ['someone said it a long time ago', 'someone said it a long time ago', 'Someone said it a long time ago.'],
    ['we won the game too', 'we won the game too', 'We won the game too.'],
    ['i ate it for you', 'i ate it for you', 'I ate it for you.'],
    ['the two of us', 'the two of us', 'The two of us.'],
    ['three of them', 'three of them', 'Three of them.'],
    ['high five', 'high five', 'High five.'],
    ['on cloud nine', 'on cloud nine', 'On cloud nine.'],
    ['oh my god', 'oh my god', 'Oh my god.'],
    ['a dozen eggs', 'a dozen eggs', 'A dozen eggs.'],
    ['hundreds of people', 'hundreds of people', 'Hundreds of people.'],
    // Runs of numbers the grammar cannot join are ambiguous: all words.
    ['twenty four seven', 'twenty four seven', 'Twenty four seven.'],
    ['ten four', 'ten four', 'Ten four.'],
    ['seven eleven', 'seven eleven', 'Seven eleven.'],
    ['twelve fifteen', 'twelve fifteen', 'Twelve fifteen.'],
    // Fractions.
    ['two thirds of the cake', 'two thirds of the cake', 'Two thirds of the cake.'],
    ['one half', 'one half', 'One half.'],
    ['three quarters', 'three quarters', 'Three quarters.'],
    ['one tenth', 'one tenth', 'One tenth.'],
    ['a tenth of a second', 'a tenth of a second', 'A tenth of a second.'],
    ['one hundredth of a second', 'one hundredth of a second', 'One hundredth of a second.'],
    ['two and a half hours', 'two and a half hours', 'Two and a half hours.'],
    // "point" alone, and the idiom "at one point".
    ['what is the point', 'what is the point', 'What is the point?'],
    ['point five', 'point 5', 'Point 5.'],
    ['at one point two people left', 'at one point 2 people left', 'At one point 2 people left.'],
  ]);
});

describe('display form: ordinals', () => {
  check([
    // first–ninth stay words outside dates.
    ['first', 'first', 'First.'],
    ['at first', 'at first', 'At first.'],
    ['the first time', 'the first time', 'The first time.'],
    ['first of all', 'first of all', 'First of all.'],
    ['wait a second', 'wait a second', 'Wait a second.'],
    ['the second one', 'the second one', 'The second one.'],
    ['second to none', 'second to none', 'Second to none.'],
    ["i'll see you on the fifth", "i'll see you on the fifth", "I'll see you on the fifth."],
    ['the first of the month', 'the first of the month', 'The first of the month.'],
    // Compounds and 10th and above are digits.
    ['twenty third', '23rd', '23rd.'],
    ['the twenty first century', 'the 21st century', 'The 21st century.'],
    ['for the tenth time', 'for the 10th time', 'For the 10th time.'],
    ['the eleventh hour', 'the 11th hour', 'The 11th hour.'],
    ['the twelfth', 'the 12th', 'The 12th.'],
    ['one hundred twenty third', '123rd', '123rd.'],
    ['one hundred and first', '101st', '101st.'],
    ['the hundredth anniversary', 'the 100th anniversary', 'The 100th anniversary.'],
    ['a hundredth', 'a hundredth', 'A hundredth.'],
    ['the thousandth visitor', 'the 1000th visitor', 'The 1000th visitor.'],
    ['the ninety second street', 'the 92nd street', 'The 92nd street.'],
  ]);
});

describe('display form: decimals, money, percentages, signs', () => {
  check([
    ['two point five', '2.5', '2.5.'],
    ['zero point five', '0.5', '0.5.'],
    ['version two point oh', 'version 2.0', 'Version 2.0.'],
    ['three point one four one five', '3.1415', '3.1415.'],
    ['five percent', '5%', '5%.'],
    ['twenty per cent', '20%', '20%.'],
    ['ninety nine point nine percent', '99.9%', '99.9%.'],
    ['a hundred percent', '100%', '100%.'],
    ['three dollars', '$3', '$3.'],
    ['i have a hundred and twenty dollars', 'i have $120', 'I have $120.'],
    ['it costs twenty five dollars and ninety nine cents', 'it costs $25.99', 'It costs $25.99.'],
    ['two thousand dollars and five cents', '$2000.05', '$2000.05.'],
    ['two point five million dollars', '$2.5 million', '$2.5 million.'],
    ['a five dollar bill', 'a $5 bill', 'A $5 bill.'],
    ['ten euros', '€10', '€10.'],
    // Deliberately no "£": "pounds" is as often weight.
    ['ten pounds', '10 pounds', '10 pounds.'],
    ['fifty cents', '50 cents', '50 cents.'],
    ['that costs a dollar', 'that costs a dollar', 'That costs a dollar.'],
    ['minus five degrees', '-5 degrees', '-5 degrees.'],
    ['negative two', '-2', '-2.'],
    ['negative two point five percent', '-2.5%', '-2.5%.'],
    ['the test was negative', 'the test was negative', 'The test was negative.'],
  ]);
});

describe('display form: times', () => {
  check([
    ["three o'clock", '3:00', '3:00.'],
    ['three o clock', '3:00', '3:00.'],
    ["meet me at five o'clock p m", 'meet me at 5:00 pm', 'Meet me at 5:00 PM.'],
    ['three thirty p m', '3:30 pm', '3:30 PM.'],
    ['seven a m', '7 am', '7 AM.'],
    ['seven am', '7 am', '7 AM.'],
    ['ten p.m.', '10 pm', '10 PM.'],
    ['twelve a m', '12 am', '12 AM.'],
    ['three oh five p m', '3:05 pm', '3:05 PM.'],
    ['meet me at three thirty', 'meet me at 3:30', 'Meet me at 3:30.'],
    ['at twelve fifteen', 'at 12:15', 'At 12:15.'],
    ['at seven thirty five a m on june third', 'at 7:35 am on june 3rd', 'At 7:35 AM on June 3rd.'],
    ["it's one thirty", "it's one thirty", "It's one thirty."],
    ['from nine thirty to ten thirty', 'from 9:30 to 10:30', 'From 9:30 to 10:30.'],
    // Not times.
    ['at five', 'at 5', 'At 5.'],
    ['by two fifty dollars', 'by two fifty dollars', 'By two fifty dollars.'],
    ['how old am i', 'how old am i', 'How old am I?'],
    ['at noon', 'at noon', 'At noon.'],
    // Clock idioms are not made into clock times; their numbers convert as plain numbers.
    ['half past three', 'half past 3', 'Half past 3.'],
    ['twenty to eight', '20 to 8', '20 to 8.'],
  ]);
});

describe('display form: dates and years', () => {
  check([
    ['january fifth', 'january 5th', 'January 5th.'],
    ['january five', 'january 5', 'January 5.'],
    ['january fifth twenty twenty four', 'january 5th 2024', 'January 5th, 2024.'],
    ['january first two thousand and one', 'january 1st 2001', 'January 1st, 2001.'],
    ['i was born on march third nineteen eighty four', 'i was born on march 3rd 1984', 'I was born on March 3rd, 1984.'],
    ['december thirty first', 'december 31st', 'December 31st.'],
    ['the fifth of may', 'the 5th of may', 'The 5th of May.'],
    ['on the fifth of january twenty twenty five', 'on the 5th of january 2025', 'On the 5th of January 2025.'],
    ['august twenty twenty', 'august 2020', 'August 2020.'],
    ['may fifth', 'may 5th', 'May 5th.'],
    // Months that are everyday words stay words outside a date.
    ['may i come in', 'may i come in', 'May I come in?'],
    ['you may one day', 'you may one day', 'You may one day.'],
    ['march forward', 'march forward', 'March forward.'],
    ['we march on', 'we march on', 'We march on.'],
    ['in january', 'in january', 'In January.'],
    // Years read in halves.
    ['born in nineteen ninety nine', 'born in 1999', 'Born in 1999.'],
    ['twenty twenty four was a year', '2024 was a year', '2024 was a year.'],
    ['nineteen oh five', '1905', '1905.'],
    ['the year two thousand', 'the year 2000', 'The year 2000.'],
    ['twenty twenty one', '2021', '2021.'],
    ['the nineteen nineties', 'the 1990s', 'The 1990s.'],
    ['the twenty twenties', 'the 2020s', 'The 2020s.'],
    ['the sixties', 'the sixties', 'The sixties.'],
    ['five sixties', 'five sixties', 'Five sixties.'],
    ['in the year twenty ten', 'in the year 2010', 'In the year 2010.'],
  ]);
});

describe('display form: digit strings and phone numbers', () => {
  check([
    ['call five five five one two three four', 'call 555-1234', 'Call 555-1234.'],
    ['my number is four two five five five five one two three four', 'my number is 425-555-1234', 'My number is 425-555-1234.'],
    ['my number is four two five eight eight two eight oh eight oh', 'my number is 425-882-8080', 'My number is 425-882-8080.'],
    ['one eight hundred five five five one two one two', '1-800-555-1212', '1-800-555-1212.'],
    ['room two oh one', 'room 201', 'Room 201.'],
    ['nine one one', '911', '911.'],
    ['four oh four', '404', '404.'],
    ['zero zero seven', '007', '007.'],
    ['the zip code is nine eight zero five two', 'the zip code is 98052', 'The zip code is 98052.'],
    // Two digits are not a sequence, and a trailing "oh" is the interjection.
    ['five six', 'five six', 'Five six.'],
    ['nine one one oh no', '911 oh no', '911 oh no.'],
  ]);
});

describe('display form: capitalization', () => {
  check([
    ["i'm sure i'll go and i've said i'd go", "i'm sure i'll go and i've said i'd go", "I'm sure I'll go and I've said I'd go."],
    ["on monday i'm free", "on monday i'm free", "On Monday I'm free."],
    ['sunday mornings', 'sunday mornings', 'Sunday mornings.'],
    ['see you in september', 'see you in september', 'See you in September.'],
    ['the idea is good', 'the idea is good', 'The idea is good.'],
    ['five pencils', '5 pencils', '5 pencils.'],
  ]);
});

describe('display form: sentence punctuation', () => {
  check([
    ['where is the station', 'where is the station', 'Where is the station?'],
    ['how are you', 'how are you', 'How are you?'],
    ['why not', 'why not', 'Why not?'],
    ['which one', 'which one', 'Which one?'],
    ['whose is this', 'whose is this', 'Whose is this?'],
    ['who is there', 'who is there', 'Who is there?'],
    ['when does it open', 'when does it open', 'When does it open?'],
    ['is it raining', 'is it raining', 'Is it raining?'],
    ['did john call', 'did john call', 'Did john call?'],
    ['am i late', 'am i late', 'Am I late?'],
    ["isn't it nice", "isn't it nice", "Isn't it nice?"],
    ['do you know', 'do you know', 'Do you know?'],
    ["don't you think so", "don't you think so", "Don't you think so?"],
    ['could you help me', 'could you help me', 'Could you help me?'],
    ['can i get a coffee', 'can i get a coffee', 'Can I get a coffee?'],
    ['will the store be open', 'will the store be open', 'Will the store be open?'],
    ['shall we', 'shall we', 'Shall we?'],
    ['have you seen it', 'have you seen it', 'Have you seen it?'],
    ['hey what time is it', 'hey what time is it', 'Hey what time is it?'],
    ["it's cold isn't it", "it's cold isn't it", "It's cold isn't it?"],
    // Statements and imperatives that start with the same words.
    ['what a day', 'what a day', 'What a day.'],
    ['do it now', 'do it now', 'Do it now.'],
    ["don't do that", "don't do that", "Don't do that."],
    ['have a nice day', 'have a nice day', 'Have a nice day.'],
    ['may the force be with you', 'may the force be with you', 'May the force be with you.'],
    ['could be worse', 'could be worse', 'Could be worse.'],
    ['will do', 'will do', 'Will do.'],
    ['so do i', 'so do i', 'So do I.'],
    ['i wonder what it is', 'i wonder what it is', 'I wonder what it is.'],
    ['go forward ten meters', 'go forward 10 meters', 'Go forward 10 meters.'],
  ]);
});

describe('display form: empty and odd input', () => {
  it('empty input gives four empty strings', () => {
    assert.deepEqual(buildDisplayForms([], { profanity: 'masked' }), { lexical: '', itn: '', maskedItn: '', display: '' });
    assert.deepEqual(buildDisplayForms(['', '  '], { profanity: 'raw' }), { lexical: '', itn: '', maskedItn: '', display: '' });
  });
  it('splits multi-word entries and collapses whitespace; ITN is lower-case, Lexical as given', () => {
    const forms = buildDisplayForms(['What', ' is  THIS '], { profanity: 'masked' });
    assert.deepEqual(forms, { lexical: 'What is THIS', itn: 'what is this', maskedItn: 'what is this', display: 'What is this?' });
  });
  it('does not double a final period the recognizer spelled', () => {
    assert.equal(buildDisplayForms(['and', 'so', 'on', 'etc.'], { profanity: 'raw' }).display, 'And so on etc.');
  });
});

describe('display form: profanity', () => {
  const lexical = 'what the fuck is this';
  it("'masked' masks MaskedITN and Display, never Lexical or ITN", () => {
    assert.deepEqual(buildDisplayForms(lexical.split(' '), { profanity: 'masked' }), {
      lexical,
      itn: lexical,
      maskedItn: 'what the **** is this',
      display: 'What the **** is this?',
    });
  });
  it("'removed' drops the word from Display and collapses spaces; MaskedITN is still masked", () => {
    assert.deepEqual(buildDisplayForms(lexical.split(' '), { profanity: 'removed' }), {
      lexical,
      itn: lexical,
      maskedItn: 'what the **** is this',
      display: 'What the is this?',
    });
  });
  it("'raw' leaves Display alone; MaskedITN is still masked", () => {
    assert.deepEqual(buildDisplayForms(lexical.split(' '), { profanity: 'raw' }), {
      lexical,
      itn: lexical,
      maskedItn: 'what the **** is this',
      display: 'What the fuck is this?',
    });
  });
  it('capitalizes the first word left after removal, and the question test skips profanity', () => {
    const words = 'shit what is five dollars'.split(' ');
    assert.equal(buildDisplayForms(words, { profanity: 'removed' }).display, 'What is $5?');
    assert.equal(buildDisplayForms(words, { profanity: 'masked' }).display, '**** what is $5?');
    assert.equal(buildDisplayForms(words, { profanity: 'raw' }).display, 'Shit what is $5?');
    assert.equal(buildDisplayForms(words, { profanity: 'raw' }).maskedItn, '**** what is $5');
  });
  it('an utterance of only profanity has an empty Display when removed', () => {
    assert.deepEqual(buildDisplayForms(['shit'], { profanity: 'removed' }), { lexical: 'shit', itn: 'shit', maskedItn: '****', display: '' });
    assert.equal(buildDisplayForms(['shit'], { profanity: 'masked' }).display, '****.');
    assert.equal(buildDisplayForms(['shit'], { profanity: 'raw' }).display, 'Shit.');
  });
  it('matches whole words only, with possessive "\'s", and masks every character', () => {
    assert.equal(buildDisplayForms('the class passed'.split(' '), { profanity: 'masked' }).display, 'The class passed.');
    assert.equal(buildDisplayForms(["this", "bastard's", 'car'], { profanity: 'masked' }).maskedItn, 'this ********* car');
    assert.equal(buildDisplayForms(['he', 'said', "fuckin'", 'great'], { profanity: 'masked' }).display, 'He said ******* great.');
  });
  it('leaves ambiguous everyday words alone', () => {
    for (const word of ['ass', 'dick', 'cock', 'pussy', 'hell', 'damn', 'crap', 'screw', 'bloody', 'pass', 'scunthorpe']) {
      assert.equal(isProfane(word), false, word);
    }
  });
  it('helpers: isProfane, maskWord, maskProfanity, applyProfanity', () => {
    assert.equal(isProfane('SHIT'), true);
    assert.equal(maskWord('shit'), '****');
    assert.equal(maskProfanity('oh shit it broke'), 'oh **** it broke');
    assert.equal(applyProfanity('Oh shit it broke.', 'masked'), 'Oh **** it broke.');
    assert.equal(applyProfanity('It broke, shit.', 'removed'), 'It broke.');
    assert.equal(applyProfanity('oh shit it broke', 'removed'), 'oh it broke');
    assert.equal(applyProfanity('oh shit it broke', 'raw'), 'oh shit it broke');
  });
});

describe('isQuestion', () => {
  it('skips ignored words and discourse markers', () => {
    assert.equal(isQuestion(['damn', 'what', 'is', 'that'], (w) => w === 'damn'), true);
    assert.equal(isQuestion(['well', 'is', 'it']), true);
    assert.equal(isQuestion(['excuse', 'me', 'where', 'is', 'it']), true);
    assert.equal(isQuestion(['okay']), false);
    assert.equal(isQuestion([]), false);
  });
});
