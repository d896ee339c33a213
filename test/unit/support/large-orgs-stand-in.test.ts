/**
 * The stand-in's Organizations and SSO Admin permission-set answers, checked against the SDK's own
 * models (the schemas the clients deserialise with): every member it sends exists in the output
 * shape with the right kind, and every error carries the status of its httpError trait.
 */
import * as organizationsModel from '@aws-sdk/client-organizations';
import {
  DescribeOrganizationCommand,
  ListAccountsCommand,
  ListAccountsForParentCommand,
  ListOrganizationalUnitsForParentCommand,
  ListParentsCommand,
  ListRootsCommand,
  ListTagsForResourceCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import * as ssoAdminModel from '@aws-sdk/client-sso-admin';
import { DescribePermissionSetCommand, ListPermissionSetsCommand, SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { AwsStandIn } from '../../support/aws-stand-in';
import { buildOrganization, FIXTURE_INSTANCE_ARN, FIXTURE_ROOT_ID, seedOrganization } from '../../support/organization-fixture';

type Schema = unknown;
const SSO_ADMIN_OPERATIONS = new Set(['ListPermissionSets', 'DescribePermissionSet']);
const credentials = { accessKeyId: 'AKIASTANDINDUMMYKEY0', secretAccessKey: 'dummy' };

/** A member schema is a number (a simple type), a schema array, a thunk, or [thunk, traits]. */
function resolve(schema: Schema): Schema {
  if (typeof schema === 'function') return resolve((schema as () => Schema)());
  if (Array.isArray(schema) && typeof schema[0] === 'function') return resolve(schema[0]);
  return schema;
}

/** Problems with `value` as an instance of `schema` (structure, list, map, string, number, timestamp). */
function conformance(value: unknown, schema: Schema, path: string): string[] {
  const s = resolve(schema);
  if (typeof s === 'number') {
    if (s === 0) return typeof value === 'string' ? [] : [`${path}: expected a string`];
    if (s === 1) return typeof value === 'number' ? [] : [`${path}: expected a number`];
    if (s === 4) return typeof value === 'number' ? [] : [`${path}: expected epoch seconds`];
    if (s >= 64 && s < 128) return Array.isArray(value) ? value.flatMap((v, i) => conformance(v, s - 64, `${path}[${i}]`)) : [`${path}: expected a list`];
    return [];
  }
  if (!Array.isArray(s)) return [`${path}: unknown schema`];
  const kind = s[0] as number;
  if (kind === 3 || kind === -3) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`${path}: expected a structure`];
    const names = s[4] as string[];
    const members = s[5] as Schema[];
    return Object.entries(value).flatMap(([k, v]) => {
      const i = names.indexOf(k);
      return i < 0 ? [`${path}.${k}: not in the model`] : conformance(v, members[i], `${path}.${k}`);
    });
  }
  if (kind === 1) return Array.isArray(value) ? value.flatMap((v, i) => conformance(v, s[4], `${path}[${i}]`)) : [`${path}: expected a list`];
  return [];
}

const modelOf = (model: Record<string, unknown>, name: string): Schema => {
  const schema = model[`${name}$`];
  if (!schema) throw new Error(`no ${name} in the model`);
  return schema;
};

