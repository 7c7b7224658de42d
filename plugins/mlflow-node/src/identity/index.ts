export * from './instanceIdentity';
export * from './MlflowInstanceIdentityKeys';
