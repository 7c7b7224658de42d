import { Content, Header, Page } from '@backstage/core-components';
import { MlflowFleetContent } from '../MlflowFleetContent';

/** The fleet page with its own header, for apps on the legacy frontend system. */
export function MlflowFleetPage() {
  return (
    <Page themeId="tool">
      <Header
        title="MLflow fleet"
        subtitle="Every MLflow instance you may see, with its health"
      />
      <Content>
        <MlflowFleetContent />
      </Content>
    </Page>
  );
}
