import { useCallback, useMemo } from 'react';
import { useSearchParams } from 'react-router-dom';
import {
  EmptyState,
  Progress,
  ResponseErrorPanel,
} from '@backstage/core-components';
import Button from '@material-ui/core/Button';
import Checkbox from '@material-ui/core/Checkbox';
import FormControl from '@material-ui/core/FormControl';
import FormControlLabel from '@material-ui/core/FormControlLabel';
import InputLabel from '@material-ui/core/InputLabel';
import LinearProgress from '@material-ui/core/LinearProgress';
import MenuItem from '@material-ui/core/MenuItem';
import Paper from '@material-ui/core/Paper';
import Select from '@material-ui/core/Select';
import TextField from '@material-ui/core/TextField';
import Typography from '@material-ui/core/Typography';
import { makeStyles } from '@material-ui/core/styles';
import Alert from '@material-ui/lab/Alert';
import RefreshIcon from '@material-ui/icons/Refresh';
import { MlflowOverallStatus } from '@stateful-mlflow/plugin-mlflow-common';
import { useMlflowFleet } from '../../hooks/useMlflowFleet';
import { FleetRow } from './fleetRow';
import {
  FleetView,
  readFleetView,
  selectFleetRows,
  writeFleetView,
} from './fleetView';
import { MlflowFleetTable } from './MlflowFleetTable';

const STATUS_WORDS: Record<MlflowOverallStatus, string> = {
  unhealthy: 'Unhealthy',
  degraded: 'Degraded',
  unknown: 'Unknown',
  healthy: 'Healthy',
};

const useStyles = makeStyles(theme => ({
  toolbar: {
    display: 'flex',
    flexWrap: 'wrap',
    alignItems: 'flex-end',
    gap: theme.spacing(2),
    padding: theme.spacing(2),
  },
  select: { minWidth: 160 },
  grow: { flexGrow: 1 },
  alert: { marginBottom: theme.spacing(2) },
  noMatch: { padding: theme.spacing(3), textAlign: 'center' },
  progress: { height: 4 },
}));

function distinct(
  rows: FleetRow[],
  value: (row: FleetRow) => string | undefined,
) {
  return [
    ...new Set(rows.map(value).filter((v): v is string => Boolean(v))),
  ].sort();
}

function FilterSelect(props: {
  label: string;
  value: string | undefined;
  options: Array<{ value: string; label: string }>;
  onChange: (value: string | undefined) => void;
}) {
  const classes = useStyles();
  const id = `mlflow-fleet-${props.label.toLocaleLowerCase('en-US')}`;
  return (
    <FormControl className={classes.select}>
      {/* Shrunk, because the select always shows a value ("All" when empty). */}
      <InputLabel id={`${id}-label`} shrink>
        {props.label}
      </InputLabel>
      <Select
        labelId={`${id}-label`}
        id={id}
        value={props.value ?? ''}
        displayEmpty
        onChange={event =>
          props.onChange((event.target.value as string) || undefined)
        }
      >
        <MenuItem value="">All</MenuItem>
        {props.options.map(option => (
          <MenuItem key={option.value} value={option.value}>
            {option.label}
          </MenuItem>
        ))}
      </Select>
    </FormControl>
  );
}

/** "3 instances: 1 unhealthy, 2 healthy", the worst first. */
function statusCounts(rows: FleetRow[]): string {
  const counts = (Object.keys(STATUS_WORDS) as MlflowOverallStatus[])
    .map(status => ({
      status,
      count: rows.filter(row => row.overall === status).length,
    }))
    .filter(entry => entry.count > 0)
    .map(entry => `${entry.count} ${entry.status}`);
  const noun = rows.length === 1 ? 'instance' : 'instances';
  return `${rows.length} ${noun}${
    counts.length ? `: ${counts.join(', ')}` : ''
  }`;
}

/**
 * Every MLflow instance the user may see, one row each, with filters, search and sorting kept in the
 * URL, and a refresh that asks the backend to check again without reloading the page.
 */
