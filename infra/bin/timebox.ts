#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfigError } from '../../src/config/load-config';
import { ContextError, contextText } from '../lib/context-settings';
import { TimeboxPropsError } from '../lib/timebox-construct';
import { TimeboxStack } from '../lib/timebox-stack';

const app = new App();

try {
  const stackName = contextText(app.node.tryGetContext('stackName'), 'stackName') ?? 'Timebox';
  // No env: an environment-agnostic stack synthesizes offline with no credentials and deploys
  // to whatever account and region the CLI is pointed at.
  new TimeboxStack(app, stackName, {
    description: 'Timebox: time-boxed AWS IAM Identity Center access, requested and approved in Slack',
  });
} catch (err) {
  if (err instanceof ConfigError || err instanceof ContextError || err instanceof TimeboxPropsError) {
    // The message names what is wrong and the format expected; a stack trace would only hide it.
    console.error(err.message);
    process.exit(1);
  }
  throw err;
}

// cdk-nag's AWS Solutions rules run as a policy-validation plugin: any finding that is not
// acknowledged (with its reason, next to the resource) fails the synth.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true, writeSuppressionsToCloudFormation: true }));
