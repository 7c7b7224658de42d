export { ArtifactStoreDetailsCard } from './ArtifactStoreDetailsCard';
