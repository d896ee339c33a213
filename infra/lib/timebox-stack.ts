import { Annotations, Stack, type StackProps } from 'aws-cdk-lib';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import type { TimeboxConfig } from '../../src/config/config-schema';
import { resolveConfigSource } from './config-source';
import { contextSettings } from './context-settings';
import { TimeboxConstruct, type TimeboxConstructProps } from './timebox-construct';

export interface TimeboxStackProps extends StackProps {
  /** The config file (default: context `config`, then timebox.yaml, then timebox.example.yaml with a warning). */
  readonly configPath?: string;
  /** See TimeboxConstructProps (default: context `identityStoreAccount`). */
  readonly identityStoreAccount?: string;
  /** An SNS topic to notify when an alarm fires (context `alarmTopicArn`). */
  readonly alarmTopicArn?: string;
  /** See TimeboxConstructProps (default: context `endpoint`, then 'apiGateway'). */
  readonly endpoint?: TimeboxConstructProps['endpoint'];
}

/**
 * The stack `npm run deploy` deploys: a thin app around TimeboxConstruct, its settings read from
 * CDK context (-c config=…, -c endpoint=…; see docs/DEPLOY.md) unless given as props.
 *
 * The construct's id is 'Default', which CloudFormation logical ids leave out, so every resource
 * keeps the logical id it had when the stack held them itself (0.1.0): upgrading replaces nothing,
 * and the table (retained) is the same table.
 */
export class TimeboxStack extends Stack {
  readonly timebox: TimeboxConstruct;

  /** The validated config the construct deploys. */
  get config(): TimeboxConfig {
    return this.timebox.config;
  }

  constructor(scope: Construct, id: string, props: TimeboxStackProps = {}) {
    super(scope, id, props);
    const context = contextSettings(this);
    const source = resolveConfigSource(props.configPath ?? context.config);
    if (source.isExample) {
      Annotations.of(this).addWarningV2(
        'timebox:example-config',
        `Deploying timebox.example.yaml: its accounts, permission sets and approvers are placeholders. Copy it to timebox.yaml (or pass -c config=PATH) and edit it before a real deployment.`,
      );
    }
    const alarmTopicArn = props.alarmTopicArn ?? context.alarmTopicArn;
    const identityStoreAccount = props.identityStoreAccount ?? context.props.identityStoreAccount;
    const endpoint = props.endpoint ?? context.props.endpoint;
    this.timebox = new TimeboxConstruct(this, 'Default', {
      ...context.props,
      ...(identityStoreAccount ? { identityStoreAccount } : {}),
      ...(endpoint ? { endpoint } : {}),
      configPath: source.path,
      ...(alarmTopicArn ? { alarmTopic: sns.Topic.fromTopicArn(this, 'AlarmTopic', alarmTopicArn) } : {}),
    });
  }
}

// Where scripts and tests have always imported them from.
export { BUNDLED_CONFIG_NAME, LAMBDA_ESBUILD, MANAGED_POLICY_MAX_CHARS } from './timebox-construct';
