import { memo } from 'react';
import { Link } from '@backstage/core-components';
import { CompoundEntityRef, parseEntityRef } from '@backstage/catalog-model';
import { useRouteRef } from '@backstage/core-plugin-api';
import { entityRouteRef } from '@backstage/plugin-catalog-react';
import Table from '@material-ui/core/Table';
import TableBody from '@material-ui/core/TableBody';
import TableCell from '@material-ui/core/TableCell';
import TableHead from '@material-ui/core/TableHead';
import TablePagination from '@material-ui/core/TablePagination';
import TableRow from '@material-ui/core/TableRow';
import TableSortLabel from '@material-ui/core/TableSortLabel';
import Typography from '@material-ui/core/Typography';
import { makeStyles } from '@material-ui/core/styles';
import { CHECK_LABELS } from '../checkLabels';
import { CheckStatusIcon } from '../CheckStatusIcon';
import { FleetStatus } from './FleetStatus';
import { FleetRow } from './fleetRow';
import { FLEET_PAGE_SIZES, FleetSortKey, FleetView } from './fleetView';

/** How a value no report carries reads in a cell. */
const NONE = '—';

const useStyles = makeStyles(theme => ({
  table: { tableLayout: 'auto' },
  checks: { display: 'flex', gap: theme.spacing(0.25) },
  check: { display: 'inline-flex' },
  nowrap: { whiteSpace: 'nowrap' },
  error: { color: theme.palette.error.main, maxWidth: 240 },
}));

const COLUMNS: Array<{ label: string; sort?: FleetSortKey }> = [
  { label: 'Instance', sort: 'name' },
  { label: 'Status', sort: 'status' },
  { label: 'Checks' },
  { label: 'MLflow', sort: 'version' },
  { label: 'Environment', sort: 'environment' },
  { label: 'Owner', sort: 'owner' },
  { label: 'Region', sort: 'region' },
  { label: 'Cluster', sort: 'cluster' },
  { label: 'Replicas ready', sort: 'replicas' },
  { label: 'Authentication' },
  { label: 'Failing compliance', sort: 'compliance' },
  { label: 'Last snapshot' },
  { label: 'Tracking server' },
];

/** The owner's ref in full (a bare `team-ml` is a group in the default namespace), if it parses. */
function ownerRef(owner: string): CompoundEntityRef | undefined {
  try {
    return parseEntityRef(owner, {
      defaultKind: 'group',
      defaultNamespace: 'default',
    });
  } catch {
    return undefined;
  }
}

/** `group:default/team-ml` reads `team-ml`; other kinds and namespaces stay visible. */
function ownerText(ref: CompoundEntityRef): string {
  const kind = ref.kind.toLocaleLowerCase('en-US');
  return `${kind === 'group' ? '' : `${kind}:`}${
    ref.namespace === 'default' ? '' : `${ref.namespace}/`
  }${ref.name}`;
}

/**
 * A plain link to an entity page. Unlike EntityRefLink it asks the presentation API nothing, so a
 * page of rows costs no further catalog requests.
 */
function EntityLink(props: { entityRef: CompoundEntityRef; text: string }) {
  const entityRoute = useRouteRef(entityRouteRef);
  const { kind, namespace, name } = props.entityRef;
  return (
    <Link
      to={entityRoute({
        kind: kind.toLocaleLowerCase('en-US'),
        namespace: namespace.toLocaleLowerCase('en-US'),
        name,
      })}
    >
      {props.text}
    </Link>
  );
}

function OwnerLink(props: { owner: string }) {
  const ref = ownerRef(props.owner);
  if (!ref) {
    return <>{props.owner}</>;
  }
  return <EntityLink entityRef={ref} text={ownerText(ref)} />;
}

function formatTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime())
    ? iso
    : `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** Rows keep their object until their report changes, so a new batch re-renders only its rows. */
const FleetTableRow = memo(function FleetTableRowContent(props: {
  row: FleetRow;
}) {
  const { row } = props;
  const classes = useStyles();
  const hasReport = !row.reportError;
  return (
    <TableRow data-entity-ref={row.entityRef} hover>
      <TableCell component="th" scope="row">
        <EntityLink
          entityRef={parseEntityRef(row.entityRef)}
          text={row.title}
        />
      </TableCell>
      <TableCell>
        <FleetStatus status={row.overall} />
        {row.reportError && (
          <Typography
            variant="caption"
            component="div"
            className={classes.error}
          >
            No report: {row.reportError}
          </Typography>
        )}
      </TableCell>
      <TableCell>
        <span className={classes.checks}>
          {row.checks.map(check => (
            <span
              key={check.id}
              className={classes.check}
              title={`${CHECK_LABELS[check.id]}: ${check.summary}`}
              aria-label={`${CHECK_LABELS[check.id]}: ${check.status}`}
              role="img"
            >
              <CheckStatusIcon status={check.status} />
            </span>
          ))}
        </span>
      </TableCell>
      <TableCell>{row.version ?? NONE}</TableCell>
      <TableCell>{row.environment ?? NONE}</TableCell>
      <TableCell>
        {row.owner ? <OwnerLink owner={row.owner} /> : NONE}
      </TableCell>
      <TableCell>{row.region ?? NONE}</TableCell>
      <TableCell>{row.cluster ?? NONE}</TableCell>
      <TableCell>
        {row.replicas ? `${row.replicas.ready}/${row.replicas.desired}` : NONE}
      </TableCell>
      <TableCell>{row.authentication ?? 'unknown'}</TableCell>
      <TableCell>
        {!hasReport && NONE}
        {hasReport &&
          (row.failingCompliance.length > 0
            ? row.failingCompliance.join(', ')
            : 'none')}
      </TableCell>
      <TableCell className={classes.nowrap}>
        {row.lastSnapshot ? formatTime(row.lastSnapshot) : NONE}
      </TableCell>
      <TableCell className={classes.nowrap}>
        {row.trackingUrl ? <Link to={row.trackingUrl}>Open MLflow</Link> : NONE}
      </TableCell>
    </TableRow>
  );
});

/** One page of the selected instances, with sortable headers and paging. */
export function MlflowFleetTable(props: {
  rows: FleetRow[];
  view: FleetView;
  onViewChange: (change: Partial<FleetView>) => void;
}) {
  const { rows, view, onViewChange } = props;
  const classes = useStyles();
  const lastPage = Math.max(1, Math.ceil(rows.length / view.pageSize));
  const page = Math.min(view.page, lastPage);
  const shown = rows.slice((page - 1) * view.pageSize, page * view.pageSize);
  return (
    <>
      <Table
        size="small"
        aria-label="MLflow instances"
        className={classes.table}
      >
        <TableHead>
          <TableRow>
            {COLUMNS.map(column => (
              <TableCell
                key={column.label}
                sortDirection={column.sort === view.sort ? view.order : false}
                className={classes.nowrap}
              >
                {column.sort ? (
                  <TableSortLabel
                    active={column.sort === view.sort}
                    direction={column.sort === view.sort ? view.order : 'asc'}
                    onClick={() =>
                      onViewChange({
                        sort: column.sort,
                        order:
                          column.sort === view.sort && view.order === 'asc'
                            ? 'desc'
                            : 'asc',
                      })
                    }
                  >
                    {column.label}
                  </TableSortLabel>
                ) : (
                  column.label
                )}
              </TableCell>
            ))}
          </TableRow>
        </TableHead>
        <TableBody>
          {shown.map(row => (
            <FleetTableRow key={row.entityRef} row={row} />
          ))}
        </TableBody>
      </Table>
      <TablePagination
        component="div"
        count={rows.length}
        page={page - 1}
        rowsPerPage={view.pageSize}
        rowsPerPageOptions={[...FLEET_PAGE_SIZES]}
        onPageChange={(_event, next) => onViewChange({ page: next + 1 })}
        onRowsPerPageChange={event =>
          onViewChange({ pageSize: Number(event.target.value), page: 1 })
        }
      />
    </>
  );
}
