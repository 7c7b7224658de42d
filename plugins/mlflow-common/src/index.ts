/**
 * Annotations, entity helpers, validation rules, instance names, wire types and permissions shared
 * by the MLflow plugins. Isomorphic: no React and no Node-only imports.
 *
 * @packageDocumentation
 */
export * from './annotations';
export * from './entity';
export * from './health';
export * from './instanceNames';
export * from './permissions';
export * from './serverEnv';
export type { NameRule } from './rules/nameRule';
export { describeReceived, validateName } from './rules/nameRule';
export { nameRules } from './rules/nameRules';
export type { RangeRule } from './rules/rangeRules';
export {
  PRODUCTION_MIN_BACKUP_RETENTION_DAYS,
  rangeRules,
  rdsStorageChangeProblem,
  validateRange,
} from './rules/rangeRules';
