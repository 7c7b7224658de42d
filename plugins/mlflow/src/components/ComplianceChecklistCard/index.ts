export { ComplianceChecklistCard } from './ComplianceChecklistCard';
