/**
 * A local stand-in for the AWS services Timebox talks to (IAM Identity Center admin, Identity
 * Store, Organizations, EventBridge Scheduler, Lambda and Secrets Manager). It speaks their real wire protocols so the real
 * AWS SDK v3 clients can be pointed at it with an endpoint override: that way tests exercise
 * our serialisation, paging, polling and error handling, not a mock's idea of them.
 *
 * Wire formats (checked against the SDK's own schemas in node_modules):
 * - SSO Admin, Identity Store and Secrets Manager use AWS JSON 1.1: `POST /`,
 *   `X-Amz-Target: <Service>.<Operation>`, timestamps as epoch seconds, errors as HTTP 400
 *   (500 for server faults) with `__type`.
 * - Organizations is AWS JSON 1.1 too (`AWSOrganizationsV20161128.<Operation>`), but its errors
 *   carry the model's httpError status (TooManyRequestsException 429, InvalidInputException 400,
 *   …); its List calls page with NextToken and MaxResults 1-20, and may answer a page shorter
 *   than asked (even empty) with a NextToken, so callers must follow NextToken, not page sizes.
 * - Scheduler and Lambda use REST JSON: the operation comes from method + path, errors carry the
 *   type in the `x-amzn-errortype` header and the HTTP status from the error's `httpError` trait
 *   (Conflict 409, NotFound 404, Throttling 429, Validation 400, ...).
 * - Lambda Invoke: `POST /2015-03-31/functions/{FunctionName}/invocations`, the invocation type in
 *   `X-Amz-Invocation-Type`, the payload as the raw body; `Event` answers 202 with no body.
 * Signatures are not checked.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import type { StandInAccountState, StandInOrgAccount, StandInOrganization } from './organization-fixture';

export interface StandInAssignment {
  instanceArn: string;
  accountId: string;
  permissionSetArn: string;
  principalId: string;
  principalType: 'USER' | 'GROUP';
}

export interface AwsCall {
  service: 'sso-admin' | 'identitystore' | 'organizations' | 'scheduler' | 'lambda' | 'secretsmanager';
  operation: string;
  input: unknown;
  at: number;
}

export interface StandInOptions {
  /** How many Describe…CreationStatus calls still answer IN_PROGRESS (default 1; 0 = done at once). */
  creationPolls?: number;
  /** Same for Describe…DeletionStatus. */
  deletionPolls?: number;
}

export interface StandInFault {
  /** AWS error type, e.g. ThrottlingException, InternalServerException, ConflictException. */
  type: string;
  message?: string;
  /** Overrides the HTTP status the real service would use for this type. */
  status?: number;
}

export interface StandInSchedule {
  name: string;
  groupName: string;
  expression: string;
  input?: string;
  targetArn: string;
  roleArn: string;
  actionAfterCompletion?: string;
  /** The CreateSchedule request body exactly as the SDK sent it. */
  raw: unknown;
}

export interface StandInInvocation {
  /** As the SDK sent it: a name, a (partial) ARN, possibly with a qualifier. */
  functionName: string;
  invocationType: string;
  /** The raw request body (JSON text; '' when the caller sent no payload). */
  payload: string;
  at: number;
}

interface StoredSecret {
  arn: string;
  name: string;
  secretString: string;
  versionId: string;
  createdDate: number;
}

interface StandInUser {
  userId: string;
  email: string;
  userName: string;
  identityStoreId?: string;
}

interface StandInGroup {
  groupId: string;
  displayName: string;
  /** Unset: the group is visible in every identity store (like users added without one). */
  identityStoreId?: string;
}

/** One Identity Store group membership (group × user), made by Timebox or standing. */
export interface StandInMembership {
  membershipId: string;
  groupId: string;
  userId: string;
}

type Json = Record<string, unknown>;
type Service = AwsCall['service'];

const ACCOUNT_ID = '123456789012';
const REGION = 'us-east-1';

/** Thrown by handlers; turned into the protocol's error response. */
class AwsError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status?: number,
    readonly extra: Json = {},
  ) {
    super(message);
  }
}

// JSON 1.1 services answer every client error with 400; only server faults use 5xx.
const JSON_RPC_SERVER_ERRORS: Record<string, number> = {
  InternalServerException: 500,
  InternalServiceError: 500, // Secrets Manager's name for it
  ServiceUnavailableException: 503,
};
const JSON_RPC_SERVICES: Record<string, Service> = {
  SWBExternalService: 'sso-admin',
  AWSIdentityStore: 'identitystore',
  secretsmanager: 'secretsmanager',
  AWSOrganizationsV20161128: 'organizations',
};
// Organizations' statuses come from each error shape's httpError trait in its model.
const ORGANIZATIONS_ERROR_STATUS: Record<string, number> = {
  InvalidInputException: 400,
  AccessDeniedException: 403,
  AWSOrganizationsNotInUseException: 404,
  ParentNotFoundException: 404,
  ChildNotFoundException: 404,
  TargetNotFoundException: 404,
  TooManyRequestsException: 429,
  ServiceException: 500,
};
/** Organizations' List calls: MaxResults 1-20 (API reference; the SDK model carries no range). */
const ORGANIZATIONS_PAGE_LIMIT = 20;
// REST JSON statuses come from each error shape's httpError trait in the Scheduler model.
const REST_ERROR_STATUS: Record<string, number> = {
  ValidationException: 400,
  ServiceQuotaExceededException: 402,
  AccessDeniedException: 403,
  ResourceNotFoundException: 404,
  UnknownOperationException: 404,
  ConflictException: 409,
  ThrottlingException: 429,
  InternalServerException: 500,
};
// Lambda's own httpError traits for the errors Invoke can return (from the Lambda model).
const LAMBDA_ERROR_STATUS: Record<string, number> = {
  InvalidParameterValueException: 400,
  InvalidRequestContentException: 400,
  InvalidRuntimeException: 502,
  KMSAccessDeniedException: 502,
  RequestTooLargeException: 413,
  ResourceConflictException: 409,
  ResourceNotFoundException: 404,
  ResourceNotReadyException: 502,
  ServiceException: 500,
  TooManyRequestsException: 429,
  UnsupportedMediaTypeException: 415,
};
const LAMBDA_INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;
// Documented payload quotas: 6 MB synchronous, 1 MB asynchronous.
const LAMBDA_PAYLOAD_LIMIT: Record<string, number> = { RequestResponse: 6 * 1024 * 1024, Event: 1024 * 1024, DryRun: 6 * 1024 * 1024 };

const epochSeconds = (ms: number): number => ms / 1000;

/** `invalid` is the service's own error for a request that fails validation (ValidationException unless told). */
function parseInput<T>(schema: z.ZodType<T>, input: unknown, invalid?: (message: string) => AwsError): T {
  const result = schema.safeParse(input);
  if (!result.success) {
    const details = result.error.issues.map((i) => `${i.path.map(String).join('.') || '(body)'}: ${i.message}`);
    const message = `1 validation error(s) detected: ${details.join('; ')}`;
    throw invalid ? invalid(message) : new AwsError('ValidationException', message);
  }
  return result.data;
}

interface PageRules {
  /** The service's error for a bad MaxResults or NextToken (default: ValidationException). */
  invalid?: (message: string, reason: 'MAX_VALUE_EXCEEDED' | 'MIN_VALUE_EXCEEDED' | 'INVALID_PAGINATION_TOKEN') => AwsError;
  /** A token is only good for the listing it came from (e.g. `ListAccountsForParent:ou-…`). */
  scope?: string;
  /** The first page is empty but carries a NextToken, as Organizations may answer. */
  emptyFirstPage?: boolean;
}

/** Opaque-looking page tokens, so callers cannot get away with treating them as numbers. */
function paginate<T>(
  items: T[],
  maxResults: number | undefined,
  nextToken: string | undefined,
  limit: number,
  rules: PageRules = {},
): { page: T[]; nextToken?: string } {
  const invalid = rules.invalid ?? ((message: string) => new AwsError('ValidationException', message));
  const size = maxResults ?? limit;
  if (!Number.isInteger(size) || size < 1 || size > limit) {
    throw invalid(`MaxResults must be between 1 and ${limit}`, size < 1 ? 'MIN_VALUE_EXCEEDED' : 'MAX_VALUE_EXCEEDED');
  }
  const suffix = rules.scope === undefined ? '' : `:${rules.scope}`;
  const token = (offset: number): string => Buffer.from(`page:${offset}${suffix}`).toString('base64');
  let offset = 0;
  if (nextToken !== undefined) {
    const match = /^page:(\d+)(:.*)?$/.exec(Buffer.from(nextToken, 'base64').toString('utf8'));
    if (!match?.[1] || (match[2] ?? '') !== suffix) throw invalid('Invalid NextToken', 'INVALID_PAGINATION_TOKEN');
    offset = Number(match[1]);
  } else if (rules.emptyFirstPage && items.length > 0) {
    return { page: [], nextToken: token(0) };
  }
  const page = items.slice(offset, offset + size);
  const next = offset + size < items.length ? token(offset + size) : undefined;
  return next === undefined ? { page } : { page, nextToken: next };
}

