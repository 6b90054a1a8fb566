import assert from 'node:assert/strict';
import { AssertionError } from 'node:assert';
import { describe, it } from 'node:test';
import { assertValidResponse, operationIds, responseErrors, schemaErrors } from '../helpers/openapi.js';

const ACCOUNT_ID =
  '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/g/providers/Microsoft.CognitiveServices/accounts/x';

function account(): Record<string, unknown> {
  return {
    id: ACCOUNT_ID,
    name: 'x',
    type: 'Microsoft.CognitiveServices/accounts',
    kind: 'SpeechServices',
    location: 'westus',
    sku: { name: 'S0' },
    etag: '"0x1"',
    tags: {},
    properties: {
      provisioningState: 'Succeeded',
      endpoint: 'https://x.cognitiveservices.azure.com/',
      customSubDomainName: 'x',
      publicNetworkAccess: 'Enabled',
      networkAcls: {
        defaultAction: 'Deny',
        ipRules: [{ value: '1.2.3.4' }],
        virtualNetworkRules: [
          {
            id: '/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/virtualNetworks/v/subnets/d',
            ignoreMissingVnetServiceEndpoint: false,
          },
        ],
      },
      privateEndpointConnections: [],
      disableLocalAuth: false,
    },
  };
}

function privateEndpointConnection(): Record<string, unknown> {
  return {
    id: `${ACCOUNT_ID}/privateEndpointConnections/pe1`,
    name: 'pe1',
    type: 'Microsoft.CognitiveServices/accounts/privateEndpointConnections',
    properties: {
      privateEndpoint: {
        id: '/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/privateEndpoints/pe1',
      },
      privateLinkServiceConnectionState: { status: 'Approved', description: 'ok', actionsRequired: 'None' },
      provisioningState: 'Succeeded',
      groupIds: ['account'],
    },
  };
}

