package bench

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestProcStatus(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc: not Linux")
	}
	st, err := ProcStatus(os.Getpid(), "VmRSS", "VmHWM", "NoSuchField")
	require.NoError(t, err)
	require.Positive(t, st["VmRSS"])
	require.Zero(t, st["VmRSS"]%1024, "kB are converted to bytes")
	require.GreaterOrEqual(t, st["VmHWM"], st["VmRSS"])
	require.NotContains(t, st, "NoSuchField")

	_, err = ProcStatus(-1, "VmRSS")
	require.ErrorIs(t, err, os.ErrNotExist)
}
