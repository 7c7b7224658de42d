export { MlflowAuthenticationFacts, MlflowSignInCard } from './MlflowSignIn';