describe('large-orgs: the stand-in answers Organizations and SSO Admin as the SDK models say', () => {
  let aws: AwsStandIn;
  let org: OrganizationsClient;
  let sso: SSOAdminClient;
  const outputs: Array<{ operation: string; output: unknown }> = [];
  beforeAll(async () => {
    aws = await AwsStandIn.start();
    const fixture = buildOrganization({ accounts: 45, permissionSets: 3 });
    seedOrganization(aws, fixture);
    aws.afterResponse((operation, output) => outputs.push({ operation, output }));
    org = new OrganizationsClient({ endpoint: aws.url, region: 'us-east-1', credentials, maxAttempts: 1 });
    sso = new SSOAdminClient({ endpoint: aws.url, region: 'us-east-1', credentials, maxAttempts: 1 });
  });
  afterAll(async () => {
    org.destroy();
    sso.destroy();
    await aws.close();
  });

  test('every Organizations and permission-set answer fits its output shape, and paging follows NextToken', async () => {
    const ou = (await org.send(new ListOrganizationalUnitsForParentCommand({ ParentId: FIXTURE_ROOT_ID }))).OrganizationalUnits?.[0]?.Id ?? '';
    const first = await org.send(new ListAccountsCommand({ MaxResults: 20 }));
    expect(first.Accounts).toHaveLength(20);
    const second = await org.send(new ListAccountsCommand({ MaxResults: 20, NextToken: first.NextToken }));
    expect(second.Accounts?.[0]?.Id).not.toBe(first.Accounts?.[0]?.Id);
    await org.send(new DescribeOrganizationCommand({}));
    await org.send(new ListRootsCommand({}));
    await org.send(new ListAccountsForParentCommand({ ParentId: ou }));
    await org.send(new ListParentsCommand({ ChildId: first.Accounts?.[1]?.Id ?? '' }));
    await org.send(new ListTagsForResourceCommand({ ResourceId: first.Accounts?.[1]?.Id ?? '' }));
    const arns = (await sso.send(new ListPermissionSetsCommand({ InstanceArn: FIXTURE_INSTANCE_ARN, MaxResults: 2 }))).PermissionSets ?? [];
    expect(arns).toHaveLength(2);
    await sso.send(new DescribePermissionSetCommand({ InstanceArn: FIXTURE_INSTANCE_ARN, PermissionSetArn: arns[1] ?? '' }));

    const problems = outputs.flatMap(({ operation, output }) =>
      conformance(output, modelOf(SSO_ADMIN_OPERATIONS.has(operation) ? ssoAdminModel : organizationsModel, `${operation}Response`), operation),
    );
    expect(problems).toEqual([]);
    // The check is not vacuous: a member the model does not have, or of the wrong kind, is caught.
    expect(conformance({ Accounts: [{ Nickname: 'x', JoinedTimestamp: '2024' }] }, modelOf(organizationsModel, 'ListAccountsResponse'), 'L')).toEqual([
      'L.Accounts[0].Nickname: not in the model',
      'L.Accounts[0].JoinedTimestamp: expected epoch seconds',
    ]);
    expect(new Set(outputs.map((o) => o.operation))).toEqual(
      new Set(['ListOrganizationalUnitsForParent', 'ListAccounts', 'DescribeOrganization', 'ListRoots', 'ListAccountsForParent', 'ListParents', 'ListTagsForResource', 'ListPermissionSets', 'DescribePermissionSet']),
    );
  });

  test('errors carry the HTTP status of their httpError trait: throttling is 429, bad input 400, a missing parent 404', async () => {
    const statusOf = async (send: () => Promise<unknown>) => {
      const err = (await send().catch((e: unknown) => e)) as { name: string; $metadata: { httpStatusCode?: number } };
      const traits = (organizationsModel as unknown as Record<string, unknown[]>)[`${err.name}$`]?.[3] as { httpError?: number } | undefined;
      return { name: err.name, status: err.$metadata.httpStatusCode, modelStatus: traits?.httpError };
    };
    aws.injectFault('ListRoots', { type: 'TooManyRequestsException' });
    const throttled = await statusOf(() => org.send(new ListRootsCommand({})));
    expect(throttled).toEqual({ name: 'TooManyRequestsException', status: 429, modelStatus: 429 });
    const badPage = await statusOf(() => org.send(new ListRootsCommand({ MaxResults: 0 })));
    expect(badPage).toEqual({ name: 'InvalidInputException', status: 400, modelStatus: 400 });
    const noParent = await statusOf(() => org.send(new ListAccountsForParentCommand({ ParentId: 'ou-ab12-ffffffff' })));
    expect(noParent).toEqual({ name: 'ParentNotFoundException', status: 404, modelStatus: 404 });
    // A token from one listing is no good for another.
    const page = await org.send(new ListAccountsCommand({ MaxResults: 1 }));
    await expect(org.send(new ListAccountsForParentCommand({ ParentId: FIXTURE_ROOT_ID, NextToken: page.NextToken }))).rejects.toMatchObject({ name: 'InvalidInputException' });
    await expect(sso.send(new ListPermissionSetsCommand({ InstanceArn: FIXTURE_INSTANCE_ARN, MaxResults: 101 }))).rejects.toMatchObject({ name: 'ValidationException' });
  });
});
