import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { REPO_ROOT } from '../lib/config-source';
import { TimeboxConstruct } from '../lib/timebox-construct';

const EXAMPLE = readFileSync(join(REPO_ROOT, 'timebox.example.yaml'), 'utf8');

describe('large-orgs: the CDK stack and discovery', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'timebox-orgs-infra-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('a config that discovers accounts is refused at synth with one line saying why, instead of a stack whose IAM names no discovered account', () => {
    const path = join(dir, 'discover.yaml');
    writeFileSync(path, EXAMPLE.replace(/accounts: {2,}# friendly name -> 12-digit account id\n {2}staging: "\d+"\n {2}production: "\d+"\n/, 'accounts: discover\n'));
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Platform');
    expect(() => new TimeboxConstruct(stack, 'Timebox', { configPath: path })).toThrow(
      `${path}: accounts: discover and permissionSets: discover run locally (npm start) for now; the AWS stack needs the accounts and permission sets listed`,
    );
  });
});
