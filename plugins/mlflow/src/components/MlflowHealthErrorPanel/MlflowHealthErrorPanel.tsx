import { ResponseErrorPanel } from '@backstage/core-components';
import { describeMlflowHealthError } from './describeMlflowHealthError';

/** Says what failed when there is no report to show; the details hold the backend's own answer. */
export function MlflowHealthErrorPanel(props: { error: Error }) {
  const { title, reason } = describeMlflowHealthError(props.error);
  return (
    <div data-error-reason={reason}>
      <ResponseErrorPanel error={props.error} title={title} />
    </div>
  );
}