export function MlflowFleetContent() {
  const classes = useStyles();
  const fleet = useMlflowFleet();
  const [params, setParams] = useSearchParams();
  const { view, problems } = useMemo(() => readFleetView(params), [params]);

  const changeView = useCallback(
    (change: Partial<FleetView>) => {
      // A new filter starts on the first page; paging itself keeps the filters.
      const next = { ...view, page: 1, ...change };
      setParams(writeFleetView(next), { replace: true });
    },
    [view, setParams],
  );
  const selected = useMemo(
    () => selectFleetRows(fleet.rows, view),
    [fleet.rows, view],
  );
  const owners = useMemo(
    () => distinct(fleet.rows, r => r.owner),
    [fleet.rows],
  );
  const environments = useMemo(
    () => distinct(fleet.rows, r => r.environment),
    [fleet.rows],
  );

  if (fleet.error) {
    return (
      <ResponseErrorPanel
        title="Could not list the MLflow instances from the catalog"
        error={fleet.error}
      />
    );
  }
  if (fleet.loading) {
    return <Progress />;
  }
  if (fleet.rows.length === 0 && fleet.failedBatches?.all) {
    return (
      <ResponseErrorPanel
        title="Could not load the health of the MLflow instances"
        error={fleet.failedBatches.error}
      />
    );
  }
  if (fleet.rows.length === 0) {
    return fleet.refreshing ? (
      <Progress />
    ) : (
      <EmptyState
        missing="data"
        title="No MLflow instances to show"
        description="The catalog holds no MLflow instance whose health you may read. Instances appear here once they are created from the MLflow template or discovered in a configured cluster."
      />
    );
  }

  const filtered =
    Boolean(view.search || view.owner || view.environment || view.status) ||
    view.failingCompliance;
  return (
    <section aria-label="MLflow fleet" aria-busy={fleet.refreshing}>
      {problems.map(problem => (
        <Alert key={problem} severity="info" className={classes.alert}>
          {problem}
        </Alert>
      ))}
      {fleet.failedBatches && (
        <Alert
          severity="warning"
          className={classes.alert}
          action={
            <Button color="inherit" size="small" onClick={() => fleet.reload()}>
              Retry
            </Button>
          }
        >
          The health of {fleet.failedBatches.instances}{' '}
          {fleet.failedBatches.instances === 1 ? 'instance' : 'instances'} could
          not be loaded: {fleet.failedBatches.error.message}
        </Alert>
      )}
      <Paper>
        <div className={classes.toolbar}>
          <TextField
            label="Search"
            placeholder="name, owner, region, version…"
            value={view.search}
            onChange={event => changeView({ search: event.target.value })}
            inputProps={{ 'aria-label': 'Search instances' }}
          />
          <FilterSelect
            label="Owner"
            value={view.owner}
            options={owners.map(o => ({ value: o, label: o }))}
            onChange={owner => changeView({ owner })}
          />
          <FilterSelect
            label="Environment"
            value={view.environment}
            options={environments.map(e => ({ value: e, label: e }))}
            onChange={environment => changeView({ environment })}
          />
          <FilterSelect
            label="Status"
            value={view.status}
            options={(Object.keys(STATUS_WORDS) as MlflowOverallStatus[]).map(
              status => ({ value: status, label: STATUS_WORDS[status] }),
            )}
            onChange={status =>
              changeView({ status: status as MlflowOverallStatus | undefined })
            }
          />
          <FormControlLabel
            control={
              <Checkbox
                checked={view.failingCompliance}
                onChange={event =>
                  changeView({ failingCompliance: event.target.checked })
                }
              />
            }
            label="Failing compliance"
          />
          <div className={classes.grow} />
          <Typography variant="body2" role="status" aria-label="Fleet summary">
            {filtered
              ? `${selected.length} of ${statusCounts(fleet.rows)}`
              : statusCounts(fleet.rows)}
          </Typography>
          <Button
            variant="outlined"
            startIcon={<RefreshIcon />}
            disabled={fleet.refreshing}
            onClick={() => fleet.reload({ refresh: true })}
          >
            {fleet.refreshing ? 'Checking…' : 'Refresh health'}
          </Button>
        </div>
        <div className={classes.progress}>
          {fleet.refreshing && <LinearProgress aria-label="Loading reports" />}
        </div>
        {selected.length > 0 ? (
          <MlflowFleetTable
            rows={selected}
            view={view}
            onViewChange={changeView}
          />
        ) : (
          <div className={classes.noMatch}>
            <Typography paragraph>
              No instance matches these filters.
            </Typography>
            <Button
              variant="outlined"
              onClick={() =>
                setParams(new URLSearchParams(), { replace: true })
              }
            >
              Clear filters
            </Button>
          </div>
        )}
      </Paper>
    </section>
  );
}
