package main

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestConfigRetainBodies: 400 days by default, set by the environment, 0
// turns pruning off, a negative value is refused.
func TestConfigRetainBodies(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.yaml")
	cfg, err := loadConfig(missing, false, getenvFrom(nil))
	require.NoError(t, err)
	require.Equal(t, 9600*time.Hour, cfg.Inbox.RetainBodies.D())

	cfg, err = loadConfig(missing, false, getenvFrom(map[string]string{"PAYOUTD_INBOX_RETAIN_BODIES": "0s"}))
	require.NoError(t, err)
	require.Zero(t, cfg.Inbox.RetainBodies.D())

	_, err = loadConfig(missing, false, getenvFrom(map[string]string{"PAYOUTD_INBOX_RETAIN_BODIES": "-1h"}))
	require.ErrorContains(t, err, "inbox.retain_bodies")
}
