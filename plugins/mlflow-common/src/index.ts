/**
 * Annotations, entity helpers, name validators, wire types and permissions shared by the MLflow
 * plugins. Isomorphic: no React and no Node-only imports.
 *
 * @packageDocumentation
 */
export * from './annotations';
export * from './entity';
export * from './health';
export * from './permissions';
export * from './validators';