describe('openapi helper: ARM 2024-10-01', () => {
  it('accepts a realistic account for Accounts_Get 200', () => {
    assert.deepEqual(responseErrors('arm-2024-10-01', 'Accounts_Get', 200, account()), []);
    assertValidResponse('arm-2024-10-01', 'Accounts_Get', 200, account());
    // same schema for create/update/list
    assert.deepEqual(responseErrors('arm-2024-10-01', 'Accounts_Create', 201, account()), []);
    assert.deepEqual(responseErrors('arm-2024-10-01', 'Accounts_Update', 200, account()), []);
    assert.deepEqual(responseErrors('arm-2024-10-01', 'Accounts_ListByResourceGroup', 200, { value: [account()] }), []);
    assert.deepEqual(responseErrors('arm-2024-10-01', 'Accounts_List', 200, { value: [], nextLink: 'x' }), []);
  });

  it('allows properties the spec does not list (no additionalProperties: false)', () => {
    const a = account();
    a.somethingNew = { nested: true };
    assert.deepEqual(responseErrors('arm-2024-10-01', 'Accounts_Get', 200, a), []);
  });

  it('accepts systemData from common-types with date-time format, rejects a bad date-time', () => {
    const a = account();
    a.systemData = { createdBy: 'me', createdByType: 'User', createdAt: '2025-01-02T03:04:05Z' };
    assert.deepEqual(responseErrors('arm-2024-10-01', 'Accounts_Get', 200, a), []);
    a.systemData = { createdAt: 'yesterday' };
    const errors = responseErrors('arm-2024-10-01', 'Accounts_Get', 200, a);
    assert.equal(errors.length, 1, errors.join('\n'));
    assert.match(errors[0] ?? '', /^\/systemData\/createdAt must match format "date-time"/);
  });

  it('rejects networkAcls.defaultAction "Maybe" and names the path', () => {
    const a = account();
    ((a.properties as Record<string, unknown>).networkAcls as Record<string, unknown>).defaultAction = 'Maybe';
    const errors = responseErrors('arm-2024-10-01', 'Accounts_Get', 200, a);
    assert.equal(errors.length, 1, errors.join('\n'));
    assert.match(errors[0] ?? '', /^\/properties\/networkAcls\/defaultAction must be equal to one of the allowed values/);
    assert.match(errors[0] ?? '', /\["Allow","Deny"\]/);
    assert.match(errors[0] ?? '', /got "Maybe"/);
    assert.throws(
      () => assertValidResponse('arm-2024-10-01', 'Accounts_Get', 200, a),
      (e: unknown) => e instanceof AssertionError && /defaultAction/.test(e.message) && /"Maybe"/.test(e.message),
    );
  });

  it('rejects wrong types, missing required members and a bad sku', () => {
    const a = account();
    a.tags = { env: 1 };
    a.sku = { tier: 'Standard' };
    (a.properties as Record<string, unknown>).disableLocalAuth = 'no';
    const errors = responseErrors('arm-2024-10-01', 'Accounts_Get', 200, a);
    assert.ok(errors.some((e) => e.startsWith('/tags/env must be string')), errors.join('\n'));
    assert.ok(errors.some((e) => e.startsWith("/sku must have required property 'name'")), errors.join('\n'));
    assert.ok(errors.some((e) => e.startsWith('/properties/disableLocalAuth must be boolean')), errors.join('\n'));
    assert.deepEqual(responseErrors('arm-2024-10-01', 'Accounts_Get', 200, [account()]).length, 1);
  });

  it('validates keys, regenerateKey and checkDomainAvailability', () => {
    assert.deepEqual(responseErrors('arm-2024-10-01', 'Accounts_ListKeys', 200, { key1: 'a'.repeat(32), key2: 'b'.repeat(32) }), []);
    assert.deepEqual(responseErrors('arm-2024-10-01', 'Accounts_RegenerateKey', 200, { key1: 'a', key2: 'b' }), []);
    assert.equal(responseErrors('arm-2024-10-01', 'Accounts_ListKeys', 200, { key1: 1, key2: 'b' }).length, 1);
    assert.deepEqual(
      responseErrors('arm-2024-10-01', 'CheckDomainAvailability', 200, {
        isSubdomainAvailable: false,
        reason: 'Sub domain name x is not valid',
        subdomainName: 'x',
        type: 'Microsoft.CognitiveServices/accounts',
        kind: 'SpeechServices',
      }),
      [],
    );
    assert.equal(responseErrors('arm-2024-10-01', 'CheckDomainAvailability', 200, { isSubdomainAvailable: 'yes' }).length, 1);
  });

  it('validates private endpoint connections through privatelinks.json', () => {
    assertValidResponse('arm-2024-10-01', 'PrivateEndpointConnections_Get', 200, privateEndpointConnection());
    assertValidResponse('arm-2024-10-01', 'PrivateEndpointConnections_CreateOrUpdate', 200, privateEndpointConnection());
    assertValidResponse('arm-2024-10-01', 'PrivateEndpointConnections_List', 200, { value: [privateEndpointConnection()] });
    const bad = privateEndpointConnection();
    (bad.properties as Record<string, unknown>).privateLinkServiceConnectionState = { status: 'Maybe' };
    const errors = responseErrors('arm-2024-10-01', 'PrivateEndpointConnections_Get', 200, bad);
    assert.equal(errors.length, 1, errors.join('\n'));
    assert.match(errors[0] ?? '', /^\/properties\/privateLinkServiceConnectionState\/status must be equal to one of/);
    const missing = privateEndpointConnection();
    delete (missing.properties as Record<string, unknown>).privateLinkServiceConnectionState;
    assert.match(
      responseErrors('arm-2024-10-01', 'PrivateEndpointConnections_Get', 200, missing).join('\n'),
      /must have required property 'privateLinkServiceConnectionState'/,
    );
  });

  it('validates private link resources', () => {
    assert.deepEqual(
      responseErrors('arm-2024-10-01', 'PrivateLinkResources_List', 200, {
        value: [
          {
            id: `${ACCOUNT_ID}/privateLinkResources/account`,
            name: 'account',
            type: 'Microsoft.CognitiveServices/accounts/privateLinkResources',
            properties: { groupId: 'account', requiredMembers: ['default'], requiredZoneNames: ['privatelink.cognitiveservices.azure.com'] },
          },
        ],
      }),
      [],
    );
  });

  it('uses the default response (ErrorResponse from types.json) for error statuses', () => {
    const body = { error: { code: 'ResourceNotFound', message: 'not found' } };
    assert.deepEqual(responseErrors('arm-2024-10-01', 'Accounts_Get', 404, body), []);
    assert.deepEqual(responseErrors('arm-2024-10-01', 'Accounts_ListKeys', 409, body), []);
    assert.match(
      responseErrors('arm-2024-10-01', 'Accounts_Get', 400, { error: { code: 42 } }).join('\n'),
      /^\/error\/code must be string/,
    );
  });

  it('requires an empty body where the response has no schema', () => {
    assert.deepEqual(responseErrors('arm-2024-10-01', 'Accounts_Delete', 204, undefined), []);
    assert.deepEqual(responseErrors('arm-2024-10-01', 'Accounts_Delete', 200, ''), []);
    assert.equal(responseErrors('arm-2024-10-01', 'Accounts_Delete', 204, { a: 1 }).length, 1);
  });

  it('validates against definitions directly', () => {
    assert.deepEqual(schemaErrors('arm-2024-10-01', 'NetworkRuleSet', { defaultAction: 'Allow', ipRules: [] }), []);
    assert.equal(schemaErrors('arm-2024-10-01', 'NetworkRuleSet', { defaultAction: 'Maybe' }).length, 1);
    assert.equal(schemaErrors('arm-2024-10-01', 'IpRule', {}).length, 1);
    assert.throws(() => schemaErrors('arm-2024-10-01', 'NoSuchDefinition', {}), /no definition NoSuchDefinition/);
  });

  it('throws for an unknown operationId or an undeclared status', () => {
    assert.throws(() => responseErrors('arm-2024-10-01', 'Accounts_Nope', 200, {}), /no operation Accounts_Nope/);
    assert.throws(() => assertValidResponse('arm-2024-10-01', 'Accounts_Nope', 200, {}), /no operation Accounts_Nope/);
    // fast transcription declares only 200, no default
    assert.throws(() => responseErrors('stt-2024-11-15', 'Transcriptions_Transcribe', 400, {}), /declares no response for 400/);
  });

  it('lists operationIds', () => {
    const ids = operationIds('arm-2024-10-01');
    for (const id of ['Accounts_Get', 'Accounts_ListKeys', 'CheckDomainAvailability', 'PrivateLinkResources_List']) {
      assert.ok(ids.includes(id), id);
    }
  });
});