// ---- request shapes (only what we rely on; unknown members are ignored like AWS does) ----
const nonEmpty = z.string().min(1);
const assignmentOperationInput = z.object({
  InstanceArn: nonEmpty,
  TargetId: z.string().regex(/^\d{12}$/, 'must be a 12-digit account id'),
  TargetType: z.literal('AWS_ACCOUNT'),
  PermissionSetArn: nonEmpty,
  PrincipalType: z.enum(['USER', 'GROUP']),
  PrincipalId: nonEmpty,
});
const describeInstanceInput = z.object({ InstanceArn: z.string().regex(/^arn:(aws|aws-us-gov|aws-cn|aws-iso|aws-iso-b):sso:::instance\/(sso)?ins-[a-zA-Z0-9-.]{16}$/, 'must be an instance ARN') });
const describeCreationInput = z.object({ InstanceArn: nonEmpty, AccountAssignmentCreationRequestId: nonEmpty });
const describeDeletionInput = z.object({ InstanceArn: nonEmpty, AccountAssignmentDeletionRequestId: nonEmpty });
const listAssignmentsInput = z.object({
  InstanceArn: nonEmpty,
  AccountId: nonEmpty,
  PermissionSetArn: nonEmpty,
  MaxResults: z.number().optional(),
  NextToken: z.string().optional(),
});
const listForPrincipalInput = z.object({
  InstanceArn: nonEmpty,
  PrincipalId: nonEmpty,
  PrincipalType: z.enum(['USER', 'GROUP']),
  Filter: z.object({ AccountId: z.string().optional() }).optional(),
  MaxResults: z.number().optional(),
  NextToken: z.string().optional(),
});
const getUserIdInput = z.object({
  IdentityStoreId: nonEmpty,
  AlternateIdentifier: z.object({
    UniqueAttribute: z.object({ AttributePath: nonEmpty, AttributeValue: z.unknown() }).optional(),
    ExternalId: z.object({ Issuer: z.string(), Id: z.string() }).optional(),
  }),
});
const listOperationStatusInput = z.object({
  InstanceArn: nonEmpty,
  MaxResults: z.number().optional(),
  NextToken: z.string().optional(),
  Filter: z.object({ Status: z.enum(['IN_PROGRESS', 'FAILED', 'SUCCEEDED']).optional() }).optional(),
});

// Permission sets. The SDK's model carries no length constraints; these are the API reference's:
// InlinePolicy 1-32768 characters of [\u0009\u000A\u000D\u0020-\u00FF].
const permissionSetInput = z.object({ InstanceArn: nonEmpty, PermissionSetArn: nonEmpty });
const putInlinePolicyInput = permissionSetInput.extend({
  InlinePolicy: z
    .string()
    .min(1)
    .max(32768, 'Member must have length less than or equal to 32768')
    .refine((text) => [...text].every((c) => c === '\t' || c === '\n' || c === '\r' || (c >= ' ' && c <= '\u00FF')), 'Member must satisfy regular expression pattern: [\\u0009\\u000A\\u000D\\u0020-\\u00FF]+'),
});
const provisionPermissionSetInput = permissionSetInput.extend({
  TargetId: z.string().regex(/^\d{12}$/, 'must be a 12-digit account id').optional(),
  TargetType: z.enum(['AWS_ACCOUNT', 'ALL_PROVISIONED_ACCOUNTS']),
});
const describeProvisioningInput = z.object({ InstanceArn: nonEmpty, ProvisionPermissionSetRequestId: nonEmpty });
const listPermissionSetsInput = z.object({ InstanceArn: nonEmpty, MaxResults: z.number().optional(), NextToken: z.string().optional() });

// Organizations ids, from the API reference's patterns (the SDK model carries none).
const ORG_ROOT_ID = /^r-[0-9a-z]{4,32}$/;
const ORG_OU_ID = /^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$/;
const ORG_ACCOUNT_ID = /^\d{12}$/;
const orgPage = { NextToken: z.string().optional(), MaxResults: z.number().optional() };
const orgParentId = z.string().refine((v) => ORG_ROOT_ID.test(v) || ORG_OU_ID.test(v), 'must be a root or OU id');
const listOrgPageInput = z.object(orgPage);
const listForParentInput = z.object({ ParentId: orgParentId, ...orgPage });
const listParentsInput = z.object({ ChildId: z.string().refine((v) => ORG_ACCOUNT_ID.test(v) || ORG_OU_ID.test(v), 'must be an account or OU id'), ...orgPage });
const listTagsInput = z.object({
  ResourceId: z.string().refine((v) => ORG_ACCOUNT_ID.test(v) || ORG_OU_ID.test(v) || ORG_ROOT_ID.test(v), 'must be an account, OU or root id'),
  NextToken: z.string().optional(),
});
const orgInvalidInput = (message: string, reason = 'INVALID_PATTERN'): AwsError => new AwsError('InvalidInputException', message, undefined, { Reason: reason });
/** Organizations still sends the older Status beside State; a closed account's Status is SUSPENDED. */
const ORG_STATUS: Record<StandInAccountState, string> = { ACTIVE: 'ACTIVE', SUSPENDED: 'SUSPENDED', PENDING_CLOSURE: 'PENDING_CLOSURE', CLOSED: 'SUSPENDED' };

interface StandInPermissionSet {
  name: string;
  description?: string;
  sessionDuration: string;
  createdDate: number;
  inlinePolicy?: string;
  provisionedPolicy?: string;
}

interface Provisioning {
  requestId: string;
  permissionSetArn: string;
  accountId?: string;
  /** The inline policy as it was when the provisioning started. */
  policy: string | undefined;
  pollsLeft: number;
  status: 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED';
  failureReason?: string;
  createdDate: number;
}

function provisioningBody(p: Provisioning): Json {
  return {
    Status: p.status,
    RequestId: p.requestId,
    PermissionSetArn: p.permissionSetArn,
    ...(p.accountId === undefined ? {} : { AccountId: p.accountId }),
    CreatedDate: p.createdDate,
    ...(p.status === 'FAILED' ? { FailureReason: p.failureReason } : {}),
  };
}

// Identity Store id constraints from the service model (the SDK does not carry them, so they come
// from the API reference): store ids are d-<10 hex> or a UUID, 1-36 chars; user, group and
// membership ids are an optional <10 hex>- prefix and a UUID, 1-47 chars.
const IDENTITY_STORE_ID = /^d-[0-9a-f]{10}$|^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const RESOURCE_ID = /^([0-9a-f]{10}-|)[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}$/;
const identityStoreId = z.string().min(1).max(36).regex(IDENTITY_STORE_ID, 'must match the IdentityStoreId pattern');
const resourceId = z.string().min(1).max(47).regex(RESOURCE_ID, 'must match the ResourceId pattern');
/** A union with one member: exactly UserId. */
const memberId = z.strictObject({ UserId: resourceId });
const alternateIdentifier = z.object({
  UniqueAttribute: z.object({ AttributePath: nonEmpty, AttributeValue: z.unknown() }).optional(),
  ExternalId: z.object({ Issuer: z.string(), Id: z.string() }).optional(),
});
const getGroupIdInput = z.object({ IdentityStoreId: identityStoreId, AlternateIdentifier: alternateIdentifier });
const groupMembershipInput = z.object({ IdentityStoreId: identityStoreId, GroupId: resourceId, MemberId: memberId });
const membershipIdInput = z.object({ IdentityStoreId: identityStoreId, MembershipId: resourceId });
const isMemberInGroupsInput = z.object({
  IdentityStoreId: identityStoreId,
  MemberId: memberId,
  GroupIds: z.array(resourceId).min(1).max(100),
});
const listMembershipsForMemberInput = z.object({
  IdentityStoreId: identityStoreId,
  MemberId: memberId,
  MaxResults: z.number().optional(),
  NextToken: z.string().optional(),
});
const getSecretValueInput = z.object({ SecretId: nonEmpty, VersionId: z.string().optional(), VersionStage: z.string().optional() });

const scheduleName = z.string().regex(/^[0-9a-zA-Z-_.]{1,64}$/, 'must match [0-9a-zA-Z-_.]{1,64}');
// Scheduler's own grammar; catching a sloppy at() (milliseconds, trailing Z) here is the point.
const scheduleExpression = z
  .string()
  .max(256)
  .refine(
    (e) =>
      /^at\(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\)$/.test(e) ||
      /^rate\(\d+ (minute|minutes|hour|hours|day|days)\)$/.test(e) ||
      /^cron\(\S+( \S+){5}\)$/.test(e),
    'must be at(yyyy-mm-ddThh:mm:ss), rate(value unit) or cron(6 fields)',
  );
const createScheduleInput = z.object({
  Name: scheduleName,
  GroupName: scheduleName.optional(),
  ScheduleExpression: scheduleExpression,
  ScheduleExpressionTimezone: z.string().optional(),
  State: z.enum(['ENABLED', 'DISABLED']).optional(),
  Description: z.string().max(512).optional(),
  StartDate: z.number().optional(),
  EndDate: z.number().optional(),
  KmsKeyArn: z.string().optional(),
  ClientToken: z.string().optional(),
  ActionAfterCompletion: z.enum(['NONE', 'DELETE']).optional(),
  FlexibleTimeWindow: z
    .object({ Mode: z.enum(['OFF', 'FLEXIBLE']), MaximumWindowInMinutes: z.number().int().min(1).max(1440).optional() })
    .refine((w) => w.Mode === 'OFF' || w.MaximumWindowInMinutes !== undefined, 'FLEXIBLE needs MaximumWindowInMinutes'),
  // Loose: we echo every target parameter back from GetSchedule, not just the ones we check.
  Target: z.looseObject({
    Arn: nonEmpty,
    RoleArn: nonEmpty,
    Input: z.string().min(1).max(8192).optional(),
    RetryPolicy: z
      .object({
        MaximumEventAgeInSeconds: z.number().int().min(60).max(86400).optional(),
        MaximumRetryAttempts: z.number().int().min(0).max(185).optional(),
      })
      .optional(),
    DeadLetterConfig: z.object({ Arn: z.string().optional() }).optional(),
  }),
});
type CreateScheduleInput = z.infer<typeof createScheduleInput>;

interface StoredSchedule extends CreateScheduleInput {
  GroupName: string;
  Arn: string;
  CreationDate: number;
  LastModificationDate: number;
  raw: unknown;
}

interface AssignmentOperation {
  kind: 'creation' | 'deletion';
  requestId: string;
  assignment: StandInAssignment;
  pollsLeft: number;
  status: 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED';
  failureReason?: string;
  createdDate: number;
}

const assignmentKey = (a: Omit<StandInAssignment, 'principalType'> & { principalType?: string }): string =>
  [a.instanceArn, a.accountId, a.permissionSetArn, a.principalType ?? '*', a.principalId].join('|');

