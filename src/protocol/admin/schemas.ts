import { Type, type Static, type TSchema } from '@sinclair/typebox';

/*
 * Request bodies of the control plane, as JSON Schema for Fastify's validator. Only the fields
 * Parlance models are declared; others that ARM clients send (identity, restrictOutboundNetworkAccess,
 * apiProperties, ...) are accepted and ignored, as the properties are optional in ARM too.
 *
 * Enumerations that the domain validates itself (sku name, publicNetworkAccess, kind) are plain
 * strings here, so that a wrong value gets the domain's specific ARM code instead of the generic
 * InvalidRequestContent.
 */

const Tags = Type.Record(Type.String(), Type.String());
const Opt = <T extends TSchema>(t: T) => Type.Optional(t);

// --- Microsoft.CognitiveServices ------------------------------------------------------------------

export const NetworkRuleSetBody = Type.Object({
  defaultAction: Type.Union([Type.Literal('Allow'), Type.Literal('Deny')]),
  bypass: Opt(Type.Union([Type.Literal('None'), Type.Literal('AzureServices')])),
  ipRules: Opt(Type.Array(Type.Object({ value: Type.String({ minLength: 1 }) }))),
  virtualNetworkRules: Opt(
    Type.Array(
      Type.Object({
        id: Type.String({ minLength: 1 }),
        // Read-only in ARM, but clients echo what GET returned.
        state: Opt(Type.String()),
        ignoreMissingVnetServiceEndpoint: Opt(Type.Boolean()),
      }),
    ),
  ),
});
export type NetworkRuleSetBody = Static<typeof NetworkRuleSetBody>;

const AccountPropertiesBody = Type.Object({
  customSubDomainName: Opt(Type.String()),
  publicNetworkAccess: Opt(Type.String()),
  networkAcls: Opt(NetworkRuleSetBody),
  disableLocalAuth: Opt(Type.Boolean()),
});

export const AccountPutBody = Type.Object({
  location: Type.String({ minLength: 1 }),
  kind: Opt(Type.String()),
  sku: Type.Object({ name: Type.String() }),
  tags: Opt(Tags),
  properties: Opt(AccountPropertiesBody),
});
export type AccountPutBody = Static<typeof AccountPutBody>;

export const AccountPatchBody = Type.Object({
  location: Opt(Type.String({ minLength: 1 })),
  kind: Opt(Type.String()),
  sku: Opt(Type.Object({ name: Type.String() })),
  tags: Opt(Tags),
  properties: Opt(AccountPropertiesBody),
});
export type AccountPatchBody = Static<typeof AccountPatchBody>;

export const RegenerateKeyBody = Type.Object({ keyName: Type.String() });
export type RegenerateKeyBody = Static<typeof RegenerateKeyBody>;

export const CheckDomainAvailabilityBody = Type.Object({
  subdomainName: Type.String(),
  type: Type.String(),
  kind: Opt(Type.String()),
});
export type CheckDomainAvailabilityBody = Static<typeof CheckDomainAvailabilityBody>;

export const PrivateEndpointConnectionBody = Type.Object({
  location: Opt(Type.String()),
  properties: Type.Object({
    privateLinkServiceConnectionState: Type.Object({
      status: Type.Union([Type.Literal('Approved'), Type.Literal('Rejected'), Type.Literal('Pending')]),
      description: Opt(Type.String()),
      actionsRequired: Opt(Type.String()),
    }),
  }),
});
export type PrivateEndpointConnectionBody = Static<typeof PrivateEndpointConnectionBody>;

// --- Microsoft.Network ----------------------------------------------------------------------------

const ServiceEndpoint = Type.Object({ service: Type.String({ minLength: 1 }), locations: Opt(Type.Array(Type.String())) });

const SubnetProperties = Type.Object({
  addressPrefix: Type.String({ minLength: 1 }),
  serviceEndpoints: Opt(Type.Array(ServiceEndpoint)),
});

export const SubnetBody = Type.Object({ properties: SubnetProperties });
export type SubnetBody = Static<typeof SubnetBody>;

export const VirtualNetworkBody = Type.Object({
  location: Type.String({ minLength: 1 }),
  tags: Opt(Tags),
  properties: Type.Object({
    addressSpace: Type.Object({ addressPrefixes: Type.Array(Type.String(), { minItems: 1 }) }),
    subnets: Opt(Type.Array(Type.Object({ name: Type.String({ minLength: 1 }), properties: SubnetProperties }))),
  }),
});
export type VirtualNetworkBody = Static<typeof VirtualNetworkBody>;

const PrivateLinkServiceConnection = Type.Object({
  name: Type.String({ minLength: 1 }),
  properties: Type.Object({
    privateLinkServiceId: Type.String({ minLength: 1 }),
    groupIds: Opt(Type.Array(Type.String())),
    requestMessage: Opt(Type.String()),
  }),
});

export const PrivateEndpointBody = Type.Object({
  location: Type.String({ minLength: 1 }),
  tags: Opt(Tags),
  properties: Type.Object({
    subnet: Type.Object({ id: Type.String({ minLength: 1 }) }),
    privateLinkServiceConnections: Opt(Type.Array(PrivateLinkServiceConnection)),
    manualPrivateLinkServiceConnections: Opt(Type.Array(PrivateLinkServiceConnection)),
    ipConfigurations: Opt(
      Type.Array(
        Type.Object({
          name: Type.String(),
          properties: Type.Object({ privateIPAddress: Type.String({ minLength: 1 }), groupId: Opt(Type.String()), memberName: Opt(Type.String()) }),
        }),
      ),
    ),
  }),
});
export type PrivateEndpointBody = Static<typeof PrivateEndpointBody>;

export const PrivateDnsZoneBody = Type.Object({ location: Opt(Type.String()), tags: Opt(Tags) });
export type PrivateDnsZoneBody = Static<typeof PrivateDnsZoneBody>;

export const VirtualNetworkLinkBody = Type.Object({
  location: Opt(Type.String()),
  tags: Opt(Tags),
  properties: Type.Object({
    virtualNetwork: Type.Object({ id: Type.String({ minLength: 1 }) }),
    registrationEnabled: Opt(Type.Boolean()),
  }),
});
export type VirtualNetworkLinkBody = Static<typeof VirtualNetworkLinkBody>;