describe('openapi helper: speech to text', () => {
  const baseModel = {
    self: 'https://westus.api.cognitive.microsoft.com/speechtotext/v3.2/models/base/0e2e8e8e-0000-0000-0000-000000000000',
    displayName: 'Parlance en-US',
    locale: 'en-US',
    createdDateTime: '2025-01-02T03:04:05Z',
    lastActionDateTime: '2025-01-02T03:04:05Z',
    status: 'Succeeded',
    properties: { deprecationDates: { transcriptionDateTime: '2030-01-01T00:00:00Z' } },
  };

  it('v3.2 Models_ListBaseModels: minimal valid body', () => {
    assert.deepEqual(responseErrors('stt-v3.2', 'Models_ListBaseModels', 200, { values: [] }), []);
    assert.deepEqual(responseErrors('stt-v3.2', 'Models_ListBaseModels', 200, { values: [baseModel] }), []);
    assert.deepEqual(responseErrors('stt-v3.2', 'Models_GetBaseModel', 200, baseModel), []);
  });

  it('v3.2 Models_ListBaseModels: invalid bodies', () => {
    const { locale: _drop, ...noLocale } = baseModel;
    const errors = responseErrors('stt-v3.2', 'Models_ListBaseModels', 200, {
      values: [noLocale, { ...baseModel, status: 'Done', self: 'not a uri' }],
      '@nextLink': null,
    });
    const text = errors.join('\n');
    assert.match(text, /^\/values\/0 must have required property 'locale'/m);
    assert.match(text, /^\/values\/1\/status must be equal to one of the allowed values/m);
    assert.match(text, /^\/values\/1\/self must match format "uri"/m);
    assert.match(text, /^\/@nextLink must be string/m); // the spec says "otherwise null" but does not allow null
    assert.equal(errors.length, 4, text);
  });

  it('v3.2 error (default) body', () => {
    assert.deepEqual(
      responseErrors('stt-v3.2', 'Transcriptions_Get', 404, {
        code: 'NotFound',
        message: 'Entity not found.',
        innerError: { code: 'InvalidModel', message: 'x' },
      }),
      [],
    );
    // innerError.code is a DetailedErrorCode, a different enum from the outer ErrorCode
    assert.match(
      responseErrors('stt-v3.2', 'Transcriptions_Get', 404, { code: 'NotFound', innerError: { code: 'NotFound' } }).join('\n'),
      /^\/innerError\/code must be equal to one of the allowed values/,
    );
    assert.equal(responseErrors('stt-v3.2', 'Transcriptions_Get', 404, { code: 'Oops' }).length, 1);
  });

  it('2024-11-15 loads and validates too', () => {
    assert.deepEqual(responseErrors('stt-2024-11-15', 'Models_ListBaseModels', 200, { values: [] }), []);
    assert.deepEqual(responseErrors('stt-2024-11-15', 'Transcriptions_Delete', 204, undefined), []);
  });

  it('every response schema of every spec compiles', () => {
    for (const spec of ['arm-2024-10-01', 'stt-v3.2', 'stt-2024-11-15'] as const) {
      for (const id of operationIds(spec)) {
        for (const status of [200, 201, 202, 204, 500]) {
          try {
            responseErrors(spec, id, status, undefined);
          } catch (e) {
            // only "declares no response" is acceptable here; a compile failure must surface
            assert.match(String(e), /declares no response/, `${spec} ${id} ${status}: ${String(e)}`);
          }
        }
      }
    }
  });
});