const DEFAULT_INSTANCE_ARN = 'arn:aws:sso:::instance/ssoins-1234567890abcdef';
const DEFAULT_IDENTITY_STORE_ID = 'd-1234567890';

function checkPolls(n: number): number {
  if (!Number.isInteger(n) || n < 0) throw new Error(`polls must be a non-negative integer, got ${n}`);
  return n;
}

export class AwsStandIn {
  readonly calls: AwsCall[] = [];
  private readonly assignments = new Map<string, StandInAssignment>();
  private readonly operations = new Map<string, AssignmentOperation>();
  private readonly users: StandInUser[] = [];
  private readonly groups: StandInGroup[] = [];
  /** Keyed by membership id, in creation order. */
  private readonly memberships = new Map<string, StandInMembership>();
  private readonly scheduleStore = new Map<string, StoredSchedule>();
  private readonly faults = new Map<string, StandInFault[]>();
  private invocationLog: StandInInvocation[] = [];
  /** Keyed by every SecretId that finds the secret (name and ARN); values are shared. */
  private readonly secrets = new Map<string, StoredSecret>();
  /** The Identity Center instances this account has: instance ARN → its identity store id. */
  private readonly instances = new Map<string, string>();
  private readonly permissionSets = new Map<string, StandInPermissionSet>();
  private readonly provisionings = new Map<string, Provisioning>();
  private readonly provisioningFailures: string[] = [];
  private provisioningPolls = 1;
  private nextCreationFailure: string | undefined;
  private nextDeletionFailure: string | undefined;
  private creationPolls: number;
  private deletionPolls: number;

  private readonly jsonRpcOperations = new Map<string, (input: unknown) => Json>([
    ['SWBExternalService.DescribeInstance', (i) => this.describeInstance(i)],
    ['SWBExternalService.CreateAccountAssignment', (i) => this.startOperation('creation', i)],
    ['SWBExternalService.DeleteAccountAssignment', (i) => this.startOperation('deletion', i)],
    ['SWBExternalService.DescribeAccountAssignmentCreationStatus', (i) => this.describeOperation('creation', i)],
    ['SWBExternalService.DescribeAccountAssignmentDeletionStatus', (i) => this.describeOperation('deletion', i)],
    ['SWBExternalService.ListAccountAssignments', (i) => this.listAccountAssignments(i)],
    ['SWBExternalService.ListAccountAssignmentsForPrincipal', (i) => this.listAccountAssignmentsForPrincipal(i)],
    ['SWBExternalService.ListAccountAssignmentCreationStatus', (i) => this.listOperationStatus('creation', i)],
    ['SWBExternalService.ListAccountAssignmentDeletionStatus', (i) => this.listOperationStatus('deletion', i)],
    ['SWBExternalService.DescribePermissionSet', (i) => this.describePermissionSet(i)],
    ['SWBExternalService.GetInlinePolicyForPermissionSet', (i) => this.getInlinePolicy(i)],
    ['SWBExternalService.PutInlinePolicyToPermissionSet', (i) => this.putInlinePolicy(i)],
    ['SWBExternalService.DeleteInlinePolicyFromPermissionSet', (i) => this.deleteInlinePolicy(i)],
    ['SWBExternalService.ProvisionPermissionSet', (i) => this.provisionPermissionSet(i)],
    ['SWBExternalService.DescribePermissionSetProvisioningStatus', (i) => this.describeProvisioning(i)],
    ['SWBExternalService.ListPermissionSets', (i) => this.listPermissionSets(i)],
    ['AWSOrganizationsV20161128.DescribeOrganization', () => this.describeOrganization()],
    ['AWSOrganizationsV20161128.ListRoots', (i) => this.listRoots(i)],
    ['AWSOrganizationsV20161128.ListOrganizationalUnitsForParent', (i) => this.listOrganizationalUnitsForParent(i)],
    ['AWSOrganizationsV20161128.ListAccountsForParent', (i) => this.listAccountsForParent(i)],
    ['AWSOrganizationsV20161128.ListAccounts', (i) => this.listAccounts(i)],
    ['AWSOrganizationsV20161128.ListParents', (i) => this.listParents(i)],
    ['AWSOrganizationsV20161128.ListTagsForResource', (i) => this.listTagsForResource(i)],
    ['AWSIdentityStore.GetUserId', (i) => this.getUserId(i)],
    ['AWSIdentityStore.GetGroupId', (i) => this.getGroupId(i)],
    ['AWSIdentityStore.CreateGroupMembership', (i) => this.createGroupMembership(i)],
    ['AWSIdentityStore.GetGroupMembershipId', (i) => this.getGroupMembershipId(i)],
    ['AWSIdentityStore.DeleteGroupMembership', (i) => this.deleteGroupMembership(i)],
    ['AWSIdentityStore.IsMemberInGroups', (i) => this.isMemberInGroups(i)],
    ['AWSIdentityStore.ListGroupMembershipsForMember', (i) => this.listGroupMembershipsForMember(i)],
    ['secretsmanager.GetSecretValue', (i) => this.getSecretValue(i)],
  ]);

  private constructor(
    private readonly server: http.Server,
    readonly url: string,
    options: StandInOptions,
  ) {
    this.instances.set(DEFAULT_INSTANCE_ARN, DEFAULT_IDENTITY_STORE_ID);
    this.creationPolls = checkPolls(options.creationPolls ?? 1);
    this.deletionPolls = checkPolls(options.deletionPolls ?? 1);
  }

