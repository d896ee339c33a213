// The package's entry point: `import { TimeboxConstruct } from 'timebox'`.
export { TimeboxConstruct, TimeboxPropsError, type TimeboxConstructProps, type TimeboxEndpoint } from './timebox-construct';
export { ConfigError } from '../../src/config/validate-config';
