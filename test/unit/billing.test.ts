import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { billableCharacters } from '../../src/domain/synthesis/billing.js';

describe('billable text-to-speech characters', () => {
  it('counts the text of the SSML without markup, whitespace runs once, entities and astral characters as one', () => {
    assert.equal(billableCharacters("<speak version='1.0' xml:lang='en-US'><voice name='x'>Hello world.</voice></speak>"), 12);
    assert.equal(billableCharacters('<speak>\n  <voice name="x">\n    Hi,\n    <break time="1s"/> there!\n  </voice>\n</speak>'), 'Hi, there!'.length);
    assert.equal(billableCharacters('<?xml version="1.0"?><!-- note --><speak>Fish &amp; chips</speak>'), 'Fish & chips'.length);
    assert.equal(billableCharacters('<speak>😀 ok</speak>'), 4);
    assert.equal(billableCharacters('<speak> </speak>'), 0);
  });
});