  static async start(options: StandInOptions = {}): Promise<AwsStandIn> {
    const server = http.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    const standIn = new AwsStandIn(server, `http://127.0.0.1:${port}`, options);
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => void standIn.handle(req, res));
    return standIn;
  }

  callsTo(operation: string): AwsCall[] {
    return this.calls.filter((c) => c.operation === operation);
  }

  /** Environment that makes SDK clients built without an explicit endpoint talk to this stand-in. */
  env(): Record<string, string> {
    return {
      AWS_ENDPOINT_URL_SSO_ADMIN: this.url,
      AWS_ENDPOINT_URL_IDENTITYSTORE: this.url,
      AWS_ENDPOINT_URL_SCHEDULER: this.url,
      AWS_ENDPOINT_URL_LAMBDA: this.url,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: this.url,
      AWS_ENDPOINT_URL_ORGANIZATIONS: this.url,
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: 'AKIASTANDINDUMMYKEY0',
      AWS_SECRET_ACCESS_KEY: 'stand-in-dummy-secret',
    };
  }

  addUser(u: { userId: string; email: string; userName?: string; identityStoreId?: string }): void {
    this.users.push({ ...u, userName: u.userName ?? u.email });
  }

  /** A group in the Identity Store. Its id must look like a real one, or no API call could name it. */
  addGroup(g: { groupId: string; displayName: string; identityStoreId?: string }): void {
    if (!RESOURCE_ID.test(g.groupId)) throw new Error(`addGroup: ${g.groupId} is not a valid Identity Store group id`);
    if (g.identityStoreId !== undefined && !IDENTITY_STORE_ID.test(g.identityStoreId)) {
      throw new Error(`addGroup: ${g.identityStoreId} is not a valid identity store id`);
    }
    if (this.groups.some((x) => x.groupId === g.groupId)) throw new Error(`addGroup: group ${g.groupId} already exists`);
    this.groups.push({ ...g });
  }

  /**
   * A membership made outside Timebox (a standing one). Both the group (addGroup) and the user
   * (addUser, with an id AWS would accept) must exist, and it must not be there already.
   */
  addMembership(m: { groupId: string; userId: string }): string {
    if (!this.groups.some((g) => g.groupId === m.groupId)) throw new Error(`addMembership: no group ${m.groupId} (addGroup first)`);
    if (!RESOURCE_ID.test(m.userId)) throw new Error(`addMembership: ${m.userId} is not a valid Identity Store user id`);
    if (!this.users.some((u) => u.userId === m.userId)) throw new Error(`addMembership: no user ${m.userId} (addUser first)`);
    if (this.findMembership(m.groupId, m.userId)) throw new Error(`addMembership: ${m.userId} is already a member of ${m.groupId}`);
    return this.storeMembership(m.groupId, m.userId).membershipId;
  }

  /** Removes a membership (by id, or by group and user) as if someone did it outside Timebox. */
  removeMembership(ref: string | { groupId: string; userId: string }): boolean {
    const id = typeof ref === 'string' ? ref : this.findMembership(ref.groupId, ref.userId)?.membershipId;
    return id !== undefined && this.memberships.delete(id);
  }

  isMember(m: { groupId: string; userId: string }): boolean {
    return this.findMembership(m.groupId, m.userId) !== undefined;
  }

  /** The user's memberships, oldest first. */
  membershipsOf(userId: string): StandInMembership[] {
    return [...this.memberships.values()].filter((m) => m.userId === userId).map((m) => ({ ...m }));
  }

  addAssignment(a: StandInAssignment): void {
    this.assignments.set(assignmentKey(a), { ...a });
  }

  /** An assignment removed outside Timebox (an admin in the console); true if there was one. */
  removeAssignment(a: Omit<StandInAssignment, 'principalType'>): boolean {
    return this.assignments.delete(assignmentKey({ ...a, principalType: 'USER' }));
  }

  hasAssignment(a: Omit<StandInAssignment, 'principalType'>): boolean {
    return this.listAssignments().some(
      (x) =>
        x.instanceArn === a.instanceArn &&
        x.accountId === a.accountId &&
        x.permissionSetArn === a.permissionSetArn &&
        x.principalId === a.principalId,
    );
  }

  listAssignments(): StandInAssignment[] {
    return [...this.assignments.values()].map((a) => ({ ...a }));
  }

  /** AWS finishing, in its own time, every assignment operation still IN_PROGRESS; returns how many. */
  completeOperations(): number {
    let done = 0;
    for (const op of this.operations.values()) {
      if (op.status !== 'IN_PROGRESS') continue;
      this.finish(op);
      done++;
    }
    return done;
  }

  setCreationPolls(n: number): void {
    this.creationPolls = checkPolls(n);
  }

  setDeletionPolls(n: number): void {
    this.deletionPolls = checkPolls(n);
  }

  failNextCreation(reason: string): void {
    this.nextCreationFailure = reason;
  }

  failNextDeletion(reason: string): void {
    this.nextDeletionFailure = reason;
  }

  injectFault(operation: string, fault: StandInFault, times = 1): void {
    const queue = this.faults.get(operation) ?? [];
    for (let i = 0; i < times; i++) queue.push(fault);
    this.faults.set(operation, queue);
  }

  /** Drops the faults not yet used (for one operation, or all). */
  clearFaults(operation?: string): void {
    if (operation === undefined) this.faults.clear();
    else this.faults.delete(operation);
  }

  schedules(): StandInSchedule[] {
    return [...this.scheduleStore.values()].map((s) => ({
      name: s.Name,
      groupName: s.GroupName,
      expression: s.ScheduleExpression,
      ...(s.Target.Input === undefined ? {} : { input: s.Target.Input }),
      targetArn: s.Target.Arn,
      roleArn: s.Target.RoleArn,
      ...(s.ActionAfterCompletion === undefined ? {} : { actionAfterCompletion: s.ActionAfterCompletion }),
      raw: s.raw,
    }));
  }

  /** Simulates a one-time schedule that fired with ActionAfterCompletion=DELETE (we never fire). */
  removeSchedule(name: string, groupName = 'default'): boolean {
    return this.scheduleStore.delete(`${groupName}/${name}`);
  }

  /** Lambda invocations received so far (all, or those for one function), oldest first. */
  invocations(functionName?: string): StandInInvocation[] {
    return this.invocationLog.filter((i) => functionName === undefined || sameFunction(i.functionName, functionName)).map((i) => ({ ...i }));
  }

  /** Like invocations(), but also forgets them, so each one is handed to a worker exactly once. */
  takeInvocations(functionName?: string): StandInInvocation[] {
    const taken = this.invocations(functionName);
    this.invocationLog = this.invocationLog.filter((i) => functionName !== undefined && !sameFunction(i.functionName, functionName));
    return taken;
  }

  /**
   * Stores (or replaces, as a new version) a secret. GetSecretValue finds it by exactly the id
   * given here, and also by its name when that id is an ARN, or by its generated ARN when it is a name.
   */
  putSecret(idOrArn: string, secretString: string): void {
    const arnMatch = /^arn:[^:]+:secretsmanager:[^:]*:[^:]*:secret:(.+)$/.exec(idOrArn);
    // Real secret ARNs end in a dash and six random characters that are not part of the name.
    const name = arnMatch?.[1] === undefined ? idOrArn : arnMatch[1].replace(/-[A-Za-z0-9]{6}$/, '');
    const arn = arnMatch ? idOrArn : `arn:aws:secretsmanager:${REGION}:${ACCOUNT_ID}:secret:${name}-${randomUUID().slice(0, 6)}`;
    const secret: StoredSecret = { arn, name, secretString, versionId: randomUUID(), createdDate: epochSeconds(Date.now()) };
    this.secrets.set(idOrArn, secret);
    this.secrets.set(name, secret);
    this.secrets.set(arn, secret);
  }

  /**
   * Ends every kept-alive connection that has no request on it, at once, as a server's idle
   * timeout does. A client that reuses one before it has read the close gets its request reset,
   * unread: the race every keep-alive client runs (the SDK retries it on a new connection).
   */
  closeIdleConnections(): void {
    this.server.closeIdleConnections();
  }

  async close(): Promise<void> {
    // The SDK keeps connections alive; without this, close() would wait for their idle timeout.
    this.server.closeAllConnections();
    await new Promise<void>((resolve, reject) => this.server.close((err) => (err ? reject(err) : resolve())));
  }

  // ---------------------------------------------------------------- transport

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const target = req.headers['x-amz-target'];
    const service = typeof target === 'string' ? JSON_RPC_SERVICES[target.split('.')[0] ?? ''] : undefined;
    if (service !== undefined) this.arrived(service);
    res.once('close', () => {
      if (service !== undefined) this.inFlightNow.set(service, (this.inFlightNow.get(service) ?? 1) - 1);
    });
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const body = Buffer.concat(chunks).toString('utf8');
      if (typeof target === 'string') await this.handleJsonRpc(target, body, res);
      else if (new URL(req.url ?? '/', this.url).pathname.startsWith('/2015-03-31/functions/')) this.handleLambda(req, body, res);
      else this.handleRest(req, body, res);
    } catch (err) {
      // A bug in the stand-in itself (or a broken request): answer with a server fault rather
      // than leaving the SDK hanging or crashing the test run with an unhandled rejection.
      const message = err instanceof Error ? err.message : String(err);
      if (!res.headersSent) {
        const headers = { 'content-type': 'application/json', 'x-amzn-errortype': 'InternalServerException' };
        send(res, 500, headers, { __type: 'InternalServerException', message });
      }
    }
  }

  private async handleJsonRpc(target: string, body: string, res: http.ServerResponse): Promise<void> {
    const [prefix = '', operation = ''] = target.split('.');
    const service: Service = JSON_RPC_SERVICES[prefix] ?? 'sso-admin';
    const headers = { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() };
    try {
      const input = parseJsonBody(body);
      this.record(service, operation, input);
      const latency = this.latencyMs.get(service);
      if (latency) await new Promise((resolve) => setTimeout(resolve, latency));
      await this.heldUntilReleased(operation, input);
      this.throwInjectedFault(operation);
      const handler = this.jsonRpcOperations.get(target);
      if (!handler) throw new AwsError('UnknownOperationException', `Unknown operation ${target}`);
      const output = handler(input);
      send(res, 200, headers, output);
      for (const hook of this.responseHooks) hook(operation, output);
    } catch (err) {
      if (!(err instanceof AwsError)) throw err;
      const status = err.status ?? (service === 'organizations' ? ORGANIZATIONS_ERROR_STATUS[err.type] : undefined) ?? JSON_RPC_SERVER_ERRORS[err.type] ?? 400;
      send(res, status, headers, { __type: err.type, message: err.message, Message: err.message, ...err.extra });
    }
  }

  private handleRest(req: http.IncomingMessage, body: string, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', this.url);
    const match = /^\/schedules(?:\/([^/]+))?$/.exec(url.pathname);
    const name = match?.[1] === undefined ? undefined : decodeURIComponent(match[1]);
    const query = (key: string): string | undefined => url.searchParams.get(key) ?? undefined;
    const requestId = randomUUID();
    try {
      let operation: string;
      let input: Json;
      if (match && name !== undefined && (req.method === 'POST' || req.method === 'PUT')) {
        operation = req.method === 'POST' ? 'CreateSchedule' : 'UpdateSchedule';
        const parsed = parseJsonBody(body);
        input = { ...(isRecord(parsed) ? parsed : {}), Name: name };
      } else if (match && name !== undefined && (req.method === 'GET' || req.method === 'DELETE')) {
        operation = req.method === 'GET' ? 'GetSchedule' : 'DeleteSchedule';
        input = { Name: name, GroupName: query('groupName') };
      } else if (match && req.method === 'GET') {
        operation = 'ListSchedules';
        const max = query('MaxResults');
        input = {
          GroupName: query('ScheduleGroup'),
          NamePrefix: query('NamePrefix'),
          State: query('State'),
          NextToken: query('NextToken'),
          MaxResults: max === undefined ? undefined : Number(max),
        };
      } else {
        this.record('scheduler', 'Unknown', { method: req.method, path: url.pathname });
        throw new AwsError('UnknownOperationException', `No route for ${req.method ?? ''} ${url.pathname}`);
      }
      this.record('scheduler', operation, input);
      this.throwInjectedFault(operation);
      const output =
        operation === 'CreateSchedule'
          ? this.createSchedule(input)
          : operation === 'UpdateSchedule'
            ? this.updateSchedule(input)
            : operation === 'GetSchedule'
              ? this.getSchedule(input)
              : operation === 'DeleteSchedule'
                ? this.deleteSchedule(input)
                : this.listSchedules(input);
      send(res, 200, { 'content-type': 'application/json', 'x-amzn-requestid': requestId }, output);
    } catch (err) {
      if (!(err instanceof AwsError)) throw err;
      const status = err.status ?? REST_ERROR_STATUS[err.type] ?? 400;
      const headers = { 'content-type': 'application/json', 'x-amzn-requestid': requestId, 'x-amzn-errortype': err.type };
      send(res, status, headers, { Message: err.message, ...err.extra });
    }
  }

  private handleLambda(req: http.IncomingMessage, body: string, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', this.url);
    const match = LAMBDA_INVOKE_PATH.exec(url.pathname);
    const requestId = randomUUID();
    try {
      const header = req.headers['x-amz-invocation-type'];
      const invocationType = typeof header === 'string' ? header : 'RequestResponse';
      const qualifier = url.searchParams.get('Qualifier') ?? undefined;
      if (!match?.[1] || req.method !== 'POST') {
        this.record('lambda', 'Unknown', { method: req.method, path: url.pathname });
        throw new AwsError('UnknownOperationException', `No route for ${req.method ?? ''} ${url.pathname}`, 404);
      }
      const functionName = decodeURIComponent(match[1]);
      this.record('lambda', 'Invoke', {
        FunctionName: functionName,
        InvocationType: invocationType,
        ...(qualifier === undefined ? {} : { Qualifier: qualifier }),
        Payload: body,
      });
      this.throwInjectedFault('Invoke');
      const limit = LAMBDA_PAYLOAD_LIMIT[invocationType];
      if (limit === undefined) {
        throw new AwsError('InvalidParameterValueException', `Unsupported invocation type ${invocationType}`);
      }
      if (Buffer.byteLength(body) > limit) {
        throw new AwsError('RequestTooLargeException', `Request must be smaller than ${limit} bytes for the ${invocationType} invocation`);
      }
      // Lambda only accepts JSON payloads (an empty body counts as none).
      if (body.trim() !== '') {
        try {
          JSON.parse(body);
        } catch {
          throw new AwsError('InvalidRequestContentException', 'Could not parse request body into json');
        }
      }
      const headers = { 'x-amzn-requestid': requestId };
      if (invocationType === 'DryRun') {
        res.writeHead(204, headers).end();
        return;
      }
      this.invocationLog.push({ functionName, invocationType, payload: body, at: Date.now() });
      if (invocationType === 'Event') {
        res.writeHead(202, { ...headers, 'content-length': 0 }).end();
        return;
      }
      // Nothing actually runs: a synchronous call gets what a handler returning nothing gives.
      send(res, 200, { ...headers, 'content-type': 'application/json', 'x-amz-executed-version': '$LATEST' }, null);
    } catch (err) {
      if (!(err instanceof AwsError)) throw err;
      const status = err.status ?? LAMBDA_ERROR_STATUS[err.type] ?? 400;
      const headers = { 'content-type': 'application/json', 'x-amzn-requestid': requestId, 'x-amzn-errortype': err.type };
      // Lambda's error shapes disagree on the member's case (message vs Message), so send both.
      send(res, status, headers, { Type: status >= 500 ? 'Service' : 'User', message: err.message, Message: err.message, ...err.extra });
    }
  }

  private record(service: Service, operation: string, input: unknown): void {
    const call = { service, operation, input, at: Date.now() };
    this.calls.push(call);
    for (const hook of this.callHooks) hook(call);
    const outstanding = [...this.operations.values()].filter((op) => op.kind === 'creation' && op.status === 'IN_PROGRESS').length;
    this.maxOutstanding = Math.max(this.maxOutstanding, outstanding + (operation === 'CreateAccountAssignment' ? 1 : 0));
  }

  private readonly inFlightNow = new Map<Service, number>();
  private readonly inFlightMax = new Map<Service, number>();

  private arrived(service: Service): void {
    const now = (this.inFlightNow.get(service) ?? 0) + 1;
    this.inFlightNow.set(service, now);
    this.inFlightMax.set(service, Math.max(now, this.inFlightMax.get(service) ?? 0));
  }

  private readonly latencyMs = new Map<Service, number>();

  /** Every JSON 1.1 answer from `service` takes `ms` (0: at once), so callers' concurrency shows in maxInFlight. */
  setLatency(service: Service, ms: number): void {
    this.latencyMs.set(service, ms);
  }

  /** The most JSON 1.1 requests to `service` that were open at the same moment. */
  maxInFlight(service: Service): number {
    return this.inFlightMax.get(service) ?? 0;
  }

  private readonly callHooks: Array<(call: AwsCall) => void> = [];
  private readonly responseHooks: Array<(operation: string, output: unknown) => void> = [];
  private maxOutstanding = 0;

  /** Runs `hook` on every request as it arrives, before it is answered (e.g. to kill the caller mid-call). */
  onCall(hook: (call: AwsCall) => void): void {
    this.callHooks.push(hook);
  }

  /** Runs `hook` after a successful SSO Admin / Identity Store answer has been written to the caller. */
  afterResponse(hook: (operation: string, output: unknown) => void): void {
    this.responseHooks.push(hook);
  }

  private readonly holds: Array<{ operation: string; match: (input: unknown) => boolean; arrived: (call: { operation: string; input: unknown }) => void; released: Promise<void> }> = [];

  /**
   * Holds the next SSO Admin / Identity Store call to `operation` that `match` accepts, unanswered,
   * until `release()`: so a test can run another flow in the middle of that call, as a slow AWS
   * would let happen. `arrived` resolves when the held call comes in.
   */
  hold(operation: string, match: (input: unknown) => boolean = () => true): { arrived: Promise<{ operation: string; input: unknown }>; release(): void } {
    let release!: () => void;
    let arrived!: (call: { operation: string; input: unknown }) => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const arrival = new Promise<{ operation: string; input: unknown }>((resolve) => (arrived = resolve));
    this.holds.push({ operation, match, arrived, released });
    return { arrived: arrival, release };
  }

  private async heldUntilReleased(operation: string, input: unknown): Promise<void> {
    const i = this.holds.findIndex((h) => h.operation === operation && h.match(input));
    if (i < 0) return;
    const [held] = this.holds.splice(i, 1);
    held!.arrived({ operation, input });
    await held!.released;
  }

  /** The most CreateAccountAssignment operations ever IN_PROGRESS at once (AWS allows 15). */
  get maxOutstandingCreations(): number {
    return this.maxOutstanding;
  }

  private throwInjectedFault(operation: string): void {
    const fault = this.faults.get(operation)?.shift();
    if (fault) throw new AwsError(fault.type, fault.message ?? `Injected ${fault.type}`, fault.status);
  }

  // ---------------------------------------------------------------- permission sets (inline policy, provisioning)

  /** A permission set the instance has; `sessionDuration` is ISO 8601 (PT1H … PT12H), as AWS keeps it. */
  addPermissionSet(p: { permissionSetArn: string; name: string; description?: string; sessionDuration?: string; inlinePolicy?: string }): void {
    this.permissionSets.set(p.permissionSetArn, {
      name: p.name,
      ...(p.description === undefined ? {} : { description: p.description }),
      sessionDuration: p.sessionDuration ?? 'PT1H',
      createdDate: epochSeconds(Date.now()),
      ...(p.inlinePolicy === undefined ? {} : { inlinePolicy: p.inlinePolicy, provisionedPolicy: p.inlinePolicy }),
    });
  }

  /** The inline policy as stored (what GetInlinePolicyForPermissionSet returns), as an admin would edit it in the console. */
  inlinePolicy(permissionSetArn: string): string | undefined {
    return this.permissionSets.get(permissionSetArn)?.inlinePolicy;
  }

  setInlinePolicy(permissionSetArn: string, policy: string): void {
    const ps = this.requirePermissionSetByArn(permissionSetArn);
    ps.inlinePolicy = policy;
  }

  /** The inline policy in force in the accounts: what the last SUCCEEDED provisioning pushed there. */
  provisionedPolicy(permissionSetArn: string): string | undefined {
    return this.permissionSets.get(permissionSetArn)?.provisionedPolicy;
  }

  /** The next provisioning of any permission set ends FAILED with this reason. */
  failNextProvisioning(reason: string): void {
    this.provisioningFailures.push(reason);
  }

  /** Finishes every provisioning still IN_PROGRESS (as AWS would, in its own time); returns how many. */
  completeProvisionings(): number {
    const open = [...this.provisionings.values()].filter((p) => p.status === 'IN_PROGRESS');
    for (const p of open) this.finishProvisioning(p);
    return open.length;
  }

  /** How many Describe…ProvisioningStatus calls still answer IN_PROGRESS (default 1). */
  setProvisioningPolls(n: number): void {
    this.provisioningPolls = checkPolls(n);
  }

  private requirePermissionSetByArn(arn: string): StandInPermissionSet {
    const ps = this.permissionSets.get(arn);
    if (!ps) throw new AwsError('ResourceNotFoundException', `Could not find PermissionSet with id ${arn.split('/').pop() ?? arn}`);
    return ps;
  }

  private requirePermissionSet(input: { InstanceArn: string; PermissionSetArn: string }): StandInPermissionSet {
    if (!this.instances.has(input.InstanceArn)) throw new AwsError('ResourceNotFoundException', `Instance ${input.InstanceArn} not found`);
    return this.requirePermissionSetByArn(input.PermissionSetArn);
  }

  private describePermissionSet(raw: unknown): Json {
    const input = parseInput(permissionSetInput, raw);
    const ps = this.requirePermissionSet(input);
    return {
      PermissionSet: {
        Name: ps.name,
        PermissionSetArn: input.PermissionSetArn,
        ...(ps.description === undefined ? {} : { Description: ps.description }),
        CreatedDate: ps.createdDate,
        SessionDuration: ps.sessionDuration,
      },
    };
  }

  /** A permission set is removed from the instance (an admin deleted it). */
  removePermissionSet(permissionSetArn: string): boolean {
    return this.permissionSets.delete(permissionSetArn);
  }

  /** The instance's permission set ARNs, 1-100 a page (the API reference's range). */
  private listPermissionSets(raw: unknown): Json {
    const input = parseInput(listPermissionSetsInput, raw);
    if (!this.instances.has(input.InstanceArn)) throw new AwsError('ResourceNotFoundException', `Instance ${input.InstanceArn} not found`);
    const instanceId = input.InstanceArn.split('/').pop() ?? '';
    // arn:aws:sso:::permissionSet/<instance id>/ps-…; an ARN of another shape (older tests) counts as this instance's.
    const arns = [...this.permissionSets.keys()].filter((arn) => {
      const owner = /:permissionSet\/([^/]+)\/ps-/.exec(arn)?.[1];
      return owner === undefined || owner === instanceId;
    });
    const { page, nextToken } = paginate(arns, input.MaxResults, input.NextToken, 100, { scope: `ListPermissionSets:${input.InstanceArn}` });
    return { PermissionSets: page, ...(nextToken === undefined ? {} : { NextToken: nextToken }) };
  }

  // ---------------------------------------------------------------- Organizations

  private org: StandInOrganization | undefined;
  private orgEmptyFirstPages = false;

  /** The organisation this account manages (see organization-fixture.ts); without one, calls answer AWSOrganizationsNotInUseException. */
  setOrganization(org: StandInOrganization): void {
    this.org = { ...org, units: org.units.map((u) => ({ ...u })), accounts: org.accounts.map((a) => ({ ...a, tags: { ...a.tags } })) };
  }

  /** An account created or invited (it joins under `parentId`). */
  addOrganizationAccount(account: StandInOrgAccount): void {
    const org = this.requireOrganization();
    if (org.accounts.some((a) => a.id === account.id)) throw new Error(`addOrganizationAccount: ${account.id} already exists`);
    org.accounts.push({ ...account, tags: { ...account.tags } });
  }

  /** An account's State changes (suspended, closed…), as it would outside Timebox. */
  setOrganizationAccountState(accountId: string, state: StandInAccountState): void {
    const account = this.requireOrganization().accounts.find((a) => a.id === accountId);
    if (!account) throw new Error(`setOrganizationAccountState: no account ${accountId}`);
    account.state = state;
  }

  /** An account leaves the organisation. */
  removeOrganizationAccount(accountId: string): boolean {
    const org = this.requireOrganization();
    const before = org.accounts.length;
    org.accounts = org.accounts.filter((a) => a.id !== accountId);
    return org.accounts.length < before;
  }

  /** Every Organizations listing answers its first page empty, with a NextToken (AWS may). */
  setOrganizationsEmptyFirstPages(on: boolean): void {
    this.orgEmptyFirstPages = on;
  }

  private requireOrganization(): StandInOrganization {
    if (!this.org) throw new AwsError('AWSOrganizationsNotInUseException', 'Your account is not a member of an organization.');
    return this.org;
  }

  private orgPage<T>(items: T[], input: { MaxResults?: number | undefined; NextToken?: string | undefined }, scope: string): { page: T[]; nextToken?: string } {
    return paginate(items, input.MaxResults, input.NextToken, ORGANIZATIONS_PAGE_LIMIT, {
      scope,
      emptyFirstPage: this.orgEmptyFirstPages,
      invalid: (message, reason) => orgInvalidInput(message, reason),
    });
  }

  private orgParent(id: string): void {
    const org = this.requireOrganization();
    if (id !== org.rootId && !org.units.some((u) => u.id === id)) throw new AwsError('ParentNotFoundException', `We can't find a root or OU with the ParentId that you specified.`);
  }

  private orgAccountBody(a: StandInOrgAccount): Json {
    const org = this.requireOrganization();
    return {
      Id: a.id,
      Arn: `arn:aws:organizations::${org.managementAccountId}:account/${org.id}/${a.id}`,
      Email: a.email,
      Name: a.name,
      Status: ORG_STATUS[a.state],
      State: a.state,
      JoinedMethod: 'CREATED',
      JoinedTimestamp: epochSeconds(Date.UTC(2024, 0, 1)),
    };
  }

  private withNext(body: Json, nextToken: string | undefined): Json {
    return nextToken === undefined ? body : { ...body, NextToken: nextToken };
  }

  private describeOrganization(): Json {
    const org = this.requireOrganization();
    return {
      Organization: {
        Id: org.id,
        Arn: `arn:aws:organizations::${org.managementAccountId}:organization/${org.id}`,
        FeatureSet: 'ALL',
        MasterAccountArn: `arn:aws:organizations::${org.managementAccountId}:account/${org.id}/${org.managementAccountId}`,
        MasterAccountId: org.managementAccountId,
        MasterAccountEmail: 'management@example.com',
      },
    };
  }

  private listRoots(raw: unknown): Json {
    const input = parseInput(listOrgPageInput, raw, orgInvalidInput);
    const org = this.requireOrganization();
    const { page, nextToken } = this.orgPage([org.rootId], input, 'ListRoots');
    return this.withNext({ Roots: page.map((id) => ({ Id: id, Arn: `arn:aws:organizations::${org.managementAccountId}:root/${org.id}/${id}`, Name: 'Root', PolicyTypes: [] })) }, nextToken);
  }

  private listOrganizationalUnitsForParent(raw: unknown): Json {
    const input = parseInput(listForParentInput, raw, orgInvalidInput);
    const org = this.requireOrganization();
    this.orgParent(input.ParentId);
    const children = org.units.filter((u) => u.parentId === input.ParentId);
    const { page, nextToken } = this.orgPage(children, input, `ListOrganizationalUnitsForParent:${input.ParentId}`);
    return this.withNext(
      { OrganizationalUnits: page.map((u) => ({ Id: u.id, Arn: `arn:aws:organizations::${org.managementAccountId}:ou/${org.id}/${u.id}`, Name: u.name })) },
      nextToken,
    );
  }

  private listAccountsForParent(raw: unknown): Json {
    const input = parseInput(listForParentInput, raw, orgInvalidInput);
    this.orgParent(input.ParentId);
    const children = this.requireOrganization().accounts.filter((a) => a.parentId === input.ParentId);
    const { page, nextToken } = this.orgPage(children, input, `ListAccountsForParent:${input.ParentId}`);
    return this.withNext({ Accounts: page.map((a) => this.orgAccountBody(a)) }, nextToken);
  }

  private listAccounts(raw: unknown): Json {
    const input = parseInput(listOrgPageInput, raw, orgInvalidInput);
    const { page, nextToken } = this.orgPage(this.requireOrganization().accounts, input, 'ListAccounts');
    return this.withNext({ Accounts: page.map((a) => this.orgAccountBody(a)) }, nextToken);
  }

  private listParents(raw: unknown): Json {
    const input = parseInput(listParentsInput, raw, orgInvalidInput);
    const org = this.requireOrganization();
    const parentId = (org.accounts.find((a) => a.id === input.ChildId) ?? org.units.find((u) => u.id === input.ChildId))?.parentId;
    if (parentId === undefined) throw new AwsError('ChildNotFoundException', `We can't find an organizational unit (OU) or AWS account with the ChildId that you specified.`);
    const { page, nextToken } = this.orgPage([parentId], input, `ListParents:${input.ChildId}`);
    return this.withNext({ Parents: page.map((id) => ({ Id: id, Type: id === org.rootId ? 'ROOT' : 'ORGANIZATIONAL_UNIT' })) }, nextToken);
  }

  /** Tags come a page at a time too (NextToken only; the model has no MaxResults here). */
  private listTagsForResource(raw: unknown): Json {
    const input = parseInput(listTagsInput, raw, orgInvalidInput);
    const org = this.requireOrganization();
    const tagged = org.accounts.find((a) => a.id === input.ResourceId);
    if (!tagged && input.ResourceId !== org.rootId && !org.units.some((u) => u.id === input.ResourceId)) {
      throw new AwsError('TargetNotFoundException', `We can't find a target with the TargetId that you specified.`);
    }
    const tags = Object.entries(tagged?.tags ?? {}).map(([Key, Value]) => ({ Key, Value }));
    const { page, nextToken } = this.orgPage(tags, { NextToken: input.NextToken }, `ListTagsForResource:${input.ResourceId}`);
    return this.withNext({ Tags: page }, nextToken);
  }

  private getInlinePolicy(raw: unknown): Json {
    const ps = this.requirePermissionSet(parseInput(permissionSetInput, raw));
    return ps.inlinePolicy === undefined ? {} : { InlinePolicy: ps.inlinePolicy };
  }

  private putInlinePolicy(raw: unknown): Json {
    const input = parseInput(putInlinePolicyInput, raw);
    const ps = this.requirePermissionSet(input);
    let doc: unknown;
    try {
      doc = JSON.parse(input.InlinePolicy);
    } catch {
      throw new AwsError('ValidationException', 'The policy is not in the valid JSON format.');
    }
    const statements = isRecord(doc) ? doc.Statement : undefined;
    if (!isRecord(doc) || statements === undefined || (Array.isArray(statements) && statements.length === 0)) {
      throw new AwsError('ValidationException', 'Policy document must contain at least one Statement.');
    }
    ps.inlinePolicy = input.InlinePolicy;
    return {};
  }

  private deleteInlinePolicy(raw: unknown): Json {
    const ps = this.requirePermissionSet(parseInput(permissionSetInput, raw));
    delete ps.inlinePolicy;
    return {};
  }

  private provisionPermissionSet(raw: unknown): Json {
    const input = parseInput(provisionPermissionSetInput, raw);
    const ps = this.requirePermissionSet(input);
    if (input.TargetType === 'AWS_ACCOUNT' && input.TargetId === undefined) throw new AwsError('ValidationException', 'TargetId is required when TargetType is AWS_ACCOUNT');
    if ([...this.provisionings.values()].some((p) => p.permissionSetArn === input.PermissionSetArn && p.status === 'IN_PROGRESS')) {
      throw new AwsError('ConflictException', 'Operation failed due to another request updating the same resource. Please retry your request.');
    }
    const failureReason = this.provisioningFailures.shift();
    const p: Provisioning = {
      requestId: randomUUID(),
      permissionSetArn: input.PermissionSetArn,
      policy: ps.inlinePolicy,
      pollsLeft: this.provisioningPolls,
      status: 'IN_PROGRESS',
      createdDate: epochSeconds(Date.now()),
      ...(input.TargetId === undefined ? {} : { accountId: input.TargetId }),
      ...(failureReason === undefined ? {} : { failureReason }),
    };
    this.provisionings.set(p.requestId, p);
    const response = provisioningBody(p);
    if (p.pollsLeft === 0) this.finishProvisioning(p);
    return { PermissionSetProvisioningStatus: response };
  }

  private describeProvisioning(raw: unknown): Json {
    const input = parseInput(describeProvisioningInput, raw);
    const p = this.provisionings.get(input.ProvisionPermissionSetRequestId);
    if (!p) throw new AwsError('ResourceNotFoundException', `Provisioning request ${input.ProvisionPermissionSetRequestId} not found`);
    if (p.status === 'IN_PROGRESS') {
      if (p.pollsLeft > 0) p.pollsLeft--;
      else this.finishProvisioning(p);
    }
    return { PermissionSetProvisioningStatus: provisioningBody(p) };
  }

  /** The policy reaches the accounts only when provisioning SUCCEEDS, and it is the policy as it was when provisioning started. */
  private finishProvisioning(p: Provisioning): void {
    if (p.failureReason !== undefined) {
      p.status = 'FAILED';
      return;
    }
    p.status = 'SUCCEEDED';
    const ps = this.permissionSets.get(p.permissionSetArn);
    if (!ps) return;
    if (p.policy === undefined) delete ps.provisionedPolicy;
    else ps.provisionedPolicy = p.policy;
  }

  // ---------------------------------------------------------------- SSO Admin

  private startOperation(kind: AssignmentOperation['kind'], raw: unknown): Json {
    const input = parseInput(assignmentOperationInput, raw);
    const key = assignmentKey({ instanceArn: input.InstanceArn, accountId: input.TargetId, permissionSetArn: input.PermissionSetArn, principalId: input.PrincipalId, principalType: input.PrincipalType });
    // As AWS does: one operation at a time on an assignment; the caller is told to retry later.
    if ([...this.operations.values()].some((op) => op.status === 'IN_PROGRESS' && assignmentKey(op.assignment) === key)) {
      throw new AwsError('ConflictException', 'An operation on this account assignment is already in progress. Please retry your request later.', 409);
    }
    const failureReason = kind === 'creation' ? this.nextCreationFailure : this.nextDeletionFailure;
    if (kind === 'creation') this.nextCreationFailure = undefined;
    else this.nextDeletionFailure = undefined;
    const op: AssignmentOperation = {
      kind,
      requestId: randomUUID(),
      assignment: {
        instanceArn: input.InstanceArn,
        accountId: input.TargetId,
        permissionSetArn: input.PermissionSetArn,
        principalId: input.PrincipalId,
        principalType: input.PrincipalType,
      },
      pollsLeft: kind === 'creation' ? this.creationPolls : this.deletionPolls,
      status: 'IN_PROGRESS',
      ...(failureReason === undefined ? {} : { failureReason }),
      createdDate: epochSeconds(Date.now()),
    };
    this.operations.set(op.requestId, op);
    // AWS always answers the request itself with IN_PROGRESS; with 0 polls the work is already done.
    const response = statusBody(op);
    if (op.pollsLeft === 0) this.finish(op);
    return { [kind === 'creation' ? 'AccountAssignmentCreationStatus' : 'AccountAssignmentDeletionStatus']: response };
  }

  private describeOperation(kind: AssignmentOperation['kind'], raw: unknown): Json {
    const requestId =
      kind === 'creation'
        ? parseInput(describeCreationInput, raw).AccountAssignmentCreationRequestId
        : parseInput(describeDeletionInput, raw).AccountAssignmentDeletionRequestId;
    const op = this.operations.get(requestId);
    if (!op || op.kind !== kind) {
      throw new AwsError('ResourceNotFoundException', `Account assignment ${kind} request ${requestId} not found`);
    }
    if (op.status === 'IN_PROGRESS') {
      if (op.pollsLeft > 0) op.pollsLeft--;
      else this.finish(op);
    }
    return { [kind === 'creation' ? 'AccountAssignmentCreationStatus' : 'AccountAssignmentDeletionStatus']: statusBody(op) };
  }

  /** The assignment only changes when the operation reaches a terminal state, as in AWS. */
  private finish(op: AssignmentOperation): void {
    if (op.failureReason !== undefined) {
      op.status = 'FAILED';
      return;
    }
    op.status = 'SUCCEEDED';
    // Both directions are idempotent: re-creating an existing or deleting a missing assignment succeeds.
    if (op.kind === 'creation') this.assignments.set(assignmentKey(op.assignment), { ...op.assignment });
    else this.assignments.delete(assignmentKey(op.assignment));
  }

  private listAccountAssignments(raw: unknown): Json {
    const input = parseInput(listAssignmentsInput, raw);
    const matching = this.listAssignments().filter(
      (a) => a.instanceArn === input.InstanceArn && a.accountId === input.AccountId && a.permissionSetArn === input.PermissionSetArn,
    );
    const { page, nextToken } = paginate(matching, input.MaxResults, input.NextToken, 100);
    return {
      AccountAssignments: page.map((a) => ({
        AccountId: a.accountId,
        PermissionSetArn: a.permissionSetArn,
        PrincipalType: a.principalType,
        PrincipalId: a.principalId,
      })),
      ...(nextToken === undefined ? {} : { NextToken: nextToken }),
    };
  }

  /** Lists operations without advancing them: only Describe… moves an operation on, as elsewhere here. */
  private listOperationStatus(kind: AssignmentOperation['kind'], raw: unknown): Json {
    const input = parseInput(listOperationStatusInput, raw);
    const status = input.Filter?.Status;
    const matching = [...this.operations.values()].filter(
      (op) => op.kind === kind && op.assignment.instanceArn === input.InstanceArn && (status === undefined || op.status === status),
    );
    const { page, nextToken } = paginate(matching, input.MaxResults, input.NextToken, 100);
    return {
      [kind === 'creation' ? 'AccountAssignmentsCreationStatus' : 'AccountAssignmentsDeletionStatus']: page.map((op) => ({
        Status: op.status,
        RequestId: op.requestId,
        CreatedDate: op.createdDate,
      })),
      ...(nextToken === undefined ? {} : { NextToken: nextToken }),
    };
  }

  private listAccountAssignmentsForPrincipal(raw: unknown): Json {
    const input = parseInput(listForPrincipalInput, raw);
    const accountId = input.Filter?.AccountId;
    const matching = this.listAssignments().filter(
      (a) =>
        a.instanceArn === input.InstanceArn &&
        a.principalId === input.PrincipalId &&
        a.principalType === input.PrincipalType &&
        (accountId === undefined || a.accountId === accountId),
    );
    const { page, nextToken } = paginate(matching, input.MaxResults, input.NextToken, 100);
    return {
      AccountAssignments: page.map((a) => ({
        AccountId: a.accountId,
        PermissionSetArn: a.permissionSetArn,
        PrincipalId: a.principalId,
        PrincipalType: a.principalType,
      })),
      ...(nextToken === undefined ? {} : { NextToken: nextToken }),
    };
  }

  // ---------------------------------------------------------------- Identity Store

  /**
   * An Identity Center instance with its identity store, for DescribeInstance (start-up checks).
   * Every stand-in starts with the test config's instance (ssoins-1234567890abcdef, d-1234567890),
   * as an account with Identity Center enabled would.
   */
  addInstance(instanceArn: string, identityStoreId: string): void {
    this.instances.set(instanceArn, identityStoreId);
  }

  removeInstance(instanceArn: string): void {
    this.instances.delete(instanceArn);
  }

  private describeInstance(raw: unknown): Json {
    const input = parseInput(describeInstanceInput, raw);
    const identityStoreId = this.instances.get(input.InstanceArn);
    if (identityStoreId === undefined) throw new AwsError('ResourceNotFoundException', `Instance ${input.InstanceArn} not found`);
    return { InstanceArn: input.InstanceArn, IdentityStoreId: identityStoreId, OwnerAccountId: '123456789012', Status: 'ACTIVE', Name: 'timebox-stand-in', CreatedDate: epochSeconds(Date.now()) };
  }

  private usersIn(identityStoreId: string): StandInUser[] {
    // A user added without a store id is visible in every store, which keeps simple tests short.
    return this.users.filter((u) => u.identityStoreId === undefined || u.identityStoreId === identityStoreId);
  }

  private getUserId(raw: unknown): Json {
    const input = parseInput(getUserIdInput, raw);
    const unique = input.AlternateIdentifier.UniqueAttribute;
    if (!unique) {
      // ExternalId lookups are valid AWS requests, but no stand-in user has external ids.
      throw new AwsError('ResourceNotFoundException', 'USER not found.', undefined, { ResourceType: 'USER' });
    }
    const path = unique.AttributePath.toLowerCase();
    if (path !== 'emails.value' && path !== 'username') {
      throw new AwsError('ValidationException', `Unsupported AttributePath ${unique.AttributePath}`);
    }
    if (typeof unique.AttributeValue !== 'string') {
      throw new AwsError('ValidationException', 'AttributeValue must be a string');
    }
    // Identity Center matches user names and emails case-insensitively.
    const wanted = unique.AttributeValue.toLowerCase();
    const user = this.usersIn(input.IdentityStoreId).find(
      (u) => (path === 'username' ? u.userName : u.email).toLowerCase() === wanted,
    );
    if (!user) throw new AwsError('ResourceNotFoundException', 'USER not found.', undefined, { ResourceType: 'USER' });
    return { IdentityStoreId: input.IdentityStoreId, UserId: user.userId };
  }

  private groupsIn(identityStoreId: string): StandInGroup[] {
    return this.groups.filter((g) => g.identityStoreId === undefined || g.identityStoreId === identityStoreId);
  }

  private findMembership(groupId: string, userId: string): StandInMembership | undefined {
    return [...this.memberships.values()].find((m) => m.groupId === groupId && m.userId === userId);
  }

  private storeMembership(groupId: string, userId: string): StandInMembership {
    const membership = { membershipId: randomUUID(), groupId, userId };
    this.memberships.set(membership.membershipId, membership);
    return { ...membership };
  }

  /** The membership with this id, if its group is in this store. */
  private membershipIn(identityStoreId: string, membershipId: string): StandInMembership | undefined {
    const m = this.memberships.get(membershipId);
    return m && this.groupsIn(identityStoreId).some((g) => g.groupId === m.groupId) ? m : undefined;
  }

  private requireGroup(identityStoreId: string, groupId: string): StandInGroup {
    const group = this.groupsIn(identityStoreId).find((g) => g.groupId === groupId);
    if (!group) throw new AwsError('ResourceNotFoundException', 'GROUP not found.', undefined, { ResourceType: 'GROUP', ResourceId: groupId });
    return group;
  }

  private requireUser(identityStoreId: string, userId: string): StandInUser {
    const user = this.usersIn(identityStoreId).find((u) => u.userId === userId);
    if (!user) throw new AwsError('ResourceNotFoundException', 'USER not found.', undefined, { ResourceType: 'USER', ResourceId: userId });
    return user;
  }

  private getGroupId(raw: unknown): Json {
    const input = parseInput(getGroupIdInput, raw);
    const unique = input.AlternateIdentifier.UniqueAttribute;
    const notFound = () => new AwsError('ResourceNotFoundException', 'GROUP not found.', undefined, { ResourceType: 'GROUP' });
    // ExternalId lookups are valid AWS requests, but no stand-in group has external ids.
    if (!unique) throw notFound();
    // For groups the only valid unique attribute is displayName.
    if (unique.AttributePath.toLowerCase() !== 'displayname') {
      throw new AwsError('ValidationException', `Unsupported AttributePath ${unique.AttributePath}; the only valid path is displayName`);
    }
    if (typeof unique.AttributeValue !== 'string') throw new AwsError('ValidationException', 'AttributeValue must be a string');
    const wanted = unique.AttributeValue.toLowerCase();
    const group = this.groupsIn(input.IdentityStoreId).find((g) => g.displayName.toLowerCase() === wanted);
    if (!group) throw notFound();
    return { GroupId: group.groupId, IdentityStoreId: input.IdentityStoreId };
  }

  private createGroupMembership(raw: unknown): Json {
    const input = parseInput(groupMembershipInput, raw);
    this.requireGroup(input.IdentityStoreId, input.GroupId);
    this.requireUser(input.IdentityStoreId, input.MemberId.UserId);
    // Unlike account assignments, a second identical membership is refused, not a no-op.
    if (this.findMembership(input.GroupId, input.MemberId.UserId)) {
      throw new AwsError('ConflictException', 'Membership already exists for this member in the group.', undefined, {
        Reason: 'UNIQUENESS_CONSTRAINT_VIOLATION',
      });
    }
    const membership = this.storeMembership(input.GroupId, input.MemberId.UserId);
    return { MembershipId: membership.membershipId, IdentityStoreId: input.IdentityStoreId };
  }

  private getGroupMembershipId(raw: unknown): Json {
    const input = parseInput(groupMembershipInput, raw);
    this.requireGroup(input.IdentityStoreId, input.GroupId);
    const membership = this.findMembership(input.GroupId, input.MemberId.UserId);
    if (!membership) {
      throw new AwsError('ResourceNotFoundException', 'GROUP_MEMBERSHIP not found.', undefined, { ResourceType: 'GROUP_MEMBERSHIP' });
    }
    return { MembershipId: membership.membershipId, IdentityStoreId: input.IdentityStoreId };
  }

  private deleteGroupMembership(raw: unknown): Json {
    const input = parseInput(membershipIdInput, raw);
    if (!this.membershipIn(input.IdentityStoreId, input.MembershipId)) {
      throw new AwsError('ResourceNotFoundException', 'GROUP_MEMBERSHIP not found.', undefined, {
        ResourceType: 'GROUP_MEMBERSHIP',
        ResourceId: input.MembershipId,
      });
    }
    this.memberships.delete(input.MembershipId);
    return {};
  }

  private isMemberInGroups(raw: unknown): Json {
    const input = parseInput(isMemberInGroupsInput, raw);
    const userId = input.MemberId.UserId;
    const visible = new Set(this.groupsIn(input.IdentityStoreId).map((g) => g.groupId));
    return {
      Results: input.GroupIds.map((groupId) => ({
        GroupId: groupId,
        MemberId: { UserId: userId },
        MembershipExists: visible.has(groupId) && this.findMembership(groupId, userId) !== undefined,
      })),
    };
  }

  private listGroupMembershipsForMember(raw: unknown): Json {
    const input = parseInput(listMembershipsForMemberInput, raw);
    const visible = new Set(this.groupsIn(input.IdentityStoreId).map((g) => g.groupId));
    const matching = [...this.memberships.values()].filter((m) => m.userId === input.MemberId.UserId && visible.has(m.groupId));
    const { page, nextToken } = paginate(matching, input.MaxResults, input.NextToken, 100);
    return {
      GroupMemberships: page.map((m) => ({
        IdentityStoreId: input.IdentityStoreId,
        MembershipId: m.membershipId,
        GroupId: m.groupId,
        MemberId: { UserId: m.userId },
      })),
      ...(nextToken === undefined ? {} : { NextToken: nextToken }),
    };
  }

  // ---------------------------------------------------------------- Secrets Manager

  private getSecretValue(raw: unknown): Json {
    const input = parseInput(getSecretValueInput, raw);
    const secret = this.secrets.get(input.SecretId);
    const notFound = (): AwsError => new AwsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    if (!secret) throw notFound();
    // Only the current version is kept, so any other version or stage does not exist.
    if (input.VersionId !== undefined && input.VersionId !== secret.versionId) throw notFound();
    if (input.VersionStage !== undefined && input.VersionStage !== 'AWSCURRENT') throw notFound();
    return {
      ARN: secret.arn,
      Name: secret.name,
      SecretString: secret.secretString,
      VersionId: secret.versionId,
      VersionStages: ['AWSCURRENT'],
      CreatedDate: secret.createdDate,
    };
  }

  // ---------------------------------------------------------------- Scheduler

  private createSchedule(raw: Json): Json {
    const input = parseInput(createScheduleInput, raw);
    const groupName = input.GroupName ?? 'default';
    const key = `${groupName}/${input.Name}`;
    const existing = this.scheduleStore.get(key);
    if (existing) {
      // A retry carrying the same idempotency token is the same request, not a conflict.
      if (input.ClientToken !== undefined && existing.ClientToken === input.ClientToken) return { ScheduleArn: existing.Arn };
      throw new AwsError('ConflictException', `Schedule ${input.Name} already exists.`);
    }
    const { Name: _name, ...body } = raw;
    const schedule: StoredSchedule = {
      ...input,
      GroupName: groupName,
      Arn: `arn:aws:scheduler:${REGION}:${ACCOUNT_ID}:schedule/${groupName}/${input.Name}`,
      CreationDate: epochSeconds(Date.now()),
      LastModificationDate: epochSeconds(Date.now()),
      raw: body,
    };
    this.scheduleStore.set(key, schedule);
    return { ScheduleArn: schedule.Arn };
  }

  /** UpdateSchedule replaces the whole definition (omitted optional members are cleared), as in AWS. */
  private updateSchedule(raw: Json): Json {
    const input = parseInput(createScheduleInput, raw);
    const existing = this.findSchedule(raw);
    const { Name: _name, ...body } = raw;
    const schedule: StoredSchedule = {
      ...input,
      GroupName: existing.GroupName,
      Arn: existing.Arn,
      CreationDate: existing.CreationDate,
      LastModificationDate: epochSeconds(Date.now()),
      raw: body,
    };
    this.scheduleStore.set(existing.key, schedule);
    return { ScheduleArn: schedule.Arn };
  }

  private findSchedule(input: Json): StoredSchedule & { key: string } {
    const name = String(input.Name);
    const key = `${typeof input.GroupName === 'string' ? input.GroupName : 'default'}/${name}`;
    const schedule = this.scheduleStore.get(key);
    if (!schedule) throw new AwsError('ResourceNotFoundException', `Schedule ${name} does not exist.`);
    return { ...schedule, key };
  }

  private getSchedule(input: Json): Json {
    const s = this.findSchedule(input);
    return {
      Arn: s.Arn,
      Name: s.Name,
      GroupName: s.GroupName,
      ScheduleExpression: s.ScheduleExpression,
      ScheduleExpressionTimezone: s.ScheduleExpressionTimezone,
      State: s.State ?? 'ENABLED',
      Description: s.Description,
      StartDate: s.StartDate,
      EndDate: s.EndDate,
      KmsKeyArn: s.KmsKeyArn,
      CreationDate: s.CreationDate,
      LastModificationDate: s.LastModificationDate,
      FlexibleTimeWindow: s.FlexibleTimeWindow,
      Target: s.Target,
      ActionAfterCompletion: s.ActionAfterCompletion ?? 'NONE',
    };
  }

  private deleteSchedule(input: Json): Json {
    this.scheduleStore.delete(this.findSchedule(input).key);
    return {};
  }

  private listSchedules(input: Json): Json {
    const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
    const group = str(input.GroupName);
    const prefix = str(input.NamePrefix) ?? '';
    const state = str(input.State);
    const matching = [...this.scheduleStore.values()].filter(
      (s) =>
        (group === undefined || s.GroupName === group) &&
        s.Name.startsWith(prefix) &&
        (state === undefined || (s.State ?? 'ENABLED') === state),
    );
    const max = typeof input.MaxResults === 'number' ? input.MaxResults : undefined;
    const { page, nextToken } = paginate(matching, max, str(input.NextToken), 100);
    return {
      Schedules: page.map((s) => ({
        Arn: s.Arn,
        Name: s.Name,
        GroupName: s.GroupName,
        State: s.State ?? 'ENABLED',
        CreationDate: s.CreationDate,
        LastModificationDate: s.LastModificationDate,
        Target: { Arn: s.Target.Arn },
      })),
      ...(nextToken === undefined ? {} : { NextToken: nextToken }),
    };
  }
}

/** Whether a function name/ARN as sent to Invoke names `wanted` (a name or the same ARN). */
function sameFunction(sent: string, wanted: string): boolean {
  if (sent === wanted) return true;
  // arn:aws:lambda:region:account:function:name[:qualifier], or the partial account:function:name form.
  const name = /(?:^|:)function:([^:]+)(?::[^:]+)?$/.exec(sent)?.[1];
  return name !== undefined && name === wanted;
}

function statusBody(op: AssignmentOperation): Json {
  return {
    Status: op.status,
    RequestId: op.requestId,
    TargetId: op.assignment.accountId,
    TargetType: 'AWS_ACCOUNT',
    PermissionSetArn: op.assignment.permissionSetArn,
    PrincipalType: op.assignment.principalType,
    PrincipalId: op.assignment.principalId,
    CreatedDate: op.createdDate,
    ...(op.status === 'FAILED' ? { FailureReason: op.failureReason } : {}),
  };
}

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseJsonBody(body: string): unknown {
  if (body.trim() === '') return {};
  try {
    return JSON.parse(body) as unknown;
  } catch {
    throw new AwsError('SerializationException', 'Request body is not valid JSON');
  }
}

function send(res: http.ServerResponse, status: number, headers: Record<string, string>, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
}
