import CircularProgress from '@material-ui/core/CircularProgress';
import IconButton from '@material-ui/core/IconButton';
import RefreshIcon from '@material-ui/icons/Refresh';

/**
 * Asks the backend to check again. While a check runs the button keeps its size and swaps its icon
 * for a spinner of the same size, so the card around it does not move.
 */
export function RefreshHealthButton(props: {
  refreshing: boolean;
  onRefresh: () => void;
}) {
  const { refreshing, onRefresh } = props;
  return (
    <IconButton
      aria-label="Refresh health"
      title="Check again now"
      aria-busy={refreshing}
      disabled={refreshing}
      onClick={onRefresh}
    >
      {refreshing ? (
        <CircularProgress size={24} aria-label="Checking" />
      ) : (
        <RefreshIcon />
      )}
    </IconButton>
  );
}
