import { InfoCard } from '@backstage/core-components';
import List from '@material-ui/core/List';
import ListItem from '@material-ui/core/ListItem';
import ListItemIcon from '@material-ui/core/ListItemIcon';
import ListItemText from '@material-ui/core/ListItemText';
import Typography from '@material-ui/core/Typography';
import { makeStyles, useTheme } from '@material-ui/core/styles';
import CheckCircle from '@material-ui/icons/CheckCircle';
import Cancel from '@material-ui/icons/Cancel';
import RemoveCircleOutline from '@material-ui/icons/RemoveCircleOutline';
import { MlflowComplianceFlag } from '@stateful-mlflow/plugin-mlflow-common';

const useStyles = makeStyles(theme => ({
  flagIcon: { minWidth: theme.spacing(5) },
}));

/** A point the backend does not require (e.g. Multi-AZ outside production) only informs. */
function isRequired(flag: MlflowComplianceFlag): boolean {
  return flag.required !== false;
}

/**
 * The compliance points of the tracking server (authentication, HTTPS) and the backing stores
 * (encrypted, private, backups, deletion protection, versioning, public access blocked, TLS-only …)
 * as the backend judged them.
 */
export function ComplianceChecklistCard(props: {
  trackingServer?: MlflowComplianceFlag[];
  database?: MlflowComplianceFlag[];
  artifactStore?: MlflowComplianceFlag[];
}) {
  const groups = [
    { name: 'Tracking server', flags: props.trackingServer },
    { name: 'Database', flags: props.database },
    { name: 'Artifact store', flags: props.artifactStore },
  ];
  const required = groups
    .flatMap(group => group.flags ?? [])
    .filter(isRequired);
  const passed = required.filter(flag => flag.ok).length;
  return (
    <InfoCard
      title="Compliance"
      subheader={
        required.length > 0
          ? `${passed} of ${required.length} required points pass`
          : 'Not known: the store checks could not run'
      }
    >
      {groups.map(group =>
        group.flags && group.flags.length > 0 ? (
          <ComplianceGroup key={group.name} {...group} flags={group.flags} />
        ) : null,
      )}
    </InfoCard>
  );
}

function ComplianceGroup(props: {
  name: string;
  flags: MlflowComplianceFlag[];
}) {
  const classes = useStyles();
  const theme = useTheme();
  const headingId = `mlflow-compliance-${props.name.replace(/\W+/g, '-')}`;
  return (
    <>
      <Typography variant="subtitle2" component="h3" id={headingId}>
        {props.name}
      </Typography>
      <List dense aria-labelledby={headingId}>
        {props.flags.map(flag => (
          <ListItem key={flag.id} disableGutters>
            <ListItemIcon className={classes.flagIcon}>
              {flag.ok && (
                <CheckCircle
                  titleAccess="Passed"
                  style={{ color: theme.palette.status.ok }}
                />
              )}
              {!flag.ok && isRequired(flag) && (
                <Cancel
                  titleAccess="Failed"
                  style={{ color: theme.palette.status.error }}
                />
              )}
              {!flag.ok && !isRequired(flag) && (
                <RemoveCircleOutline
                  titleAccess="Off, not required"
                  style={{ color: theme.palette.status.aborted }}
                />
              )}
            </ListItemIcon>
            <ListItemText
              primary={flag.label}
              secondary={
                !flag.ok && !isRequired(flag)
                  ? 'Not required for this instance'
                  : undefined
              }
            />
          </ListItem>
        ))}
      </List>
    </>
  );
}
