import { InfoCard, Link } from '@backstage/core-components';
import List from '@material-ui/core/List';
import ListItem from '@material-ui/core/ListItem';
import { MlflowLink } from '@stateful-mlflow/plugin-mlflow-common';

/** The instance's links: MLflow UI, AWS console pages, Kubernetes tab and the backend's. */
export function MlflowLinksCard(props: { links: MlflowLink[] }) {
  return (
    <InfoCard title="Links">
      <List dense aria-label="MLflow links">
        {props.links.map(link => (
          <ListItem key={link.url} disableGutters>
            <Link to={link.url}>{link.title}</Link>
          </ListItem>
        ))}
      </List>
    </InfoCard>
  );
}
